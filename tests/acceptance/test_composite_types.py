"""Acceptance cases: composite types (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import psycopg
import pytest

from schemadiff.plan import make_plan
from schemadiff.spec import parse_spec

from ..conftest import Server
from .harness import DATA_LOSS, Case, Check, all_of, params, run_case, sql_is, y

USED_SQL = (
    "create type amount as (value numeric(12,2), currency text);"
    "create table t (id integer primary key, a amount);"
    "insert into t values (1, row(9.5, 'EUR'));"
)


def spec(attributes: str, column: str = "amount", comment: str = "") -> str:
    return f"""
        types:
          amount:
            attributes: {attributes}{comment}
        tables:
          t:
            columns: {{id: integer, a: {column}}}
            primary_key: [id]
    """


def attributes_are(expected: str) -> Check:
    return sql_is(
        "select string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', '"
        " order by attnum) from pg_attribute where attrelid = 'amount'::regclass"
        " and attnum > 0 and not attisdropped",
        expected,
    )


CASES: list[Case] = [
    Case(
        "composite-type-created-with-column-using-it",
        "create table t (id integer primary key);",
        spec('{value: "numeric(12,2)", currency: text}', comment="\n            comment: Money"),
        expected=(("create", "type"), ("create", "column")),
        check=all_of(
            attributes_are("value numeric(12,2), currency text"),
            sql_is("select obj_description('amount'::regtype, 'pg_type')", "Money"),
        ),
    ),
    Case(
        "composite-type-attributes-as-a-list",
        "create table t (id integer primary key);",
        spec('["value numeric(12,2)", currency text]'),
        expected=(("create", "type"), ("create", "column")),
        check=attributes_are("value numeric(12,2), currency text"),
    ),
    Case(
        "composite-type-table-using-it-is-managed",
        USED_SQL,
        spec('{value: "numeric(12,2)", currency: text}'),
    ),
    Case(
        "composite-type-attribute-added",
        USED_SQL,
        spec('{value: "numeric(12,2)", currency: text, note: text}'),
        expected=(("alter", "type"),),
        check=all_of(
            attributes_are("value numeric(12,2), currency text, note text"),
            sql_is("select (a).currency from t", "EUR"),
        ),
    ),
    Case(
        "composite-type-attribute-dropped",
        USED_SQL,
        spec('{value: "numeric(12,2)"}'),
        DATA_LOSS,
        (("alter", "type"),),
        check=attributes_are("value numeric(12,2)"),
    ),
    Case(
        "composite-type-unused-attribute-type-changed",
        "create type amount as (value numeric(12,2), currency text);"
        "create table t (id integer primary key, a text);",
        spec('{value: "numeric(14,2)", currency: text}', column="text"),
        expected=(("alter", "type"),),
        check=attributes_are("value numeric(14,2), currency text"),
    ),
    Case(
        "composite-type-unused-attributes-reordered",
        "create type amount as (value numeric(12,2), currency text);"
        "create table t (id integer primary key, a text);",
        spec('{currency: text, value: "numeric(12,2)"}', column="text"),
        expected=(("drop", "type"), ("alter", "type")),
        check=attributes_are("currency text, value numeric(12,2)"),
    ),
    Case(
        "composite-type-dropped-with-its-column",
        USED_SQL,
        """
        types: {}
        tables:
          t:
            columns: {id: integer}
            primary_key: [id]
        """,
        DATA_LOSS,
        (("drop", "type"), ("drop", "column")),
        check=sql_is("select to_regtype('amount')", None),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)


def test_attribute_type_change_of_a_type_in_use_is_named_unsupported(db_url: str) -> None:
    """Postgres refuses ALTER ATTRIBUTE TYPE while a column has the type: not planned as a
    drop that would lose the column, but named."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(USED_SQL.encode())
    body = y(spec("{value: text, currency: text}"))
    plan = make_plan(parse_spec("version: 1\n" + body, "unsupported.yaml"), db_url)
    assert plan.empty, [c.sql for c in plan.changes]
    assert any(
        u.startswith('unsupported change: type "public"."amount" attribute value')
        for u in plan.unmanaged
    ), plan.unmanaged
