"""Acceptance cases: checks (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import pytest

from ..conftest import Server
from .harness import (
    VALIDATION,
    Case,
    params,
    run_case,
    sql_is,
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


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
