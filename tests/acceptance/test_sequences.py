"""Acceptance cases: standalone sequences and their options (harness.py runs each one)."""

from __future__ import annotations

import pytest

from ..conftest import Server
from .harness import DATA_LOSS, Case, Check, all_of, params, run_case, sql_is

T = """
        tables:
          t:
            columns: {id: integer, n: bigint}
            primary_key: [id]
"""
T_SQL = "create table t (id integer primary key, n bigint);"


def seq(options: str) -> str:
    return f"""
        sequences:
          s: {options}
    """ + T


def option_is(column: str, expected: object) -> Check:
    return sql_is(
        f"select {column} from pg_sequence where seqrelid = 'public.s'::regclass", expected
    )


CASES: list[Case] = [
    Case(
        "sequence-created-with-defaults",
        T_SQL,
        seq("{}"),
        expected=(("create", "sequence"),),
        check=all_of(option_is("seqtypid::regtype::text", "bigint"), option_is("seqstart", 1)),
    ),
    Case(
        "sequence-created-with-every-option",
        T_SQL,
        seq("{start: 10, increment: 5, min: 5, max: 1000, cache: 20, cycle: true, as: integer}"),
        expected=(("create", "sequence"),),
        check=all_of(
            option_is("seqtypid::regtype::text", "integer"),
            option_is("seqstart", 10),
            option_is("seqincrement", 5),
            option_is("seqmin", 5),
            option_is("seqmax", 1000),
            option_is("seqcache", 20),
            option_is("seqcycle", True),
        ),
    ),
    Case(
        "sequence-created-descending",
        T_SQL,
        seq("{increment: -1, as: smallint}"),
        expected=(("create", "sequence"),),
        check=all_of(option_is("seqmax", -1), option_is("seqmin", -32768)),
    ),
    Case(
        "sequence-created-owned-by-column",
        T_SQL,
        seq("{owned_by: t.n}"),
        expected=(("create", "sequence"),),
        check=sql_is(
            "select pg_get_serial_sequence('t', 'n')", "public.s"
        ),
    ),
    Case(
        "sequence-start-changed",
        T_SQL + "create sequence s start 1;",
        seq("{start: 100}"),
        expected=(("alter", "sequence"),),
        check=option_is("seqstart", 100),
    ),
    Case(
        "sequence-increment-changed",
        T_SQL + "create sequence s;",
        seq("{increment: 10}"),
        expected=(("alter", "sequence"),),
        check=option_is("seqincrement", 10),
    ),
    Case(
        "sequence-min-max-changed",
        T_SQL + "create sequence s minvalue 1 maxvalue 100;",
        seq("{min: 0, max: 50, start: 1}"),
        expected=(("alter", "sequence"),),
        check=all_of(option_is("seqmin", 0), option_is("seqmax", 50)),
    ),
    Case(
        "sequence-cache-changed",
        T_SQL + "create sequence s cache 1;",
        seq("{cache: 50}"),
        expected=(("alter", "sequence"),),
        check=option_is("seqcache", 50),
    ),
    Case(
        "sequence-cycle-turned-on",
        T_SQL + "create sequence s;",
        seq("{cycle: true}"),
        expected=(("alter", "sequence"),),
        check=option_is("seqcycle", True),
    ),
    Case(
        "sequence-cycle-turned-off",
        T_SQL + "create sequence s cycle;",
        seq("{}"),
        expected=(("alter", "sequence"),),
        check=option_is("seqcycle", False),
    ),
    Case(
        "sequence-type-narrowed-to-integer",
        T_SQL + "create sequence s;",
        seq("{as: integer}"),
        expected=(("alter", "sequence"),),
        check=all_of(
            option_is("seqtypid::regtype::text", "integer"), option_is("seqmax", 2147483647)
        ),
    ),
    Case(
        "sequence-owner-set",
        T_SQL + "create sequence s;",
        seq("{owned_by: t.n}"),
        expected=(("alter", "sequence"),),
        check=sql_is("select pg_get_serial_sequence('t', 'n')", "public.s"),
    ),
    Case(
        "sequence-owner-removed",
        T_SQL + "create sequence s owned by t.n;",
        seq("{}"),
        expected=(("alter", "sequence"),),
        check=sql_is("select pg_get_serial_sequence('t', 'n')", None),
    ),
    Case(
        "sequence-position-kept-when-options-change",
        T_SQL + "create sequence s; select nextval('s') from generate_series(1, 5);",
        seq("{cache: 10}"),
        expected=(("alter", "sequence"),),
        check=sql_is("select nextval('s')", 6),
    ),
    Case(
        "sequence-unchanged-plans-nothing",
        T_SQL + "create sequence s as integer start 5 increment 2 cache 3;",
        seq("{as: integer, start: 5, increment: 2, cache: 3}"),
    ),
    Case(
        "sequence-dropped-with-default-reading-it",
        "create sequence s; create table t (id integer primary key,"
        " n bigint default nextval('s'));",
        """
        sequences: {}
        tables:
          t:
            columns: {id: integer, n: bigint}
            primary_key: [id]
        """,
        DATA_LOSS,
        (("drop", "sequence"),),
    ),
    Case(
        "serial-column-sequence-as-integer",
        "",
        """
        tables:
          t:
            columns: {id: serial, n: bigint}
            primary_key: [id]
        """,
        expected=(("create", "table"),),
        check=sql_is(
            "select seqtypid::regtype::text from pg_sequence"
            " where seqrelid = 't_id_seq'::regclass",
            "integer",
        ),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
