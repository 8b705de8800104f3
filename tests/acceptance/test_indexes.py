"""Acceptance cases: indexes (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import pytest

from ..conftest import Server
from .harness import (
    INDEX_BUILD,
    ROWS3,
    Case,
    indexes_in_transaction,
    indexes_outside_transaction,
    params,
    rows_are,
    run_case,
)

CASES: list[Case] = [
    Case(
        "index-added-to-table-with-rows-is-built-concurrently",
        "create table t (id integer primary key, email text);"
        "insert into t select g, 'u' || g from generate_series(1, 5) g;",
        """
        tables:
          t:
            columns: {id: integer, email: text}
            primary_key: [id]
            indexes:
              - columns: [email]
        """,
        INDEX_BUILD,
        (("create", "index"),),
        check=indexes_outside_transaction(5),
    ),
    Case(
        "index-on-new-table-is-transactional",
        "",
        """
        tables:
          t:
            columns: {id: integer, email: text, created_at: timestamptz}
            primary_key: [id]
            indexes:
              - columns: [email]
              - columns: [{column: created_at, order: desc, nulls: last}]
        """,
        expected=(("create", "table"), ("create", "index")),
        check=indexes_in_transaction,
    ),
    Case(
        "index-partial-and-expression-on-empty-table",
        "create table t (id integer primary key, email text, active boolean);",
        """
        tables:
          t:
            columns: {id: integer, email: text, active: boolean}
            primary_key: [id]
            indexes:
              - columns: [email]
                where: active
              - name: t_email_lower_idx
                columns: [{expression: lower(email)}]
        """,
        expected=(("create", "index"),),
        check=indexes_outside_transaction(None),
    ),
    Case(
        "index-desc-nulls-last-with-include",
        "create table t (id integer primary key, created_at timestamptz, email text);" + ROWS3,
        """
        tables:
          t:
            columns: {id: integer, created_at: timestamptz, email: text}
            primary_key: [id]
            indexes:
              - columns: [{column: created_at, order: desc, nulls: last}]
                include: [email]
        """,
        INDEX_BUILD,
        (("create", "index"),),
        check=indexes_outside_transaction(3),
    ),
    Case(
        "index-unique-gin-hash-opclass",
        "create table t (id integer primary key, a integer, b integer, payload jsonb,"
        " code text, h text);",
        """
        tables:
          t:
            columns: {id: integer, a: integer, b: integer, payload: jsonb, code: text, h: text}
            primary_key: [id]
            indexes:
              - columns: [a, b]
                unique: true
              - columns: [payload]
                method: gin
              - columns: [{column: code, opclass: text_pattern_ops}]
              - columns: [h]
                method: hash
        """,
        expected=(("create", "index"),),
        check=rows_are(
            "select c.relname::text, am.amname::text, i.indisunique from pg_index i"
            " join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam"
            " where i.indrelid = 't'::regclass and not i.indisprimary order by 1",
            [("t_a_b_idx", "btree", True), ("t_code_idx", "btree", False),
             ("t_h_idx", "hash", False), ("t_payload_idx", "gin", False)],
        ),
    ),
    Case(
        "index-changed-and-dropped",
        "create table t (id integer primary key, a integer, b integer);"
        "create index t_a_idx on t (a); create index t_b_idx on t (b);",
        """
        tables:
          t:
            columns: {id: integer, a: integer, b: integer}
            primary_key: [id]
            indexes:
              - name: t_a_idx
                columns: [a, b]
        """,
        expected=(("drop", "index"), ("create", "index")),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
