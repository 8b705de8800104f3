"""Acceptance corpus: old SQL -> new spec -> expected hazards, on every local Postgres major.

Each case runs the whole cycle as a user would meet it:
plan -> hazard kinds exactly as expected -> refused without --allow-hazards -> apply ->
plan again is empty -> the live catalog equals a fresh database built straight from the spec
(columns, constraints, indexes, triggers, comments, functions, enums, config keys).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from schemadiff.apply import Options, apply_plan, check_hazards
from schemadiff.errors import RefusedError
from schemadiff.hazards import HazardKind
from schemadiff.model import qualified, quote, render_sql
from schemadiff.plan import Plan, planner
from schemadiff.shadow import canonicalize_checks
from schemadiff.spec import Spec, parse_spec

from ..conftest import Server, make_database

Conn = psycopg.Connection[Any]
NONE: frozenset[HazardKind] = frozenset()
DATA_LOSS = frozenset({HazardKind.DATA_LOSS})
NOT_NULL = frozenset({HazardKind.NOT_NULL_ON_EXISTING_ROWS})
INDEX_BUILD = frozenset({HazardKind.INDEX_BUILD})
ENUM_REMOVED = frozenset({HazardKind.ENUM_VALUE_REMOVED})
# Issue 7 (online DDL, full hazard list): what the statements below now also carry.
REWRITE = frozenset({HazardKind.TABLE_REWRITE})
VALIDATION = frozenset({HazardKind.CONSTRAINT_VALIDATION})
BLOCKING = frozenset({HazardKind.BLOCKING_LOCK})
UNIQUE_BUILD = frozenset({HazardKind.INDEX_BUILD, HazardKind.UNIQUE_ON_EXISTING_ROWS})
SIGNATURE = frozenset({HazardKind.FUNCTION_SIGNATURE_CHANGED})


@dataclass(frozen=True)
class Case:
    id: str
    old_sql: str  # run on the empty database first
    new_spec: str  # YAML body without the version line
    expected_hazards: frozenset[HazardKind] = NONE
    expected: tuple[tuple[str, str], ...] = ()  # (action, kind) pairs the plan must hold
    allow: frozenset[HazardKind] | None = None  # None: allow exactly the expected hazards
    check: Callable[[Plan, Conn], None] | None = None  # more assertions, after the apply
    xfail: str | None = None


def y(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def one(conn: Conn, sql: str, *params: Any) -> Any:
    row = conn.execute(sql, params or None).fetchone()
    assert row is not None
    return row[0]


# --- per-case assertions ------------------------------------------------------------------


def changes_of(plan: Plan, action: str, kind: str) -> list[Any]:
    found = [c for c in plan.changes if c.action == action and c.kind == kind]
    assert found, f"no {action} {kind} in the plan"
    return found


def drop_table_rows(rows: int) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        (drop,) = changes_of(plan, "drop", "table")
        assert [(h.kind, h.rows) for h in drop.hazards] == [(HazardKind.DATA_LOSS, rows)]
        assert one(conn, "select to_regclass('public.gone')") is None

    return check


def indexes_outside_transaction(hazard_rows: int | None) -> Callable[[Plan, Conn], None]:
    """Indexes on an existing table: CONCURRENTLY, after the transaction, valid when done."""

    def check(plan: Plan, conn: Conn) -> None:
        created = changes_of(plan, "create", "index")
        for ix in created:
            assert not ix.transactional
            assert " CONCURRENTLY " in ix.sql
            assert [h.rows for h in ix.hazards] == ([] if hazard_rows is None else [hazard_rows])
        assert plan.changes[-len(created):] == created  # after the transaction
        assert one(
            conn, "select bool_and(indisvalid) from pg_index where indrelid = 'public.t'::regclass"
        )

    return check


def indexes_in_transaction(plan: Plan, conn: Conn) -> None:
    for ix in changes_of(plan, "create", "index"):
        assert ix.transactional
        assert "CONCURRENTLY" not in ix.sql


def table_comment_is(table: str, expected: str | None) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        got = one(conn, "select obj_description(%s::regclass, 'pg_class')", f"public.{table}")
        assert got == expected

    return check


def column_comment_is(
    table: str, column: str, expected: str | None
) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        got = one(
            conn,
            "select col_description(attrelid, attnum) from pg_attribute "
            "where attrelid = %s::regclass and attname = %s",
            f"public.{table}", column,
        )
        assert got == expected

    return check


def rows_are(sql: str, expected: list[tuple[Any, ...]]) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        assert conn.execute(sql).fetchall() == expected

    return check


def sql_is(sql: str, expected: Any) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        assert one(conn, sql) == expected

    return check


def execute(sql: str) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        conn.execute(sql)

    return check


def all_of(*checks: Callable[[Plan, Conn], None]) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        for c in checks:
            c(plan, conn)

    return check


def unmanaged_kept(plan: Plan, conn: Conn) -> None:
    assert 'view "public"."active_t"' in plan.unmanaged, plan.unmanaged
    assert any(u.startswith("schema reporting") for u in plan.unmanaged), plan.unmanaged
    assert not [c for c in plan.changes if c.action == "drop"]
    assert one(conn, "select count(*) from active_t") == 3
    assert one(conn, "select to_regclass('reporting.daily') is not null")


def function_before_its_users(plan: Plan, conn: Conn) -> None:
    kinds = [(c.action, c.kind) for c in plan.changes]
    first_function = kinds.index(("create", "function"))
    assert first_function < kinds.index(("create", "column"))
    assert first_function < kinds.index(("create", "constraint"))
    conn.execute("insert into t (id) values (100)")
    assert one(conn, "select code from t where id = 100") == "C-3"
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("insert into t (id, code) values (101, 'bad')")


def fk_dropped_before_the_key_it_needs(plan: Plan, conn: Conn) -> None:
    drops = [c.name for c in plan.changes if c.action == "drop" and c.kind == "constraint"]
    assert drops.index('"public"."c"."c_p_id_fkey"') < drops.index('"public"."p"."p_pkey"')
    conn.execute("insert into p values (1, 'x'); insert into c values (1, 1)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("insert into c values (2, 2)")


ROWS3 = "insert into t (id) values (1), (2), (3);"
CONFIG_TABLE = """
    create table system_config (key text primary key, value text,
                                updated_at timestamptz not null default now());
"""
# Spec fragments, indented like the case bodies they are joined to.
CONFIG_SPEC_TABLE = """
        tables:
          system_config:
            columns:
              key: text
              value: text
              updated_at: {type: timestamptz, nullable: false, default: {sql: now()}}
            primary_key: [key]
    """
UPDATED_AT_FN = """
        functions:
          set_updated_at:
            returns: trigger
            language: plpgsql
            body: |
              BEGIN
                NEW.updated_at = now();
                RETURN NEW;
              END;
    """
UPDATED_AT_SQL = (
    "create function set_updated_at() returns trigger language plpgsql as $$\n"
    "BEGIN\n  NEW.updated_at = now();\n  RETURN NEW;\nEND;\n$$;"
)

CASES: list[Case] = [
    # --- tables ---------------------------------------------------------------------------
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
    # --- columns --------------------------------------------------------------------------
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
    # --- primary keys ---------------------------------------------------------------------
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
    # --- unique constraints ---------------------------------------------------------------
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
    # --- foreign keys ---------------------------------------------------------------------
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
    # --- checks ---------------------------------------------------------------------------
    Case(
        "check-added-changed-and-dropped",
        "create table t (id integer primary key, qty integer constraint t_qty_check"
        " check (qty >= 0), n integer constraint t_n_check check (n > 0), lo integer,"
        " hi integer, stock integer); insert into t values (1, 5, 1, 1, 2, 0);",
        """
        tables:
          t:
            columns:
              id: integer
              qty: {type: integer, check: qty BETWEEN 0 AND 100}
              n: integer
              lo: integer
              hi: integer
              stock: {type: integer, check: stock >= 0}
            primary_key: [id]
            checks:
              - name: t_range
                expression: lo <= hi
        """,
        VALIDATION,
        expected=(("create", "constraint"), ("drop", "constraint"), ("alter", "constraint")),
        check=sql_is(
            "select array_agg(conname::text order by conname) from pg_constraint"
            " where conrelid = 't'::regclass and contype = 'c'",
            ["t_qty_check", "t_range", "t_stock_check"],
        ),
    ),
    Case(
        "check-in-list-on-varchar-converges",
        "create table t (id integer primary key, status varchar(16));",
        """
        tables:
          t:
            columns:
              id: integer
              status: {type: varchar(16), check: "status IN ('new', 'paid', 'failed')"}
            primary_key: [id]
        """,
        expected=(("create", "constraint"),),
    ),
    # --- indexes --------------------------------------------------------------------------
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
    # --- functions ------------------------------------------------------------------------
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
    # --- triggers -------------------------------------------------------------------------
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
    # --- comments -------------------------------------------------------------------------
    Case(
        "comment-added-on-table-column-function",
        "create table t (id integer primary key, note text);"
        "create function answer() returns integer language sql immutable as $$\nSELECT 42\n$$;",
        """
        functions:
          answer:
            returns: integer
            language: sql
            volatility: immutable
            body: SELECT 42
            comment: The answer
        tables:
          t:
            comment: Things
            columns:
              id: {type: integer, comment: "the thing's id"}
              note: {type: text, comment: "line one\\nline two"}
            primary_key: [id]
        """,
        expected=(("alter", "comment"),),
        check=all_of(
            table_comment_is("t", "Things"),
            column_comment_is("t", "id", "the thing's id"),
            column_comment_is("t", "note", "line one\nline two"),
            sql_is("select obj_description('answer'::regproc, 'pg_proc')", "The answer"),
        ),
    ),
    Case(
        "comment-changed-and-removed",
        "create type st as enum ('a'); comment on type st is 'old';"
        "create table t (id integer primary key, n integer); comment on table t is 'old';"
        "comment on column t.id is 'old id'; comment on column t.n is 'gone';"
        "create function answer() returns integer language sql as $$ SELECT 42 $$;"
        "comment on function answer() is 'old';",
        """
        enums:
          st:
            values: [a]
            comment: new
        functions:
          answer:
            returns: integer
            language: sql
            body: SELECT 42
        tables:
          t:
            comment: new
            columns:
              id: {type: integer, comment: new id}
              n: integer
            primary_key: [id]
        """,
        expected=(("alter", "comment"),),
        check=all_of(
            table_comment_is("t", "new"),
            column_comment_is("t", "id", "new id"),
            column_comment_is("t", "n", None),
            sql_is("select obj_description('answer'::regproc, 'pg_proc')", None),
            sql_is("select obj_description('st'::regtype, 'pg_type')", "new"),
        ),
    ),
    Case(
        "comment-chinese-utf8-round-trip",
        "create table users (id text primary key, nickname text);"
        "comment on table users is '旧的';",
        """
        tables:
          users:
            comment: 用户表（含“引号”与 emoji 🚀）
            columns:
              id: {type: text, comment: 用户ID}
              nickname: {type: text, comment: "昵称，最长 32 个字符；可为空"}
            primary_key: [id]
        """,
        expected=(("alter", "comment"),),
        check=all_of(
            table_comment_is("users", "用户表（含“引号”与 emoji 🚀）"),
            column_comment_is("users", "id", "用户ID"),
            column_comment_is("users", "nickname", "昵称，最长 32 个字符；可为空"),
        ),
    ),
    # --- enums ----------------------------------------------------------------------------
    Case(
        "enum-created-with-column-using-it",
        "create table orders (id integer primary key);"
        "insert into orders values (1);",
        """
        enums:
          order_status:
            values: [pending, paid, failed]
            comment: Payment state
        tables:
          orders:
            columns:
              id: integer
              status: {type: order_status, nullable: false, default: pending}
            primary_key: [id]
        """,
        expected=(("create", "enum"), ("create", "column")),
        check=sql_is("select status::text from orders", "pending"),
    ),
    Case(
        "enum-value-added-to-type-used-by-default",
        "create type order_status as enum ('pending', 'paid');"
        "create table orders (id integer primary key,"
        " status order_status not null default 'pending');"
        "insert into orders values (1, 'paid');",
        """
        enums:
          order_status:
            values: [pending, paid, refunded]
        tables:
          orders:
            columns:
              id: integer
              status: {type: order_status, nullable: false, default: pending}
            primary_key: [id]
        """,
        expected=(("alter", "enum"),),
        check=all_of(
            sql_is("select enum_range(null::order_status)::text", "{pending,paid,refunded}"),
            sql_is("select status::text from orders", "paid"),
        ),
    ),
    Case(
        "enum-value-removed",
        "create type order_status as enum ('pending', 'paid', 'legacy');"
        "create table orders (id integer primary key, status order_status);"
        "insert into orders values (1, 'paid');",
        """
        enums:
          order_status:
            values: [pending, paid]
        tables:
          orders:
            columns: {id: integer, status: order_status}
            primary_key: [id]
        """,
        ENUM_REMOVED,
        (("alter", "enum"),),
        check=sql_is("select status::text from orders", "paid"),
    ),
    # --- config keys ----------------------------------------------------------------------
    Case(
        "config-table-and-keys-created",
        "",
        CONFIG_SPEC_TABLE + """
        config:
          table: system_config
          key_column: key
          value_column: value
          keys:
            api_port: {default: "8080"}
            mode: {value: prod}
        """,
        expected=(("create", "table"), ("create", "config")),
        check=rows_are("select key, value from system_config order by key",
                       [("api_port", "8080"), ("mode", "prod")]),
    ),
    Case(
        "config-missing-key-inserted-pinned-updated-operator-value-kept",
        CONFIG_TABLE + "insert into system_config (key, value) values ('api_port', '9090'),"
        " ('mode', 'dev');",
        CONFIG_SPEC_TABLE + """
        config:
          table: system_config
          key_column: key
          value_column: value
          keys:
            api_port: {default: "8080"}
            host: {default: localhost}
            mode: {value: prod}
        """,
        expected=(("create", "config"), ("alter", "config")),
        check=rows_are("select key, value from system_config order by key",
                       [("api_port", "9090"), ("host", "localhost"), ("mode", "prod")]),
    ),
    Case(
        "config-extra-key-deleted-is-data-loss",
        CONFIG_TABLE + "insert into system_config (key, value) values ('api_port', '8080'),"
        " ('legacy_flag', 'on');",
        CONFIG_SPEC_TABLE + """
        config:
          table: system_config
          key_column: key
          value_column: value
          keys:
            api_port: {default: "8080"}
        """,
        DATA_LOSS,
        (("drop", "config"),),
        check=rows_are("select key from system_config", [("api_port",)]),
    ),
    # --- unmanaged objects ----------------------------------------------------------------
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


# --- live equals spec, through our own catalog reads -------------------------------------


def catalog(url: str, spec: Spec) -> dict[str, Any]:
    """What the spec declares, as the catalog of `url` holds it."""
    out: dict[str, Any] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for t in spec.tables:
            rel = qualified(spec.schema, t.name)
            out[f"{t.name}: columns"] = sorted(conn.execute(
                """select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                          pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum)
                     from pg_attribute a
                     left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
                    where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped""",
                (rel,),
            ).fetchall())
            out[f"{t.name}: constraints"] = sorted(conn.execute(
                """select conname, contype::text, pg_get_constraintdef(oid)
                     from pg_constraint where conrelid = %s::regclass""",
                (rel,),
            ).fetchall())
            out[f"{t.name}: indexes"] = sorted(conn.execute(
                """select c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid
                     from pg_index i join pg_class c on c.oid = i.indexrelid
                    where i.indrelid = %s::regclass""",
                (rel,),
            ).fetchall())
            out[f"{t.name}: triggers"] = sorted(conn.execute(
                """select tgname, pg_get_triggerdef(oid) from pg_trigger
                    where tgrelid = %s::regclass and not tgisinternal""",
                (rel,),
            ).fetchall())
            out[f"{t.name}: comment"] = one(
                conn, "select obj_description(%s::regclass, 'pg_class')", rel
            )
        out["functions"] = sorted(conn.execute(
            """select p.proname, pg_get_functiondef(p.oid), obj_description(p.oid, 'pg_proc')
                 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                where n.nspname = %s and p.prokind = 'f'""",
            (spec.schema,),
        ).fetchall())
        out["enums"] = sorted(conn.execute(
            """select t.typname,
                      array(select e.enumlabel::text from pg_enum e
                             where e.enumtypid = t.oid order by e.enumsortorder),
                      obj_description(t.oid, 'pg_type')
                 from pg_type t join pg_namespace n on n.oid = t.typnamespace
                where n.nspname = %s and t.typtype = 'e'""",
            (spec.schema,),
        ).fetchall())
        if spec.config:
            cfg = spec.config
            keys = conn.execute(
                f"select {quote(cfg.key_column)} from {qualified(spec.schema, cfg.table)}".encode()
            ).fetchall()
            out["config keys"] = sorted(r[0] for r in keys)
    return out


def _params() -> list[Any]:
    return [
        pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)]
                     if c.xfail else [])
        for c in CASES
    ]


def _describe(plan: Plan) -> str:
    return "\n".join(
        f"{c.action} {c.kind} {c.name} [{', '.join(h.describe() for h in c.hazards)}]: {c.sql}"
        for c in plan.changes
    )


def test_corpus_is_large_and_ids_unique() -> None:
    assert len(CASES) >= 45
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", _params())
def test_case(case: Case, server: Server, db_url: str) -> None:
    spec = parse_spec("version: 1\n" + y(case.new_spec), f"{case.id}.yaml")
    with psycopg.connect(db_url, autocommit=True) as conn:
        if case.old_sql:
            conn.execute(case.old_sql.encode())
    allowed = case.expected_hazards if case.allow is None else case.allow

    with planner(spec, db_url) as p:
        plan = p.plan()
        shown = _describe(plan)
        assert plan.hazard_kinds == case.expected_hazards, shown
        pairs = {(c.action, c.kind) for c in plan.changes}
        for pair in case.expected:
            assert pair in pairs, f"{pair} not in the plan:\n{shown}"
        assert plan.empty == (not case.expected), shown
        if case.expected_hazards:
            with pytest.raises(RefusedError):
                check_hazards(plan, frozenset())
        else:
            check_hazards(plan, frozenset())
        apply_plan(plan, db_url, Options(allowed_hazards=frozenset(allowed)))
        again = p.plan()
        assert again.empty, f"not converged:\n{_describe(again)}\nafter:\n{shown}"

    reference = make_database(server)
    with psycopg.connect(reference, autocommit=True) as conn:
        conn.execute(render_sql(spec).encode())
    # CHECKs in the form the shadow stores them (Postgres re-deparses some expressions).
    canonicalize_checks(reference, spec.schema)
    assert catalog(db_url, spec) == catalog(reference, spec)

    if case.check is not None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            case.check(plan, conn)
