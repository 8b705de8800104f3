"""Acceptance cases: function options, overloads, signatures (harness.py runs each case)."""

from __future__ import annotations

import pytest

from ..conftest import Server
from .harness import (
    INDEX_BUILD,
    SIGNATURE,
    VALIDATION,
    Case,
    Conn,
    Plan,
    all_of,
    changes_of,
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


def only_replaced(plan: Plan, conn: Conn) -> None:
    """The change is one CREATE OR REPLACE: nothing dropped, no hazard."""
    assert [(c.action, c.kind) for c in plan.changes if c.kind != "setting"] == [
        ("alter", "function")
    ]
    assert plan.changes[-1].sql.startswith("CREATE OR REPLACE FUNCTION")


def proc(column: str, name: str = "f") -> str:
    return f"select {column} from pg_proc where proname = '{name}'"


CASES: list[Case] = [
    Case(
        "function-created-with-every-option",
        T_SQL,
        """
        functions:
          f:
            args: ["a integer"]
            returns: integer
            language: sql
            volatility: immutable
            strict: true
            leakproof: true
            parallel: safe
            security: definer
            cost: 5
            set: {search_path: "public, pg_temp", work_mem: 64MB}
            body: SELECT a + 1
        """ + TABLE,
        expected=(("create", "function"),),
        check=all_of(
            sql_is("select f(null) is null", True),
            sql_is("select f(1)", 2),
            sql_is(proc("array[proisstrict, proleakproof, prosecdef]::text"), "{t,t,t}"),
            sql_is(proc("proparallel::text || ':' || procost"), "s:5"),
            sql_is(proc("proconfig::text"), '{"search_path=public, pg_temp",work_mem=64MB}'),
        ),
    ),
    Case(
        "function-made-strict-is-replaced",
        T_SQL + "create function f(a integer) returns integer language sql as $$ SELECT a $$;",
        """
        functions:
          f: {args: ["a integer"], returns: integer, language: sql, strict: true, body: SELECT a}
        """ + TABLE,
        expected=(("alter", "function"),),
        check=all_of(only_replaced, sql_is(proc("proisstrict"), True)),
    ),
    Case(
        "function-strict-removed-is-replaced",
        T_SQL + "create function f(a integer) returns integer language sql strict"
        " as $$ SELECT a $$;",
        """
        functions:
          f: {args: ["a integer"], returns: integer, language: sql, body: SELECT a}
        """ + TABLE,
        expected=(("alter", "function"),),
        check=all_of(only_replaced, sql_is(proc("proisstrict"), False)),
    ),
    Case(
        "function-parallel-and-leakproof-changed",
        T_SQL + "create function f(a integer) returns integer language sql immutable"
        " parallel restricted as $$ SELECT a $$;",
        """
        functions:
          f:
            args: ["a integer"]
            returns: integer
            language: sql
            volatility: immutable
            parallel: safe
            leakproof: true
            body: SELECT a
        """ + TABLE,
        expected=(("alter", "function"),),
        check=all_of(
            only_replaced, sql_is(proc("proparallel::text || proleakproof::text"), "strue")
        ),
    ),
    Case(
        "function-cost-and-rows-changed",
        T_SQL + "create function f() returns setof integer language sql rows 20 cost 50"
        " as $$ SELECT 1 $$;",
        """
        functions:
          f: {returns: setof integer, language: sql, cost: 7, rows: 3, body: SELECT 1}
        """ + TABLE,
        expected=(("alter", "function"),),
        check=all_of(only_replaced, sql_is(proc("procost || '/' || prorows"), "7/3")),
    ),
    Case(
        "function-search-path-set-on-security-definer",
        T_SQL + "create function f() returns integer language sql security definer"
        " as $$ SELECT 1 $$;",
        """
        functions:
          f:
            returns: integer
            language: sql
            security: definer
            set: {search_path: pg_catalog, pg_temp}
            body: SELECT 1
        """.replace("pg_catalog, pg_temp", '"pg_catalog, pg_temp"') + TABLE,
        expected=(("alter", "function"),),
        check=all_of(only_replaced, sql_is(proc("proconfig::text"),
                                           '{"search_path=pg_catalog, pg_temp"}')),
    ),
    Case(
        "function-setting-removed",
        T_SQL + "create function f() returns integer language sql set work_mem = '8MB'"
        " as $$ SELECT 1 $$;",
        """
        functions:
          f: {returns: integer, language: sql, body: SELECT 1}
        """ + TABLE,
        expected=(("alter", "function"),),
        check=all_of(only_replaced, sql_is(proc("proconfig is null"), True)),
    ),
    Case(
        "function-security-and-volatility-changed",
        T_SQL + "create function f() returns integer language sql as $$ SELECT 1 $$;",
        """
        functions:
          f: {returns: integer, language: sql, volatility: stable, security: definer,
              body: SELECT 1}
        """ + TABLE,
        expected=(("alter", "function"),),
        check=all_of(only_replaced, sql_is(proc("provolatile::text || prosecdef::text"), "strue")),
    ),
    Case(
        "function-language-changed-to-plpgsql",
        T_SQL + "create function f() returns integer language sql as $$ SELECT 1 $$;",
        """
        functions:
          f: {returns: integer, language: plpgsql, body: "BEGIN RETURN 2; END;"}
        """ + TABLE,
        expected=(("alter", "function"),),
        check=all_of(only_replaced, sql_is("select f()", 2)),
    ),
    Case(
        "function-with-every-option-unchanged-plans-nothing",
        T_SQL + "create function f(a integer, b text default 'x') returns integer"
        " language sql immutable strict leakproof parallel safe security definer cost 5"
        " set search_path = public, pg_temp as $$\nSELECT a\n$$;",
        """
        functions:
          f:
            args: ["a integer", "b text DEFAULT 'x'"]
            returns: integer
            language: sql
            volatility: immutable
            strict: true
            leakproof: true
            parallel: safe
            security: definer
            cost: 5
            set: {search_path: "public, pg_temp"}
            body: SELECT a
        """ + TABLE,
    ),
    Case(
        "function-overloads-created",
        T_SQL,
        """
        functions:
          area:
            - {args: ["r double precision"], returns: double precision, language: sql,
               body: SELECT pi() * r * r}
            - {args: ["w integer", "h integer"], returns: integer, language: sql,
               body: SELECT w * h}
        """ + TABLE,
        expected=(("create", "function"),),
        check=all_of(
            sql_is("select area(2, 3)", 6),
            sql_is("select round(area(1.0::float8)::numeric, 2)::text", "3.14"),
        ),
    ),
    Case(
        "function-overload-added-next-to-existing",
        T_SQL + "create function f(a integer) returns integer language sql as $$ SELECT a $$;",
        """
        functions:
          f:
            - {args: ["a integer"], returns: integer, language: sql, body: SELECT a}
            - {args: ["a text"], returns: text, language: sql, body: SELECT a || '!'}
        """ + TABLE,
        expected=(("create", "function"),),
        check=all_of(
            lambda plan, conn: changes_of(plan, "create", "function"),
            sql_is("select f('x'::text)", "x!"),
            sql_is("select f(3)", 3),
        ),
    ),
    Case(
        "function-overload-dropped-is-no-signature-change",
        T_SQL
        + "create function f(a integer) returns integer language sql as $$ SELECT a $$;"
        "create function f(a text) returns text language sql as $$ SELECT a $$;",
        """
        functions:
          f:
            - {args: ["a integer"], returns: integer, language: sql, body: SELECT a}
        """ + TABLE,
        expected=(("drop", "function"),),
        check=sql_is("select count(*) from pg_proc where proname = 'f'", 1),
    ),
    Case(
        "function-argument-type-changed",
        T_SQL + "create function f(a integer) returns integer language sql as $$ SELECT a $$;",
        """
        functions:
          f: {args: ["a bigint"], returns: bigint, language: sql, body: SELECT a}
        """ + TABLE,
        SIGNATURE,
        expected=(("drop", "function"), ("create", "function")),
        check=sql_is("select pg_get_function_identity_arguments('f'::regproc)", "a bigint"),
    ),
    Case(
        "function-argument-default-removed-is-recreated",
        T_SQL + "create function f(a integer default 1) returns integer language sql"
        " as $$ SELECT a $$;",
        """
        functions:
          f: {args: ["a integer"], returns: integer, language: sql, body: SELECT a}
        """ + TABLE,
        SIGNATURE,
        expected=(("drop", "function"), ("alter", "function")),
        check=sql_is("select pg_get_function_arguments('f'::regproc)", "a integer"),
    ),
    Case(
        "function-returns-table-created-and-set-returning",
        T_SQL + "insert into t values (1), (2);",
        """
        functions:
          ids:
            returns: TABLE(id integer, label text)
            language: sql
            volatility: stable
            rows: 50
            body: SELECT id, 'n' || id FROM t ORDER BY id
        """ + TABLE,
        expected=(("create", "function"),),
        check=sql_is("select string_agg(label, ',') from ids()", "n1,n2"),
    ),
    Case(
        "function-returns-table-gains-a-column",
        T_SQL + "create function ids() returns table(id integer) language sql"
        " as $$ SELECT 1 $$;",
        """
        functions:
          ids: {returns: "TABLE(id integer, label text)", language: sql, body: "SELECT 1, 'x'"}
        """ + TABLE,
        SIGNATURE,
        expected=(("drop", "function"), ("alter", "function")),
        check=sql_is("select label from ids()", "x"),
    ),
    Case(
        "function-used-by-index-check-and-default-on-existing-table",
        "create table t (id integer primary key, code text);"
        "insert into t values (1, 'a'), (2, 'b');",
        """
        functions:
          norm:
            args: ["c text"]
            returns: text
            language: sql
            volatility: immutable
            strict: true
            body: SELECT upper(c)
          code_ok:
            args: ["c text"]
            returns: boolean
            language: sql
            volatility: immutable
            body: SELECT c ~ '^[a-zA-Z]+$'
        tables:
          t:
            columns:
              id: integer
              code: {type: text, default: {sql: "norm('x')"}, check: code_ok(code)}
            primary_key: [id]
            indexes:
              - {name: t_code_norm, columns: [{expression: norm(code)}]}
        """,
        INDEX_BUILD | VALIDATION,
        expected=(("create", "function"), ("create", "index"), ("create", "constraint")),
        check=all_of(
            execute("insert into t (id) values (3)"),
            sql_is("select code from t where id = 3", "X"),
            sql_is("select indisvalid from pg_index where indexrelid = 't_code_norm'::regclass",
                   True),
        ),
    ),
    Case(
        "function-body-changed-under-a-check-is-replaced-in-place",
        "create function ok(n integer) returns boolean language sql immutable"
        " as $$ SELECT n > 0 $$;"
        "create table t (id integer primary key, n integer check (ok(n)));"
        "insert into t values (1, 5);",
        """
        functions:
          ok: {args: ["n integer"], returns: boolean, language: sql, volatility: immutable,
               body: SELECT n > 1}
        tables:
          t:
            columns: {id: integer, n: {type: integer, check: ok(n)}}
            primary_key: [id]
        """,
        expected=(("alter", "function"),),
        check=all_of(
            only_replaced,
            sql_is("select count(*) from pg_constraint where conname = 't_n_check'", 1),
        ),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)


def test_overloads_declared_twice_are_a_spec_error() -> None:
    from schemadiff.errors import SpecError
    from schemadiff.spec import parse_spec

    with pytest.raises(SpecError) as e:
        parse_spec(
            "version: 1\nfunctions:\n  f:\n"
            "    - {args: [a integer], returns: integer, language: sql, body: SELECT 1}\n"
            "    - {args: [b  INTEGER], returns: integer, language: sql, body: SELECT 2}\n"
            "tables: {}\n"
        )
    assert "schema.yaml:5:7: function 'f(integer)' is declared twice" in str(e.value)
