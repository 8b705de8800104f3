"""Acceptance cases: functions and triggers (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import pytest

from ..conftest import Server
from .harness import (
    REWRITE,
    ROWS3,
    SIGNATURE,
    UPDATED_AT_FN,
    UPDATED_AT_SQL,
    VALIDATION,
    Case,
    all_of,
    execute,
    function_before_its_users,
    params,
    run_case,
    sql_is,
)

CASES: list[Case] = [
    Case(
        "function-new-used-by-default-and-check-in-same-plan",
        "create table t (id integer primary key);" + ROWS3,
        """
        functions:
          next_code:
            returns: text
            language: plpgsql
            body: |
              BEGIN
                RETURN 'C-' || (SELECT coalesce(max(id), 0) FROM t);
              END;
          code_ok:
            args: ["c text"]
            returns: boolean
            language: sql
            volatility: immutable
            body: SELECT c LIKE 'C-%'
        tables:
          t:
            columns:
              id: integer
              code: {type: text, nullable: false, default: {sql: next_code()}, check: code_ok(code)}
            primary_key: [id]
        """,
        REWRITE | VALIDATION,  # next_code() is volatile; the check meets existing rows
        expected=(("create", "function"), ("create", "column"), ("create", "constraint")),
        check=function_before_its_users,
    ),
    Case(
        "function-body-changed-and-other-dropped",
        "create table t (id integer primary key);"
        "create function answer() returns integer language sql immutable as $$ SELECT 41 $$;"
        "create function legacy() returns integer language sql as $$ SELECT 1 $$;",
        """
        functions:
          answer:
            returns: integer
            language: sql
            volatility: immutable
            body: SELECT 42
        tables:
          t:
            columns: {id: integer}
            primary_key: [id]
        """,
        expected=(("alter", "function"), ("drop", "function")),
        check=all_of(
            sql_is("select answer()", 42),
            sql_is("select count(*) from pg_proc where proname = 'legacy'", 0),
        ),
    ),
    Case(
        "function-return-type-changed-then-used-by-default",
        "create function f() returns integer language sql as $$ SELECT 1 $$;"
        "create table t (id integer primary key, n bigint);",
        """
        functions:
          f:
            returns: bigint
            language: sql
            body: SELECT 2
        tables:
          t:
            columns:
              id: integer
              n: {type: bigint, default: {sql: f()}}
            primary_key: [id]
        """,
        SIGNATURE,
        expected=(("drop", "function"), ("alter", "function"), ("alter", "column")),
        check=all_of(
            execute("insert into t (id) values (1)"),
            sql_is("select n from t", 2),
        ),
    ),
    Case(
        "trigger-added-to-existing-table",
        "create table t (id integer primary key, updated_at timestamptz);"
        "insert into t values (1, '2000-01-01');",
        UPDATED_AT_FN + """
        tables:
          t:
            columns: {id: integer, updated_at: timestamptz}
            primary_key: [id]
            triggers:
              - name: trg_t_updated_at
                function: set_updated_at
                timing: before
                events: [update]
                when: OLD.* IS DISTINCT FROM NEW.*
        """,
        expected=(("create", "function"), ("create", "trigger")),
        check=all_of(
            execute("update t set id = 2"),
            sql_is("select updated_at > '2001-01-01' from t", True),
        ),
    ),
    Case(
        "trigger-changed-and-dropped",
        "create table t (id integer primary key, updated_at timestamptz);" + UPDATED_AT_SQL
        + "create trigger trg_t before update on t for each row execute function set_updated_at();"
        "create trigger trg_old before insert on t for each row execute function set_updated_at();",
        UPDATED_AT_FN + """
        tables:
          t:
            columns: {id: integer, updated_at: timestamptz}
            primary_key: [id]
            triggers:
              - name: trg_t
                function: set_updated_at
                timing: before
                events: [insert, update]
        """,
        expected=(("drop", "trigger"), ("alter", "trigger")),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
