"""Acceptance corpus harness: old SQL -> new spec -> expected hazards, on every major.

The cases live one file per object kind (test_<kind>.py), each a list CASES run by run_case().

Each case runs the whole cycle as a user would meet it:
plan -> hazard kinds exactly as expected -> refused without --allow-hazards -> apply ->
plan again is empty -> the live catalog equals a fresh database built straight from the spec
(columns, constraints, indexes, triggers, comments, functions, enums, config keys).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from schemadiff import grants
from schemadiff.apply import Options, apply_plan, check_hazards
from schemadiff.errors import RefusedError
from schemadiff.hazards import HazardKind
from schemadiff.model import qualified, quote, render_sql
from schemadiff.plan import Plan, planner
from schemadiff.shadow import canonicalize_checks
from schemadiff.spec import Spec, parse_spec

from ..conftest import Server, make_database

Conn = psycopg.Connection[Any]
Check = Callable[["Plan", Conn], None]
NONE: frozenset[HazardKind] = frozenset()
DATA_LOSS = frozenset({HazardKind.DATA_LOSS})
NOT_NULL = frozenset({HazardKind.NOT_NULL_ON_EXISTING_ROWS})
INDEX_BUILD = frozenset({HazardKind.INDEX_BUILD})
ENUM_REMOVED = frozenset({HazardKind.ENUM_VALUE_REMOVED})
# Issue 7 (online DDL, full hazard list): what the statements below now also carry.
REWRITE = frozenset({HazardKind.TABLE_REWRITE})
VALIDATION = frozenset({HazardKind.CONSTRAINT_VALIDATION})
BLOCKING = frozenset({HazardKind.BLOCKING_LOCK})
UNIQUE_BUILD = frozenset({HazardKind.INDEX_BUILD, HazardKind.UNIQUE_ON_EXISTING_ROWS})
SIGNATURE = frozenset({HazardKind.FUNCTION_SIGNATURE_CHANGED})


@dataclass(frozen=True)
class Case:
    id: str
    old_sql: str  # run on the empty database first
    new_spec: str  # YAML body without the version line
    expected_hazards: frozenset[HazardKind] = NONE
    expected: tuple[tuple[str, str], ...] = ()  # (action, kind) pairs the plan must hold
    allow: frozenset[HazardKind] | None = None  # None: allow exactly the expected hazards
    check: Callable[[Plan, Conn], None] | None = None  # more assertions, after the apply
    xfail: str | None = None


def y(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def one(conn: Conn, sql: str, *params: Any) -> Any:
    row = conn.execute(sql, params or None).fetchone()
    assert row is not None
    return row[0]


# --- per-case assertions ------------------------------------------------------------------


def changes_of(plan: Plan, action: str, kind: str) -> list[Any]:
    found = [c for c in plan.changes if c.action == action and c.kind == kind]
    assert found, f"no {action} {kind} in the plan"
    return found


def drop_table_rows(rows: int) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        (drop,) = changes_of(plan, "drop", "table")
        assert [(h.kind, h.rows) for h in drop.hazards] == [(HazardKind.DATA_LOSS, rows)]
        assert one(conn, "select to_regclass('public.gone')") is None

    return check


def indexes_outside_transaction(hazard_rows: int | None) -> Callable[[Plan, Conn], None]:
    """Indexes on an existing table: CONCURRENTLY, after the transaction, valid when done."""

    def check(plan: Plan, conn: Conn) -> None:
        created = changes_of(plan, "create", "index")
        for ix in created:
            assert not ix.transactional
            assert " CONCURRENTLY " in ix.sql
            assert [h.rows for h in ix.hazards] == ([] if hazard_rows is None else [hazard_rows])
        assert plan.changes[-len(created):] == created  # after the transaction
        assert one(
            conn, "select bool_and(indisvalid) from pg_index where indrelid = 'public.t'::regclass"
        )

    return check


def indexes_in_transaction(plan: Plan, conn: Conn) -> None:
    for ix in changes_of(plan, "create", "index"):
        assert ix.transactional
        assert "CONCURRENTLY" not in ix.sql


def table_comment_is(table: str, expected: str | None) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        got = one(conn, "select obj_description(%s::regclass, 'pg_class')", f"public.{table}")
        assert got == expected

    return check


def column_comment_is(
    table: str, column: str, expected: str | None
) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        got = one(
            conn,
            "select col_description(attrelid, attnum) from pg_attribute "
            "where attrelid = %s::regclass and attname = %s",
            f"public.{table}", column,
        )
        assert got == expected

    return check


def rows_are(sql: str, expected: list[tuple[Any, ...]]) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        assert conn.execute(sql).fetchall() == expected

    return check


def sql_is(sql: str, expected: Any) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        got = one(conn, sql)
        assert got == expected, f"{sql}: {got!r}"

    return check


def execute(sql: str) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        conn.execute(sql)

    return check


def all_of(*checks: Callable[[Plan, Conn], None]) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        for c in checks:
            c(plan, conn)

    return check


def unmanaged_kept(plan: Plan, conn: Conn) -> None:
    assert 'view "public"."active_t"' in plan.unmanaged, plan.unmanaged
    assert any(u.startswith("schema reporting") for u in plan.unmanaged), plan.unmanaged
    assert not [c for c in plan.changes if c.action == "drop"]
    assert one(conn, "select count(*) from active_t") == 3
    assert one(conn, "select to_regclass('reporting.daily') is not null")


def function_before_its_users(plan: Plan, conn: Conn) -> None:
    kinds = [(c.action, c.kind) for c in plan.changes]
    first_function = kinds.index(("create", "function"))
    assert first_function < kinds.index(("create", "column"))
    assert first_function < kinds.index(("create", "constraint"))
    conn.execute("insert into t (id) values (100)")
    assert one(conn, "select code from t where id = 100") == "C-3"
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("insert into t (id, code) values (101, 'bad')")


def fk_dropped_before_the_key_it_needs(plan: Plan, conn: Conn) -> None:
    drops = [c.name for c in plan.changes if c.action == "drop" and c.kind == "constraint"]
    assert drops.index('"public"."c"."c_p_id_fkey"') < drops.index('"public"."p"."p_pkey"')
    conn.execute("insert into p values (1, 'x'); insert into c values (1, 1)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("insert into c values (2, 2)")


ROWS3 = "insert into t (id) values (1), (2), (3);"
CONFIG_TABLE = """
    create table system_config (key text primary key, value text,
                                updated_at timestamptz not null default now());
"""
# Spec fragments, indented like the case bodies they are joined to.
CONFIG_SPEC_TABLE = """
        tables:
          system_config:
            columns:
              key: text
              value: text
              updated_at: {type: timestamptz, nullable: false, default: {sql: now()}}
            primary_key: [key]
    """
UPDATED_AT_FN = """
        functions:
          set_updated_at:
            returns: trigger
            language: plpgsql
            body: |
              BEGIN
                NEW.updated_at = now();
                RETURN NEW;
              END;
    """
UPDATED_AT_SQL = (
    "create function set_updated_at() returns trigger language plpgsql as $$\n"
    "BEGIN\n  NEW.updated_at = now();\n  RETURN NEW;\nEND;\n$$;"
)



# --- live equals spec, through our own catalog reads -------------------------------------


def catalog(url: str, spec: Spec) -> dict[str, Any]:
    """What the spec declares, as the catalog of `url` holds it."""
    out: dict[str, Any] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for t in spec.tables:
            rel = qualified(spec.schema, t.name)
            out[f"{t.name}: columns"] = sorted(conn.execute(
                """select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                          pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum)
                     from pg_attribute a
                     left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
                    where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped""",
                (rel,),
            ).fetchall())
            out[f"{t.name}: column kinds"] = sorted(conn.execute(
                """select a.attname, a.attidentity::text, a.attgenerated::text,
                          (select c.collname from pg_collation c
                            where c.oid = a.attcollation and a.attcollation <> t.typcollation),
                          (select array[s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
                                        s.seqcache]::text || s.seqcycle::text
                             from pg_sequence s
                            where s.seqrelid = pg_get_serial_sequence(%s, a.attname)::regclass)
                     from pg_attribute a join pg_type t on t.oid = a.atttypid
                    where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped""",
                (rel, rel),
            ).fetchall())
            # Storage parameters in any order, booleans in any spelling Postgres accepts.
            options = one(conn, "select reloptions from pg_class where oid = %s::regclass", rel)
            out[f"{t.name}: storage"] = sorted(
                (name, {"off": "false", "on": "true"}.get(value, value))
                for name, _, value in (o.partition("=") for o in options or [])
            )
            out[f"{t.name}: constraints"] = sorted(conn.execute(
                """select conname, contype::text, pg_get_constraintdef(oid)
                     from pg_constraint where conrelid = %s::regclass""",
                (rel,),
            ).fetchall())
            out[f"{t.name}: indexes"] = sorted(conn.execute(
                """select c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid
                     from pg_index i join pg_class c on c.oid = i.indexrelid
                    where i.indrelid = %s::regclass""",
                (rel,),
            ).fetchall())
            out[f"{t.name}: triggers"] = sorted(conn.execute(
                """select tgname, pg_get_triggerdef(oid) from pg_trigger
                    where tgrelid = %s::regclass and not tgisinternal""",
                (rel,),
            ).fetchall())
            out[f"{t.name}: comment"] = one(
                conn, "select obj_description(%s::regclass, 'pg_class')", rel
            )
            out[f"{t.name}: trigger states"] = sorted(conn.execute(
                """select tgname, tgenabled::text from pg_trigger
                    where tgrelid = %s::regclass and not tgisinternal""",
                (rel,),
            ).fetchall())
            out[f"{t.name}: row level security"] = conn.execute(
                "select relrowsecurity, relforcerowsecurity from pg_class where oid = %s::regclass",
                (rel,),
            ).fetchone()
            out[f"{t.name}: policies"] = sorted(conn.execute(
                """select policyname, permissive, array(select unnest(roles) order by 1), cmd,
                          qual, with_check
                     from pg_policies where schemaname = %s and tablename = %s""",
                (spec.schema, t.name),
            ).fetchall())
        out["functions"] = sorted(conn.execute(
            """select p.proname, pg_get_functiondef(p.oid), obj_description(p.oid, 'pg_proc')
                 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                where n.nspname = %s and p.prokind = 'f'
                  and not exists (select 1 from pg_depend e where e.objid = p.oid
                                    and e.deptype = 'e')""",
            (spec.schema,),
        ).fetchall())
        if "procedures" in spec.manages:
            out["procedures"] = sorted(conn.execute(
                """select p.proname, pg_get_functiondef(p.oid)
                     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                    where n.nspname = %s and p.prokind = 'p'""",
                (spec.schema,),
            ).fetchall())
        out["enums"] = sorted(conn.execute(
            """select t.typname,
                      array(select e.enumlabel::text from pg_enum e
                             where e.enumtypid = t.oid order by e.enumsortorder),
                      obj_description(t.oid, 'pg_type')
                 from pg_type t join pg_namespace n on n.oid = t.typnamespace
                where n.nspname = %s and t.typtype = 'e'""",
            (spec.schema,),
        ).fetchall())
        out.update(_more_catalog(conn, spec))
        out.update(_types_sequences_views(conn, spec))
        if spec.grants:
            roles = {g.role for g in spec.grants}
            out["grants"] = sorted(r for r in grants.read(conn, spec.schema) if r[3] in roles)
        if spec.config:
            cfg = spec.config
            keys = conn.execute(
                f"select {quote(cfg.key_column)} from {qualified(spec.schema, cfg.table)}".encode()
            ).fetchall()
            out["config keys"] = sorted(r[0] for r in keys)
    return out


def _more_catalog(conn: Conn, spec: Spec) -> dict[str, Any]:
    """Persistence, partitioning, extensions and the comments on every other kind."""
    out: dict[str, Any] = {}
    schema = spec.schema
    out["relations"] = sorted(conn.execute(
        """select c.relname, c.relkind::text, c.relpersistence::text,
                  pg_get_partkeydef(c.oid), pg_get_expr(c.relpartbound, c.oid),
                  (select p.relname from pg_inherits i join pg_class p on p.oid = i.inhparent
                    where i.inhrelid = c.oid)
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = %s and c.relkind in ('r', 'p')""",
        (schema,),
    ).fetchall())
    out["object comments"] = sorted(conn.execute(
        """select 'constraint', c.relname || '.' || co.conname,
                  obj_description(co.oid, 'pg_constraint')
             from pg_constraint co join pg_class c on c.oid = co.conrelid
             join pg_namespace n on n.oid = c.relnamespace where n.nspname = %(s)s
           union all
           select 'trigger', c.relname || '.' || tg.tgname, obj_description(tg.oid, 'pg_trigger')
             from pg_trigger tg join pg_class c on c.oid = tg.tgrelid
             join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = %(s)s and not tg.tgisinternal
           union all
           select c.relkind::text, c.relname, obj_description(c.oid, 'pg_class')
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = %(s)s and c.relkind in ('i', 'I', 'S')
           union all
           select 'schema', n.nspname, obj_description(n.oid, 'pg_namespace')
             from pg_namespace n where n.nspname = %(s)s""",
        {"s": schema},
    ).fetchall())
    if "extensions" not in spec.manages:
        return out  # live extensions are left alone
    pinned = {e.name for e in spec.all_extensions() if e.version}
    out["extensions"] = sorted(
        (name, version if name in pinned else None, where)
        for name, version, where in conn.execute(
            """select e.extname, e.extversion, n.nspname from pg_extension e
                 join pg_namespace n on n.oid = e.extnamespace where e.extname <> 'plpgsql'"""
        ).fetchall()
    )
    return out


def _types_sequences_views(conn: Conn, spec: Spec) -> dict[str, Any]:
    """Sequences (all when the spec declares them, else those of serial columns), views."""
    out: dict[str, Any] = {}
    every = "sequences" in spec.declared
    out["sequences"] = sorted(conn.execute(
        """select c.relname, format_type(s.seqtypid, null), s.seqstart, s.seqincrement,
                  s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
                  (select format('%%s.%%s', oc.relname, a.attname)
                     from pg_depend d join pg_class oc on oc.oid = d.refobjid
                     join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
                    where d.classid = 'pg_class'::regclass and d.objid = c.oid
                      and d.refclassid = 'pg_class'::regclass and d.deptype = 'a') as owner
             from pg_sequence s join pg_class c on c.oid = s.seqrelid
             join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = %s
              and not exists (select 1 from pg_depend d where d.objid = c.oid
                                and d.classid = 'pg_class'::regclass and d.deptype = 'i')""",
        (spec.schema,),
    ).fetchall())
    if not every:
        out["sequences"] = [r for r in out["sequences"] if r[-1] is not None]
    if "domains" in spec.declared:
        out["domains"] = sorted(conn.execute(
            """select t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull,
                      t.typdefault, t.typcollation, obj_description(t.oid, 'pg_type'),
                      array(select array[conname::text, pg_get_constraintdef(c.oid),
                                         convalidated::text]
                              from pg_constraint c where c.contypid = t.oid order by 1)
                 from pg_type t join pg_namespace n on n.oid = t.typnamespace
                where n.nspname = %s and t.typtype = 'd'""",
            (spec.schema,),
        ).fetchall())
    if "types" in spec.declared:
        out["types"] = sorted(conn.execute(
            """select t.typname, obj_description(t.oid, 'pg_type'),
                      array(select array[a.attname::text, format_type(a.atttypid, a.atttypmod)]
                              from pg_attribute a where a.attrelid = t.typrelid
                               and a.attnum > 0 and not a.attisdropped order by a.attnum)
                 from pg_type t join pg_namespace n on n.oid = t.typnamespace
                 join pg_class c on c.oid = t.typrelid
                where n.nspname = %s and t.typtype = 'c' and c.relkind = 'c'""",
            (spec.schema,),
        ).fetchall())
    if "materialized_views" in spec.declared:
        out["materialized views"] = sorted(conn.execute(
            """select c.relname, pg_get_viewdef(c.oid), c.relispopulated,
                      obj_description(c.oid, 'pg_class'),
                      array(select pg_get_indexdef(i.indexrelid) from pg_index i
                             where i.indrelid = c.oid order by 1)
                 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where n.nspname = %s and c.relkind = 'm'""",
            (spec.schema,),
        ).fetchall())
    if "views" in spec.declared:
        out["views"] = sorted(conn.execute(
            """select c.relname, pg_get_viewdef(c.oid), c.reloptions::text[],
                      obj_description(c.oid, 'pg_class')
                 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where n.nspname = %s and c.relkind = 'v'""",
            (spec.schema,),
        ).fetchall())
    return out


def params(cases: list[Case]) -> list[Any]:
    return [
        pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)]
                     if c.xfail else [])
        for c in cases
    ]


def describe(plan: Plan) -> str:
    return "\n".join(
        f"{c.action} {c.kind} {c.name} [{', '.join(h.describe() for h in c.hazards)}]: {c.sql}"
        for c in plan.changes
    )


def run_case(case: Case, server: Server, db_url: str) -> None:
    """The whole cycle for one case; see the module docstring."""
    spec = parse_spec("version: 1\n" + y(case.new_spec), f"{case.id}.yaml")
    with psycopg.connect(db_url, autocommit=True) as conn:
        if case.old_sql:
            conn.execute(case.old_sql.encode())
    allowed = case.expected_hazards if case.allow is None else case.allow

    # The shadow in a temporary database of the test server (--shadow-server): no cluster
    # start per case; the throwaway-cluster path is what tests/cli runs.
    with planner(spec, db_url, server.admin_url) as p:
        plan = p.plan()
        shown = describe(plan)
        assert plan.hazard_kinds == case.expected_hazards, shown
        pairs = {(c.action, c.kind) for c in plan.changes}
        for pair in case.expected:
            assert pair in pairs, f"{pair} not in the plan:\n{shown}"
        assert plan.empty == (not case.expected), shown
        if case.expected_hazards:
            with pytest.raises(RefusedError):
                check_hazards(plan, frozenset())
        else:
            check_hazards(plan, frozenset())
        apply_plan(plan, db_url, Options(allowed_hazards=frozenset(allowed)))
        again = p.plan()
        assert again.empty, f"not converged:\n{describe(again)}\nafter:\n{shown}"

    reference = make_database(server)
    with psycopg.connect(reference, autocommit=True) as conn:
        conn.execute(render_sql(spec).encode())
    # CHECKs in the form the shadow stores them (Postgres re-deparses some expressions).
    canonicalize_checks(reference, spec.schema)
    live_catalog, reference_catalog = catalog(db_url, spec), catalog(reference, spec)
    assert live_catalog == reference_catalog, {
        k: (v, reference_catalog.get(k))
        for k, v in live_catalog.items()
        if v != reference_catalog.get(k)
    }

    if case.check is not None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            case.check(plan, conn)
