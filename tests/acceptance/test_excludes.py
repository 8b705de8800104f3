"""Acceptance cases: EXCLUDE constraints (harness.py runs each one through the whole cycle).

Range types and && need no extension (btree_gist is needed only for = on plain columns).
"""

from __future__ import annotations

import psycopg
import pytest

from schemadiff.plan import Plan

from ..conftest import Server
from .harness import BLOCKING, DATA_LOSS, Case, Conn, all_of, execute, params, run_case

BOOKINGS = "create table t (id integer primary key, room integer, during tsrange);"
OVERLAP = "insert into t values (100, 1, '[2024-01-01 10:00, 2024-01-01 12:00)')"


def overlap_refused(plan: Plan, conn: Conn) -> None:
    with pytest.raises(psycopg.errors.ExclusionViolation):
        conn.execute(OVERLAP)


def overlap_accepted(plan: Plan, conn: Conn) -> None:
    conn.execute(OVERLAP)


def checked_at_commit(plan: Plan, conn: Conn) -> None:
    """INITIALLY DEFERRED: the overlapping row goes in, and the commit fails."""
    conn.execute("insert into t values (1, 1, 5)")
    inserted = False
    with pytest.raises(psycopg.errors.ExclusionViolation), conn.transaction():
        conn.execute("insert into t values (2, 3, 4)")
        inserted = True
    assert inserted


CASES: list[Case] = [
    Case(
        "exclude-on-new-table",
        "",
        """
        tables:
          t:
            columns: {id: integer, room: integer, during: tsrange}
            primary_key: [id]
            excludes:
              - name: t_no_overlap
                using: gist
                elements: [{column: during, with: "&&"}]
                where: room IS NOT NULL
        """,
        expected=(("create", "table"), ("create", "constraint")),
        check=all_of(
            execute("insert into t values (1, 1, '[2024-01-01 09:00, 2024-01-01 11:00)')"),
            overlap_refused,
        ),
    ),
    Case(
        "exclude-added-to-table-with-rows-blocks",
        BOOKINGS + "insert into t values (1, 1, '[2024-01-01 09:00, 2024-01-01 11:00)'),"
        " (2, 2, '[2024-01-02 09:00, 2024-01-02 11:00)');",
        """
        tables:
          t:
            columns: {id: integer, room: integer, during: tsrange}
            primary_key: [id]
            excludes:
              - name: t_no_overlap
                elements: [{column: during, with: "&&"}]
        """,
        BLOCKING,
        (("create", "constraint"),),
        check=overlap_refused,
    ),
    Case(
        "exclude-with-expression-and-deferrable",
        "create table t (id integer primary key, lo integer, hi integer);",
        """
        tables:
          t:
            columns: {id: integer, lo: integer, hi: integer}
            primary_key: [id]
            excludes:
              - name: t_span
                elements: [{expression: "int4range(lo, hi)", with: "&&"}]
                deferrable: true
                initially_deferred: true
        """,
        expected=(("create", "constraint"),),
        check=checked_at_commit,
    ),
    Case(
        "exclude-where-changed-is-replaced",
        BOOKINGS + "alter table t add constraint t_no_overlap exclude using gist"
        " (during with &&) where (room is not null);",
        """
        tables:
          t:
            columns: {id: integer, room: integer, during: tsrange}
            primary_key: [id]
            excludes:
              - name: t_no_overlap
                elements: [{column: during, with: "&&"}]
                where: room > 0
        """,
        expected=(("drop", "constraint"), ("alter", "constraint")),
    ),
    Case(
        "exclude-dropped",
        BOOKINGS + "alter table t add constraint t_no_overlap exclude using gist (during with &&);"
        "insert into t values (1, 1, '[2024-01-01 09:00, 2024-01-01 11:00)');",
        """
        tables:
          t:
            columns: {id: integer, room: integer, during: tsrange}
            primary_key: [id]
        """,
        expected=(("drop", "constraint"),),
        check=overlap_accepted,
    ),
    Case(
        "exclude-same-as-spec-is-no-change",
        BOOKINGS + "alter table t add constraint t_no_overlap exclude using gist"
        " (during with &&) where (room > 0);",
        """
        tables:
          t:
            columns: {id: integer, room: integer, during: tsrange}
            primary_key: [id]
            excludes:
              - name: t_no_overlap
                elements: [{column: during, with: "&&"}]
                where: room > 0
        """,
    ),
    Case(
        "exclude-column-dropped-takes-the-constraint",
        BOOKINGS + "alter table t add constraint t_no_overlap exclude using gist (during with &&);"
        "insert into t values (1, 1, '[2024-01-01 09:00, 2024-01-01 11:00)');",
        """
        tables:
          t:
            columns: {id: integer, room: integer}
            primary_key: [id]
        """,
        DATA_LOSS,
        (("drop", "constraint"), ("drop", "column")),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
