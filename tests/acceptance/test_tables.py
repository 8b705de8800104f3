"""Acceptance cases: tables (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import pytest

from ..conftest import Server
from .harness import (
    DATA_LOSS,
    REWRITE,
    ROWS3,
    Case,
    all_of,
    drop_table_rows,
    params,
    rows_are,
    run_case,
    sql_is,
    unmanaged_kept,
)

CASES: list[Case] = [
    Case(
        "table-create",
        "",
        """
        tables:
          users:
            comment: Accounts
            columns:
              id: bigint
              email: {type: text, nullable: false}
            primary_key: [id]
        """,
        expected=(("create", "table"), ("alter", "comment")),
    ),
    Case(
        "table-drop-with-rows-is-data-loss",
        "create table keep (id integer primary key);"
        "create table gone (id serial primary key, note text);"
        "insert into gone (note) select 'x' from generate_series(1, 7);",
        """
        tables:
          keep:
            columns: {id: integer}
            primary_key: [id]
        """,
        DATA_LOSS,
        (("drop", "table"),),
        check=all_of(
            drop_table_rows(7),
            sql_is("select to_regclass('public.gone_id_seq') is null", True),
        ),
    ),
    Case(
        "table-unchanged-plans-nothing",
        "create table t (id integer primary key, name text not null default 'x');",
        """
        tables:
          t:
            columns:
              id: integer
              name: {type: text, nullable: false, default: x}
            primary_key: [id]
        """,
    ),
    Case(
        "table-in-own-schema-with-enum-and-function",
        "",
        """
        schema: app
        enums:
          st:
            values: [a, b]
            comment: state
        functions:
          one:
            returns: integer
            language: sql
            body: SELECT 1
            comment: fn
        tables:
          t:
            comment: tbl
            columns:
              id: {type: integer, default: {sql: one()}}
              s: {type: st, default: a}
            primary_key: [id]
        """,
        expected=(("create", "schema"), ("create", "enum"), ("create", "table")),
        check=rows_are("select pg_get_expr(adbin, adrelid) from pg_attrdef "
                       "where adrelid = 'app.t'::regclass order by adnum",
                       [("app.one()",), ("'a'::app.st",)]),
    ),
    Case(
        "unmanaged-view-and-schema-reported-and-kept",
        "create table t (id integer primary key, name text);" + ROWS3
        + "create view active_t as select id, name from t;"
        "create schema reporting; create table reporting.daily (d date primary key);",
        """
        tables:
          t:
            columns: {id: integer, name: text, note: text}
            primary_key: [id]
        """,
        expected=(("create", "column"),),
        check=unmanaged_kept,
    ),
]

# Unlogged tables (issue 8): SET LOGGED / SET UNLOGGED rewrites a table that has rows.
UNLOGGED_SPEC = """
        tables:
          t:
            unlogged: %s
            columns: {id: integer}
            primary_key: [id]
        """
CASES += [
    Case(
        "table-create-unlogged",
        "",
        UNLOGGED_SPEC % "true",
        expected=(("create", "table"),),
        check=sql_is("select relpersistence from pg_class where oid = 't'::regclass", "u"),
    ),
    Case(
        "table-set-unlogged-with-rows-is-a-rewrite",
        "create table t (id integer primary key);" + ROWS3,
        UNLOGGED_SPEC % "true",
        REWRITE,
        (("alter", "table"),),
        check=all_of(
            sql_is("select relpersistence from pg_class where oid = 't'::regclass", "u"),
            sql_is("select count(*) from t", 3),
        ),
    ),
    Case(
        "table-set-logged-with-rows-is-a-rewrite",
        "create unlogged table t (id integer primary key);" + ROWS3,
        UNLOGGED_SPEC % "false",
        REWRITE,
        (("alter", "table"),),
        check=sql_is("select relpersistence from pg_class where oid = 't'::regclass", "p"),
    ),
    Case(
        "table-set-unlogged-when-empty-has-no-hazard",
        "create table t (id integer primary key);",
        UNLOGGED_SPEC % "true",
        expected=(("alter", "table"),),
    ),
    Case(
        "table-unlogged-unchanged-plans-nothing",
        "create unlogged table t (id integer primary key);",
        UNLOGGED_SPEC % "true",
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
