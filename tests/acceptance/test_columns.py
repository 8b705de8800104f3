"""Acceptance cases: columns (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import pytest

from ..conftest import Server
from .harness import (
    DATA_LOSS,
    NOT_NULL,
    REWRITE,
    ROWS3,
    Case,
    params,
    rows_are,
    run_case,
    sql_is,
)

CASES: list[Case] = [
    Case(
        "column-add-with-literal-defaults",
        "create table t (id integer primary key);" + ROWS3,
        """
        tables:
          t:
            columns:
              id: integer
              note: text
              attempts: {type: integer, default: 0}
              label: {type: text, default: "it's"}
              price: {type: "numeric(6,2)", default: 1.5}
              code: {type: varchar(8), default: abc}
              flag: {type: boolean, default: false}
              doc: {type: jsonb, default: "{}"}
            primary_key: [id]
        """,
        expected=(("create", "column"),),
        check=rows_are(
            "select note, attempts, label, price::text, code, flag, doc::text from t where id = 1",
            [(None, 0, "it's", "1.50", "abc", False, "{}")],
        ),
    ),
    Case(
        "column-add-not-null-with-default-to-table-with-rows",
        "create table t (id integer primary key);" + ROWS3,
        """
        tables:
          t:
            columns:
              id: integer
              active: {type: boolean, nullable: false, default: true}
            primary_key: [id]
        """,
        expected=(("create", "column"),),
        check=sql_is("select count(*) from t where active", 3),
    ),
    Case(
        "column-add-with-sql-default-and-serial",
        "create table t (id integer primary key);" + ROWS3,
        """
        tables:
          t:
            columns:
              id: integer
              created_at: {type: timestamptz, nullable: false, default: {sql: now()}}
              tags: {type: "text[]", nullable: false, default: {sql: "'{}'::text[]"}}
              seq: bigserial
            primary_key: [id]
        """,
        REWRITE,  # bigserial: nextval() is volatile
        expected=(("create", "column"),),
        check=sql_is("select array_agg(seq order by seq)::text from t", "{1,2,3}"),
    ),
    Case(
        "column-drop-is-data-loss",
        "create table t (id integer primary key, legacy text);" + ROWS3,
        """
        tables:
          t:
            columns: {id: integer}
            primary_key: [id]
        """,
        DATA_LOSS,
        (("drop", "column"),),
    ),
    Case(
        "column-integer-to-bigint-with-default-and-index",
        "create table t (id integer primary key, n integer not null default 0);"
        "create index t_n_idx on t (n);" + "insert into t values (1, 2);",
        """
        tables:
          t:
            columns:
              id: integer
              n: {type: bigint, nullable: false, default: 0}
            primary_key: [id]
            indexes:
              - columns: [n]
        """,
        REWRITE,
        expected=(("alter", "column"),),
    ),
    Case(
        "column-bigint-to-integer-is-data-loss",
        "create table t (id integer primary key, n bigint);" + ROWS3,
        """
        tables:
          t:
            columns: {id: integer, n: integer}
            primary_key: [id]
        """,
        DATA_LOSS | REWRITE,
        (("alter", "column"),),
    ),
    Case(
        "column-varchar-numeric-timestamp-widened",
        "create table t (id integer primary key, code varchar(10), note varchar(20),"
        " amount numeric(10,2), at timestamp);"
        "insert into t values (1, 'abc', 'n', 12345678.91, '2024-01-01');",
        """
        tables:
          t:
            columns:
              id: integer
              code: varchar(50)
              note: text
              amount: "numeric(12,4)"
              at: timestamptz
            primary_key: [id]
        """,
        REWRITE,  # numeric scale and timestamp -> timestamptz rewrite; varchar does not
        expected=(("alter", "column"),),
    ),
    Case(
        "column-varchar-and-numeric-narrowed-is-data-loss",
        "create table t (id integer primary key, code varchar(50), amount numeric(12,4));"
        "insert into t values (1, 'abc', 1.25);",
        """
        tables:
          t:
            columns:
              id: integer
              code: varchar(10)
              amount: "numeric(12,2)"
            primary_key: [id]
        """,
        DATA_LOSS | REWRITE,
        (("alter", "column"),),
    ),
    Case(
        "column-text-to-integer-is-data-loss",
        "create table t (id integer primary key, n text);"
        "insert into t values (1, '42'), (2, '7');",
        """
        tables:
          t:
            columns: {id: integer, n: integer}
            primary_key: [id]
        """,
        DATA_LOSS | REWRITE,
        (("alter", "column"),),
        check=sql_is("select sum(n) from t", 49),
    ),
    Case(
        "column-set-not-null-on-table-with-rows",
        "create table t (id integer primary key, name text);"
        "insert into t values (1, 'a'), (2, 'b');",
        """
        tables:
          t:
            columns:
              id: integer
              name: {type: text, nullable: false}
            primary_key: [id]
        """,
        NOT_NULL,
        (("alter", "column"),),
    ),
    Case(
        "column-nullability-changed-on-empty-table",
        "create table t (id integer primary key, a text, b text not null);",
        """
        tables:
          t:
            columns:
              id: integer
              a: {type: text, nullable: false}
              b: text
              c: {type: text, nullable: false}
            primary_key: [id]
        """,
        expected=(("alter", "column"), ("create", "column")),
    ),
    Case(
        "column-default-changed-dropped-and-literal-to-sql",
        "create table t (id integer primary key, a integer default 0, b text default 'x',"
        " c timestamptz default '2000-01-01');",
        """
        tables:
          t:
            columns:
              id: integer
              a: {type: integer, default: 1}
              b: text
              c: {type: timestamptz, default: {sql: now()}}
            primary_key: [id]
        """,
        expected=(("alter", "column"),),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
