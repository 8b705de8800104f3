"""stdout carries data, stderr messages and progress; the same inputs give the same bytes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import psycopg

from ..conftest import run_cli, write_spec
from .common import TABLE_T_SQL

# Several kinds of object, so that ordering has a chance to differ between runs.
SPEC_RICH = """\
functions:
  touch:
    args: []
    returns: trigger
    language: plpgsql
    body: |
      BEGIN
        NEW.updated_at = now();
        RETURN NEW;
      END;
tables:
  t:
    columns:
      id: {type: integer, nullable: false}
      name: {type: text}
    primary_key: [id]
  authors:
    columns:
      id: {type: bigserial}
      email: {type: text, nullable: false, unique: true}
      karma: {type: integer, nullable: false, default: 0}
      updated_at: {type: timestamptz, nullable: false, default: {sql: now()}}
    primary_key: [id]
    checks:
      - {name: authors_karma_nonneg, expression: karma >= 0}
    triggers:
      - {name: trg_authors_touch, function: touch, timing: before, events: [update], for_each: row}
  posts:
    columns:
      id: {type: bigserial}
      author_id: {type: bigint, nullable: false}
      title: {type: text, nullable: false}
      tags: {type: "text[]"}
      body: {type: jsonb}
    primary_key: [id]
    foreign_keys:
      - columns: [author_id]
        references: {table: authors, columns: [id]}
        on_delete: cascade
    indexes:
      - {name: idx_posts_author, columns: [author_id]}
      - {name: idx_posts_title, columns: [title]}
"""


def test_plan_json_is_only_json_on_stdout(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    write_spec(tmp_path, SPEC_RICH)
    db.execute(TABLE_T_SQL)
    db.execute("create table stray (x int)")  # not in the spec: a drop, reported on stderr
    r = run_cli("plan", "--format", "json", "-o", "saved.json", "--database-url", db_url,
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)  # the whole of stdout, nothing else
    assert data["format_version"] == 1
    sqls = [st["sql"] for st in data["statements"]]
    assert any('create table "public"."posts"' in s for s in sqls)
    assert any('drop table "public"."stray"' in s for s in sqls)
    assert data["hazard_kinds"] == ["data_loss"]
    # progress and messages went to stderr
    # (the shadow is built, or its snapshot reused from the cache: either way, on stderr)
    assert re.search(r"schemadiff: shadow (database ready|snapshot reused)", r.stderr)
    assert "plan saved to saved.json" in r.stderr
    assert "schemadiff:" not in r.stdout and "plan saved" not in r.stdout
    # the saved file is the same document
    assert (tmp_path / "saved.json").read_text(encoding="utf-8") == r.stdout

    text = run_cli("plan", "--database-url", db_url, cwd=tmp_path)
    assert text.returncode == 0
    assert "shadow database ready" not in text.stdout
    assert text.stdout.startswith("Plan for ")

    drift = run_cli("drift", "--format", "json", "--database-url", db_url, cwd=tmp_path)
    assert drift.returncode == 2
    assert json.loads(drift.stdout)["statements"] == data["statements"]
    assert "drift:" in drift.stderr and "drift:" not in drift.stdout


def test_plan_output_is_deterministic(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    write_spec(tmp_path, SPEC_RICH)
    db.execute(TABLE_T_SQL)
    db.execute("alter table t add column x int")
    runs = []
    for name in ("one.json", "two.json"):
        r = run_cli("plan", "-o", name, "--database-url", db_url, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        runs.append(r.stdout)
    one = (tmp_path / "one.json").read_bytes()
    two = (tmp_path / "two.json").read_bytes()
    assert len(json.loads(one)["statements"]) > 10
    assert one == two
    assert runs[0] == runs[1]


def test_apply_keeps_stdout_for_the_plan(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    write_spec(tmp_path, SPEC_RICH)
    r = run_cli("apply", "--auto-approve", "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Plan for ")
    for message in ("Applied:", "The database matches the spec.", "schemadiff: applying"):
        assert message in r.stderr
        assert message not in r.stdout
