"""reset: drop exactly the objects the spec manages, and nothing else in the database.

What goes: the spec's triggers, views and materialized views, tables (with what Postgres drops
along with a table: its indexes, constraints, policies, partitions, column defaults, the
sequences its serial columns own, the privileges on it, and the rows, the managed config rows
included), standalone sequences, functions and procedures, domains, composite types and enums.
What stays: everything the spec does not declare (other tables, views, functions, types,
schemas, extensions, the `schemadiff` history schema), and the spec's extensions and schema
(with the privileges on it), which other objects may use. `apply` afterwards builds the spec
again, drops what the spec lacks of the kinds it manages, and inserts the seed rows.

Nothing is dropped with CASCADE. When an object the spec does not manage depends on one that
would go (a view on a managed table, a foreign key from another table, a column of a managed
enum type, a trigger calling a managed function), reset refuses and names it; the DROP
statements themselves are plain, so Postgres refuses too should the check ever miss one.
Dependencies Postgres does not record (a PL/pgSQL body naming a table) cannot be seen.

The drops run in one transaction under the advisory lock `apply` takes, and are recorded in
schemadiff.apply_history like an apply.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from schemadiff import db
from schemadiff import spec as s
from schemadiff.errors import DatabaseError, RefusedError
from schemadiff.progress import Progress
from schemadiff.sqltext import qualified, quote

APPLICATION_NAME = "schemadiff reset"


@dataclass(frozen=True)
class Drop:
    """One DROP statement and what it removes."""

    kind: str  # trigger | view | materialized view | table | sequence | function | type | enum
    names: tuple[str, ...]
    sql: str


@dataclass
class ResetPlan:
    """What reset would drop in one database, and what stands in its way."""

    schema: str
    drops: list[Drop] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)  # one line per object, for people
    dependents: list[str] = field(default_factory=list)  # unmanaged objects in the way

    @property
    def empty(self) -> bool:
        return not self.drops

    @property
    def sql(self) -> str:
        """The statements as a script psql can run."""
        if not self.drops:
            return ""
        return "BEGIN;\n" + "".join(d.sql + ";\n" for d in self.drops) + "COMMIT;\n"


def inspect(spec: s.Spec, url: str) -> ResetPlan:
    """What reset would drop now (read only)."""
    with db.connection(url) as conn, conn.transaction():
        return _inspect(conn, spec)


def refuse_if_blocked(plan: ResetPlan) -> None:
    """Refuse (exit 3) when objects the spec does not manage depend on managed ones."""
    if not plan.dependents:
        return
    lines = [
        "reset refused: objects the spec does not manage depend on objects it would drop "
        "(reset never uses CASCADE):",
        *(f"  {d}" for d in plan.dependents),
        "drop or change these objects first (or declare them in the spec); nothing was dropped",
    ]
    raise RefusedError("\n".join(lines))


def run(
    spec: s.Spec,
    url: str,
    confirmed: ResetPlan,
    lock_timeout: str,
    lock_wait_s: float,
    progress: Progress | None = None,
) -> ResetPlan:
    """Drop what `confirmed` lists: under apply's advisory lock, in one transaction.

    Refuses (exit 3), dropping nothing, when the database changed since `confirmed` was
    shown, or an unmanaged object depends on a managed one. A reset that ran its DROPs, or
    failed running them, is recorded in schemadiff.apply_history as apply records its own;
    a refusal changes nothing and is not recorded.
    """
    from schemadiff import apply as ap  # loads migra: only when something is dropped
    from schemadiff.differ import Change
    from schemadiff.plan import Plan, live_fingerprint, spec_hash

    progress = progress or Progress()
    conn = db.connect(url, application_name=APPLICATION_NAME)
    try:
        ap._lock(conn, url, lock_wait_s, progress)
        started = time.monotonic()
        history = Plan(
            db.redact_url(url), db.server_major(conn), spec_hash(spec),
            live_fingerprint(url, spec), [],
        )

        def record(done: list[Drop], outcome: str, error: str | None) -> None:
            changes = [Change("drop", d.kind, ", ".join(d.names), d.sql) for d in done]
            ap._record(url, history, changes, outcome, error, started, progress)

        plan = confirmed
        try:
            with conn.transaction():
                conn.execute(f"SET LOCAL lock_timeout = '{lock_timeout}'".encode())
                plan = _inspect(conn, spec)
                refuse_if_blocked(plan)
                if [d.sql for d in plan.drops] != [d.sql for d in confirmed.drops]:
                    raise RefusedError(
                        "the database changed since reset listed what it would drop "
                        "(another apply?); nothing was dropped. Run reset again to see the "
                        "new list"
                    )
                with progress.counter("dropping, statement", len(plan.drops)) as n:
                    for d in plan.drops:
                        n.step(f"drop {d.kind} {', '.join(d.names)}")
                        progress.block(d.sql)
                        _execute(conn, d, url)
        except DatabaseError as e:
            record([], "failed", str(e))
            raise DatabaseError(
                f"{e}\nthe transaction was rolled back; nothing was dropped"
            ) from None
        except psycopg.Error as e:  # the connection broke (e.g. the backend was killed)
            message = f"the connection to the database was lost: {db.scrub(str(e).strip(), url)}"
            record([], "failed", message)
            raise DatabaseError(f"{message}\nnothing was dropped") from None
        record(plan.drops, "applied", None)
        return plan
    finally:
        conn.close()


def _execute(conn: psycopg.Connection[Any], d: Drop, url: str) -> None:
    try:
        conn.execute(d.sql.encode())
    except psycopg.errors.DependentObjectsStillExist as e:
        detail = (e.diag.message_detail or "").strip()
        raise RefusedError(
            f"reset refused: Postgres would not drop {d.kind} {', '.join(d.names)} without "
            f"CASCADE:\n  {detail}\nnothing was dropped"
        ) from None
    except psycopg.Error as e:
        raise DatabaseError(
            f"drop {d.kind} {', '.join(d.names)} failed: {db.scrub(str(e).strip(), url)}"
        ) from None


# -- reading what is there -----------------------------------------------------------------


def _inspect(conn: psycopg.Connection[Any], spec: s.Spec) -> ResetPlan:
    schema = spec.schema
    plan = ResetPlan(schema)
    # Unqualified type names in function arguments resolve as they did when created.
    conn.execute(f"SET LOCAL search_path TO {quote(schema)}, public".encode())
    tables = _tables(conn, spec)
    triggers = _triggers(conn, spec, tables)
    functions = _functions(conn, spec)
    enums = _enums(conn, spec)
    roots: list[tuple[str, int]] = []

    for oid, table, name in triggers:
        roots.append(("pg_trigger", oid))
        plan.drops.append(
            Drop("trigger", (f"{name} on {table}",),
                 f"DROP TRIGGER {quote(name)} ON {qualified(schema, table)}")
        )
        plan.summary.append(f"trigger {name} on {table}")
    _add_views(conn, spec, plan, roots)
    if tables:
        roots += [("pg_class", oid) for oid in tables.values()]
        names = tuple(tables)
        plan.drops.append(
            Drop("table", names,
                 "DROP TABLE " + ", ".join(qualified(schema, t) for t in names))
        )
        rows = _row_counts(conn, tables)
        for t in names:
            count = rows.get(t)
            plan.summary.append(f"table {t} ({_rows(count)}), with its indexes and constraints")
        for seq, owner in _owned_sequences(conn, list(tables.values())):
            plan.summary.append(f"sequence {seq} (owned by {owner}; goes with its table)")
        cfg = spec.config
        if cfg is not None and cfg.table in tables:
            live = db.config_rows(conn, schema, cfg.table, cfg.key_column, cfg.value_column)
            n = len(live or {})
            plan.summary.append(
                f"{n} config row{'s' if n != 1 else ''} of {cfg.table} (go with the table)"
            )
    _add_sequences(conn, spec, plan, roots, list(tables.values()))
    function_oids = [oid for oid, _ in functions]
    # A domain whose check or default calls a function goes before it; one an argument uses,
    # after it.
    _add_types(conn, spec, plan, roots, function_oids, used_by_functions=False)
    if functions:
        roots += [("pg_proc", oid) for oid, _ in functions]
        signatures = tuple(sig for _, sig in functions)
        word = "ROUTINE" if spec.procedures else "FUNCTION"  # DROP FUNCTION refuses procedures
        plan.drops.append(Drop("function", signatures, f"DROP {word} " + ", ".join(signatures)))
        plan.summary += [f"function {sig}" for sig in signatures]
    _add_types(conn, spec, plan, roots, function_oids, used_by_functions=True)  # before enums
    if enums:
        roots += [("pg_type", oid) for oid in enums.values()]
        plan.drops.append(
            Drop("enum", tuple(enums),
                 "DROP TYPE " + ", ".join(qualified(schema, e) for e in enums))
        )
        plan.summary += [f"enum {e}" for e in enums]
    plan.dependents = _dependents(conn, roots)
    return plan


# -- the kinds a spec manages only when it declares them --------------------------------------
# Views and materialized views go before the tables they read, standalone sequences after the
# tables whose defaults use them, domains and composite types after the routines whose
# arguments use them and before the enums they may be over. Policies, partitions and
# privileges go with their tables and objects; extensions and the privileges on the schema
# stay, like the schema itself.


def _relations(
    conn: psycopg.Connection[Any], schema: str, names: list[str], relkind: str
) -> dict[str, int]:
    rows = conn.execute(
        """select c.relname, c.oid::int8 from pg_class c
             join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = %s and c.relname = any(%s) and c.relkind = %s""",
        (schema, names, relkind),
    ).fetchall()
    return {str(name): int(oid) for name, oid in rows}


# (reader, read) pairs among the given views: the reader's rewrite rule depends on the other.
_VIEW_READS_SQL = """
select distinct r.ev_class::int8, d.refobjid::int8
  from pg_rewrite r join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
 where r.ev_class = any(%(oids)s::oid[]) and d.refclassid = 'pg_class'::regclass
   and d.refobjid = any(%(oids)s::oid[]) and d.refobjid <> r.ev_class
"""


def _add_views(
    conn: psycopg.Connection[Any], spec: s.Spec, plan: ResetPlan, roots: list[tuple[str, int]]
) -> None:
    """The spec's views and materialized views, each dropped after those that read it."""
    schema = spec.schema
    found: dict[int, tuple[str, str]] = {}  # oid -> (kind, name)
    for kind, relkind, declared in (
        ("view", "v", [v.name for v in spec.views]),
        ("materialized view", "m", [m.name for m in spec.materialized_views]),
    ):
        for name, oid in _relations(conn, schema, declared, relkind).items():
            found[oid] = (kind, name)
    if not found:
        return
    reads: dict[int, set[int]] = {oid: set() for oid in found}
    for reader, read in conn.execute(_VIEW_READS_SQL, {"oids": list(found)}).fetchall():
        reads[int(reader)].add(int(read))
    # Readers first: a view is dropped once nothing left reads it (ties by kind and name).
    left = set(found)
    while left:
        ready = [o for o in left if not any(o in reads[r] for r in left if r != o)]
        if not ready:  # views cannot read each other in a cycle; never loop forever
            ready = list(left)
        for oid in sorted(ready, key=lambda o: found[o]):
            kind, name = found[oid]
            roots.append(("pg_class", oid))
            plan.drops.append(
                Drop(kind, (name,), f"DROP {kind.upper()} {qualified(schema, name)}")
            )
            plan.summary.append(f"{kind} {name}")
        left -= set(ready)


def _add_sequences(
    conn: psycopg.Connection[Any],
    spec: s.Spec,
    plan: ResetPlan,
    roots: list[tuple[str, int]],
    table_oids: list[int],
) -> None:
    """The spec's standalone sequences, but those owned by a table reset drops (they go with
    it, and a DROP of them after the table's would fail)."""
    found = _relations(conn, spec.schema, [sq.name for sq in spec.sequences], "S")
    owned = {
        int(r[0])
        for r in conn.execute(
            """select objid::int8 from pg_depend
                where classid = 'pg_class'::regclass and refclassid = 'pg_class'::regclass
                  and deptype = 'a' and objid = any(%s::oid[]) and refobjid = any(%s::oid[])""",
            (list(found.values()), table_oids),
        ).fetchall()
    }
    names = tuple(sq.name for sq in spec.sequences if sq.name in found
                  and found[sq.name] not in owned)
    if not names:
        return
    roots += [("pg_class", found[n]) for n in names]
    plan.drops.append(
        Drop("sequence", names,
             "DROP SEQUENCE " + ", ".join(qualified(spec.schema, n) for n in names))
    )
    plan.summary += [f"sequence {n}" for n in names]


# Types (or their array types) that the given routines take or return.
_USED_BY_ROUTINES_SQL = """
select distinct case when r.typelem = any(%(types)s::oid[]) then r.typelem else r.oid end::int8
  from pg_depend d join pg_type r on r.oid = d.refobjid
 where d.classid = 'pg_proc'::regclass and d.objid = any(%(routines)s::oid[])
   and d.refclassid = 'pg_type'::regclass
"""


def _add_types(
    conn: psycopg.Connection[Any],
    spec: s.Spec,
    plan: ResetPlan,
    roots: list[tuple[str, int]],
    function_oids: list[int],
    used_by_functions: bool,
) -> None:
    """The spec's domains and composite types that the spec's routines use (or those they do
    not), in one DROP TYPE (which takes domains too), so a domain over a composite type, or a
    type with a domain attribute, goes in either order."""
    wanted = [("domain", d.name) for d in spec.domains] + [("type", t.name) for t in spec.types]
    if not wanted:
        return
    rows = conn.execute(
        """select t.typname, t.oid::int8, t.typtype from pg_type t
             join pg_namespace n on n.oid = t.typnamespace
            where n.nspname = %s and t.typname = any(%s) and t.typtype in ('d', 'c')
              and (t.typtype = 'd' or (select c.relkind from pg_class c
                                        where c.oid = t.typrelid) = 'c')""",
        (spec.schema, [name for _, name in wanted]),
    ).fetchall()
    found = {(("domain" if typtype == "d" else "type"), str(name)): int(oid)
             for name, oid, typtype in rows}
    used = {
        int(r[0])
        for r in conn.execute(
            _USED_BY_ROUTINES_SQL, {"types": list(found.values()), "routines": function_oids}
        ).fetchall()
    }
    present = [
        (kind, name)
        for kind, name in wanted
        if (kind, name) in found and (found[(kind, name)] in used) == used_by_functions
    ]
    if not present:
        return
    roots += [("pg_type", found[k]) for k in present]
    names = tuple(name for _, name in present)
    plan.drops.append(
        Drop("type", names, "DROP TYPE " + ", ".join(qualified(spec.schema, n) for n in names))
    )
    plan.summary += [
        f"{'domain' if kind == 'domain' else 'composite type'} {name}" for kind, name in present
    ]


# Tables bigger than this (in pages) that were never analyzed are not counted.
_EXACT_COUNT_MAX_PAGES = 1000


def _row_counts(conn: psycopg.Connection[Any], tables: dict[str, int]) -> dict[str, int | None]:
    """Rows each table loses: the planner's estimate, or an exact count of a small table."""
    out: dict[str, int | None] = {}
    for name, oid in tables.items():
        row = conn.execute(
            "select reltuples::int8, relpages, oid::regclass::text from pg_class where oid = %s",
            (oid,),
        ).fetchone()
        assert row is not None
        tuples, pages, regclass = int(row[0]), int(row[1]), str(row[2])
        if tuples > 0:
            out[name] = tuples
        elif pages <= _EXACT_COUNT_MAX_PAGES:
            counted = conn.execute(f"select count(*) from {regclass}".encode()).fetchone()
            out[name] = int(counted[0]) if counted else None
        else:
            out[name] = None
    return out


def _rows(count: int | None) -> str:
    if count is None:
        return "rows unknown"
    return f"{count} row{'s' if count != 1 else ''}"


def _tables(conn: psycopg.Connection[Any], spec: s.Spec) -> dict[str, int]:
    """Spec table name -> oid, for the spec's tables that exist (in spec order)."""
    found = dict(
        conn.execute(
            """select c.relname, c.oid::int8 from pg_class c
                 join pg_namespace n on n.oid = c.relnamespace
                where n.nspname = %s and c.relname = any(%s) and c.relkind in ('r', 'p')""",
            (spec.schema, [t.name for t in spec.tables]),
        ).fetchall()
    )
    return {t.name: int(found[t.name]) for t in spec.tables if t.name in found}


def _triggers(
    conn: psycopg.Connection[Any], spec: s.Spec, tables: dict[str, int]
) -> list[tuple[int, str, str]]:
    """(oid, table, trigger) of the spec's triggers that exist, in spec order."""
    out = []
    for t in spec.tables:
        if t.name not in tables:
            continue
        for tg in t.triggers:
            row = conn.execute(
                """select oid::int8 from pg_trigger
                    where tgrelid = %s::oid and tgname = %s and not tgisinternal""",
                (tables[t.name], tg.name),
            ).fetchone()
            if row:
                out.append((int(row[0]), t.name, tg.name))
    return out


def _owned_sequences(conn: psycopg.Connection[Any], table_oids: list[int]) -> list[tuple[str, str]]:
    rows = conn.execute(
        """select format('%%I.%%I', sn.nspname, sq.relname),
                  format('%%I.%%I', t.relname, a.attname)
             from pg_depend d
             join pg_class sq on sq.oid = d.objid and sq.relkind = 'S'
             join pg_namespace sn on sn.oid = sq.relnamespace
             join pg_class t on t.oid = d.refobjid
             join pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid
            where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass
              and d.deptype in ('a', 'i') and d.refobjid = any(%s::oid[])
            order by 2""",
        (table_oids,),
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def _enums(conn: psycopg.Connection[Any], spec: s.Spec) -> dict[str, int]:
    found = dict(
        conn.execute(
            """select t.typname, t.oid::int8 from pg_type t
                 join pg_namespace n on n.oid = t.typnamespace
                where n.nspname = %s and t.typname = any(%s) and t.typtype = 'e'""",
            (spec.schema, [e.name for e in spec.enums]),
        ).fetchall()
    )
    return {e.name: int(found[e.name]) for e in spec.enums if e.name in found}


def _functions(conn: psycopg.Connection[Any], spec: s.Spec) -> list[tuple[int, str]]:
    """(oid, signature to drop) of the spec's functions that exist, in spec order.

    A function is the spec's when its schema, name and input argument types match
    (an overload with other arguments is another, unmanaged, function).
    """
    out = []
    for f in [*spec.functions, *spec.procedures]:
        types = _arg_types(conn, f.args)
        if types is None:
            continue  # an argument type that does not exist: neither can the function
        row = conn.execute(
            """select p.oid::int8,
                      format('%%I.%%I(%%s)', n.nspname, p.proname,
                             pg_get_function_identity_arguments(p.oid))
                 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                where n.nspname = %s and p.proname = %s and p.prokind = %s
                  and p.proargtypes = %s::oidvector
                  and not exists (select 1 from pg_depend e
                                   where e.classid = 'pg_proc'::regclass and e.objid = p.oid
                                     and e.deptype = 'e')""",
            (spec.schema, f.name, f.kind[0], " ".join(str(o) for o in types)),
        ).fetchone()
        if row:
            out.append((int(row[0]), str(row[1])))
    return out


_DEFAULT = re.compile(r"\s+default\s.*$|\s*=.*$", re.IGNORECASE | re.DOTALL)
_MODE = re.compile(r"^(in|out|inout|variadic)\s+", re.IGNORECASE)


def _arg_types(conn: psycopg.Connection[Any], args: list[str]) -> list[int] | None:
    """Type oids of the input arguments ("[mode] [name] type [DEFAULT ...]"), as Postgres
    keys a function; None when a type does not resolve."""
    oids = []
    for arg in args:
        text = _DEFAULT.sub("", arg.strip()).strip()
        mode = _MODE.match(text)
        if mode:
            if mode.group(1).lower() == "out":
                continue  # not part of the function's identity
            text = text[mode.end():]
        parts = text.split(None, 1)
        # "double precision" is a type; "a integer" is a name and a type: try both readings.
        candidates = [text] + ([parts[1]] if len(parts) == 2 else [])
        oid = None
        for candidate in candidates:
            try:
                with conn.transaction():
                    row = conn.execute("select to_regtype(%s)::oid::int8", (candidate,)).fetchone()
            except psycopg.Error:
                continue
            if row and row[0] is not None:
                oid = int(row[0])
                break
        if oid is None:
            return None
        oids.append(oid)
    return oids


# Everything a DROP of the roots removes along (auto and internal dependents: a table's
# indexes, constraints, defaults, triggers, owned sequences, row type, a view's rule), then
# what depends on that set normally without being in it: those would need CASCADE.
_DEPENDENTS_SQL = """
with recursive dropped(classid, objid) as (
    select r.c::regclass::oid, r.o
      from unnest(%(classids)s::text[], %(objids)s::oid[]) as r(c, o)
  union
    select d.classid, d.objid
      from pg_depend d join dropped x on d.refclassid = x.classid and d.refobjid = x.objid
     where d.deptype in ('a', 'i')
), blocking as (
    select distinct d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid
      from pg_depend d join dropped x on d.refclassid = x.classid and d.refobjid = x.objid
     where d.deptype = 'n'
       and not exists (select 1 from dropped y where y.classid = d.classid
                                                 and y.objid = d.objid)
)
select coalesce(
         (select o.type || ' ' || o.identity
            from pg_rewrite r, pg_identify_object('pg_class'::regclass, r.ev_class, 0) o
           where b.classid = 'pg_rewrite'::regclass and r.oid = b.objid),
         (select o.type || ' ' || o.identity
            from pg_identify_object(b.classid, b.objid, b.objsubid) o)) as dependent,
       (select o.type || ' ' || o.identity
          from pg_identify_object(b.refclassid, b.refobjid, 0) o) as referenced
  from blocking b
 order by 1, 2
"""


def _dependents(conn: psycopg.Connection[Any], roots: list[tuple[str, int]]) -> list[str]:
    """'<unmanaged object> depends on <managed object>', one line per dependent."""
    if not roots:
        return []
    rows = conn.execute(
        _DEPENDENTS_SQL,
        {"classids": [c for c, _ in roots], "objids": [o for _, o in roots]},
    ).fetchall()
    by_dependent: dict[str, list[str]] = {}
    for dependent, referenced in rows:
        refs = by_dependent.setdefault(str(dependent), [])
        if str(referenced) not in refs:
            refs.append(str(referenced))
    return [f"{dep} depends on {', '.join(refs)}" for dep, refs in by_dependent.items()]
