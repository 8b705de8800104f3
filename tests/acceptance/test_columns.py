"""Acceptance cases: columns (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import pytest

from schemadiff.errors import SpecError
from schemadiff.plan import Plan, planner
from schemadiff.spec import parse_spec

from ..conftest import Server
from .harness import (
    DATA_LOSS,
    NOT_NULL,
    REWRITE,
    ROWS3,
    Case,
    Conn,
    all_of,
    execute,
    params,
    rows_are,
    run_case,
    sql_is,
    y,
)


def expression_changed_in_place(plan: Plan, conn: Conn) -> None:
    """Postgres 17+ changes a generation expression in place; before, the column goes and
    comes back (computed again, nothing lost: no data_loss)."""
    kinds = [(c.action, c.kind) for c in plan.changes]
    in_place = any("set expression as" in c.sql for c in plan.changes)
    assert in_place == (conn.info.server_version >= 170000), kinds
    assert in_place != (("drop", "column") in kinds and ("create", "column") in kinds), kinds


CASES: list[Case] = [
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
]

# Issue 8: collations, generated columns, identity options, column kinds and their order.
CASES += [
    Case(
        "column-kinds-on-new-table-in-spec-order",
        "",
        """
        tables:
          t:
            columns:
              z_last_alphabetically: integer
              tags: "text[]"
              grid: "integer[][]"
              amounts: "numeric(10,3)[]"
              code: varchar(20)
              at: timestamp(3)
              at_tz: timestamptz(0)
              clock: time(2)
              span: interval
              flags: bit(8)
              price: "numeric(12,2)"
              id: integer
            primary_key: [id]
        """,
        expected=(("create", "table"),),
        check=sql_is(
            "select array_agg(attname::text order by attnum) from pg_attribute"
            " where attrelid = 't'::regclass and attnum > 0",
            ["z_last_alphabetically", "tags", "grid", "amounts", "code", "at", "at_tz", "clock",
             "span", "flags", "price", "id"],
        ),
    ),
    Case(
        "column-timestamp-precision-and-array-element-narrowed",
        "create table t (id integer primary key, at timestamp(6), tags varchar(20)[]);"
        "insert into t values (1, '2024-01-01 10:00:00.123456', '{a}');",
        """
        tables:
          t:
            columns:
              id: integer
              at: timestamp(3)
              tags: "varchar(10)[]"
            primary_key: [id]
        """,
        DATA_LOSS | REWRITE,
        (("alter", "column"),),
    ),
    Case(
        "column-collation-on-new-table",
        "",
        """
        tables:
          t:
            columns:
              id: integer
              name: {type: text, collation: C}
              code: {type: varchar(10), collation: POSIX, nullable: false}
            primary_key: [id]
        """,
        expected=(("create", "table"),),
        check=sql_is(
            "select array_agg(c.collname::text order by a.attnum) from pg_attribute a"
            " join pg_collation c on c.oid = a.attcollation"
            " where a.attrelid = 't'::regclass and a.attnum > 0",
            ["C", "POSIX"],
        ),
    ),
    Case(
        "column-collation-added-changed-and-dropped-with-rows",
        'create table t (id integer primary key, a text, b text collate "C",'
        ' c text collate "POSIX");' + "insert into t values (1, 'x', 'y', 'z');",
        """
        tables:
          t:
            columns:
              id: integer
              a: {type: text, collation: C}
              b: {type: text, collation: POSIX}
              c: text
              d: {type: text, collation: C}
            primary_key: [id]
        """,
        expected=(("alter", "column"), ("create", "column")),
        check=sql_is("select a || b || c from t", "xyz"),
    ),
    Case(
        "column-collation-same-as-spec-is-no-change",
        'create table t (id integer primary key, name text collate "C");',
        """
        tables:
          t:
            columns:
              id: integer
              name: {type: text, collation: C}
            primary_key: [id]
        """,
    ),
    Case(
        "column-generated-stored-on-new-table",
        "",
        """
        tables:
          t:
            columns:
              id: integer
              price: "numeric(10,2)"
              qty: integer
              total: {type: "numeric(12,2)", generated: {expression: price * qty, stored: true}}
              label: {type: text, generated: "'#' || id::text"}
            primary_key: [id]
        """,
        expected=(("create", "table"),),
        check=all_of(
            execute("insert into t (id, price, qty) values (1, 2.50, 4)"),
            sql_is("select total::text || label from t", "10.00#1"),
        ),
    ),
    Case(
        "column-generated-stored-added-to-table-with-rows-is-rewrite",
        "create table t (id integer primary key, n integer);"
        "insert into t values (1, 2), (2, 5);",
        """
        tables:
          t:
            columns:
              id: integer
              n: integer
              twice: {type: integer, generated: {expression: n * 2}}
            primary_key: [id]
        """,
        REWRITE,
        (("create", "column"),),
        check=sql_is("select sum(twice) from t", 14),
    ),
    Case(
        "column-generated-expression-changed-with-rows",
        "create table t (id integer primary key, n integer default 0,"
        " twice integer generated always as (n * 2) stored);"
        "insert into t values (1, 2), (2, 5);",
        """
        tables:
          t:
            columns:
              id: integer
              n: integer
              twice: {type: integer, generated: {expression: n * 3}}
            primary_key: [id]
        """,
        REWRITE,
        (("alter", "column"),),
        check=all_of(sql_is("select sum(twice) from t", 21), expression_changed_in_place),
    ),
    Case(
        "column-generated-expression-changed-on-empty-table",
        "create table t (id integer primary key, a text default 'a', b text,"
        " ab text generated always as (a || b) stored);"
        "create index t_ab_idx on t (ab);",
        """
        tables:
          t:
            columns:
              id: integer
              a: text
              b: text
              ab: {type: text, generated: "a || '-' || b"}
            primary_key: [id]
            indexes:
              - columns: [ab]
        """,
        expected=(("alter", "column"),),
        check=all_of(
            execute("insert into t (id, a, b) values (1, 'x', 'y')"),
            sql_is("select ab from t", "x-y"),
            expression_changed_in_place,
        ),
    ),
    Case(
        "column-generated-to-plain-keeps-values",
        "create table t (id integer primary key, n integer,"
        " twice integer generated always as (n * 2) stored);"
        "insert into t values (1, 4);",
        """
        tables:
          t:
            columns: {id: integer, n: integer, twice: integer}
            primary_key: [id]
        """,
        expected=(("alter", "column"),),
        check=sql_is("select twice from t", 8),
    ),
    Case(
        "column-plain-to-generated-is-data-loss",
        "create table t (id integer primary key, n integer, twice integer);"
        "insert into t values (1, 4, 100);",
        """
        tables:
          t:
            columns:
              id: integer
              n: integer
              twice: {type: integer, generated: n * 2}
            primary_key: [id]
        """,
        DATA_LOSS | REWRITE,
        (("drop", "column"), ("create", "column")),
        check=sql_is("select twice from t", 8),
    ),
    Case(
        "column-identity-with-options-on-new-table",
        "",
        """
        tables:
          t:
            columns:
              id:
                type: bigint
                identity: {generated: always, start: 1000, increment: 10, cache: 5}
              n: {type: integer, identity: {generated: by default, min: -5, max: 5, start: -5,
                  cycle: true}}
            primary_key: [id]
        """,
        expected=(("create", "table"),),
        check=all_of(
            execute("insert into t default values; insert into t default values"),
            rows_are("select id, n from t order by id", [(1000, -5), (1010, -4)]),
        ),
    ),
    Case(
        "column-identity-options-changed-keeps-current-value",
        "create table t (id integer generated always as identity primary key, n text);"
        "insert into t (n) values ('a'), ('b');",
        """
        tables:
          t:
            columns:
              id: {type: integer, identity: {generated: always, start: 1, increment: 5,
                   max: 100000, cache: 3}}
              n: text
            primary_key: [id]
        """,
        expected=(("alter", "column"),),
        check=all_of(
            execute("insert into t (n) values ('c')"),
            sql_is("select id from t where n = 'c'", 7),
        ),
    ),
    Case(
        "column-identity-options-back-to-defaults",
        "create table t (id bigint generated by default as identity"
        " (start with 50 increment by 2 cycle maxvalue 1000) primary key);",
        """
        tables:
          t:
            columns:
              id: {type: bigint, identity: by default}
            primary_key: [id]
        """,
        expected=(("alter", "column"),),
    ),
    Case(
        "column-identity-added-to-existing-column-with-options-and-kind-changed",
        "create table t (id integer primary key, k bigint generated always as identity);"
        "insert into t (id) values (1), (2);",
        """
        tables:
          t:
            columns:
              id: {type: integer, identity: {generated: by default, start: 100}}
              k: {type: bigint, identity: {generated: by default, increment: 7}}
            primary_key: [id]
        """,
        expected=(("alter", "column"),),
        check=all_of(
            execute("insert into t default values"),
            rows_are("select id, k from t order by id", [(1, 1), (2, 2), (100, 9)]),
        ),
    ),
    Case(
        "column-identity-same-options-is-no-change",
        "create table t (id integer generated always as identity"
        " (start with 10 increment by 3) primary key);",
        """
        tables:
          t:
            columns:
              id: {type: integer, identity: {generated: always, start: 10, increment: 3}}
            primary_key: [id]
        """,
    ),
]

# Issue 8: serial and identity columns turned into each other or into plain columns keep their
# rows and end with the sequence a fresh build has (same name, same options).
SERIAL_ROWS = "insert into t (n) values ('a'), ('b');"
SEQUENCES = (
    "select count(*) from pg_class where relkind = 'S' and relnamespace = 'public'::regnamespace"
)
# The new sequence goes on from the old one: a new row does not get a value the rows hold.
NEXT_ROW = all_of(
    execute("insert into t (n) values ('c')"),
    rows_are("select id, n from t order by id", [(1, "a"), (2, "b"), (3, "c")]),
)
CASES += [
    Case(
        "column-serial-to-identity-takes-the-serial-sequence-name",
        "create table t (id serial primary key, n text);" + SERIAL_ROWS,
        """
        tables:
          t:
            columns:
              id: {type: integer, identity: always}
              n: text
            primary_key: [id]
        """,
        expected=(("alter", "column"),),
        check=all_of(
            sql_is("select pg_get_serial_sequence('t', 'id')", "public.t_id_seq"),
            sql_is(SEQUENCES, 1),
            NEXT_ROW,
        ),
    ),
    Case(
        "column-serial-to-identity-with-a-start-above-the-serial-keeps-the-start",
        "create table t (id serial primary key, n text);" + SERIAL_ROWS,
        """
        tables:
          t:
            columns:
              id: {type: integer, identity: {generated: by default, start: 100}}
              n: text
            primary_key: [id]
        """,
        expected=(("alter", "column"),),
        check=all_of(
            execute("insert into t (n) values ('c')"),
            rows_are("select id, n from t order by id", [(1, "a"), (2, "b"), (100, "c")]),
        ),
    ),
    Case(
        "column-identity-to-plain-default",
        "create table t (id integer generated always as identity primary key, n text);"
        + SERIAL_ROWS,
        """
        tables:
          t:
            columns:
              id: {type: integer, default: 7}
              n: text
            primary_key: [id]
        """,
        expected=(("alter", "column"),),
        check=all_of(
            sql_is(SEQUENCES, 0),
            rows_are("select id, n from t order by id", [(1, "a"), (2, "b")]),
            execute("delete from t where id = 1; insert into t (n) values ('c')"),
            rows_are("select id, n from t order by id", [(2, "b"), (7, "c")]),
        ),
    ),
    Case(
        "column-identity-to-serial",
        "create table t (id bigint generated by default as identity primary key, n text);"
        + SERIAL_ROWS,
        """
        tables:
          t:
            columns:
              id: bigserial
              n: text
            primary_key: [id]
        """,
        expected=(("alter", "column"),),
        check=all_of(
            sql_is("select pg_get_serial_sequence('t', 'id')", "public.t_id_seq"),
            sql_is(SEQUENCES, 1),
            NEXT_ROW,
        ),
    ),
    Case(
        "column-serial-to-plain-default-drops-the-sequence",
        "create table t (id serial primary key, n text);" + SERIAL_ROWS,
        """
        tables:
          t:
            columns:
              id: {type: integer, default: 0}
              n: text
            primary_key: [id]
        """,
        DATA_LOSS,  # the sequence's position
        (("alter", "column"), ("drop", "sequence")),
        check=all_of(
            sql_is(SEQUENCES, 0),
            rows_are("select id, n from t order by id", [(1, "a"), (2, "b")]),
        ),
    ),
    Case(
        "column-plain-to-identity-keeps-rows",
        "create table t (id integer primary key, n text);"
        "insert into t values (1, 'a'), (2, 'b');",
        """
        tables:
          t:
            columns:
              id: {type: integer, identity: by default}
              n: text
            primary_key: [id]
        """,
        expected=(("alter", "column"),),
        check=all_of(
            sql_is("select pg_get_serial_sequence('t', 'id')", "public.t_id_seq"),
            rows_are("select id, n from t order by id", [(1, "a"), (2, "b")]),
        ),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)


VIRTUAL = """
    tables:
      t:
        columns:
          id: integer
          n: integer
          twice: {type: integer, generated: {expression: n * 2, stored: false}}
        primary_key: [id]
    """


def test_virtual_generated_column_on_18_and_a_clear_error_before(
    server: Server, db_url: str
) -> None:
    case = Case(
        "column-generated-virtual",
        "create table t (id integer primary key, n integer); insert into t values (1, 4);",
        VIRTUAL,
        expected=(("create", "column"),),  # virtual: computed when read, no rewrite
        check=sql_is("select twice from t", 8),
    )
    if server.major >= 18:
        run_case(case, server, db_url)
        return
    spec = parse_spec("version: 1\n" + y(VIRTUAL), "virtual.yaml")
    with pytest.raises(SpecError) as e, planner(spec, db_url) as p:
        p.plan()
    assert "virtual.yaml:7:" in str(e.value)
    assert "Postgres 18" in str(e.value)
