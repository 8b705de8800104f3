"""Acceptance cases: procedures, managed when the spec has `procedures:` (harness.py runs them)."""

from __future__ import annotations

import pytest

from ..conftest import Server
from .harness import (
    SIGNATURE,
    Case,
    Conn,
    Plan,
    all_of,
    execute,
    params,
    run_case,
    sql_is,
)

TABLE = """
        tables:
          t:
            columns: {id: integer}
            primary_key: [id]
"""
T_SQL = "create table t (id integer primary key);"
ADD_SQL = "create procedure add_row(n integer) language sql as $$ INSERT INTO t VALUES (n) $$;"


def nothing_dropped(plan: Plan, conn: Conn) -> None:
    assert not [c for c in plan.changes if c.action == "drop"]


def left_alone(plan: Plan, conn: Conn) -> None:
    assert 'routine "public"."add_row"(IN n integer)' in plan.unmanaged, plan.unmanaged
    conn.execute("call add_row(7)")


CASES: list[Case] = [
    Case(
        "procedure-created-with-security-and-search-path",
        T_SQL,
        """
        procedures:
          add_row:
            args: ["n integer"]
            language: plpgsql
            security: definer
            set: {search_path: "public, pg_temp"}
            body: |
              BEGIN
                INSERT INTO t VALUES (n);
              END;
        """ + TABLE,
        expected=(("create", "procedure"),),
        check=all_of(
            execute("call add_row(5)"),
            sql_is("select id from t", 5),
            sql_is("select prosecdef and proconfig is not null from pg_proc"
                   " where proname = 'add_row'", True),
        ),
    ),
    Case(
        "procedure-body-changed-is-replaced",
        T_SQL + ADD_SQL,
        """
        procedures:
          add_row: {args: ["n integer"], language: sql, body: "INSERT INTO t VALUES (n + 1)"}
        """ + TABLE,
        expected=(("alter", "procedure"),),
        check=all_of(
            nothing_dropped,
            execute("call add_row(1)"),
            sql_is("select id from t", 2),
        ),
    ),
    Case(
        "procedure-dropped-when-the-spec-lists-none",
        T_SQL + ADD_SQL,
        """
        procedures: {}
        """ + TABLE,
        expected=(("drop", "procedure"),),
        check=sql_is("select count(*) from pg_proc where proname = 'add_row'", 0),
    ),
    Case(
        "procedure-left-alone-without-the-key",
        T_SQL + ADD_SQL,
        TABLE,
        check=left_alone,
    ),
    Case(
        "procedure-arguments-changed",
        T_SQL + ADD_SQL,
        """
        procedures:
          add_row:
            args: ["n integer", "times integer"]
            language: sql
            body: INSERT INTO t SELECT n + g FROM generate_series(1, times) g
        """ + TABLE,
        SIGNATURE,
        expected=(("drop", "procedure"), ("create", "procedure")),
        check=all_of(execute("call add_row(10, 2)"), sql_is("select count(*) from t", 2)),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
