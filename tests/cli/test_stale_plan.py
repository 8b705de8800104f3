"""`apply plan.json` applies exactly that plan, and refuses (exit 3) when it is stale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from ..conftest import run_cli, write_spec
from .common import SPEC_T, SPEC_T_EXTRA, TABLE_T_SQL, columns, history


def _plan_file(tmp_path: Path, db_url: str) -> Path:
    r = run_cli("plan", "-o", "p.json", "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return tmp_path / "p.json"


def test_database_changed_since_plan(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    write_spec(tmp_path, SPEC_T_EXTRA)
    db.execute(TABLE_T_SQL)
    plan = _plan_file(tmp_path, db_url)
    assert "extra" in plan.read_text()

    db.execute("alter table t add column x int")  # by hand, after the plan
    before = columns(db, "t")
    r = run_cli("apply", str(plan), "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "stale plan: the database changed since" in r.stderr
    assert columns(db, "t") == before  # 'extra' was not added
    assert history(db) == []


def test_spec_changed_since_plan(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    write_spec(tmp_path, SPEC_T)
    plan = _plan_file(tmp_path, db_url)
    write_spec(tmp_path, SPEC_T_EXTRA)  # the spec file changes after `plan -o`
    r = run_cli("apply", str(plan), "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "stale plan: schema.yaml changed since" in r.stderr
    assert columns(db, "t") == []
    assert history(db) == []


def test_unchanged_plan_applies_and_converges(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    write_spec(tmp_path, SPEC_T_EXTRA)
    db.execute(TABLE_T_SQL)
    plan = _plan_file(tmp_path, db_url)
    r = run_cli("apply", str(plan), "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "The database matches the spec." in r.stderr
    assert [c[0] for c in columns(db, "t")] == ["id", "name", "extra"]
    rows = history(db)
    assert [h[0] for h in rows] == ["applied"]
    assert [s["sql"] for s in rows[0][1]] == ['alter table "public"."t" add column "extra" integer']

    r = run_cli("drift", "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


GRANTEE = "i8_stale_grantee"
SPEC_T_GRANTS = SPEC_T + f"grants:\n  {GRANTEE}: {{tables: {{t: [select]}}}}\n"


def test_grant_made_since_plan(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    # Roles are cluster-wide: created if missing, the test cluster is thrown away afterwards.
    db.execute(
        f"do $$ begin create role {GRANTEE}; exception when duplicate_object then null; end $$"
    )
    write_spec(tmp_path, SPEC_T_GRANTS)
    db.execute(TABLE_T_SQL)
    plan = _plan_file(tmp_path, db_url)
    assert "GRANT SELECT" in plan.read_text()

    db.execute(f"grant insert on t to {GRANTEE}")  # by hand, after the plan
    r = run_cli("apply", str(plan), "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "stale plan: the database changed since" in r.stderr
    privileges = "select has_table_privilege(%s, 't', 'select')"
    assert db.execute(privileges, (GRANTEE,)).fetchone() == (False,)  # GRANT did not run
    assert history(db) == []
