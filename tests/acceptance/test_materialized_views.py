"""Acceptance cases: materialized views (harness.py runs each one through the whole cycle).

Replacing a materialized view that holds data recomputes it inside the transaction, while its
readers wait: a blocking_lock hazard. Its data is derived, so nothing is lost (no data_loss).
"""

from __future__ import annotations

import pytest

from schemadiff.plan import Plan

from ..conftest import Server
from .harness import BLOCKING, REWRITE, Case, Check, Conn, all_of, params, run_case, sql_is

T_SQL = "create table t (id integer primary key, n integer); insert into t values (1, 10), (2, 20);"
T = """
        tables:
          t:
            columns: {id: integer, n: integer}
            primary_key: [id]
"""
MV_SQL = T_SQL + "create materialized view totals as select sum(n) as total from t;"


def matviews(body: str, table: str = T) -> str:
    return table + "        materialized_views:\n" + body


def populated(expected: bool) -> Check:
    return sql_is("select relispopulated from pg_class where relname = 'totals'", expected)


TOTALS = """
          totals:
            query: SELECT sum(n) AS total FROM t
"""

def in_order(*steps: tuple[str, str]) -> Check:
    """The plan holds these (action, kind) steps in this order (others may come between)."""

    def check(plan: Plan, conn: Conn) -> None:
        kinds = [(c.action, c.kind) for c in plan.changes]
        at = [kinds.index(step) for step in steps]
        assert at == sorted(at), kinds

    return check


# A view over the materialized view totals.
DOUBLED = """
        views:
          doubled:
            query: SELECT (total * 2) AS twice FROM totals
"""

CASES: list[Case] = [
    Case(
        "matview-created-with-index-and-comment",
        T_SQL,
        matviews(TOTALS + """
            indexes:
              - {columns: [total], unique: true}
            comment: Sum of n
        """),
        expected=(("create", "materialized view"), ("create", "index")),
        check=all_of(
            sql_is("select total from totals", 30),
            sql_is("select obj_description('totals'::regclass, 'pg_class')", "Sum of n"),
        ),
    ),
    Case(
        "matview-created-with-no-data",
        T_SQL,
        matviews(TOTALS + "            with_data: false\n"),
        expected=(("create", "materialized view"),),
        check=populated(False),
    ),
    Case(
        "matview-unchanged-plans-nothing",
        MV_SQL,
        matviews("""
          totals:
            query: select sum(t.n) as total from t
        """),
    ),
    Case(
        "matview-query-changed-is-replaced",
        MV_SQL + "comment on materialized view totals is 'kept';",
        matviews("""
          totals:
            query: SELECT sum(n) AS total, count(*) AS rows FROM t
            comment: kept
        """),
        BLOCKING,
        (("drop", "materialized view"), ("alter", "materialized view")),
        check=all_of(
            sql_is("select rows from totals", 2),
            sql_is("select obj_description('totals'::regclass, 'pg_class')", "kept"),
        ),
    ),
    Case(
        "matview-index-added",
        MV_SQL,
        matviews(TOTALS + """
            indexes:
              - {columns: [total]}
        """),
        expected=(("create", "index"),),
    ),
    Case(
        "matview-index-dropped",
        MV_SQL + "create index totals_total_idx on totals (total);",
        matviews(TOTALS),
        expected=(("drop", "index"),),
    ),
    Case(
        "matview-refreshed-when-with-data-turned-on",
        T_SQL + "create materialized view totals as select sum(n) as total from t with no data;",
        matviews(TOTALS),
        expected=(("alter", "materialized view"),),
        check=all_of(populated(True), sql_is("select total from totals", 30)),
    ),
    Case(
        "matview-emptied-when-with-data-turned-off",
        MV_SQL,
        matviews(TOTALS + "            with_data: false\n"),
        expected=(("alter", "materialized view"),),
        check=populated(False),
    ),
    Case(
        "matview-dropped",
        MV_SQL,
        matviews("          {}\n"),
        expected=(("drop", "materialized view"),),
        check=sql_is("select to_regclass('totals')", None),
    ),
    Case(
        "matview-around-a-column-type-change-keeps-its-index",
        MV_SQL + "create unique index totals_total_idx on totals (total);",
        matviews(TOTALS + """
            indexes:
              - {columns: [total], unique: true}
        """, T.replace("n: integer", "n: bigint")),
        BLOCKING | REWRITE,
        (("drop", "materialized view"), ("alter", "column"), ("alter", "materialized view"),
         ("create", "index")),
        check=sql_is("select total from totals", 30),
    ),
    Case(
        "matview-reading-a-view-created-after-it",
        T_SQL,
        matviews("""
          big:
            query: SELECT count(*) AS c FROM big_rows
        """) + """
        views:
          big_rows:
            query: SELECT id FROM t WHERE n > 15
        """,
        expected=(("create", "materialized view"), ("create", "view")),
        check=sql_is("select c from big", 1),
    ),
    Case(
        "view-reading-a-matview-created-after-it",
        T_SQL,
        matviews(TOTALS) + DOUBLED,
        expected=(("create", "materialized view"), ("create", "view")),
        check=sql_is("select twice from doubled", 60),
    ),
    Case(
        "view-reading-a-replaced-matview-is-dropped-and-created-again",
        MV_SQL + "create view doubled as select total * 2 as twice from totals;",
        matviews("""
          totals:
            query: SELECT sum(n) AS total, count(*) AS rows FROM t
        """) + DOUBLED,
        BLOCKING,
        (("drop", "view"), ("drop", "materialized view"), ("alter", "view")),
        check=all_of(
            in_order(("drop", "view"), ("drop", "materialized view"),
                           ("alter", "materialized view"), ("alter", "view")),
            sql_is("select twice from doubled", 60),
            sql_is("select rows from totals", 2),
        ),
    ),
    Case(
        "view-reading-a-matview-around-a-column-type-change",
        MV_SQL + "create view doubled as select total * 2 as twice from totals;",
        matviews(TOTALS, T.replace("n: integer", "n: bigint")) + DOUBLED,
        BLOCKING | REWRITE,
        (("drop", "view"), ("drop", "materialized view"), ("alter", "column")),
        check=all_of(
            in_order(("drop", "view"), ("drop", "materialized view"), ("alter", "column"),
                           ("alter", "materialized view"), ("alter", "view")),
            sql_is("select twice from doubled", 60),
        ),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
