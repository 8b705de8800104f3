"""Acceptance cases: keys (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import pytest

from ..conftest import Server
from .harness import (
    BLOCKING,
    DATA_LOSS,
    ROWS3,
    UNIQUE_BUILD,
    VALIDATION,
    Case,
    all_of,
    execute,
    fk_dropped_before_the_key_it_needs,
    params,
    run_case,
    sql_is,
)

CASES: list[Case] = [
    Case(
        "pk-added-to-table-with-rows-and-widened-to-composite",
        "create table t (id integer not null, name text);" + ROWS3
        + "create table u (a integer primary key, b integer not null);",
        """
        tables:
          t:
            columns: {id: integer, name: text}
            primary_key: [id]
          u:
            columns: {a: integer, b: integer}
            primary_key: {columns: [a, b], name: u_ab_pk}
        """,
        BLOCKING,  # t has rows: its primary key index is built inside the transaction
        expected=(("drop", "constraint"), ("create", "constraint")),
        check=sql_is(
            "select array_agg(conname::text order by conname) from pg_constraint"
            " where contype = 'p' and connamespace = 'public'::regnamespace",
            ["t_pkey", "u_ab_pk"],
        ),
    ),
    Case(
        "pk-renamed-on-table-referenced-by-fk",
        "create table p (id integer primary key, code text not null);"
        "create table c (id integer primary key, p_id integer references p);",
        """
        tables:
          p:
            columns: {id: integer, code: text}
            primary_key: {columns: [id], name: p_pk}
          c:
            columns: {id: integer, p_id: integer}
            primary_key: [id]
            foreign_keys:
              - columns: [p_id]
                references: {table: p}
        """,
        expected=(("drop", "constraint"), ("create", "constraint"), ("alter", "constraint")),
        check=fk_dropped_before_the_key_it_needs,
    ),
    Case(
        "unique-added-and-dropped",
        "create table t (id integer primary key, email text, a integer, b integer,"
        " code text constraint t_code_key unique);" + ROWS3,
        """
        tables:
          t:
            columns:
              id: integer
              email: {type: text, unique: true}
              a: integer
              b: integer
              code: text
            primary_key: [id]
            unique:
              - columns: [a, b]
        """,
        UNIQUE_BUILD,  # built CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX
        expected=(("create", "constraint"), ("drop", "constraint")),
        check=sql_is(
            "select array_agg(conname::text order by conname) from pg_constraint "
            "where conrelid = 't'::regclass and contype = 'u'",
            ["t_a_b_key", "t_email_key"],
        ),
    ),
    Case(
        "fk-new-tables-with-cycle-and-self-reference",
        "",
        """
        tables:
          users:
            columns:
              id: integer
              team_id: integer
              invited_by: integer
            primary_key: [id]
            foreign_keys:
              - columns: [team_id]
                references: {table: teams}
                on_delete: set null
              - columns: [invited_by]
                references: {table: users, columns: [id]}
          teams:
            columns:
              id: integer
              owner_id: integer
            primary_key: [id]
            foreign_keys:
              - columns: [owner_id]
                references: {table: users}
                on_delete: cascade
                on_update: restrict
        """,
        expected=(("create", "table"), ("create", "constraint")),
    ),
    Case(
        "fk-added-to-table-with-rows-and-action-changed",
        "create table parent (id integer primary key);"
        "create table child (id integer primary key, parent_id integer);"
        "create table pet (id integer primary key,"
        " parent_id integer references parent on delete set null);"
        "insert into parent values (1), (2); insert into child values (1, 1), (2, null);"
        "insert into pet values (1, 2);",
        """
        tables:
          parent:
            columns: {id: integer}
            primary_key: [id]
          child:
            columns: {id: integer, parent_id: integer}
            primary_key: [id]
            foreign_keys:
              - columns: [parent_id]
                references: {table: parent}
                on_delete: cascade
          pet:
            columns: {id: integer, parent_id: integer}
            primary_key: [id]
            foreign_keys:
              - columns: [parent_id]
                references: {table: parent}
                on_delete: cascade
                on_update: cascade
        """,
        VALIDATION,  # NOT VALID in the transaction, VALIDATE after it
        expected=(("create", "constraint"), ("drop", "constraint"), ("alter", "constraint")),
        check=all_of(
            execute("delete from parent"),
            sql_is("select (select count(*) from child) + (select count(*) from pet)", 1),
        ),
    ),
    Case(
        "fk-dropped-with-its-column-and-index",
        "create table p (id integer primary key);"
        "create table c (id integer primary key, p_id integer references p, x integer);"
        "create index c_x_p_idx on c (x, p_id);",
        """
        tables:
          p:
            columns: {id: integer}
            primary_key: [id]
          c:
            columns: {id: integer, x: integer}
            primary_key: [id]
        """,
        DATA_LOSS,
        (("drop", "constraint"), ("drop", "index"), ("drop", "column")),
    ),
    Case(
        "fk-to-unique-constraint-that-is-replaced",
        "create table p (id integer primary key, code text constraint p_code_key unique);"
        "create table c (id integer primary key, code text references p (code));",
        """
        tables:
          p:
            columns: {id: integer, code: text}
            primary_key: [id]
            unique:
              - columns: [code]
                name: p_code_uq
          c:
            columns: {id: integer, code: text}
            primary_key: [id]
            foreign_keys:
              - columns: [code]
                references: {table: p, columns: [code]}
        """,
        expected=(("drop", "constraint"), ("create", "constraint"), ("alter", "constraint")),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
