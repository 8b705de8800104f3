"""Acceptance cases: enums (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import pytest

from ..conftest import Server
from .harness import (
    ENUM_REMOVED,
    Case,
    all_of,
    params,
    run_case,
    sql_is,
)

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
        ENUM_REMOVED,
        (("alter", "enum"),),
        check=sql_is("select status::text from orders", "paid"),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
