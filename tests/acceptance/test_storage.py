"""Acceptance cases: storage parameters of tables and indexes (`with:`); harness.py runs each
one through the whole cycle."""

from __future__ import annotations

import pytest

from schemadiff.plan import Plan

from ..conftest import Server
from .harness import ROWS3, Case, Conn, params, run_case, sql_is


def changed_in_place(plan: Plan, conn: Conn) -> None:
    """Storage parameters change with ALTER ... SET/RESET: nothing is dropped or rebuilt."""
    assert plan.changes, "empty plan"
    assert all(c.action == "alter" and c.kind in ("table", "index") for c in plan.changes)
    assert all(" set (" in c.sql or " reset (" in c.sql for c in plan.changes)


CASES: list[Case] = [
    Case(
        "storage-on-new-table-and-index",
        "",
        """
        tables:
          t:
            with: {fillfactor: 70, autovacuum_enabled: false}
            columns: {id: integer, n: integer}
            primary_key: [id]
            indexes:
              - {columns: [n], with: {fillfactor: 50}}
        """,
        expected=(("create", "table"), ("create", "index")),
        check=sql_is(
            "select reloptions::text from pg_class where relname = 't_n_idx'", "{fillfactor=50}"
        ),
    ),
    Case(
        "storage-set-on-existing-table-with-rows",
        "create table t (id integer primary key);" + ROWS3,
        """
        tables:
          t:
            with: {fillfactor: 80, autovacuum_vacuum_scale_factor: 0.05}
            columns: {id: integer}
            primary_key: [id]
        """,
        expected=(("alter", "table"),),
        check=changed_in_place,
    ),
    Case(
        "storage-changed-and-reset",
        "create table t (id integer primary key) with (fillfactor = 70, autovacuum_enabled = off,"
        " toast_tuple_target = 256);",
        """
        tables:
          t:
            with: {fillfactor: 90, autovacuum_enabled: false}
            columns: {id: integer}
            primary_key: [id]
        """,
        expected=(("alter", "table"),),
        check=sql_is(
            "select reloptions::text from pg_class where relname = 't'",
            "{autovacuum_enabled=off,fillfactor=90}",
        ),
    ),
    Case(
        "storage-of-index-changed-in-place",
        "create table t (id integer primary key, n integer);" + ROWS3
        + "create index t_n_idx on t (n) with (fillfactor = 60);",
        """
        tables:
          t:
            columns: {id: integer, n: integer}
            primary_key: [id]
            indexes:
              - {columns: [n], with: {fillfactor: 40, deduplicate_items: off}}
        """,
        expected=(("alter", "index"),),
        check=changed_in_place,
    ),
    Case(
        "storage-removed-from-table-and-index",
        "create table t (id integer primary key, n integer) with (fillfactor = 70);"
        "create index t_n_idx on t (n) with (fillfactor = 60);",
        """
        tables:
          t:
            columns: {id: integer, n: integer}
            primary_key: [id]
            indexes:
              - columns: [n]
        """,
        expected=(("alter", "table"), ("alter", "index")),
        check=changed_in_place,
    ),
    Case(
        "storage-boolean-spelled-off-is-no-change",
        "create table t (id integer primary key) with (autovacuum_enabled = off);",
        """
        tables:
          t:
            with: {autovacuum_enabled: false}
            columns: {id: integer}
            primary_key: [id]
        """,
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
