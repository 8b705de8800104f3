"""reset and verify on the Agentrade database (Agentrade's db-reset and db-verify tools).

reset drops exactly what the spec manages and refuses rather than cascade; verify exits 0 when
every managed object, seed row and config key is there, 2 naming what is missing or different.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from schemadiff.model import render_sql
from schemadiff.seed import insert_missing, load_seeds
from schemadiff.spec import Spec, load_spec

from ..conftest import ROOT, run_cli, write_spec
from .common import UNREACHABLE_URL, history, scalar, table_exists

SPEC_PATH = str(ROOT / "schema.yaml")


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec(SPEC_PATH)


def _build(db: psycopg.Connection[Any], spec: Spec) -> None:
    """Agentrade as render_sql builds it, with its default rows."""
    db.execute(render_sql(spec).encode())
    insert_missing(db, spec, load_seeds(ROOT / "seeds", spec))


def _apply(db_url: str, db: psycopg.Connection[Any], spec: Spec) -> None:
    r = run_cli("apply", "--auto-approve", "--spec", SPEC_PATH, "--database-url", db_url)
    assert r.returncode == 0, r.stderr
    insert_missing(db, spec, load_seeds(ROOT / "seeds", spec))  # apply may not seed (yet)


def _public_tables(db: psycopg.Connection[Any]) -> set[str]:
    rows = db.execute(
        "select tablename from pg_tables where schemaname = 'public'"
    ).fetchall()
    return {str(r[0]) for r in rows}


def _public_functions(db: psycopg.Connection[Any]) -> set[str]:
    rows = db.execute(
        """select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'public'"""
    ).fetchall()
    return {str(r[0]) for r in rows}


def _count(db: psycopg.Connection[Any], sql: str) -> int:
    return int(scalar(db, sql))


# -- reset ------------------------------------------------------------------------------------


def test_reset_drops_every_managed_object_and_nothing_else(
    db_url: str, db: psycopg.Connection[Any], spec: Spec
) -> None:
    _build(db, spec)
    db.execute("create table keep_me (id integer primary key, note text)")
    db.execute("insert into keep_me values (1, 'still here')")
    db.execute("create function keep_fn() returns integer language sql as 'select 42'")
    db.execute("create schema other")
    db.execute("create table other.users (id text primary key)")  # a managed table's name
    db.execute("create function other.set_updated_at() returns integer language sql "
               "as 'select 1'")
    db.execute("create view other.v as select id from other.users")
    tables = {t.name for t in spec.tables}
    assert tables <= _public_tables(db)

    dry = run_cli("reset", "--dry-run", "--spec", SPEC_PATH, "--database-url", db_url)
    assert dry.returncode == 0, dry.stderr
    assert "DROP TABLE public.users, public.ai_models" in dry.stdout
    assert "DROP FUNCTION public.set_updated_at()" in dry.stdout
    assert "keep_me" not in dry.stdout and "other." not in dry.stdout
    assert "nothing was dropped" in dry.stderr
    assert tables <= _public_tables(db)  # a dry run drops nothing

    r = run_cli("reset", "--yes", "--spec", SPEC_PATH, "--database-url", db_url)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert "  - table users (1 row)" in r.stderr
    assert "  - function public.set_updated_at()" in r.stderr
    assert "  - trigger trg_users_updated_at on users" in r.stderr
    assert "85 config rows of system_config" in r.stderr
    assert "Reset: dropped 12 triggers, 26 tables, 1 function" in r.stderr

    # Every managed object is gone: tables (rows, config rows), indexes, sequences,
    # triggers, the function.
    assert _public_tables(db) == {"keep_me"}
    assert _public_functions(db) == {"keep_fn"}
    assert _count(db, """select count(*) from pg_class c join pg_namespace n
                          on n.oid = c.relnamespace
                         where n.nspname = 'public' and c.relkind in ('S', 'i')
                           and c.relname <> 'keep_me_pkey'""") == 0
    assert _count(db, "select count(*) from pg_trigger where not tgisinternal") == 0
    # Nothing else moved.
    assert scalar(db, "select note from keep_me where id = 1") == "still here"
    assert scalar(db, "select keep_fn()") == 42
    assert table_exists(db, "other.users") and table_exists(db, "other.v")
    assert scalar(db, "select other.set_updated_at()") == 1
    # Recorded like an apply.
    rows = history(db)
    assert [outcome for outcome, _, _ in rows] == ["applied"]
    statements = rows[0][1]
    assert [s["kind"] for s in statements][-2:] == ["table", "function"]
    assert all(s["sql"].startswith("DROP ") for s in statements)

    again = run_cli("reset", "--yes", "--spec", SPEC_PATH, "--database-url", db_url)
    assert again.returncode == 0, again.stderr
    assert "Nothing to reset" in again.stderr


def test_reset_refuses_when_an_unmanaged_view_depends_on_a_managed_table(
    db_url: str, db: psycopg.Connection[Any], spec: Spec
) -> None:
    _build(db, spec)
    db.execute("create view active_users as select id, email from users where is_active")
    before = _public_tables(db)

    r = run_cli("reset", "--yes", "--spec", SPEC_PATH, "--database-url", db_url)
    assert r.returncode == 3, r.stderr
    assert "view public.active_users depends on table public.users" in r.stderr
    assert "nothing was dropped" in r.stderr
    assert "Traceback" not in r.stderr
    assert _public_tables(db) == before
    assert "set_updated_at" in _public_functions(db)
    assert _count(db, "select count(*) from system_config") == 85
    assert table_exists(db, "public.active_users")
    assert [o for o, _, _ in history(db)] == []

    dry = run_cli("reset", "--dry-run", "--spec", SPEC_PATH, "--database-url", db_url)
    assert dry.returncode == 3
    assert "view public.active_users" in dry.stderr


def test_reset_without_yes_and_without_a_terminal_is_an_error(
    db_url: str, db: psycopg.Connection[Any], spec: Spec
) -> None:
    _build(db, spec)
    before = _public_tables(db)
    r = run_cli("reset", "--spec", SPEC_PATH, "--database-url", db_url, input="y\n")
    assert r.returncode == 1, r.stderr
    assert "pass --yes" in r.stderr
    assert _public_tables(db) == before
    assert _count(db, "select count(*) from users") == 1


# -- verify -----------------------------------------------------------------------------------


def test_verify_passes_on_a_freshly_applied_agentrade(
    db_url: str, db: psycopg.Connection[Any], spec: Spec
) -> None:
    _apply(db_url, db, spec)
    r = run_cli("verify", "--spec", SPEC_PATH, "--database-url", db_url)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""
    assert "verified:" in r.stderr

    # What the spec does not declare is listed, and does not fail verify.
    db.execute("create table keep_me (id integer primary key)")
    db.execute("create index idx_users_extra on users (created_at, email)")
    db.execute("insert into system_config (key, value) values ('operator_note', 'x')")
    r = run_cli("verify", "--format", "json", "--spec", SPEC_PATH, "--database-url", db_url)
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["ok"] is True and report["problems"] == []
    assert [e["message"] for e in report["extra"]] == [
        "extra (not managed): index idx_users_extra",
        "extra (not managed): table keep_me",
        "extra (not managed): config key operator_note",
    ]


BREAKAGES = {
    "index": ("drop index idx_users_email", "missing index idx_users_email"),
    "default": (
        "alter table users alter column failed_attempts set default 1",
        "column users.failed_attempts default differs: live 1, spec 0",
    ),
    "seed row": ("delete from users where id = 'default'", "missing seed row users id=default"),
    "config key": (
        "delete from system_config where key = 'jwt_secret'",
        "missing config key jwt_secret",
    ),
}


@pytest.mark.parametrize("case", list(BREAKAGES))
def test_verify_names_what_is_missing_or_different(
    case: str, db_url: str, db: psycopg.Connection[Any], spec: Spec
) -> None:
    # render_sql builds what apply does (verify passes on both; see the test above), faster.
    _build(db, spec)
    sql, line = BREAKAGES[case]
    db.execute(sql.encode())

    r = run_cli("verify", "--spec", SPEC_PATH, "--database-url", db_url)
    assert r.returncode == 2, r.stdout + r.stderr
    assert line in r.stdout.splitlines()
    assert "verify failed" in r.stderr
    assert "Traceback" not in r.stderr
    if case != "default":
        return
    j = run_cli("verify", "--format", "json", "--spec", SPEC_PATH, "--database-url", db_url)
    assert j.returncode == 2
    report = json.loads(j.stdout)
    assert report["ok"] is False
    assert line in [p["message"] for p in report["problems"]]


def test_verify_unreachable_database_exits_1() -> None:
    r = run_cli("verify", "--spec", SPEC_PATH, "--database-url", UNREACHABLE_URL)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "cannot connect" in r.stderr
    assert r.stdout == ""


# -- the kinds a spec manages only when it declares them ---------------------------------------

KINDS_ROLE = "i8_kinds_reader"
KINDS_SPEC = f"""\
domains:
  positive_int:
    type: integer
    checks:
      - {{name: positive_int_check, expression: "is_positive(VALUE)"}}
types:
  amount:
    attributes: {{value: "numeric(12,2)", currency: text}}
sequences:
  invoice_number: {{start: 1000}}
functions:
  is_positive:
    args: ["v integer"]
    returns: boolean
    language: sql
    volatility: immutable
    body: SELECT v > 0
procedures:
  bump:
    args: ["n amount"]
    language: plpgsql
    body: |
      BEGIN
        PERFORM n;
      END
tables:
  items:
    columns:
      id: {{type: integer, nullable: false}}
      qty: {{type: positive_int}}
      price: {{type: amount}}
    primary_key: [id]
    row_level_security: true
    policies:
      all_rows: {{using: "true"}}
  events:
    columns:
      id: {{type: bigint, nullable: false}}
      kind: {{type: text, nullable: false}}
    partition_by: {{method: list, columns: [kind]}}
    partitions:
      events_a: {{in: [a]}}
      events_rest: {{default: true}}
views:
  item_ids:
    query: SELECT id FROM items
  item_ids_again:
    query: SELECT id FROM item_ids
materialized_views:
  item_count:
    query: SELECT count(*) AS n FROM item_ids
grants:
  {KINDS_ROLE}:
    tables: {{items: [select]}}
"""


def _objects(db: psycopg.Connection[Any]) -> set[str]:
    """Relations and types (domains, composite types) of schema public, by name."""
    rows = db.execute(
        """select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S', 'c')
           union all
           select t.typname from pg_type t join pg_namespace n on n.oid = t.typnamespace
            where n.nspname = 'public' and t.typtype = 'd'
           union all
           select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'public'"""
    ).fetchall()
    return {str(r[0]) for r in rows}


def test_reset_and_verify_know_the_newer_kinds(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    # Roles are cluster-wide: created if missing, the test cluster is thrown away afterwards.
    db.execute(
        f"do $$ begin create role {KINDS_ROLE}; exception when duplicate_object then null; end $$"
    )
    write_spec(tmp_path, KINDS_SPEC)
    r = run_cli("apply", "--auto-approve", "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # Reset drops positive_int before is_positive (its check calls it), amount after bump
    # (an argument of it).
    managed = {"positive_int", "amount", "invoice_number", "bump", "is_positive", "items",
               "events", "events_a", "events_rest", "item_ids", "item_ids_again", "item_count"}
    assert managed <= _objects(db)

    # reset drops every object of the spec, of every kind, and leaves the others.
    db.execute("insert into items values (1, 2, (1.5, 'eur'))")
    db.execute("create domain keep_dom as integer")
    db.execute("create view keep_v as select 1 as x")
    r = run_cli("reset", "--yes", "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "  - materialized view item_count" in r.stderr
    assert "  - domain positive_int" in r.stderr
    assert _objects(db) == {"keep_dom", "keep_v"}

    # Built again (apply drops keep_dom and keep_v: the spec manages their kinds), it verifies.
    r = run_cli("apply", "--auto-approve", "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run_cli("verify", "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr

    # verify names each kind that is missing or different.
    db.execute("alter domain positive_int drop constraint positive_int_check")
    db.execute("drop materialized view item_count")
    db.execute("drop policy all_rows on items")
    db.execute(f"revoke select on items from {KINDS_ROLE}")
    db.execute("drop sequence invoice_number")
    r = run_cli("verify", "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    for line in ("domain positive_int differs", "missing materialized view item_count",
                 "missing policy items.all_rows", "missing sequence invoice_number",
                 f"missing grant table public.items to {KINDS_ROLE}"):
        assert line in r.stdout.splitlines(), r.stdout
