"""Acceptance cases: checks (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import psycopg
import pytest

from schemadiff.plan import planner
from schemadiff.spec import parse_spec

from ..conftest import Server
from .harness import (
    VALIDATION,
    Case,
    describe,
    params,
    run_case,
    sql_is,
    y,
)

CASES: list[Case] = [
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
]

# Issue 8: NO INHERIT, several columns, functions.
CASES += [
    Case(
        "check-no-inherit-multi-column-and-function-on-new-table",
        "",
        """
        tables:
          t:
            columns: {id: integer, lo: integer, hi: integer, code: text}
            primary_key: [id]
            checks:
              - {name: t_span, expression: lo <= hi, no_inherit: true}
              - {name: t_code_lower, expression: "code = lower(btrim(code))"}
        """,
        expected=(("create", "table"),),
        check=sql_is(
            "select string_agg(conname || ':' || connoinherit::text, ',' order by conname)"
            " from pg_constraint where conrelid = 't'::regclass and contype = 'c'",
            "t_code_lower:false,t_span:true",
        ),
    ),
    Case(
        "check-made-no-inherit-with-rows",
        "create table t (id integer primary key, lo integer, hi integer,"
        " constraint t_span check (lo <= hi)); insert into t values (1, 1, 2);",
        """
        tables:
          t:
            columns: {id: integer, lo: integer, hi: integer}
            primary_key: [id]
            checks:
              - {name: t_span, expression: lo <= hi, no_inherit: true}
        """,
        VALIDATION,
        (("drop", "constraint"), ("alter", "constraint")),
    ),
    Case(
        "check-with-functions-added-to-table-with-rows",
        "create table t (id integer primary key, code text, at timestamptz);"
        "insert into t values (1, 'abc', '2024-01-01');",
        """
        tables:
          t:
            columns:
              id: integer
              code: {type: text, check: "length(btrim(code)) > 0"}
              at: {type: timestamptz, check: "date_part('year', at) >= 2000"}
            primary_key: [id]
        """,
        VALIDATION,
        (("create", "constraint"),),
    ),
    Case(
        "check-no-inherit-same-as-spec-is-no-change",
        "create table t (id integer primary key, n integer,"
        " constraint t_n check (n > 0) no inherit);",
        """
        tables:
          t:
            columns: {id: integer, n: integer}
            primary_key: [id]
            checks:
              - {name: t_n, expression: n > 0, no_inherit: true}
        """,
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)


# Postgres 18: NOT NULL constraints have names, and constraints may be NOT ENFORCED.

PLAIN_T = """
    tables:
      t:
        columns:
          id: integer
          n: {type: integer, nullable: false}
          code: text
        primary_key: [id]
    """


def test_named_not_null_constraints_make_no_spurious_change(
    server: Server, db_url: str
) -> None:
    """On 18, NOT NULL is a pg_constraint row with a name; schemadiff manages NOT NULL as a
    column property, so a name other than Postgres' own is no change (on 15: no name)."""
    named = "constraint n_required not null" if server.major >= 18 else "not null"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"create table t (id integer primary key, n integer {named}, code text)")
    spec = parse_spec("version: 1\n" + y(PLAIN_T), "t.yaml")
    with planner(spec, db_url) as p:
        plan = p.plan()
    assert plan.empty, describe(plan)
    assert not plan.unmanaged, plan.unmanaged


def test_not_enforced_constraints_are_named_not_managed(server: Server, db_url: str) -> None:
    """A NOT ENFORCED check or foreign key (18+) is reported, never changed or dropped."""
    if server.major < 18:
        pytest.skip("NOT ENFORCED is Postgres 18 syntax")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "create table t (id integer primary key, n integer not null, code text,"
            " constraint t_code_check check (code <> '') not enforced)"
        )
    spec = parse_spec("version: 1\n" + y(PLAIN_T), "t.yaml")
    with planner(spec, db_url) as p:
        plan = p.plan()
    assert plan.empty, describe(plan)
    assert any(
        u.startswith('constraint "public"."t"."t_code_check"') and "NOT ENFORCED" in u
        for u in plan.unmanaged
    ), plan.unmanaged
