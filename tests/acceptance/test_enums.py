"""Acceptance cases: enums (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import pytest

from ..conftest import Server
from .harness import (
    DATA_LOSS,
    ENUM_REMOVED,
    REWRITE,
    VALIDATION,
    Case,
    Check,
    all_of,
    params,
    run_case,
    sql_is,
)

ORDERS_SQL = (
    "create type st as enum ('a', 'b', 'c');"
    "create table orders (id integer primary key, status st not null default 'a');"
    "insert into orders values (1, 'b'), (2, 'c');"
)


def orders(values: str, default: str = "a", extra: str = "") -> str:
    return f"""
        enums:
          st:
            values: {values}
        tables:
          orders:
            columns:
              id: integer
              status: {{type: st, nullable: false, default: {default}}}
            primary_key: [id]
    """ + extra


def labels_are(expected: str) -> Check:
    return sql_is("select enum_range(null::st)::text", expected)


CASES: list[Case] = [
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
        ENUM_REMOVED | REWRITE,
        (("alter", "enum"),),
        check=sql_is("select status::text from orders", "paid"),
    ),
]


CASES += [
    Case(
        "enum-value-added-before-the-first",
        ORDERS_SQL,
        orders("[z, a, b, c]"),
        expected=(("alter", "enum"),),
        check=all_of(labels_are("{z,a,b,c}"), sql_is("select count(*) from orders", 2)),
    ),
    Case(
        "enum-value-added-in-the-middle",
        ORDERS_SQL,
        orders("[a, ab, b, c]"),
        expected=(("alter", "enum"),),
        check=labels_are("{a,ab,b,c}"),
    ),
    Case(
        "enum-values-added-in-a-row-and-at-the-end",
        ORDERS_SQL,
        orders("[a, x, y, b, c, z]"),
        expected=(("alter", "enum"),),
        check=labels_are("{a,x,y,b,c,z}"),
    ),
    Case(
        "enum-value-renamed-keeps-rows",
        ORDERS_SQL,
        orders("[a, {name: b2, renamed_from: b}, c]"),
        expected=(("rename", "enum"),),
        check=all_of(
            labels_are("{a,b2,c}"),
            sql_is("select status::text from orders where id = 1", "b2"),
        ),
    ),
    Case(
        "enum-value-renamed-is-the-default",
        ORDERS_SQL,
        orders("[{name: a1, renamed_from: a}, b, c]", default="a1"),
        expected=(("rename", "enum"),),
        check=all_of(
            labels_are("{a1,b,c}"),
            sql_is("select column_default from information_schema.columns"
                   " where table_name = 'orders' and column_name = 'status'", "'a1'::st"),
        ),
    ),
    Case(
        "enum-value-renamed-already-done-plans-nothing",
        ORDERS_SQL.replace("'b'", "'b2'"),
        orders("[a, {name: b2, renamed_from: b}, c]"),
    ),
    Case(
        "enum-value-added-and-used-as-the-default",
        ORDERS_SQL,
        orders("[a, b, c, d]", default="d"),
        REWRITE,
        (("alter", "enum"),),
        check=all_of(labels_are("{a,b,c,d}"), sql_is("select count(*) from orders", 2)),
    ),
    Case(
        "enum-value-added-and-used-by-a-check",
        ORDERS_SQL,
        orders("[a, b, c, d]", extra="""
            checks:
              - {name: not_d, expression: "status <> 'd'::st"}
        """),
        REWRITE | VALIDATION,
        (("alter", "enum"), ("create", "constraint")),
        check=labels_are("{a,b,c,d}"),
    ),
    Case(
        "enum-values-reordered",
        ORDERS_SQL,
        orders("[c, b, a]"),
        REWRITE,
        (("alter", "enum"),),
        check=all_of(
            labels_are("{c,b,a}"),
            sql_is("select string_agg(status::text, ',' order by status) from orders", "c,b"),
        ),
    ),
    Case(
        "enum-value-removed-and-another-added",
        ORDERS_SQL.replace("(2, 'c')", "(2, 'b')"),
        orders("[a, b, d]"),
        ENUM_REMOVED | REWRITE,
        (("alter", "enum"),),
        check=labels_are("{a,b,d}"),
    ),
    Case(
        "enum-dropped-with-its-column",
        ORDERS_SQL,
        """
        enums: {}
        tables:
          orders:
            columns: {id: integer}
            primary_key: [id]
        """,
        DATA_LOSS,
        (("drop", "enum"), ("drop", "column")),
        check=sql_is("select to_regtype('st')", None),
    ),
    Case(
        "enum-unchanged-plans-nothing",
        ORDERS_SQL,
        orders("[a, b, c]"),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
