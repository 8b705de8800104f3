"""Acceptance cases: partitioned tables (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import psycopg
import pytest

from schemadiff.apply import Options, apply_plan
from schemadiff.hazards import HazardKind
from schemadiff.plan import Plan, planner
from schemadiff.spec import parse_spec

from ..conftest import Server
from .harness import (
    BLOCKING,
    DATA_LOSS,
    INDEX_BUILD,
    VALIDATION,
    Case,
    Conn,
    all_of,
    changes_of,
    execute,
    one,
    params,
    run_case,
    sql_is,
    y,
)

MEASURES_SQL = (
    "create table m (id integer not null, at date not null, n integer)"
    " partition by range (at);"
    "create table m_2024 partition of m for values from ('2024-01-01') to ('2025-01-01');"
    "create table m_2025 partition of m for values from ('2025-01-01') to ('2026-01-01');"
)
ROWS = "insert into m values (1, '2024-03-01', 1), (2, '2025-03-01', 2);"


def measures(extra: str = "", partitions: str | None = None, key: str = "") -> str:
    """The `m` table of MEASURES_SQL as a spec, with more table keys and other partitions."""
    parts = partitions if partitions is not None else (
        """
              m_2024: {from: 2024-01-01, to: 2025-01-01}
              m_2025: {from: 2025-01-01, to: 2026-01-01}"""
    )
    return f"""
        tables:
          m:
            columns:
              id: {{type: integer, nullable: false}}
              at: {{type: date, nullable: false}}
              n: integer{key}
            partition_by: {{method: range, columns: [at]}}
            partitions:{parts}{extra}
        """


def index_valid_on_every_partition(plan: Plan, conn: Conn) -> None:
    """ON ONLY, each partition CONCURRENTLY (after the transaction), attached: valid."""
    (parent,) = [c for c in changes_of(plan, "create", "index") if c.transactional]
    assert " ON ONLY " in parent.sql
    builds = [c for c in changes_of(plan, "create", "index") if not c.transactional]
    assert len(builds) == 2 and all(" CONCURRENTLY " in c.sql for c in builds)
    assert len(changes_of(plan, "alter", "index")) == 2
    assert one(conn, "select bool_and(indisvalid) from pg_index i join pg_class c"
                     " on c.oid = i.indexrelid where c.relname like 'm%n_idx'")
    assert one(conn, "select count(*) from pg_inherits i join pg_class c on c.oid = i.inhparent"
                     " where c.relname = 'm_n_idx'") == 2


def not_using_index(plan: Plan, conn: Conn) -> None:
    (pk,) = changes_of(plan, "create", "constraint")
    assert "using index" not in pk.sql.lower()
    assert "PRIMARY KEY (id, at)" in pk.sql
    with pytest.raises(Exception, match="duplicate key"):
        conn.execute("insert into m values (1, '2024-03-01', 9)")


def partition_dropped_with_rows(plan: Plan, conn: Conn) -> None:
    (drop,) = changes_of(plan, "drop", "table")
    assert [(h.kind, h.rows) for h in drop.hazards] == [(HazardKind.DATA_LOSS, 1)]
    assert one(conn, "select count(*) from m") == 1


CASES: list[Case] = [
    Case(
        "partition-range-create-with-key-index-and-default",
        "",
        measures(
            extra="""
              m_rest: {default: true}
            indexes:
              - columns: [n]""",
            key="\n            primary_key: [id, at]",
        ),
        expected=(("create", "table"), ("create", "index"), ("create", "constraint")),
        check=all_of(
            execute("insert into m values (1, '2030-01-01', 5)"),
            sql_is("select tableoid::regclass::text from m where id = 1", "m_rest"),
        ),
    ),
    Case(
        "partition-list-create",
        "",
        """
        tables:
          orders:
            columns: {id: integer, region: text}
            partition_by: {method: list, columns: [region]}
            partitions:
              orders_eu: {in: [de, fr]}
              orders_us: {in: [us]}
              orders_other: {default: true}
        """,
        expected=(("create", "table"),),
        check=all_of(
            execute("insert into orders values (1, 'fr'), (2, 'jp')"),
            sql_is("select tableoid::regclass::text from orders where id = 1", "orders_eu"),
            sql_is("select tableoid::regclass::text from orders where id = 2", "orders_other"),
        ),
    ),
    Case(
        "partition-hash-by-expression-create",
        "",
        """
        tables:
          events:
            columns: {id: bigint, kind: text}
            partition_by: {method: hash, expression: lower(kind)}
            partitions:
              events_0: {modulus: 2, remainder: 0}
              events_1: {modulus: 2, remainder: 1}
        """,
        expected=(("create", "table"),),
        check=sql_is("select pg_get_partkeydef('events'::regclass)", "HASH (lower(kind))"),
    ),
    Case(
        "partition-unchanged-plans-nothing",
        MEASURES_SQL + ROWS + "create index m_n_idx on m (n);",
        measures(extra="""
            indexes:
              - columns: [n]"""),
    ),
    Case(
        "partition-added-to-an-existing-table",
        MEASURES_SQL + ROWS,
        measures(partitions="""
              m_2024: {from: 2024-01-01, to: 2025-01-01}
              m_2025: {from: 2025-01-01, to: 2026-01-01}
              m_2026: {from: 2026-01-01, to: 2027-01-01}"""),
        expected=(("create", "table"),),
        check=all_of(
            execute("insert into m values (3, '2026-06-01', 3)"),
            sql_is("select count(*) from m", 3),
        ),
    ),
    Case(
        "partition-dropped-with-rows-is-data-loss",
        MEASURES_SQL + ROWS,
        measures(partitions="""
              m_2025: {from: 2025-01-01, to: 2026-01-01}"""),
        DATA_LOSS,
        (("drop", "table"),),
        check=partition_dropped_with_rows,
    ),
    Case(
        "partition-dropped-when-empty-names-no-rows",
        MEASURES_SQL,
        measures(partitions="""
              m_2025: {from: 2025-01-01, to: 2026-01-01}"""),
        DATA_LOSS,
        (("drop", "table"),),
    ),
    Case(
        # Nullable columns: Postgres 18 names NOT NULL constraints, and a detached partition
        # keeps its parent's names (a database built from the spec names them after it).
        "partition-detached-with-rows-is-data-loss",
        "create table d (id integer, at date) partition by range (at);"
        "create table d_2024 partition of d for values from ('2024-01-01') to ('2025-01-01');"
        "create table d_2025 partition of d for values from ('2025-01-01') to ('2026-01-01');"
        "insert into d values (1, '2024-03-01'), (2, '2025-03-01');",
        """
        tables:
          d:
            columns: {id: integer, at: date}
            partition_by: {method: range, columns: [at]}
            partitions:
              d_2025: {from: 2025-01-01, to: 2026-01-01}
          d_2024:
            columns: {id: integer, at: date}
        """,
        DATA_LOSS,
        (("alter", "table"),),
        check=all_of(
            sql_is("select count(*) from d", 1),
            sql_is("select count(*) from d_2024", 1),
            sql_is("select relispartition from pg_class where relname = 'd_2024'", False),
        ),
    ),
    Case(
        "partition-attached-table-with-rows-is-validated",
        MEASURES_SQL + ROWS + "alter table m detach partition m_2024;",
        measures(),
        VALIDATION,
        (("alter", "table"),),
        check=sql_is("select count(*) from m", 2),
    ),
    Case(
        "partition-bound-changed-is-detached-and-attached",
        MEASURES_SQL + ROWS,
        measures(partitions="""
              m_2024: {from: 2023-01-01, to: 2025-01-01}
              m_2025: {from: 2025-01-01, to: 2026-01-01}"""),
        VALIDATION,
        (("alter", "table"),),
        check=all_of(
            execute("insert into m values (9, '2023-05-01', 9)"),
            sql_is("select tableoid::regclass::text from m where id = 9", "m_2024"),
            sql_is("select count(*) from m", 3),
        ),
    ),
    Case(
        "partition-index-on-existing-table-built-per-partition",
        MEASURES_SQL + ROWS,
        measures(extra="""
            indexes:
              - columns: [n]"""),
        INDEX_BUILD,
        (("create", "index"), ("alter", "index")),
        check=index_valid_on_every_partition,
    ),
    Case(
        "partition-primary-key-on-existing-table",
        MEASURES_SQL + ROWS,
        measures(key="\n            primary_key: [id, at]"),
        BLOCKING,
        (("create", "constraint"),),
        check=not_using_index,
    ),
    Case(
        "partition-unique-on-existing-empty-table-no-hazard",
        MEASURES_SQL,
        measures(key="""
            unique:
              - columns: [id, at]"""),
        expected=(("create", "constraint"),),
    ),
    Case(
        "partition-foreign-key-referencing-a-partitioned-table",
        MEASURES_SQL + "alter table m add primary key (id, at);"
        "create table notes (id integer primary key, m_id integer, m_at date);",
        measures(key="\n            primary_key: [id, at]").rstrip()
        + """
          notes:
            columns: {id: integer, m_id: integer, m_at: date}
            primary_key: [id]
            foreign_keys:
              - {columns: [m_id, m_at], references: {table: m, columns: [id, at]}}
        """,
        expected=(("create", "constraint"),),
        check=all_of(
            execute("insert into m values (1, '2024-02-02', 1)"),
            execute("insert into notes values (1, 1, '2024-02-02')"),
            sql_is("select count(*) from notes", 1),
        ),
    ),
    Case(
        "partition-column-added-on-the-parent-only",
        MEASURES_SQL + ROWS,
        measures(key="\n              note: text").replace(
            "n: integer\n              note: text", "n: integer\n              note: text"
        ),
        expected=(("create", "column"),),
        check=sql_is("select count(*) from information_schema.columns"
                     " where table_name = 'm_2025' and column_name = 'note'", 1),
    ),
    Case(
        "partition-key-changed-recreates-the-table",
        MEASURES_SQL + ROWS,
        """
        tables:
          m:
            columns:
              id: {type: integer, nullable: false}
              at: {type: date, nullable: false}
              n: integer
            partition_by: {method: hash, columns: [id]}
            partitions:
              m_h0: {modulus: 2, remainder: 0}
              m_h1: {modulus: 2, remainder: 1}
        """,
        DATA_LOSS,
        (("drop", "table"), ("create", "table")),
        check=sql_is("select pg_get_partkeydef('m'::regclass)", "HASH (id)"),
    ),
    Case(
        "partition-trigger-on-the-parent",
        MEASURES_SQL + "create function touch() returns trigger language plpgsql as"
        " $$\nBEGIN\n  RETURN NEW;\nEND;\n$$;",
        """
        functions:
          touch:
            returns: trigger
            language: plpgsql
            body: |
              BEGIN
                RETURN NEW;
              END;
        """ + measures(extra="""
            triggers:
              - {name: m_touch, function: touch, timing: before, events: [insert]}""").replace(
            "\n        tables:", "tables:", 1
        ).replace("\n        ", "\n        "),
        expected=(("create", "trigger"),),
        check=sql_is("select count(*) from pg_trigger where tgname = 'm_touch'", 3),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)


def test_a_partitions_own_index_key_and_trigger_are_named_and_kept(
    server: Server, db_url: str
) -> None:
    # pagila's payment: the partitioned table is managed, what one partition has of its own is
    # not (the spec declares indexes, keys and triggers on the partitioned table only).
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            MEASURES_SQL
            + ROWS
            + "create table r (id integer primary key);"
            "create index m_2024_n on m_2024 (n);"
            "alter table m_2024 add constraint m_2024_n_fkey foreign key (n) references r (id)"
            " not valid;"
            "create function stop() returns trigger language plpgsql as"
            " $$\nBEGIN\n  RETURN NULL;\nEND;\n$$;"
            "create trigger m_2024_stop before delete on m_2024 for each row execute"
            " function stop();"
        )
    spec = parse_spec("version: 1\n" + y(measures(extra="""
            indexes:
              - {columns: [id]}""") + """
          r:
            columns: {id: {type: integer, nullable: false}}
            primary_key: [id]
        functions:
          stop:
            returns: trigger
            language: plpgsql
            body: |
              BEGIN
                RETURN NULL;
              END;
        """), "own.yaml")
    with planner(spec, db_url, server.admin_url) as p:
        plan = p.plan()
        assert {
            'index "public"."m_2024_n"',
            'constraint "public"."m_2024"."m_2024_n_fkey"',
            'trigger "public"."m_2024"."m_2024_stop"',
        } <= {u.split(" (")[0] for u in plan.unmanaged}, plan.unmanaged
        assert [c.name for c in plan.changes if c.action == "drop"] == []
        apply_plan(plan, db_url, Options(allowed_hazards=plan.hazard_kinds))
        assert p.plan().empty
    with psycopg.connect(db_url, autocommit=True) as conn:
        kept = conn.execute(
            "select (select count(*) from pg_class where relname = 'm_2024_n'),"
            " (select count(*) from pg_constraint where conname = 'm_2024_n_fkey'),"
            " (select count(*) from pg_trigger where tgname = 'm_2024_stop'),"
            " (select count(*) from pg_index where indrelid = 'm_2024'::regclass)"
        ).fetchone()
    assert kept == (1, 1, 1, 2)  # its own index, and its share of the new m_id_idx
