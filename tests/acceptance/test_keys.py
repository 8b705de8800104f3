"""Acceptance cases: keys (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from schemadiff.plan import Plan

from ..conftest import Server
from .harness import (
    BLOCKING,
    DATA_LOSS,
    ROWS3,
    UNIQUE_BUILD,
    VALIDATION,
    Case,
    Conn,
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


def raises_on(sql: str, error: type[Exception]) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        with pytest.raises(error):
            conn.execute(sql)

    return check


# Issue 8: deferrable keys, NULLS NOT DISTINCT, every foreign key action, MATCH FULL.
CASES += [
    Case(
        "pk-and-unique-deferrable-on-new-table",
        "",
        """
        tables:
          t:
            columns: {id: integer, code: text, n: integer}
            primary_key: {columns: [id], deferrable: true, initially_deferred: true}
            unique:
              - {columns: [code], deferrable: true}
              - {columns: [n], nulls_not_distinct: true}
        """,
        expected=(("create", "table"),),
        check=all_of(
            # Deferred: a transaction may hold duplicates until it commits.
            execute("begin; insert into t values (1, 'a', 1), (1, 'b', 2); "
                    "update t set id = 2 where code = 'b'; commit"),
            execute("insert into t (id, code) values (3, 'c')"),
            raises_on("insert into t (id, code) values (4, 'd')", psycopg.errors.UniqueViolation),
        ),
    ),
    Case(
        "pk-made-deferrable-on-table-with-rows",
        "create table t (id integer primary key);" + ROWS3,
        """
        tables:
          t:
            columns: {id: integer}
            primary_key: {columns: [id], deferrable: true}
        """,
        BLOCKING,
        (("drop", "constraint"), ("alter", "constraint")),
        check=sql_is("select condeferrable from pg_constraint where conname = 't_pkey'", True),
    ),
    Case(
        "unique-made-deferrable-and-nulls-not-distinct-with-rows",
        "create table t (id integer primary key, a integer constraint t_a_key unique,"
        " b integer constraint t_b_key unique);"
        "insert into t values (1, 1, 1), (2, 2, 2), (3, 3, 3);",
        """
        tables:
          t:
            columns: {id: integer, a: integer, b: integer}
            primary_key: [id]
            unique:
              - {columns: [a], deferrable: true, initially_deferred: true}
              - {columns: [b], nulls_not_distinct: true}
        """,
        UNIQUE_BUILD,
        (("drop", "constraint"), ("alter", "constraint")),
        check=all_of(
            execute("insert into t (id) values (10)"),
            raises_on("insert into t (id) values (11)", psycopg.errors.UniqueViolation),
        ),
    ),
    Case(
        "unique-nulls-not-distinct-same-as-spec-is-no-change",
        "create table t (id integer primary key, code text,"
        " constraint t_code_key unique nulls not distinct (code) deferrable);",
        """
        tables:
          t:
            columns: {id: integer, code: text}
            primary_key: [id]
            unique:
              - {columns: [code], nulls_not_distinct: true, deferrable: true}
        """,
    ),
    Case(
        "unique-index-nulls-not-distinct-added-with-rows",
        "create table t (id integer primary key, code text);"
        "create unique index t_code_idx on t (code);"
        "insert into t values (1, 'a'), (2, 'b'), (3, null);",
        """
        tables:
          t:
            columns: {id: integer, code: text}
            primary_key: [id]
            indexes:
              - {columns: [code], unique: true, nulls_not_distinct: true}
        """,
        UNIQUE_BUILD,  # built again concurrently, its rows checked unique
        (("drop", "index"), ("create", "index")),
    ),
    Case(
        "fk-every-action-on-new-tables",
        "",
        """
        tables:
          p:
            columns: {id: integer, code: text}
            primary_key: [id]
            unique:
              - columns: [code]
          c:
            columns:
              id: integer
              a: {type: integer, default: 1}
              b: integer
              c: integer
              d: integer
              e: integer
              code: text
            primary_key: [id]
            foreign_keys:
              - {columns: [a], references: p, on_delete: set default, on_update: cascade}
              - {columns: [b], references: p, on_delete: set null, on_update: set null}
              - {columns: [c], references: p, on_delete: restrict, on_update: restrict}
              - {columns: [d], references: p, on_delete: cascade, on_update: no action}
              - {columns: [e], references: p, on_delete: no action, on_update: set default}
              - {columns: [code], references: {table: p, columns: [code]}, match: full}
        """,
        expected=(("create", "table"), ("create", "constraint")),
        check=sql_is(
            "select string_agg(confdeltype::text || confupdtype::text || confmatchtype::text,"
            " ',' order by conname) from pg_constraint where conrelid = 'c'::regclass"
            " and contype = 'f'",
            "dcs,nns,rrs,aaf,cas,ads",
        ),
    ),
    Case(
        "fk-actions-changed-on-existing",
        "create table p (id integer primary key);"
        "create table c (id integer primary key, a integer references p on delete cascade,"
        " b integer references p);",
        """
        tables:
          p:
            columns: {id: integer}
            primary_key: [id]
          c:
            columns: {id: integer, a: integer, b: integer}
            primary_key: [id]
            foreign_keys:
              - {columns: [a], references: p, on_delete: restrict}
              - {columns: [b], references: p, on_delete: set null, on_update: cascade}
        """,
        expected=(("drop", "constraint"), ("alter", "constraint")),
    ),
    Case(
        "fk-composite-match-full-added-to-table-with-rows",
        "create table p (a integer, b integer, primary key (a, b));"
        "create table c (id integer primary key, a integer, b integer);"
        "insert into p values (1, 1); insert into c values (1, 1, 1), (2, null, null);",
        """
        tables:
          p:
            columns: {a: integer, b: integer}
            primary_key: [a, b]
          c:
            columns: {id: integer, a: integer, b: integer}
            primary_key: [id]
            foreign_keys:
              - columns: [a, b]
                references: {table: p, columns: [a, b]}
                match: full
                on_delete: cascade
        """,
        VALIDATION,
        (("create", "constraint"),),
        check=raises_on(
            "insert into c values (3, 1, null)", psycopg.errors.ForeignKeyViolation
        ),
    ),
    Case(
        "fk-match-full-and-deferrable-changed",
        "create table p (id integer primary key);"
        "create table c (id integer primary key, a integer,"
        " constraint c_a_fkey foreign key (a) references p match full deferrable);",
        """
        tables:
          p:
            columns: {id: integer}
            primary_key: [id]
          c:
            columns: {id: integer, a: integer}
            primary_key: [id]
            foreign_keys:
              - {columns: [a], references: p}
        """,
        expected=(("drop", "constraint"), ("alter", "constraint")),
    ),
    Case(
        "fk-match-full-same-as-spec-is-no-change",
        "create table p (a integer, b integer, primary key (a, b));"
        "create table c (id integer primary key, a integer, b integer,"
        " foreign key (a, b) references p match full on update cascade);",
        """
        tables:
          p:
            columns: {a: integer, b: integer}
            primary_key: [a, b]
          c:
            columns: {id: integer, a: integer, b: integer}
            primary_key: [id]
            foreign_keys:
              - {columns: [a, b], references: p, match: full, on_update: cascade}
        """,
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
