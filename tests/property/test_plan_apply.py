"""Properties over random specs (tests/property/specs.py), on the newest local major.

Any spec A to any spec B: a database built from A (as `schemadiff render` writes it) with two
rows in each table; plan B and apply it, every hazard allowed; the live catalog then equals a
database built straight from B (the acceptance harness's catalog reads, plus relations, views
and sequences), and a new plan is empty. When B cannot hold A's rows (a new NOT NULL column
without a default, a removed enum value in use, a foreign key to a new, empty table), the
apply fails: the plan must have warned of it with a hazard, and once the rows are gone the
plan applies.

Import round trip: `import` of a database built from any spec is a spec that plans empty
against it and builds the same catalog.

Profiles (tests/conftest.py): "ci" (the default: the same 100 examples per test on every
run) and "long" (`--hypothesis-profile=long` or SCHEMADIFF_HYPOTHESIS_PROFILE=long, 1000
random ones per test). Shadows are databases on the test server (shadow.prepare), not
throwaway clusters: reading a catalog is what an example spends its time on.
"""

from __future__ import annotations

from typing import Any

import psycopg
from hypothesis import event, example, given, note
from psycopg import sql

from schemadiff.apply import Options, apply_plan
from schemadiff.errors import DatabaseError
from schemadiff.hazards import HazardKind
from schemadiff.introspect import import_database
from schemadiff.plan import Planner
from schemadiff.shadow import prepare
from schemadiff.spec import Spec, parse_spec

from ..acceptance.harness import catalog, describe
from ..conftest import Server, make_database
from .specs import ENUMS, FIXED, NUMBERS, STRINGS, Drawn, specs

ALL_HAZARDS = Options(allowed_hazards=frozenset(HazardKind))


_DATABASES: dict[str, list[str]] = {}


def databases(server: Server, n: int) -> list[str]:
    """`n` empty databases on the server: the same ones for every example, emptied first.

    Emptying a schema is cheaper than creating a database, and 200 examples' databases would
    fill the disk.
    """
    urls = _DATABASES.setdefault(server.admin_url, [])
    while len(urls) < n:
        urls.append(make_database(server))
    for url in urls[:n]:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "DROP SCHEMA IF EXISTS public CASCADE; DROP SCHEMA IF EXISTS schemadiff CASCADE;"
                "CREATE SCHEMA public"
            )
    return urls[:n]


def plan_for(spec: Spec, live: str, shadow_url: str) -> Planner:
    """A planner whose shadow is `shadow_url`, built from the spec here."""
    shadow = prepare(spec, shadow_url)
    return Planner(spec, live, shadow.url, equivalent_checks=shadow.equivalent_checks)


def extra_catalog(url: str) -> dict[str, Any]:
    """What harness.catalog does not read: every relation, views, sequences and their options."""
    with psycopg.connect(url, autocommit=True) as conn:
        return {
            "relations": sorted(conn.execute(
                """select c.relname, c.relkind::text from pg_class c
                     join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname = 'public'"""
            ).fetchall()),
            "views": sorted(conn.execute(
                """select c.relname, pg_get_viewdef(c.oid), obj_description(c.oid, 'pg_class')
                     from pg_class c join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname = 'public' and c.relkind = 'v'"""
            ).fetchall()),
            "sequences": sorted(conn.execute(
                """select c.relname, format_type(s.seqtypid, null), s.seqstart, s.seqincrement,
                          s.seqmin, s.seqmax, s.seqcache, s.seqcycle
                     from pg_sequence s join pg_class c on c.oid = s.seqrelid
                     join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname = 'public'"""
            ).fetchall()),
        }


def value(column: str, row: int, enum_values: dict[str, list[str]]) -> str:
    """Row `row`'s value for a column, as text Postgres casts to the column's type.

    Every row satisfies the checks the generator writes, and the two rows differ in every
    key column, so A's constraints accept them.
    """
    if column in NUMBERS or column in STRINGS:
        return str(row + 1)
    if column in FIXED:
        return {
            "flag": ("true", "false"),
            "ts": ("2020-01-01", "2020-01-02"),
            "doc": ('{"k": 0}', '{"k": 1}'),
            "tags": ("{a}", "{a,b}"),
            "nums": ("{1}", "{1,2}"),
        }[column][row]
    values = enum_values[next(e for e, c in ENUMS.items() if c == column)]
    return values[min(row, len(values) - 1)]


def insert_rows(url: str, drawn: Drawn) -> None:
    enum_values = {e: body["values"] for e, body in drawn.spec.get("enums", {}).items()}
    with psycopg.connect(url, autocommit=True) as conn:
        # Foreign keys hold (the referenced rows have the same values), in whatever order.
        conn.execute("SET session_replication_role = replica")
        for table, body in drawn.tables.items():
            columns = list(body["columns"])
            statement = sql.SQL(
                "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES ({}), ({})"
            ).format(
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                *(
                    sql.SQL(", ").join(sql.Literal(value(c, row, enum_values)) for c in columns)
                    for row in (0, 1)
                ),
            )
            try:
                conn.execute(statement)
            except psycopg.errors.UniqueViolation:
                event("rows: a unique enum index refused the second row")


def truncate_all(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "select tablename from pg_tables where schemaname = 'public'"
        ).fetchall()]
        if tables:
            conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(
                sql.SQL(", ").join(map(sql.Identifier, tables))
            ))


def parse(drawn: Drawn, name: str) -> Spec:
    text = drawn.to_yaml()
    note(f"{name}.yaml:\n{text}")
    return parse_spec(text, f"{name}.yaml")


def _spec(enums: dict[str, Any], tables: dict[str, Any], views: Any = None) -> Drawn:
    spec: dict[str, Any] = {"version": 1, "enums": enums, "tables": tables}
    if views is not None:
        spec["views"] = views
    return Drawn(spec)


# Bugs the property found, each as its smallest example (fixed in differ.py).
# A changed enum's old version was dropped before a column of it that B drops.
ENUM_COLUMN_DROPPED = (
    _spec({"ea": {"values": ["v1", "v2"]}}, {"ta": {"columns": {"n1": "integer", "st": "ea"}}}),
    _spec({"ea": {"values": ["v1"]}}, {"ta": {"columns": {"n1": "integer"}}}),
)
# A changed enum, created again, lost its comment.
ENUM_COMMENT = (
    _spec({"ea": {"values": ["v1", "v2"], "comment": "e"}}, {"ta": {"columns": {"st": "ea"}}}),
    _spec({"ea": {"values": ["v1"], "comment": "e"}}, {"ta": {"columns": {"st": "ea"}}}),
)
# A view dropped and created again (a column under it goes) lost its comment.
VIEW_COMMENT = (
    _spec({}, {"ta": {"columns": {"n1": "integer", "s1": "text"}}},
          {"va": {"query": "SELECT n1, s1 FROM ta", "comment": "v"}}),
    _spec({}, {"ta": {"columns": {"n1": "integer"}}},
          {"va": {"query": "SELECT n1 FROM ta", "comment": "v"}}),
)
# A column recast to its changed enum got its old default back, a label the enum lost.
ENUM_DEFAULT = (
    _spec({"eb": {"values": ["v1", "v2"]}},
          {"tc": {"columns": {"mood": {"type": "eb", "default": "v2"}}}}),
    _spec({"eb": {"values": ["v3", "v1"]}},
          {"tc": {"columns": {"mood": {"type": "eb", "default": "v3"}}}}),
)
# A column recast to its changed enum, without a default before, got SET DEFAULT None.
ENUM_DEFAULT_ADDED = (
    _spec({"eb": {"values": ["v2", "v1"]}}, {"tc": {"columns": {"mood": "eb"}}}),
    _spec({"eb": {"values": ["v1", "v2"]}},
          {"tc": {"columns": {"mood": {"type": "eb", "default": "v1"}}}}),
)

# A numeric column made an integer identity got its identity before its new type.
IDENTITY_AFTER_TYPE = (
    _spec({}, {"ta": {"columns": {"n1": "numeric(10,2)"}}}),
    _spec({}, {"ta": {"columns": {"n1": {"type": "integer", "identity": "always"}}}}),
)
# A serial column made an identity got its identity while the serial's sequence still
# existed, so the identity's sequence was ta_n1_seq1, not ta_n1_seq as in a fresh build.
SERIAL_TO_IDENTITY = (
    _spec({}, {"ta": {"columns": {"n1": "serial"}}}),
    _spec({}, {"ta": {"columns": {"n1": {"type": "integer", "identity": "always"}}}}),
)
# An identity column given a plain default got the default before its identity went (which
# Postgres refuses).
IDENTITY_TO_DEFAULT = (
    _spec({}, {"ta": {"columns": {"n1": {"type": "integer", "identity": "by default"}}}}),
    _spec({}, {"ta": {"columns": {"n1": {"type": "integer", "default": 7}}}}),
)
# An identity column made a serial: the serial's sequence was created while the identity's,
# of the same name, still existed.
IDENTITY_TO_SERIAL = (
    _spec({}, {"ta": {"columns": {"n1": {"type": "bigint", "identity": "always"}}}}),
    _spec({}, {"ta": {"columns": {"n1": "bigserial"}}}),
)


@given(a=specs(), b=specs())
@example(*ENUM_COLUMN_DROPPED)
@example(*ENUM_COMMENT)
@example(*VIEW_COMMENT)
@example(*ENUM_DEFAULT)
@example(*ENUM_DEFAULT_ADDED)
@example(*IDENTITY_AFTER_TYPE)
@example(*SERIAL_TO_IDENTITY)
@example(*IDENTITY_TO_DEFAULT)
@example(*IDENTITY_TO_SERIAL)
def test_any_spec_to_any_spec(server: Server, a: Drawn, b: Drawn) -> None:
    spec_a, spec_b = parse(a, "a"), parse(b, "b")
    live, shadow_b = databases(server, 2)
    prepare(spec_a, live)
    insert_rows(live, a)

    with plan_for(spec_b, live, shadow_b) as planner:
        plan = planner.plan()
        note(f"plan:\n{describe(plan)}")
        try:
            apply_plan(plan, live, ALL_HAZARDS)
            event("B applied with A's rows")
        except DatabaseError as e:
            # B cannot hold A's rows; the plan must have said so.
            note(f"with rows: {e}")
            event("B refused A's rows")
            assert plan.hazard_kinds, f"failed without a hazard: {e}\n{describe(plan)}"
            truncate_all(live)
            plan = planner.plan()
            note(f"plan without rows:\n{describe(plan)}")
            apply_plan(plan, live, ALL_HAZARDS)
        again = planner.plan()
        assert again.empty, f"not converged:\n{describe(again)}\nafter:\n{describe(plan)}"
    expected = catalog(shadow_b, spec_b), extra_catalog(shadow_b)
    assert (catalog(live, spec_b), extra_catalog(live)) == expected


@given(x=specs())
def test_import_round_trips(server: Server, x: Drawn) -> None:
    spec = parse(x, "x")
    live, shadow = databases(server, 2)
    prepare(spec, live)
    imported = import_database(live)
    assert imported.problems == [], imported.problems
    assert imported.unmanaged == [], imported.unmanaged
    note(f"imported:\n{imported.text}")
    spec_i = parse_spec(imported.text, "imported.yaml")
    with plan_for(spec_i, live, shadow) as planner:
        plan = planner.plan()
        assert plan.empty, f"import does not round-trip:\n{describe(plan)}"
    # The imported spec builds what the original one built.
    assert (catalog(shadow, spec), extra_catalog(shadow)) == (
        catalog(live, spec), extra_catalog(live)
    )
