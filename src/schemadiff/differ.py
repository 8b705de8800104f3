"""Live database vs shadow database -> ordered, typed changes. The only module importing migra.

migra (through schemainspect) reads both catalogs and supplies the per-object SQL. The order
of phases follows migra's `add_all_changes`, with our own code where migra is wrong or silent:
- tables and columns are compared here, so each statement carries its hazards (rows at stake);
- new or changed functions are created before the tables, defaults, checks and triggers that
  may call them (migra creates them after);
- indexes added to tables that already exist are built CONCURRENTLY, outside the transaction;
- comments, which migra does not diff at all;
- objects the spec cannot express are taken out of the comparison and reported by name.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

from schemadiff import db, sqlread
from schemadiff import renames as rn
from schemadiff import types as pgtypes
from schemadiff._migra import Changes as MigraChanges
from schemadiff._migra import (
    InspectedFunction,
    differences,
    get_enum_modifications,
    get_inspector,
    get_selectable_differences,
    statements_from_differences,
)
from schemadiff.db import (
    Catalog,
    CompositeInfo,
    DomainInfo,
    MatviewInfo,
    RelationExtras,
    TableRows,
    inherited_objects,
    relation_extras,
    sequence_options,
    view_dependencies,
    view_options,
)
from schemadiff.hazards import Hazard, HazardKind
from schemadiff.spec import BOOLEAN_STORAGE_PARAMETERS, INDEX_METHODS
from schemadiff.sqltext import quote

# Column type changes Postgres makes without losing data (old base type -> safe new types).
_WIDENING = {
    "smallint": {"integer", "bigint", "numeric", "double precision", "real"},
    "integer": {"bigint", "numeric", "double precision"},
    "bigint": {"numeric"},
    "real": {"double precision"},
    "character varying": {"text"},
    "character": {"text", "character varying"},
    "timestamp without time zone": {"timestamp with time zone"},
}


# Per-statement timeouts (apply sets them before each statement; None: apply's options).
# Online steps (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT) block no reads or writes
# while they wait or run, so they may take long; catalog-only changes must get their lock
# quickly or give up (apply retries a lock timeout a few times).
LONG_TIMEOUT = "6h"
CATALOG_LOCK_TIMEOUT = "3s"


@dataclass(frozen=True)
class Change:
    """One statement of a plan: what it does to which object, and its hazards."""

    action: str  # create | alter | drop | rename
    kind: str  # table | column | index | constraint | function | trigger | comment | ...
    name: str
    sql: str
    transactional: bool = True
    hazards: tuple[Hazard, ...] = ()
    lock_timeout: str | None = None
    statement_timeout: str | None = None


@dataclass
class Diff:
    changes: list[Change]
    unmanaged: list[str] = field(default_factory=list)


@dataclass
class Snapshot:
    """What the differ needs to know about one database."""

    inspector: Any
    comments: dict[str, str | None]  # COMMENT ON target -> comment (None: object, no comment)
    rows: TableRows  # quoted table name -> rows at stake (get() gives None: unknown)
    unmanaged: list[str]
    # Kinds compared only when the spec declares them ("views", "sequences"), and then the
    # options of each sequence: quoted name -> "AS ... START WITH ... CYCLE".
    manages: frozenset[str] = frozenset()
    sequence_options: dict[str, str] = field(default_factory=dict)
    held: list[Held] = field(default_factory=list)  # taken out of the comparison
    # Extensions whose version / schema the spec gives: name -> (version?, schema?); the
    # others keep whatever version and schema the live database has.
    extension_pins: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    # Quoted view name -> its options (check_option, security_barrier, ...): migra ignores them.
    view_options: dict[str, dict[str, str]] = field(default_factory=dict)
    # Kinds compared by our own code, read when the spec manages them (quoted name -> info).
    domains: dict[str, DomainInfo] = field(default_factory=dict)
    composites: dict[str, CompositeInfo] = field(default_factory=dict)
    matviews: dict[str, MatviewInfo] = field(default_factory=dict)
    # Identity options, generated column kinds, storage parameters (schemainspect has none).
    extras: RelationExtras = field(default_factory=RelationExtras)


class _InspectorCursor:
    """What schemainspect needs of a connection, served by psycopg 3 directly.

    schemainspect accepts a raw DB-API cursor (it then reads `connection.server_version` and
    calls `execute`). Feeding it psycopg rows directly spares every command SQLAlchemy's
    import (~0.3 s) and a second connection; the inspected result is the same.
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self.connection = conn.info  # has .server_version, as psycopg 2's connection had

    def execute(self, query: str) -> list[InspectedRow]:
        with self._conn.cursor() as cur:
            cur.execute(query.encode())
            # One name -> position map per query, shared by its rows (schemainspect reads
            # attributes hundreds of thousands of times on a large schema).
            index = {c.name: i for i, c in enumerate(cur.description or ())}
            return [InspectedRow(index, row) for row in cur.fetchall()]


class InspectedRow:
    """A catalog row as schemainspect reads it (by attribute or position); unlike psycopg's
    namedtuple rows it pickles, because snapshots keep some rows and are cached on disk."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: tuple[Any, ...]) -> None:
        self._index = index
        self._values = values

    def __getattr__(self, name: str) -> Any:
        if name[0] == "_":  # slots not set yet (unpickling) and dunder lookups
            raise AttributeError(name)
        try:
            return self._values[self._index[name]]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, index: int) -> Any:
        return self._values[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, InspectedRow)
            and self._values == other._values
            and (self._index is other._index or self._index == other._index)
        )

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        pairs = zip(self._index, self._values, strict=True)
        return "Row(" + ", ".join(f"{n}={v!r}" for n, v in pairs) + ")"


def snapshot(
    conn: psycopg.Connection[Any],
    schema: str,
    comments: dict[str, str | None],
    rows: TableRows,
    other_schemas: Iterable[str] = (),
    manages: Collection[str] = (),
) -> Snapshot:
    """Inspect one database (one schema of it); remove and name what the spec cannot express.

    `manages`: the kinds compared only when the spec declares them (Spec.manages): "views",
    "sequences" (standalone ones; those of serial columns are always compared), "procedures".
    """
    # No catch_warnings here: it swaps process-wide state, and the plan reads its two
    # databases on two threads (schemainspect's import-time warning is silenced in _migra).
    inspector = get_inspector(_InspectorCursor(conn), schema=schema)
    unmanaged = [f"schema {s} (only schema '{schema}' is managed)" for s in other_schemas]
    # schemainspect misses some of what a view reads (partitioned tables, aggregates).
    reads = {}
    if "views" in manages or "materialized_views" in manages:
        reads = view_dependencies(conn, schema)
    for f in inspector.functions.values():
        _compare_options(f)
    held = _remove_unmanaged(inspector, schema, manages, reads, inherited_objects(conn, schema))
    unmanaged += sorted(h.report for h in held if h.report)
    for f in inspector.functions.values():
        # Line breaks around a body mean nothing (schemadiff writes `AS $fn$\n...\n$fn$`).
        f.definition = (f.definition or "").strip("\n")
    # Read whatever the spec manages: the options of serial columns' sequences are compared
    # too (migra creates a serial's sequence without AS integer, and ignores options).
    options = sequence_options(conn, schema)
    views = {}
    if "views" in manages:
        views = view_options(conn, schema)
    raw = conn
    for p in inspector.rlspolicies.values():
        p.roles = sorted(p.roles or [])  # the catalog's order of roles means nothing
    extras = relation_extras(conn, schema)
    _index_identity(inspector)
    # Detach from the connection: a snapshot is plain data (and can be cached on disk).
    inspector.c = inspector.engine = inspector.dialect = None
    return Snapshot(
        inspector,
        comments,
        rows,
        unmanaged,
        frozenset(manages),
        options,
        held,
        view_options=views,
        domains=db.domains(raw, schema) if "domains" in manages else {},
        composites=db.composite_types(raw, schema) if "types" in manages else {},
        matviews=db.materialized_views(raw, schema) if "materialized_views" in manages else {},
        extras=extras,
    )


class _Routine(InspectedFunction):  # type: ignore[misc]
    """A function or procedure compared with its options too (schemainspect compares only
    volatility, strictness and security): LEAKPROOF, PARALLEL, COST, ROWS, SET and the
    argument defaults, all of which its definition's header shows."""

    options: str = ""

    def __eq__(self, other: object) -> bool:
        return bool(super().__eq__(other)) and self.options == getattr(other, "options", None)

    __hash__ = None  # type: ignore[assignment]


def _compare_options(f: Any) -> None:
    lines = str(f.full_definition or "").split("\n")
    body_at = next((n for n, line in enumerate(lines) if line.startswith("AS ")), len(lines))
    f.__class__ = _Routine
    # The first line without the routine's name (a declared rename changes only the name):
    # its arguments, with their defaults.
    arguments = lines[0].partition("(")[2]
    f.options = "\n".join([arguments, *lines[1:body_at]])


def _index_identity(i: Any) -> None:
    """Indexes as the differ compares them.

    The index of an EXCLUDE constraint is created and dropped with its constraint, so it
    leaves the index map. schemainspect's index equality ignores NULLS NOT DISTINCT: it is
    made part of `key_options`, which it compares (storage parameters are compared apart and
    changed in place, see _index_storage).
    """
    for key, ix in list(i.indexes.items()):
        if ix.constraint is not None and ix.constraint.constraint_type == "EXCLUDE":
            del i.indexes[key]
        elif " NULLS NOT DISTINCT" in str(ix.definition):
            ix.key_options = (ix.key_options, "nulls not distinct")


@dataclass
class Held:
    """An object taken out of the comparison: where it was, and why."""

    attr: str  # the inspector's map of its kind: "tables", "constraints", ...
    key: str
    obj: Any
    places: tuple[str, ...]  # the other inspector maps it was in (selectables, relations)
    parent: str | None  # the object it went with (its table, the table it references)
    report: str | None  # its "not managed" line; None when its parent's line covers it


def _remove_unmanaged(
    i: Any,
    schema: str,
    manages: Collection[str] = (),
    view_reads: Mapping[str, Collection[str]] | None = None,
    inherited: Mapping[str, Collection[str]] | None = None,
) -> list[Held]:
    """Objects the spec cannot express: taken out of the comparison, each with why.

    First whole kinds (views and standalone sequences unless the spec declares them), then
    single objects of managed kinds that the spec cannot write (a table with a domain-typed
    column, a STRICT function, an exclusion constraint, a trigger with arguments, ...), then
    whatever depends on an object taken out. `schemadiff import` writes exactly what is left;
    `diff` puts back what the spec declares all the same (see `_restore_declared`).
    """
    held: list[Held] = []

    def drop(
        attr: str,
        key: str,
        label: str | None,
        reason: str | None = None,
        parent: str | None = None,
    ) -> None:
        obj = getattr(i, attr).pop(key)
        places = tuple(p for p in ("selectables", "relations") if getattr(i, p).pop(key, None))
        report = f"{label} {key}" + (f" ({reason})" if reason else "") if label else None
        held.append(Held(attr, key, obj, places, parent, report))

    def take(attr: str, label: str, keep: Any = lambda v: False) -> None:
        things = getattr(i, attr)
        for key in list(things):
            if not keep(things[key]):
                drop(attr, key, label)

    # What partitions inherit from their partitioned table follows it: only the parent's count.
    for attr, keys in (inherited or {}).items():
        for key in sorted(keys):
            if key in getattr(i, attr):
                drop(attr, key, None)

    # Types the spec cannot declare, as columns and arguments spell them (with or without schema).
    type_kinds = (("domain", "domains"), ("composite type", "composite_types"))
    foreign_types = {
        name: kind
        for kind, attr in type_kinds
        if _KIND_OF[attr] not in manages
        for key, obj in getattr(i, attr).items()
        for name in (key, obj.name, f"{obj.schema}.{obj.name}")
    }
    # Managed domains and composite types are compared by our own code, from our own reads.
    own_types = {
        name
        for _, attr in type_kinds
        if _KIND_OF[attr] in manages
        for key, obj in getattr(i, attr).items()
        for name in (key, obj.name, f"{obj.schema}.{obj.name}")
    }
    if "types" in manages:
        for key in list(i.composite_types):
            i.composite_types.pop(key)
            i.selectables.pop(key, None)
            i.relations.pop(key, None)
    if "domains" in manages:
        i.domains.clear()
    if "views" not in manages:
        take("views", "view")
    if "materialized_views" not in manages:
        take("materialized_views", "materialized view")
    take("composite_types", "composite type")
    take("domains", "domain")
    take("collations", "collation")
    take(
        "sequences",
        "sequence",
        keep=lambda s: bool(s.quoted_table_and_column_name) or "sequences" in manages,
    )
    take(
        "functions",
        "routine",
        keep=lambda f: getattr(f, "kind", "f") == "f"
        or (f.kind == "p" and "procedures" in manages),
    )
    for key, t in list(i.tables.items()):
        if t.parent_table and not t.partition_def:
            drop("tables", key, "table", f"inherits from {t.parent_table}")
    for parent, (members, parted_why) in _partition_problems(i).items():
        for key in [parent, *members]:
            if key in i.tables:
                drop("tables", key, "partitioned table", parted_why if key == parent else None)
    # A partition's own indexes, keys and triggers (not its parent's clones, taken out above):
    # the spec declares them on the partitioned table only; they are left alone, each named.
    partitions = {k for k, t in i.tables.items() if t.parent_table and t.partition_def}
    for attr, label, on in (
        ("constraints", "constraint", "quoted_full_table_name"),
        ("indexes", "index", "quoted_full_table_name"),
        ("triggers", "trigger", "quoted_full_selectable_name"),
    ):
        for key, obj in list(getattr(i, attr).items()):
            if getattr(obj, on) in partitions and not (
                attr == "indexes" and obj.constraint is not None
            ):  # a key's index goes with its key
                drop(attr, key, label, "on a partition; declare it on the partitioned table")
    enums = {e.name for e in i.enums.values()} | own_types
    extensions = [e.name for e in i.extensions.values()]
    for key, t in list(i.tables.items()):
        if reason := _table_problem(t, schema, enums, extensions, foreign_types):
            drop("tables", key, "table", reason)
            foreign_types[t.name] = foreign_types[key] = "table"
    changed = True
    while changed:  # a partition goes with a parent that is not managed
        changed = False
        for key, t in list(i.tables.items()):
            if t.parent_table and t.partition_def and t.parent_table not in i.tables:
                drop("tables", key, "partition", f"of {t.parent_table}, which is not managed")
                changed = True
    for key, f in list(i.functions.items()):
        if reason := _function_problem(f, i, foreign_types):
            drop("functions", key, "procedure" if f.kind == "p" else "function", reason)

    def managed(key: str) -> bool:
        kinds = ("tables", "views", "functions", "enums", "sequences", "materialized_views")
        return key in own_types or any(key in getattr(i, kind) for kind in kinds)

    changed = True
    while changed:  # views on views: until no view reads something taken out
        changed = False
        for attr, label in (("views", "view"), ("materialized_views", "materialized view")):
            for key, v in list(getattr(i, attr).items()):
                reads = (view_reads or {}).get(key, v.dependent_on)
                missing = sorted(d for d in reads if not managed(d))
                if missing:
                    why = f"reads {missing[0]}, which is not managed"
                    drop(attr, key, label, why, parent=missing[0])
                    changed = True
    for key, v in list(i.views.items()):
        for c in v.columns.values():
            if c.dbtypestr.replace("[]", "") in foreign_types:
                drop("views", key, "view", f"column {c.name} has type {c.dbtypestr}")
                break
    # Foreign keys last: one whose referenced key was taken out goes too.
    constraints = sorted(i.constraints.items(), key=lambda kv: kv[1].is_fk)
    for key, c in constraints:
        table = c.quoted_full_table_name
        if table not in i.tables:
            drop("constraints", key, None, parent=table)  # its table is listed
        elif reason := _constraint_problem(c, i):
            target = c.quoted_full_foreign_table_name if c.is_fk else None
            drop("constraints", key, "constraint", reason, parent=target)
    for key, ix in list(i.indexes.items()):
        if ix.quoted_full_table_name not in i.tables:
            drop("indexes", key, None, parent=ix.quoted_full_table_name)
        elif ix.constraint is not None:
            if ix.constraint.quoted_full_name not in i.constraints:
                drop("indexes", key, None, parent=ix.constraint.quoted_full_name)
        elif reason := _index_problem(ix):
            drop("indexes", key, "index", reason)
    for key, tg in list(i.triggers.items()):
        on = tg.quoted_full_selectable_name
        if on in i.views:  # a managed view: its INSTEAD OF ... FOR EACH ROW triggers are too
            if reason := _trigger_problem(tg, i.functions) or _view_trigger_problem(tg):
                drop("triggers", key, "trigger", reason)
        elif on not in i.tables:
            drop("triggers", key, None, parent=on)
        elif reason := _trigger_problem(tg, i.functions):
            drop("triggers", key, "trigger", reason)
    for key, p in list(i.rlspolicies.items()):
        if p.quoted_full_table_name not in i.tables:
            drop("rlspolicies", key, None, parent=p.quoted_full_table_name)
    for key, sq in list(i.sequences.items()):
        owner = _quoted(sq.schema, sq.table_name) if sq.table_name else None
        if owner and owner not in i.tables:
            why = f"owned by {sq.table_name}, which is not managed"
            drop("sequences", key, "sequence", why, parent=owner)
    # Last: the tables above may use an extension's types whatever the spec manages.
    if "extensions" not in manages:
        take("extensions", "extension")
    return held


# Inspector map -> the spec key that puts its kind under management.
_KIND_OF = {"domains": "domains", "composite_types": "types"}


def _partition_children(i: Any) -> dict[str, list[str]]:
    """Partitioned table -> its partitions (quoted keys), as the inspector has them."""
    out: dict[str, list[str]] = {}
    for key, t in i.tables.items():
        if t.parent_table and t.partition_def:
            out.setdefault(t.parent_table, []).append(key)
    return out


def _partition_problems(i: Any) -> dict[str, tuple[list[str], str]]:
    """Partitioned tables the spec cannot write, with all their partitions, and why: a
    partition partitioned again."""
    children = _partition_children(i)
    out: dict[str, tuple[list[str], str]] = {}
    for parent, kids in children.items():
        if parent in i.tables and i.tables[parent].parent_table:
            continue  # a partition itself: reported with its root
        family: list[str] = []
        todo = list(kids)
        reason = None
        while todo:
            kid = todo.pop(0)
            family.append(kid)
            if kid in children:
                reason = reason or f"partition {kid} is partitioned itself"
                todo += children[kid]
        if reason:
            out[parent] = (sorted(family), reason)
    return out


def _restore_declared(live: Snapshot, target: Snapshot) -> set[str]:
    """Put back into the live side what the spec declares although the live object has
    features the spec cannot write (a NOT VALID check, an unlogged table): the plan changes it
    to the spec's form instead of creating it again. Returns the "not managed" lines that no
    longer hold."""
    i, t = live.inspector, target.inspector
    back: set[str] = set()
    lines: set[str] = set()
    for h in live.held:  # in the order taken out: an object before what went with it
        if h.key in getattr(t, h.attr) or (h.parent is not None and h.parent in back):
            getattr(i, h.attr)[h.key] = h.obj
            for place in h.places:
                getattr(i, place)[h.key] = h.obj
            back.add(h.key)
            if h.report:
                lines.add(h.report)
    live.held = [h for h in live.held if h.key not in back]
    return lines


def _quoted(*names: str) -> str:
    return ".".join('"' + n.replace('"', '""') + '"' for n in names)


def _table_problem(
    t: Any, schema: str, enums: set[str], extensions: list[str], foreign_types: dict[str, str]
) -> str | None:
    """Why the spec cannot write this table (None: it can)."""
    for c in t.columns.values():
        if c.is_enum:
            if c.enum is not None and c.enum.schema != schema:
                return f"column {c.name} has type {c.dbtypestr} of schema {c.enum.schema}"
            continue
        base = c.dbtypestr.replace("[]", "")
        if base in foreign_types:
            return f"column {c.name} has type {c.dbtypestr}, a {foreign_types[base]}"
        if pgtypes.check_type(c.dbtypestr, enums, extensions):
            return f"column {c.name} has type {c.dbtypestr}, which the spec cannot declare"
    return None


# The options of a function's header (as pg_get_functiondef prints them) the spec can write:
# a word, or a word and the value after it.
_FUNCTION_OPTIONS = frozenset({"IMMUTABLE", "STABLE", "STRICT", "LEAKPROOF"})
_FUNCTION_OPTION_PAIRS = {
    "SECURITY": {"DEFINER"},
    "PARALLEL": {"SAFE", "RESTRICTED"},
    "COST": None,
    "ROWS": None,
}


def _function_problem(f: Any, i: Any, foreign_types: dict[str, str]) -> str | None:
    """Why the spec cannot write this function: its language, options, or types."""
    if f.language not in ("SQL", "PLPGSQL"):
        return f"language {str(f.language).lower()}"
    lines = str(f.full_definition).split("\n")
    body_at = next((n for n, line in enumerate(lines) if line.startswith("AS ")), None)
    if body_at is None:
        return "SQL-standard body (BEGIN ATOMIC or RETURN)"
    for line in lines[1:body_at]:
        words = line.split()
        if not words or words[0] in ("RETURNS", "LANGUAGE", "SET"):
            continue
        while words:
            word = words.pop(0)
            if word in _FUNCTION_OPTIONS:
                continue
            if word in _FUNCTION_OPTION_PAIRS and words:
                allowed = _FUNCTION_OPTION_PAIRS[word]
                value = words.pop(0)
                if allowed is None or value in allowed:
                    continue
                return f"{word} {value}"
            return " ".join([word, *words])
    returns = _result_type(f)
    if returns in foreign_types:
        return f"returns {returns}, a {foreign_types[returns]}"
    for arg in f.inputs:
        base = str(arg.dbtypestr).replace("[]", "")
        if base in foreign_types:
            return f"argument {arg.name} has type {arg.dbtypestr}, a {foreign_types[base]}"
    return None


def _result_type(f: Any) -> str:
    """The type a function returns, without SETOF, [] or quotes: 'SETOF customer' -> 'customer'."""
    text = str(getattr(f, "result_string", "") or "").removeprefix("SETOF ")
    return text.removesuffix("[]").replace('"', "")


def _unique_keys(i: Any) -> dict[str, list[list[str]]]:
    """Table -> the column sets of its primary key and unique constraints (computed once)."""
    cached: dict[str, list[list[str]]] | None = getattr(i, "_schemadiff_unique_keys", None)
    if cached is None:
        cached = {}
        for k in i.constraints.values():
            if k.constraint_type in ("PRIMARY KEY", "UNIQUE") and k.index is not None:
                cached.setdefault(k.quoted_full_table_name, []).append(
                    sorted(k.index.key_columns or [])
                )
        i._schemadiff_unique_keys = cached
    return cached


def _constraint_problem(c: Any, i: Any) -> str | None:
    d = str(c.definition)
    kind = c.constraint_type
    if " NOT ENFORCED" in d:
        return "NOT ENFORCED"  # Postgres 18: the spec writes enforced constraints only
    if d.endswith(" NOT VALID"):
        return "NOT VALID"
    if kind == "CHECK":
        return None
    if kind in ("PRIMARY KEY", "UNIQUE", "EXCLUDE"):
        for part in ("INCLUDE (", "WITH (", "TABLESPACE"):
            if part in d:
                return part.rstrip(" (")
        return None
    target = c.quoted_full_foreign_table_name
    if target not in i.tables:
        return f"references {target}, which is not managed"
    if m := re.search(r"\) MATCH (PARTIAL)\b", d):
        return f"MATCH {m.group(1)}"
    if re.search(r" ON DELETE SET (NULL|DEFAULT) \(", d):
        return "ON DELETE with a column list"
    wanted = sorted(c.fk_columns_foreign or [])
    if wanted not in _unique_keys(i).get(target, []):
        return "references columns that are no primary key or unique constraint"
    return None


def _index_problem(ix: Any) -> str | None:
    if ix.algorithm not in INDEX_METHODS:
        return f"method {ix.algorithm}"
    d = str(ix.definition)
    for part, why in (
        (" TABLESPACE ", "tablespace"),
        (" COLLATE ", "collation"),
    ):
        if part in d:
            return why
    if re.search(r"\w\(\w+\s*=", d.split(" USING ", 1)[-1]):
        return "operator class options"
    return None


def _triggers_on_dropped_views(
    out: list[Change], a_triggers: Mapping[str, Any], b_triggers: Mapping[str, Any], a: Any
) -> set[str]:
    """Unchanged triggers of views the plan drops (and creates again): DROP VIEW takes them
    along, so they are created again after the view."""
    dropped = {c.name for c in out if c.action == "drop" and c.name in a.views}
    return {
        k
        for k, tg in a_triggers.items()
        if k in b_triggers and tg.quoted_full_selectable_name in dropped
    }


def _view_trigger_problem(tg: Any) -> str | None:
    """Why a trigger on a view is not managed: the spec writes INSTEAD OF ... FOR EACH ROW."""
    parts = sqlread.trigger_parts(str(tg.full_definition))
    if parts is not None and (parts.timing != "instead of" or parts.for_each != "row"):
        return f"{parts.timing} ... for each {parts.for_each} on a view"
    return None


def _trigger_problem(tg: Any, functions: Mapping[str, Any]) -> str | None:
    if tg.enabled not in ("O", "D"):
        return "ENABLE REPLICA or ENABLE ALWAYS"
    parts = sqlread.trigger_parts(str(tg.full_definition))
    if parts is None:
        return "its definition does not parse"
    if parts.from_table:
        return "a constraint trigger with FROM (referenced table)"
    if f"{_quoted(tg.proc_schema, tg.proc_name)}()" not in functions:
        return f"calls {tg.proc_schema}.{tg.proc_name}, which is not managed"
    return None


def accept_equivalent_checks(
    live: Snapshot, target: Snapshot, equivalent: Mapping[str, set[str]]
) -> None:
    """Treat a live CHECK written in an equivalent form of the target's as equal to it."""
    for key, forms in equivalent.items():
        have, want = live.inspector.constraints.get(key), target.inspector.constraints.get(key)
        if have is not None and want is not None and have.definition in forms:
            have.definition = want.definition


def fingerprint(snap: Snapshot, extra: Iterable[str] = ()) -> str:
    """A hash of everything the plan depends on in a database's schema."""
    i = snap.inspector
    parts: list[str] = []
    for attr in (
        "schemas",
        "extensions",
        "enums",
        "sequences",
        "tables",
        "functions",
        "indexes",
        "constraints",
        "triggers",
        "rlspolicies",
    ):
        for key, obj in sorted(getattr(i, attr).items()):
            parts.append(f"{attr}|{key}|{_definition(obj)}")
    parts += [f"comment|{k}|{v}" for k, v in sorted(snap.comments.items())]
    for kind, things in (
        ("domain", snap.domains),
        ("type", snap.composites),
        ("matview", snap.matviews),
    ):
        parts += [f"{kind}|{k}|{v!r}" for k, v in sorted(things.items())]
    x = snap.extras
    parts += [f"identity|{k}|{sorted(v.items())}" for k, v in sorted(x.identity.items())]
    parts += [f"generated|{k}|{v}" for k, v in sorted(x.generated.items())]
    parts += [f"storage|{k}|{sorted(v.items())}" for k, v in sorted(x.storage.items())]
    parts += sorted(extra)
    return "sha256:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _definition(obj: Any) -> str:
    if isinstance(obj, _Routine):
        return f"{obj.options}\n{obj.definition}"
    if hasattr(obj, "columns"):
        cols = ",".join(
            f"{c.name}:{c.dbtypestr}:{c.not_null}:{c.default}:{c.collation}:{c.is_identity}"
            for c in obj.columns.values()
        )
        return f"{obj.relationtype}({cols})"
    for attr in ("definition", "create_statement"):
        value = getattr(obj, attr, None)
        if isinstance(value, str):
            return value
    return repr(sorted(vars(obj).items()))


def diff(live: Snapshot, target: Snapshot, renames: Iterable[rn.Rename] = ()) -> Diff:
    """The changes that turn `live` into `target`, in an order Postgres accepts.

    Declared renames come first: they rename objects of the live snapshot in place, so what
    follows compares the renamed objects with the target's (see renames.py).
    """
    no_longer_unmanaged = _restore_declared(live, target)
    a, b = live.inspector, target.inspector
    out: list[Change] = [
        Change("rename", st.kind, st.name, st.sql, lock_timeout=CATALOG_LOCK_TIMEOUT)
        for st in rn.apply(a, b, live.comments, live.rows, renames)
    ]
    ctx = _Context(live, target)
    ch = MigraChanges(a, b)
    later = _Later()

    def add(
        stmts: Iterable[str],
        action: str,
        kind: str,
        names: Mapping[str, str] | None = None,
        hazards: tuple[Hazard, ...] = (),
    ) -> None:
        for sql in stmts:
            name = (names or {}).get(sql, "")
            out.append(Change(action, kind, name, _sql(sql), True, hazards))

    add(ch.schemas(creations_only=True), "create", "schema")
    out += _extension_changes(live, target)
    add(ch.enums(creations_only=True, modifications=False), "create", "enum")
    out += _enum_additions(a, b)
    types = _TypeChanges(ctx, later)
    out += types.before_tables()
    out += _handover_renames(ctx)
    out += _sequence_changes(live, target)
    # Checks and triggers calling a function that is dropped and created again go with it.
    gone_functions = _replaced_function_names(a, b)
    also_triggers = {k for k, t in a.triggers.items() if t.proc_name in gone_functions}
    toggled = _toggled_triggers(a, b, also_triggers)
    a_triggers = {k: v for k, v in a.triggers.items() if k not in toggled}
    b_triggers = {k: v for k, v in b.triggers.items() if k not in toggled}
    out += _simple("trigger", a_triggers, b_triggers, drops=True, also=also_triggers)
    policy_drops, policies_later = _policy_changes(a, b)
    out += policy_drops
    rebuilt = _fks_on_replaced_unique_indexes(a, b) | _checks_calling(a, b, gone_functions)
    out += _simple("constraint", _non_pk(a), _non_pk(b), drops=True, also=rebuilt)
    ctx.replaced |= also_triggers | rebuilt
    ctx.forgotten = _forget_defaults_calling(a, gone_functions)
    out += _selectables(a, b, drops=True, ctx=ctx)
    out += _simple("constraint", _pk(a), _pk(b), drops=True)
    out += _simple("index", a.indexes, b.indexes, drops=True)
    out += _early_functions(a, b)
    out += types.after_functions()
    out += _tables(ctx, later)
    out += _sequence_drops(ctx, ch.sequences(drops_only=True))
    out += _enum_drops(ctx)
    out += _extension_drops(ctx)
    out += types.drops
    out += _index_creations(ctx, later)
    out += _index_storage(ctx)
    out += [
        _key_on_partitioned(ctx, c) for c in _simple("constraint", _pk(a), _pk(b), creations=True)
    ]
    out += _constraint_creations(ctx, rebuilt, later)
    out += _selectables(a, b, creations=True, skip=_early_function_keys(a, b))
    out += _view_option_changes(live, target, out)
    out = _materialized_view_changes(ctx, out)
    also_triggers |= _triggers_on_dropped_views(out, a_triggers, b_triggers, a)
    out += _simple("trigger", a_triggers, b_triggers, creations=True, also=also_triggers)
    out += [_trigger_toggle(b.triggers[k]) for k in sorted(toggled)]
    out += _force_rls(a, b) + policies_later
    add(
        ch.schemas(drops_only=True),
        "drop",
        "schema",
        hazards=(Hazard(HazardKind.DATA_LOSS, "drops a schema and everything in it"),),
    )
    dropped = {c.name for c in out if c.action == "drop"}
    # An enum migra creates again (the old one renamed away, then dropped) loses its comment.
    statements = {c.sql for c in out}
    types.recreated |= {
        f"TYPE {quote(e.schema)}.{quote(e.name)}"
        for e in a.enums.values()
        if _sql(e.alter_rename_statement(e.name + "__old_version_to_be_dropped")) in statements
    }
    live_comments = _without_comments_of(live.comments, a, dropped)
    live_comments = {k: v for k, v in live_comments.items() if k not in types.recreated}
    comments = _comments(live_comments, target.comments)
    late = _late_comment_targets(later, b)
    out += [c for c in comments if c.name not in late]
    out = _without_redundant_drops(out, a, b)
    # Statements run in order: the transactional ones first in one transaction, then the
    # rest one by one, each online step after the one it needs (build, attach, validate).
    inside = [c for c in out if c.transactional]
    unmanaged = [u for u in live.unmanaged if u not in no_longer_unmanaged]
    unmanaged += types.unsupported
    # Comments on what is built after the transaction come once it exists.
    after = [
        Change(c.action, c.kind, c.name, c.sql, False, lock_timeout=CATALOG_LOCK_TIMEOUT)
        for c in comments
        if c.name in late
    ]
    return Diff(
        inside + [c for c in out if not c.transactional] + later.all() + after, unmanaged
    )


def _late_comment_targets(later: _Later, b: Any) -> set[str]:
    """COMMENT ON targets (as db.comments keys them) of indexes and constraints that are
    created after the transaction."""
    out = set()
    for c in later.builds + later.attach + later.adds:
        if c.action == "alter" and c.kind != "constraint":
            continue
        if c.kind == "index" and c.name in b.indexes:
            ix = b.indexes[c.name]
            out.add(f"INDEX {quote(ix.schema)}.{quote(ix.name)}")
        elif c.kind == "constraint" and c.name in b.constraints:
            con = b.constraints[c.name]
            out.add(
                f"CONSTRAINT {quote(con.name)} ON {quote(con.schema)}.{quote(con.table_name)}"
            )
    return out


def _without_comments_of(
    comments: Mapping[str, str | None], a: Any, dropped: set[str]
) -> dict[str, str | None]:
    """The live comments, less those of relations the plan drops (and maybe creates again,
    e.g. a view around a column type change): their comments go with them."""
    gone = set()
    for key in dropped:
        rel = a.selectables.get(key)
        if rel is not None and rel.relationtype in ("v", "m"):
            kind = "VIEW" if rel.relationtype == "v" else "MATERIALIZED VIEW"
            gone.add(f"{kind} {quote(rel.schema)}.{quote(rel.name)}")
    return {k: v for k, v in comments.items() if k not in gone}


def _toggled_triggers(a: Any, b: Any, replaced: set[str]) -> set[str]:
    """Triggers that differ only in being enabled or disabled: ALTER TABLE, not re-created."""
    return {
        k
        for k, t in a.triggers.items()
        if k in b.triggers
        and k not in replaced
        and t.full_definition == b.triggers[k].full_definition
        and t.enabled != b.triggers[k].enabled
    }


def _trigger_toggle(tg: Any) -> Change:
    state = "DISABLE" if tg.enabled == "D" else "ENABLE"
    return Change(
        "alter",
        "trigger",
        tg.quoted_full_name,
        f"ALTER TABLE {tg.quoted_full_selectable_name} {state} TRIGGER {_quoted(tg.name)}",
    )


def _force_rls(a: Any, b: Any) -> list[Change]:
    """FORCE ROW LEVEL SECURITY (schemainspect compares only whether RLS is enabled)."""
    out = []
    for key, t in b.tables.items():
        before = a.tables.get(key)
        if bool(t.forcerowsecurity) != bool(before is not None and before.forcerowsecurity):
            word = "force" if t.forcerowsecurity else "no force"
            out.append(
                Change("alter", "table", key, f"alter table {key} {word} row level security")
            )
    return out


def _policy_sql(p: Any) -> str:
    roles = ", ".join("public" if r == "public" else _quoted(r) for r in p.roles)
    using = f" using ({p.qual})" if p.qual else ""
    check = f" with check ({p.withcheck})" if p.withcheck else ""
    return (
        f"create policy {_quoted(p.name)} on {p.quoted_full_table_name} as "
        f"{p.permissiveness} for {p.commandtype_keyword} to {roles}{using}{check}"
    )


def _policy_changes(a: Any, b: Any) -> tuple[list[Change], list[Change]]:
    """Row-level security policies: the drops (before columns they read can go) and the
    creations and ALTER POLICY statements (after the tables and functions they use).

    A policy whose command or permissiveness changes, or that loses its USING or WITH CHECK,
    is dropped and created again; otherwise ALTER POLICY changes roles and expressions."""
    old, new = a.rlspolicies, b.rlspolicies
    drops: list[Change] = []
    later: list[Change] = []
    for key in sorted(old):
        p = old[key]
        if key not in new:
            if p.quoted_full_table_name in b.tables:  # else DROP TABLE takes it along
                drops.append(Change("drop", "policy", key, _sql(p.drop_statement)))
            continue
        q = new[key]
        same = (p.commandtype, p.permissive, p.roles, p.qual, p.withcheck) == (
            q.commandtype, q.permissive, q.roles, q.qual, q.withcheck
        )
        if same:
            continue
        if (p.commandtype, p.permissive) != (q.commandtype, q.permissive) or (
            (p.qual and not q.qual) or (p.withcheck and not q.withcheck)
        ):
            drops.append(Change("drop", "policy", key, _sql(p.drop_statement)))
            later.append(Change("alter", "policy", key, _policy_sql(q)))
            continue
        roles = ", ".join("public" if r == "public" else _quoted(r) for r in q.roles)
        sql = f"alter policy {_quoted(q.name)} on {q.quoted_full_table_name} to {roles}"
        sql += f" using ({q.qual})" if q.qual else ""
        sql += f" with check ({q.withcheck})" if q.withcheck else ""
        later.append(Change("alter", "policy", key, sql))
    for key in sorted(set(new) - set(old)):
        later.append(Change("create", "policy", key, _policy_sql(new[key])))
    return drops, later


def _without_redundant_drops(changes: list[Change], a: Any, b: Any) -> list[Change]:
    """DROP TABLE takes its indexes, checks, keys and triggers along: don't list them twice.

    Foreign keys are kept: one may point from another dropped table, and dropping it first
    lets the tables go in any order.
    """
    gone = set(a.tables) - set(b.tables)

    def redundant(c: Change) -> bool:
        if c.action != "drop":
            return False
        if c.kind == "index" and c.name in a.indexes:
            return bool(a.indexes[c.name].quoted_full_table_name in gone)
        if c.kind == "constraint" and c.name in a.constraints:
            con = a.constraints[c.name]
            return bool(con.quoted_full_table_name in gone and con.constraint_type != "FOREIGN KEY")
        if c.kind == "trigger" and c.name in a.triggers:
            return bool(a.triggers[c.name].quoted_full_selectable_name in gone)
        return False

    return [c for c in changes if not redundant(c)]


def _sql(statement: str) -> str:
    return statement.strip().rstrip(";").strip()


def _pk(i: Any) -> OrderedDict[str, Any]:
    return OrderedDict(
        (k, v) for k, v in i.constraints.items() if v.constraint_type == "PRIMARY KEY"
    )


def _non_pk(i: Any) -> OrderedDict[str, Any]:
    return OrderedDict(
        (k, v) for k, v in i.constraints.items() if v.constraint_type != "PRIMARY KEY"
    )


def _simple(
    kind: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    drops: bool = False,
    creations: bool = False,
    also: set[str] | None = None,
) -> list[Change]:
    """Objects replaced whole: dropped when gone or changed, created when new or changed.

    `also` names unchanged objects to replace all the same (they depend on one that changes).
    """
    added, removed, modified, _ = differences(old, new)
    for key in sorted((also or set()) - set(modified)):
        if key in old and key in new:
            modified[key] = new[key]
    out: list[Change] = []
    if drops:
        # A foreign key holds on to the unique index it references: it goes first.
        keys = sorted(
            [*removed, *modified],
            key=lambda k: getattr(old[k], "constraint_type", None) != "FOREIGN KEY",
        )
        for key in keys:
            out.append(Change("drop", kind, key, _sql(old[key].drop_statement)))
    if creations:
        for key in list(added) + list(modified):
            obj = new[key]
            stmts = getattr(obj, "safer_create_statements", None) or [obj.create_statement]
            if kind == "trigger":  # a disabled trigger: CREATE TRIGGER; ALTER TABLE ... DISABLE
                stmts = [part for st in stmts for part in st.split(";\n") if part.strip()]
            action = "alter" if key in modified else "create"
            out += [Change(action, kind, key, _sql(s)) for s in stmts]
    return out


def _fks_on_replaced_unique_indexes(a: Any, b: Any) -> set[str]:
    """Foreign keys into a table whose primary key or a unique index is dropped or replaced.

    Postgres refuses to drop the unique index a foreign key depends on, so such a foreign key
    is dropped before it and added again once the new key exists.
    """
    _, removed, modified, _ = differences(a.indexes, b.indexes)
    replaced = [a.indexes[k] for k in [*removed, *modified]]
    tables = {ix.quoted_full_table_name for ix in replaced if ix.is_unique}
    return {
        k
        for k, c in a.constraints.items()
        if c.constraint_type == "FOREIGN KEY" and c.quoted_full_foreign_table_name in tables
    }


def _early_function_keys(a: Any, b: Any) -> set[str]:
    """New or changed functions that depend on no new or changed relation: created first."""
    sel_a = OrderedDict(sorted(a.selectables.items()))
    sel_b = OrderedDict(sorted(b.selectables.items()))
    added, _, modified, _ = differences(sel_a, sel_b)
    pending = {k for k, v in list(added.items()) + list(modified.items()) if v.relationtype != "f"}
    # A function returning a table's rows depends on it, which schemainspect does not record.
    pending_types = {
        name
        for k in pending
        for name in (sel_b[k].name, f"{sel_b[k].schema}.{sel_b[k].name}")
        if k in sel_b
    }
    return {
        k
        for k, v in list(added.items()) + list(modified.items())
        if v.relationtype == "f"
        and not set(getattr(v, "dependent_on", [])) & pending
        and _result_type(v) not in pending_types
    }


def _reshaped_tables(a: Any, b: Any) -> set[str]:
    """Tables in both snapshots that lose a column or change a column's type."""
    out = set()
    for key, old in a.tables.items():
        new = b.tables.get(key)
        if new is None:
            continue
        for name, col in old.columns.items():
            other = new.columns.get(name)
            if other is None or other.dbtypestr != col.dbtypestr:
                out.add(key)
                break
    return out


def _replaceable(old: Any, new: Any) -> bool:
    """True when CREATE OR REPLACE turns `old` into `new` (migra misses a new return type,
    and that Postgres refuses to remove an argument's default that way)."""
    return (
        bool(new.can_replace(old))
        and getattr(new, "result_string", None) == getattr(old, "result_string", None)
        and _defaults(new) >= _defaults(old)
    )


def _defaults(f: Any) -> int:
    """How many arguments of a function have a default (unknown: none)."""
    return sqlread.argument_defaults(str(getattr(f, "full_definition", "") or "")) or 0


def _early_functions(a: Any, b: Any) -> list[Change]:
    keys = _early_function_keys(a, b)
    if not keys:
        return []
    out = [Change("alter", "setting", "", "SET LOCAL check_function_bodies = off")]
    for key in sorted(keys):
        action = "alter" if key in a.selectables else "create"
        f = b.selectables[key]
        kind = "procedure" if getattr(f, "kind", "f") == "p" else "function"
        out.append(Change(action, kind, key, _sql(f.create_statement)))
    return out


def _selectables(
    a: Any,
    b: Any,
    drops: bool = False,
    creations: bool = False,
    skip: set[str] | None = None,
    ctx: _Context | None = None,
) -> list[Change]:
    """Functions (and any other selectable but tables), in migra's dependency order."""
    sel_a = OrderedDict(sorted(a.selectables.items()))
    sel_b = OrderedDict(sorted(b.selectables.items()))
    (_, _, _, _, _, added, removed, modified, replaceable) = get_selectable_differences(
        sel_a, sel_b, a.enums, b.enums, True
    )
    skip = skip or set()
    # A view over a column that is dropped or retyped cannot wait for CREATE OR REPLACE after
    # the table change (Postgres refuses the change while the view depends on it): drop it
    # before and create it after.
    reshaped = _reshaped_tables(a, b)
    replaceable = {
        k
        for k in replaceable
        if _replaceable(sel_a[k], sel_b[k])
        and not (sel_a[k].relationtype != "f" and set(sel_a[k].dependent_on) & reshaped)
    }
    added = OrderedDict((k, v) for k, v in added.items() if k not in skip)
    modified = OrderedDict((k, v) for k, v in modified.items() if k not in skip)
    stmts = statements_from_differences(
        added,
        removed,
        modified,
        replaceable=replaceable,
        drops_only=drops,
        creations_only=creations,
        dependency_ordering=True,
        old=sel_a,
    )
    names = {}
    for key, obj in list(added.items()) + list(modified.items()):
        names[_sql(obj.create_statement)] = key
    for key in list(removed) + list(modified):
        names[_sql(sel_a[key].drop_statement)] = key
    kind_of = {**{k: v for k, v in sel_a.items()}, **{k: v for k, v in sel_b.items()}}
    out = []
    for sql in stmts:
        key = names.get(_sql(sql), "")
        obj = kind_of.get(key)
        kind = "function" if obj is None or obj.relationtype == "f" else "view"
        if kind == "function" and getattr(obj, "kind", "f") == "p":
            kind = "procedure"
        action = "drop" if drops else ("alter" if key in modified else "create")
        hazards: tuple[Hazard, ...] = ()
        cascade = False
        if drops and ctx is not None and kind in ("function", "procedure") and key in sel_a:
            hazards, cascade = ctx.function_drop(key)
        sql = _sql(sql) + (" cascade" if cascade else "")
        out.append(Change(action, kind, key, sql, hazards=hazards))
    return out


def _tables(ctx: _Context, later: _Later) -> list[Change]:
    """Tables and their columns, each statement with the hazards it carries."""
    a, b = ctx.a, ctx.b
    added, removed, modified, _ = differences(a.tables, b.tables)
    _repartition(a, b, added, removed, modified)
    out: list[Change] = []
    for key, t in removed.items():
        if _is_partition(t) and t.parent_table in removed:
            continue  # dropped with its partitioned table
        hazards = [ctx.stake(HazardKind.DATA_LOSS, f"drops table {key} and its rows", key)]
        deps, _found = ctx.dependents("relation", t.schema, t.name, own=key)
        hazards += ctx.dropped_along(key, deps)
        sql = _sql(t.drop_statement) + (" cascade" if deps else "")
        out.append(Change("drop", "table", key, sql, hazards=tuple(hazards)))
    enums_pre, enums_post = get_enum_modifications(
        a.tables, b.tables, a.enums, b.enums, return_tuple=True
    )
    _, _, enums_changed, _ = differences(a.enums, b.enums)
    enum_hazards = tuple(
        Hazard(HazardKind.ENUM_VALUE_REMOVED, f"enum {k} loses {', '.join(removed_labels)}")
        for k, e in enums_changed.items()
        if (removed_labels := [x for x in a.enums[k].elements if x not in e.elements])
    )
    enum_hazards += _enum_recast_hazards(ctx, set(enums_changed))
    out += [Change("alter", "enum", "", _sql(s), hazards=enum_hazards) for s in enums_pre]
    # Partitioned tables before their partitions.
    for key, t in sorted(added.items(), key=lambda kv: _is_partition(kv[1])):
        out.append(Change("create", "table", key, _create_table_sql(key, t, ctx.target.extras)))
        if t.rowsecurity:
            out.append(Change("alter", "table", key, _sql(t.alter_rls_statement)))
    # The old version of a changed enum goes last: a column of it that is dropped, or given
    # another type, still depends on it until its table's alters below.
    old_versions = {
        e.drop_statement_with_rename(e.name + "__old_version_to_be_dropped")
        for e in enums_changed.values()
    }
    # migra puts back the old default of a column it recasts to the new enum; a default the
    # spec changes is set by the column's own alters below (the old one may be a gone label,
    # or none: migra writes SET DEFAULT None).
    stale_defaults = {
        old.add_default_statement(key)
        for key, t in modified.items()
        for name, c in t.columns.items()
        if (old := a.tables[key].columns.get(name)) is not None
        and old.is_enum and c.is_enum and old.default != c.default
    }
    out += [
        Change("alter", "enum", "", _sql(s))
        for s in enums_post
        if s not in old_versions and s not in stale_defaults
    ]
    for key, t in modified.items():
        if _is_partition(a.tables[key]) or _is_partition(t):
            out += _partition_alters(key, a.tables[key], t, ctx)
            if _is_partition(t):
                continue  # a partition's columns are its partitioned table's
        out += _table_alters(key, a.tables[key], t, ctx, later)
    for key in sorted(set(a.tables) & set(b.tables) - set(modified)):
        # Equal to schemainspect, and still different: identity options, storage, VIRTUAL.
        out += _table_alters(key, a.tables[key], b.tables[key], ctx, later)
    out += [Change("alter", "enum", "", _sql(s)) for s in enums_post if s in old_versions]
    _, _, seq_modified, _ = differences(a.sequences, b.sequences)
    for key, seq in b.sequences.items():
        owner = seq.quoted_table_and_column_name
        if owner and (
            key not in a.sequences
            or (key in seq_modified
            and a.sequences[key].quoted_table_and_column_name != owner)
        ):
            out.append(Change("alter", "sequence", key, _sql(seq.alter_ownership_statement)))
    return out


def _is_partition(t: Any) -> bool:
    return bool(t.parent_table and t.partition_def)


def _is_partitioned(i: Any, table: str) -> bool:
    t = i.tables.get(table)
    return bool(t is not None and t.relationtype == "p")


def _repartition(
    a: Any, b: Any, added: dict[str, Any], removed: dict[str, Any], modified: dict[str, Any]
) -> None:
    """A table whose partitioning changes (partitioned or not, another key) cannot be
    altered: it is dropped and created again, with the partitions the target gives it."""
    recreated = {
        key
        for key, t in modified.items()
        if not _is_partition(t)
        and not _is_partition(a.tables[key])
        and (t.relationtype, t.partition_def) != (a.tables[key].relationtype,
                                                  a.tables[key].partition_def)
    }
    for key in sorted(recreated):
        removed[key], added[key] = a.tables[key], modified.pop(key)
    for key, t in b.tables.items():
        if _is_partition(t) and t.parent_table in recreated and key not in added:
            added[key] = t
            modified.pop(key, None)
            if key in a.tables and a.tables[key].parent_table in recreated:
                removed[key] = a.tables[key]  # goes with its old parent


def _partition_alters(key: str, before: Any, after: Any, ctx: _Context) -> list[Change]:
    """A partition detached, attached, or moved to another bound or parent."""
    was, now = _is_partition(before), _is_partition(after)
    if was and now and (before.parent_table, before.partition_def) == (
        after.parent_table,
        after.partition_def,
    ):
        return []
    rows = ctx.rows(key)
    out: list[Change] = []
    if was:
        hz: tuple[Hazard, ...] = ()
        if not now and rows != 0:
            hz = (
                ctx.stake(
                    HazardKind.DATA_LOSS,
                    f"detaches {key} from {before.parent_table}: its rows leave the "
                    "partitioned table",
                    key,
                ),
            )
        sql = f"alter table {before.parent_table} detach partition {key}"
        out.append(Change("alter", "table", key, sql, hazards=hz))
    if now:
        hz = ()
        if rows != 0:
            hz = (
                ctx.stake(
                    HazardKind.CONSTRAINT_VALIDATION,
                    f"attaches {key} to {after.parent_table}: its rows are checked against "
                    f"{after.partition_def}",
                    key,
                ),
            )
        sql = f"alter table {after.parent_table} attach partition {key} {after.partition_def}"
        out.append(Change("alter", "table", key, sql, hazards=hz))
    return out


def _table_alters(key: str, before: Any, after: Any, ctx: _Context, later: _Later) -> list[Change]:
    out: list[Change] = []
    # Rows are counted only when a change asks (a never-analyzed table costs a count(*)).
    if after.is_unlogged != before.is_unlogged:
        mode = "UNLOGGED" if after.is_unlogged else "LOGGED"
        hz = (
            (ctx.stake(HazardKind.TABLE_REWRITE, f"SET {mode} rewrites {key}", key),)
            if ctx.rows(key) != 0
            else ()
        )
        out.append(Change("alter", "table", key, _sql(after.alter_unlogged_statement), hazards=hz))
    c_added, c_removed, c_modified, _ = differences(before.columns, after.columns)
    for name, c in after.columns.items():
        column = f"{key}.{c.quoted_name}"
        kinds = ctx.live.extras.generated.get(column), ctx.target.extras.generated.get(column)
        if name in before.columns and name not in c_modified and kinds[0] != kinds[1]:
            c_modified[name] = c
    regenerated, new_expression = _generation_changes(key, before, after, c_modified, ctx)
    for name in list(c_modified):
        c, old = after.columns[name], before.columns[name]
        if name in regenerated or (
            c.is_generated != old.is_generated
            and not (not c.is_generated and old.can_drop_generated)
        ):
            # A column cannot be altered into or out of generated: drop and add it again.
            del c_modified[name]
            c_removed[name], c_added[name] = old, c
    for c in c_removed.values():
        column = f"{key}.{c.quoted_name}"
        if c.name in c_added:
            # Dropping the column drops its indexes: they are created again after it.
            for k, ix in list(ctx.a.indexes.items()):
                if ix.quoted_full_table_name == key and c.name in (ix.key_columns or []):
                    del ctx.a.indexes[k]
        if c.name in regenerated:
            # A generated column holds no data of its own: nothing is lost, it is computed
            # again (a table rewrite when it is stored).
            hazards = []
        else:
            hazards = [ctx.stake(HazardKind.DATA_LOSS, f"drops column {column}", key)]
        deps, _found = ctx.dependents("relation", before.schema, before.name, c.name)
        hazards += ctx.dropped_along(column, deps)
        sql = _sql(after.alter_table_statement(c.drop_column_clause)) + _cascade(deps)
        out.append(Change("drop", "column", column, sql, hazards=tuple(hazards)))
    for c in c_added.values():
        hazards = []
        if c.not_null and not c.default and not c.is_identity and ctx.rows(key):
            hazards.append(
                Hazard(
                    HazardKind.NOT_NULL_ON_EXISTING_ROWS,
                    f"adds NOT NULL column {c.quoted_name} without a default to a table with rows",
                    ctx.rows(key),
                )
            )
        column = f"{key}.{c.quoted_name}"
        stored = c.is_generated and ctx.target.extras.generated.get(column, "s") == "s"
        volatile = bool(c.default) and not c.is_generated and ctx.volatile(c.default)
        if (c.is_identity or stored or volatile) and ctx.rows(key) != 0:
            what = (
                "an identity"
                if c.is_identity
                else "a stored generated value"
                if stored
                else f"a volatile default ({c.default})"
            )
            hazards.append(
                ctx.stake(
                    HazardKind.TABLE_REWRITE,
                    f"adds column {c.quoted_name} with {what}: every row gets its own value, "
                    f"so {key} is rewritten",
                    key,
                )
            )
        out.append(
            Change(
                "create",
                "column",
                f"{key}.{c.quoted_name}",
                f"alter table {key} add column {_column_clause(key, c, ctx.target.extras)}",
                hazards=tuple(hazards),
            )
        )
    for name, c in c_modified.items():
        out += _column_alters(key, c, before.columns[name], ctx, later)
    out += new_expression
    out += _identity_options(key, before, after, set(c_added), ctx)
    out += _storage_changes("table", key, ctx)
    if after.rowsecurity != before.rowsecurity:
        out.append(Change("alter", "table", key, _sql(after.alter_rls_statement)))
    return out


def _column_alters(table: str, c: Any, old: Any, ctx: _Context, later: _Later) -> list[Change]:
    """The same clauses, in the same order, as schemainspect's alter_clauses, one per Change.

    SET NOT NULL on a table with rows is done online: a CHECK (col IS NOT NULL) NOT VALID
    here, validated after the transaction (no write waits), then SET NOT NULL, which skips
    its scan since the check proves it (Postgres 12+), then the helper check goes.
    """
    name = f"{table}.{c.quoted_name}"
    rows = ctx.rows(table)
    out: list[Change] = []

    def clause(sql: str, hazards: tuple[Hazard, ...] = ()) -> None:
        out.append(Change("alter", "column", name, f"alter table {table} {sql}", hazards=hazards))

    not_null_added = c.not_null and not old.not_null
    not_null_dropped = old.not_null and not c.not_null
    identity_added = c.is_identity and not old.is_identity
    identity_dropped = old.is_identity and not c.is_identity
    handover = ctx.handovers.get(name)
    if identity_dropped:
        # Before the new default: Postgres refuses a default on an identity column.
        if handover is not None:
            out.append(Change("alter", "sequence", handover.old, handover.setval))
        clause(c.alter_identity_clause(old))
    if c.default != old.default and not (c.is_generated and old.is_generated):
        clause(c.alter_default_clause_or_generated(old))
    if not_null_added and rows != 0 and not identity_added:
        helper = _not_null_check_name(table, c.name)
        out.append(
            Change(
                "alter",
                "column",
                name,
                f"alter table {table} add constraint {helper} check ({c.quoted_name} is not null)"
                " not valid",
                lock_timeout=CATALOG_LOCK_TIMEOUT,
            )
        )
        later.validate.append(
            Change(
                "alter",
                "column",
                name,
                f"alter table {table} validate constraint {helper}",
                transactional=False,
                hazards=(
                    ctx.stake(
                        HazardKind.NOT_NULL_ON_EXISTING_ROWS,
                        f"sets {name} NOT NULL: its existing rows are checked, and the apply "
                        "stops if one is NULL",
                        table,
                    ),
                ),
                lock_timeout=LONG_TIMEOUT,
                statement_timeout=LONG_TIMEOUT,
            )
        )
        for sql in (
            f"alter table {table} {c.alter_not_null_clause}",
            f"alter table {table} drop constraint {helper}",
        ):
            later.finish.append(
                Change(
                    "alter", "column", name, sql, False, lock_timeout=CATALOG_LOCK_TIMEOUT
                )
            )
    elif not_null_added:
        hz = (
            (ctx.stake(HazardKind.NOT_NULL_ON_EXISTING_ROWS, f"sets {name} NOT NULL", table),)
            if rows != 0
            else ()
        )
        clause(c.alter_not_null_clause, hz)
    identity_changed = (
        c.is_identity != old.is_identity or c.is_identity_always != old.is_identity_always
    )
    # An identity is added once the column has its integer type, but dropped before it changes.
    if identity_changed and not identity_added and not identity_dropped:
        clause(c.alter_identity_clause(old))
    if not_null_dropped:
        clause(c.alter_not_null_clause)
    if c.dbtypestr != old.dbtypestr or c.collation != old.collation:
        sql = c.alter_enum_type_clause if c.is_enum and old.is_enum else c.alter_data_type_clause
        hazards: list[Hazard] = []
        if not _is_widening(old.dbtypestr, c.dbtypestr):
            hazards.append(
                Hazard(
                    HazardKind.DATA_LOSS,
                    f"changes {name} from {old.dbtypestr} to {c.dbtypestr}; values that do "
                    "not fit are rejected or truncated",
                    rows,
                )
            )
        indexed = sorted(
            k
            for k, ix in ctx.a.indexes.items()
            if ix.quoted_full_table_name == table and c.name in (ix.key_columns or [])
        )
        if c.dbtypestr == old.dbtypestr and rows != 0 and indexed:
            # A new collation keeps the rows as they are, but sorts anew: its indexes are
            # rebuilt while the table is locked.
            hazards.append(
                ctx.stake(
                    HazardKind.BLOCKING_LOCK,
                    f"changes the collation of {name}: {', '.join(indexed)} rebuilt while "
                    f"{table} is locked",
                    table,
                )
            )
        if rows != 0 and _rewrites(old.dbtypestr, c.dbtypestr, ctx.catalog):
            hazards.append(
                ctx.stake(
                    HazardKind.TABLE_REWRITE,
                    f"changes {name} from {old.dbtypestr} to {c.dbtypestr}, which is not "
                    f"binary-coercible: {table} and its indexes are rewritten",
                    table,
                )
            )
        clause(sql, tuple(hazards))
    if identity_changed and identity_added:
        sql = c.alter_identity_clause(old)
        want = ctx.target.extras.identity.get(name)
        if want:
            sql += f" ({_identity_sql(want)})"  # a new sequence starts where the spec says
        clause(sql)
        if handover is not None:
            out.append(Change("alter", "sequence", handover.old, handover.setval))
            if handover.drop is not None:
                out.append(Change("drop", "sequence", handover.old, handover.drop))
    return out


def _not_null_check_name(table: str, column: str) -> str:
    """The helper CHECK of an online SET NOT NULL: deterministic, short, ours alone."""
    digest = hashlib.sha256(f"{table}.{column}".encode()).hexdigest()[:12]
    return f"schemadiff_not_null_{digest}"


# Types whose length or precision modifier Postgres can raise without touching the rows
# (their typmod coercion has a support function that turns it into a no-op).
_TYPMOD_RELAXABLE = {
    "character varying",
    "bit varying",
    "numeric",
    "time without time zone",
    "time with time zone",
    "timestamp without time zone",
    "timestamp with time zone",
    "interval",
}


def _rewrites(old: str, new: str, catalog: Catalog) -> bool:
    """True when ALTER COLUMN ... TYPE from `old` to `new` rewrites the table.

    As Postgres decides it: no rewrite when the cast is binary-coercible (pg_cast.castmethod
    'b', e.g. varchar -> text) and no length check is added, or when only a modifier is
    relaxed (varchar(10) -> varchar(20), numeric(10,2) -> numeric(12,2)).
    """
    if old == new:
        return False
    (ob, om), (nb, nm) = _type_parts(old), _type_parts(new)
    if ob == nb:
        if ob not in _TYPMOD_RELAXABLE:
            return True
        if not nm:
            return False
        if not om:
            return True
        if ob == "numeric":
            (op, os_), (np_, ns) = ([*om, 0])[:2], ([*nm, 0])[:2]
            return not (ns == os_ and np_ >= op)
        return nm[0] < om[0]
    if ob.endswith("[]") or nb.endswith("[]"):
        return True
    return (ob, nb) not in catalog.binary_coercible() or bool(nm)


def _type_parts(t: str) -> tuple[str, list[int]]:
    """'character varying(10)' -> ('character varying', [10]); 'timestamp(3) with time
    zone' -> ('timestamp with time zone', [3]); 'numeric(12,2)[]' -> ('numeric[]', [12, 2])."""
    start, end = t.find("("), t.find(")")
    if start < 0 or end < start:
        return t.strip(), []
    mods = [int(x) for x in t[start + 1 : end].split(",") if x.strip().isdigit()]
    return (t[:start].rstrip() + " " + t[end + 1 :].lstrip()).strip().replace(" []", "[]"), mods


def _is_widening(old: str, new: str) -> bool:
    """True when every value of type `old` fits `new` unchanged."""
    # _type_parts reads modifiers wherever Postgres writes them: timestamp(3) with time zone,
    # character varying(10)[].
    ob, om = _type_parts(old)
    nb, nm = _type_parts(new)
    if ob == nb:
        if not nm:
            return True  # varchar(n) -> varchar, numeric(p,s) -> numeric
        if not om:
            return False
        if ob == "numeric":
            (op, os_), (np_, ns) = ([*om, 0])[:2], ([*nm, 0])[:2]
            return ns >= os_ and np_ - ns >= op - os_
        return nm[0] >= om[0]
    return nb in _WIDENING.get(ob, set())


def _sequence_changes(live: Snapshot, target: Snapshot) -> list[Change]:
    """New sequences with their options (migra writes none), and changed options."""
    a, b = live.inspector.sequences, target.inspector.sequences
    out: list[Change] = []
    for key in sorted(b):
        want = target.sequence_options.get(key, "")
        if key not in a:
            sql = f"create sequence {key} {want}".strip()
            out.append(Change("create", "sequence", key, sql))
        elif want and live.sequence_options.get(key, want) != want:
            out.append(Change("alter", "sequence", key, f"alter sequence {key} {want}"))
        if key in a and a[key].table_name and not b[key].table_name:
            out.append(Change("alter", "sequence", key, f"alter sequence {key} owned by none"))
    return out


def _enum_additions(a: Any, b: Any) -> list[Change]:
    """Labels added to an enum, in place: ALTER TYPE ... ADD VALUE [BEFORE|AFTER] keeps the
    columns using it as they are (migra creates a new type and rewrites each of them).

    Only when every live label stays, in the same order, and no new label is used by what
    the target holds (a default, check, index or view): Postgres refuses a label added in the
    transaction that uses it. Otherwise the enum is left to migra's way, which can do it all.
    The live enum then takes the target's labels, so nothing else compares it as changed.
    """
    _, _, modified, _ = differences(a.enums, b.enums)
    if not modified:
        return []
    used = _labels_used(b)
    out = []
    for key, e in modified.items():
        have, want = list(a.enums[key].elements), list(e.elements)
        if [x for x in want if x in have] != have or (set(want) - set(have)) & used:
            continue
        for i, label in enumerate(want):
            if label in have:
                continue
            sql = f"alter type {key} add value {_literal(label)}"
            if any(x in have for x in want[i + 1 :]):
                sql += f" after {_literal(want[i - 1])}" if i else f" before {_literal(have[0])}"
            out.append(Change("alter", "enum", key, sql))
        a.enums[key].elements = want
    return out


def _enum_recast_hazards(ctx: _Context, enums: set[str]) -> tuple[Hazard, ...]:
    """An enum created anew (labels removed or reordered): each column using it is cast to
    the new type, which rewrites its table."""
    out = []
    for key, t in ctx.a.tables.items():
        cols = [
            c.name for c in t.columns.values()
            if c.is_enum and c.enum is not None and c.enum.quoted_full_name in enums
        ]
        if cols and ctx.rows(key) != 0:
            message = f"casts {key}.{', '.join(cols)} to the new enum type: {key} is rewritten"
            out.append(ctx.stake(HazardKind.TABLE_REWRITE, message, key))
    return tuple(out)


def _labels_used(i: Any) -> set[str]:
    """String constants in the defaults, checks, indexes and views of an inspector; None
    (unparsable text) counts as using everything, so an enum is then left to migra."""
    texts = [f"SELECT {c.default}" for t in i.tables.values() for c in t.columns.values()
             if c.default]
    texts += [f"ALTER TABLE x ADD {c.definition}" for c in i.constraints.values()]
    texts += [str(ix.definition) for ix in i.indexes.values()]
    texts += [str(v.definition) for v in i.views.values()]
    found: set[str] = set()
    for text in texts:
        consts = sqlread.string_constants(text)
        if consts is None:
            return {label for e in i.enums.values() for label in e.elements}
        found |= consts
    return found


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _view_option_changes(live: Snapshot, target: Snapshot, planned: list[Change]) -> list[Change]:
    """ALTER VIEW ... SET/RESET for options that differ (migra ignores them). A view the plan
    creates or replaces has none: CREATE OR REPLACE VIEW without WITH resets them."""
    made = {c.name for c in planned if c.kind == "view" and c.action in ("create", "alter")}
    out: list[Change] = []
    for key in sorted(target.inspector.views):
        want = target.view_options.get(key, {})
        have = {} if key in made else live.view_options.get(key, {})
        if want == have:
            continue
        changed = {k: v for k, v in want.items() if have.get(k) != v}
        gone = sorted(set(have) - set(want))
        if changed:
            options = ", ".join(f"{k}={v}" for k, v in sorted(changed.items()))
            out.append(Change("alter", "view", key, f"alter view {key} set ({options})"))
        if gone:
            out.append(Change("alter", "view", key, f"alter view {key} reset ({', '.join(gone)})"))
    return out


def _extension_changes(live: Snapshot, target: Snapshot) -> list[Change]:
    """New extensions, and the version and schema of those the spec pins (migra would also
    move every unpinned extension to the shadow's default version)."""
    a, b = live.inspector.extensions, target.inspector.extensions
    out: list[Change] = []
    for name in sorted(b):
        want = b[name]
        pin_version, pin_schema = target.extension_pins.get(name, (False, False))
        quoted = _quoted(name)
        if name not in a:
            sql = f"create extension if not exists {quoted} with schema {_quoted(want.schema)}"
            if pin_version:
                sql += f" version '{want.version}'"
            out.append(Change("create", "extension", quoted, sql))
            continue
        have = a[name]
        if pin_schema and have.schema != want.schema:
            sql = f"alter extension {quoted} set schema {_quoted(want.schema)}"
            out.append(Change("alter", "extension", quoted, sql))
        if pin_version and have.version != want.version:
            sql = f"alter extension {quoted} update to '{want.version}'"
            out.append(Change("alter", "extension", quoted, sql))
    return out


def _extension_drops(ctx: _Context) -> list[Change]:
    """Extensions the spec no longer lists (it declares `extensions:`); what uses one of
    their types, operators or functions goes with them (CASCADE), named as a hazard."""
    out = []
    for name in sorted(set(ctx.a.extensions) - set(ctx.b.extensions)):
        deps = ctx.extension_dependents(name)
        hazards = ctx.dropped_along(f"extension {name}", deps)
        # pg_describe_object: "column h of table t" (a view's columns hold no data).
        columns = tuple(d for d in deps if d.startswith("column ") and " of table " in d)
        if columns:
            hazards.insert(
                0,
                Hazard(
                    HazardKind.DATA_LOSS,
                    f"dropping extension {name} drops columns of its types with their values",
                    objects=columns,
                ),
            )
        sql = f"drop extension if exists {_quoted(name)}" + _cascade(deps)
        out.append(Change("drop", "extension", _quoted(name), sql, hazards=tuple(hazards)))
    return out


def _enum_drops(ctx: _Context) -> list[Change]:
    _added, removed, _, _ = differences(ctx.a.enums, ctx.b.enums)
    out = []
    for key in removed:
        e = ctx.a.enums[key]
        deps, _found = ctx.dependents("type", e.schema, e.name)
        sql = _sql(e.drop_statement) + _cascade(deps)
        out.append(Change("drop", "enum", key, sql, hazards=tuple(ctx.dropped_along(key, deps))))
    return out


def _sequence_drops(ctx: _Context, statements: Iterable[str]) -> list[Change]:
    """Dropped sequences; dropping one that a column's default reads loses its position."""
    a = ctx.a
    by_sql = {_sql(seq.drop_statement): key for key, seq in a.sequences.items()}
    gone_tables = set(a.tables) - set(ctx.b.tables)
    out = []
    replaced = {h.skip for h in ctx.handovers.values()}
    for statement in statements:
        sql = _sql(statement)
        if sql in replaced:
            continue  # handed over to an identity, then dropped under its temporary name
        key = by_sql.get(sql, "")
        seq = a.sequences.get(key)
        hazards: list[Hazard] = []
        deps: list[str] = []
        if seq is not None:
            users = [
                f"{tkey}.{c.quoted_name}"
                for tkey, t in a.tables.items()
                if tkey not in gone_tables
                for c in t.columns.values()
                if c.default
                and seq.name in (sqlread.regclass_literals(c.default) or {seq.name})
                and "nextval" in (sqlread.expression_calls(c.default) or {"nextval"})
            ]
            if users:
                hazards.append(
                    ctx.stake(
                        HazardKind.DATA_LOSS,
                        f"drops sequence {key}, which columns take values from: its current "
                        "value is lost",
                        objects=users,
                    )
                )
            deps, _found = ctx.dependents("relation", seq.schema, seq.name)
            hazards += ctx.dropped_along(key, deps)
        out.append(Change("drop", "sequence", key, sql + _cascade(deps), hazards=tuple(hazards)))
    return out


def _index_creations(ctx: _Context, later: _Later) -> list[Change]:
    """New indexes; on a table that exists already, built CONCURRENTLY outside the transaction.

    The index of a new unique constraint on a table with rows is built CONCURRENTLY too, and
    the constraint attached to it afterwards (ADD CONSTRAINT ... USING INDEX). A primary
    key's index stays in the transaction (its columns become NOT NULL there): on a table with
    rows that blocks writes while it builds, a blocking_lock.
    """
    a, b = ctx.a, ctx.b
    added, _, modified, _ = differences(a.indexes, b.indexes)
    out: list[Change] = []
    for key in list(added) + list(modified):
        ix = b.indexes[key]
        table = ix.quoted_full_table_name
        rows = ctx.rows(table)
        con = ix.constraint
        if _is_partitioned(b, table):
            if con is None and not ix.is_pk:  # a key's index: ADD CONSTRAINT builds it
                out += _partitioned_index(ctx, later, key, ix)
            continue
        online_key = con is not None and con.constraint_type == "UNIQUE" and rows != 0
        if table in a.tables and ((con is None and not ix.is_pk) or online_key):
            hazards: list[Hazard] = []
            if rows != 0:
                hazards.append(ctx.stake(HazardKind.INDEX_BUILD, f"builds {key} on {table}", table))
            if ix.is_unique and rows != 0:
                hazards.append(
                    ctx.stake(
                        HazardKind.UNIQUE_ON_EXISTING_ROWS,
                        f"{key} requires the existing rows of {table} to be unique",
                        table,
                    )
                )
            later.builds.append(
                Change(
                    "create",
                    "index",
                    key,
                    _concurrently(ix.definition),
                    transactional=False,
                    hazards=tuple(hazards),
                    lock_timeout=LONG_TIMEOUT,
                    statement_timeout=LONG_TIMEOUT,
                )
            )
            if online_key:
                ctx.online_constraints.add(con.quoted_full_name)
                ctx.online_keys.setdefault(table, []).append(sorted(ix.key_columns or []))
        else:
            hz: tuple[Hazard, ...] = ()
            if table in a.tables and rows != 0:
                hz = (
                    ctx.stake(
                        HazardKind.BLOCKING_LOCK,
                        f"builds {key} for a {str(getattr(con, 'constraint_type', 'key')).lower()}"
                        f" inside the transaction: writes to {table} wait until it is built",
                        table,
                    ),
                )
            out.append(Change("create", "index", key, _sql(ix.create_statement), hazards=hz))
    return out


def _partitioned_index(ctx: _Context, later: _Later, key: str, ix: Any) -> list[Change]:
    """An index on a partitioned table. A new table gets it at once (every partition
    follows). On one that exists, CREATE INDEX cannot run CONCURRENTLY: the index is made
    ON ONLY the partitioned table (invalid, instantly), each partition's is built
    CONCURRENTLY after the transaction, then attached; the last attach makes it valid."""
    table = ix.quoted_full_table_name
    definition = str(ix.definition)
    only = definition.index(" ON ONLY ")  # pg_get_indexdef on a partitioned table
    head, rest = definition[:only], definition[only + len(" ON ONLY ") :]
    using = rest[rest.index(" USING ") :]
    if table not in ctx.a.tables:
        return [Change("create", "index", key, f"{head} ON {table}{using}")]
    out = [Change("create", "index", key, definition, lock_timeout=CATALOG_LOCK_TIMEOUT)]
    unique = "UNIQUE " if ix.is_unique else ""
    for part in sorted(k for k, t in ctx.b.tables.items() if t.parent_table == table):
        part_t = ctx.b.tables[part]
        name = _partition_index_name(part_t.name, ix)
        part_key = _quoted(part_t.schema, name)
        sql = f"CREATE {unique}INDEX {quote(name)} ON {part}{using}"
        if part in ctx.a.tables:
            rows = ctx.rows(part)
            hz = (
                (ctx.stake(HazardKind.INDEX_BUILD, f"builds {part_key} on {part}", part),)
                if rows != 0
                else ()
            )
            later.builds.append(
                Change(
                    "create",
                    "index",
                    part_key,
                    _concurrently(sql),
                    transactional=False,
                    hazards=hz,
                    lock_timeout=LONG_TIMEOUT,
                    statement_timeout=LONG_TIMEOUT,
                )
            )
        else:
            out.append(Change("create", "index", part_key, sql))  # a new, empty partition
        later.attach.append(
            Change(
                "alter",
                "index",
                key,
                f"alter index {key} attach partition {part_key}",
                transactional=False,
                lock_timeout=CATALOG_LOCK_TIMEOUT,
            )
        )
    return out


def _partition_index_name(partition: str, ix: Any) -> str:
    """The name Postgres gives a partition's share of an index made on the partitioned
    table (<partition>_<columns>_idx, `expr` for an expression), so a database migrated
    here and one built from the spec name them alike; hashed when over 63 bytes."""
    columns = [c or "expr" for c in [*(ix.key_columns or []), *(ix.included_columns or [])]]
    name = f"{partition}_{'_'.join(columns) or 'expr'}_idx"
    if len(name.encode()) <= 63:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return name.encode()[:54].decode(errors="ignore") + "_" + digest


def _key_on_partitioned(ctx: _Context, change: Change) -> Change:
    """A primary key or unique constraint on a partitioned table: ADD CONSTRAINT ... USING
    INDEX is not supported there, so the constraint builds its index itself (in the
    transaction: writes wait on a table with rows)."""
    c = ctx.b.constraints.get(change.name)
    if c is None or c.index is None or not _is_partitioned(ctx.b, c.quoted_full_table_name):
        return change
    if c.constraint_type not in ("PRIMARY KEY", "UNIQUE"):
        return change
    table = c.quoted_full_table_name
    hz: tuple[Hazard, ...] = ()
    if table in ctx.a.tables and ctx.rows(table) != 0:
        hz = (
            ctx.stake(
                HazardKind.BLOCKING_LOCK,
                f"builds the index of {change.name} on every partition inside the transaction: "
                f"writes to {table} wait until it is built",
                table,
            ),
        )
    sql = f"alter table {table} add constraint {c.quoted_name} {c.definition}"
    return Change(change.action, change.kind, change.name, sql, hazards=hz)


def _constraint_creations(ctx: _Context, also: set[str], later: _Later) -> list[Change]:
    """New and changed unique, foreign key and check constraints (primary keys: _simple).

    On a table with rows, a foreign key or check is added NOT VALID in the transaction (new
    rows are checked at once) and validated after it, which scans without blocking writes.
    A unique constraint is attached to its concurrently built index after the transaction;
    foreign keys into its table wait for it.
    """
    a, b = ctx.a, ctx.b
    old, new = _non_pk(a), _non_pk(b)
    added, _, modified, _ = differences(old, new)
    for key in sorted(also - set(modified)):
        if key in old and key in new:
            modified[key] = new[key]
    out: list[Change] = []
    for key in list(added) + list(modified):
        c = new[key]
        action = "alter" if key in modified else "create"
        table = c.quoted_full_table_name
        after_key = c.constraint_type == "FOREIGN KEY" and sorted(
            c.fk_columns_foreign or []
        ) in ctx.online_keys.get(c.quoted_full_foreign_table_name, [])
        if key in ctx.online_constraints:
            later.attach.append(
                Change(
                    action,
                    "constraint",
                    key,
                    _sql(c.create_statement),
                    transactional=False,
                    lock_timeout=CATALOG_LOCK_TIMEOUT,
                )
            )
            continue
        if not c.can_use_not_valid:
            hz: tuple[Hazard, ...] = ()
            if c.constraint_type == "EXCLUDE" and ctx.rows(table) != 0:
                hz = (
                    ctx.stake(
                        HazardKind.BLOCKING_LOCK,
                        f"builds the index of exclusion constraint {key} inside the "
                        f"transaction: reads and writes of {table} wait until it is built",
                        table,
                    ),
                )
            change = Change(action, "constraint", key, _sql(c.create_statement), hazards=hz)
            out.append(_key_on_partitioned(ctx, change))
            continue
        rows = ctx.rows(table)
        if _is_partitioned(b, table) or (
            c.constraint_type == "FOREIGN KEY"
            and _is_partitioned(b, c.quoted_full_foreign_table_name)
        ):
            # NOT VALID is refused on a partitioned table, and validating a foreign key into
            # one leaves its per-partition clones NOT VALID: checked as it is added.
            what = "foreign key" if c.constraint_type == "FOREIGN KEY" else "check"
            hz = (
                (
                    ctx.stake(
                        HazardKind.CONSTRAINT_VALIDATION,
                        f"validates {what} {key} on the existing rows of {table}, in the "
                        "transaction",
                        table,
                    ),
                )
                if rows != 0
                else ()
            )
            out.append(Change(action, "constraint", key, _sql(c.create_statement), hazards=hz))
            continue
        if rows == 0:
            stmts = [c.create_statement] if after_key else c.safer_create_statements
            changes = [Change(action, "constraint", key, _sql(s), not after_key) for s in stmts]
            (later.adds if after_key else out).extend(changes)
            continue
        add = Change(
            action,
            "constraint",
            key,
            _sql(c.get_create_statement(set_not_valid=True)),
            transactional=not after_key,
            lock_timeout=CATALOG_LOCK_TIMEOUT,
        )
        (later.adds if after_key else out).append(add)
        what = "foreign key" if c.constraint_type == "FOREIGN KEY" else "check"
        later.validate.append(
            Change(
                "alter",
                "constraint",
                key,
                _sql(c.validate_statement),
                transactional=False,
                hazards=(
                    ctx.stake(
                        HazardKind.CONSTRAINT_VALIDATION,
                        f"validates {what} {key} on the existing rows of {table}",
                        table,
                    ),
                ),
                lock_timeout=LONG_TIMEOUT,
                statement_timeout=LONG_TIMEOUT,
            )
        )
    return out


def _concurrently(definition: str) -> str:
    # pg_get_indexdef always starts "CREATE [UNIQUE] INDEX name ON ...".
    head = (
        "CREATE UNIQUE INDEX " if definition.startswith("CREATE UNIQUE INDEX ") else "CREATE INDEX "
    )
    assert definition.startswith(head), definition
    return head + "CONCURRENTLY " + definition[len(head) :]


def _comments(live: Mapping[str, str | None], target: Mapping[str, str | None]) -> list[Change]:
    out = []
    for key in sorted(target):
        new = target[key]
        if live.get(key) != new and not (key not in live and new is None):
            value = "NULL" if new is None else "'" + new.replace("'", "''") + "'"
            out.append(Change("alter", "comment", key, f"COMMENT ON {key} IS {value}"))
    return out


@dataclass
class _Later:
    """Statements that run after the transaction, one by one, in this order of steps."""

    builds: list[Change] = field(default_factory=list)  # CREATE [UNIQUE] INDEX CONCURRENTLY
    attach: list[Change] = field(default_factory=list)  # ADD CONSTRAINT ... USING INDEX
    adds: list[Change] = field(default_factory=list)  # foreign keys into a key attached above
    validate: list[Change] = field(default_factory=list)  # VALIDATE CONSTRAINT
    finish: list[Change] = field(default_factory=list)  # SET NOT NULL once proven; helpers go

    def all(self) -> list[Change]:
        return self.builds + self.attach + self.adds + self.validate + self.finish


_VOLATILITY = {"VOLATILE": "v", "STABLE": "s", "IMMUTABLE": "i"}


class _Context:
    """What the hazards of a plan need: both snapshots, the rows and sizes at stake, and the
    live catalog for what a snapshot does not hold (casts, volatility, dependencies)."""

    def __init__(self, live: Snapshot, target: Snapshot) -> None:
        self.live, self.target = live, target
        self.a, self.b = live.inspector, target.inspector
        self.catalog = Catalog(live.rows.url)
        self.online_constraints: set[str] = set()  # unique keys attached after their build
        self.online_keys: dict[str, list[list[str]]] = {}  # table -> columns of those keys
        self.replaced: set[str] = set()  # constraints and triggers dropped and created again
        self.forgotten: set[str] = set()  # column defaults set again after their function
        # Columns going from serial to identity or back: column key -> its sequence's hand-over.
        self.handovers: dict[str, _Handover] = {}
        self._handled: set[str] | None = None

    def rows(self, table: str) -> int | None:
        """Rows at stake in a table; 0 for a table the live database does not have yet."""
        return self.live.rows.get(table) if table in self.a.tables else 0

    def stake(
        self,
        kind: HazardKind,
        message: str,
        table: str | None = None,
        objects: Iterable[str] = (),
    ) -> Hazard:
        """A hazard with what is at stake: the table's rows and size, objects by name."""
        if table is None or table not in self.a.tables:
            return Hazard(kind, message, objects=tuple(objects))
        return Hazard(
            kind, message, self.rows(table), self.live.rows.size(table), tuple(objects)
        )

    def volatile(self, expression: str) -> bool:
        """Whether a default calls a volatile function (unknown counts as volatile).

        The functions are looked up by name: in the target (what the plan creates), else in
        the live catalog's pg_proc.provolatile (built-ins such as now() or random()).
        """
        calls = sqlread.expression_calls(expression)
        if calls is None:
            return True
        declared = {f.name: _VOLATILITY.get(str(f.volatility)) for f in self.b.functions.values()}
        builtin = self.catalog.volatility(calls - set(declared))
        return any((declared.get(n) or builtin.get(n) or "v") == "v" for n in calls)

    def handled(self) -> set[str]:
        """Keys of what the plan itself drops, replaces or changes: never a hazard's dependent.

        Constraints, triggers and indexes as '"s"."t"."name"' / '"s"."name"', columns (their
        defaults) as '"s"."t"."column"', relations and functions as migra keys them.
        """
        if self._handled is None:
            a, b = self.a, self.b
            found = set(self.replaced) | set(self.forgotten)
            for attr in ("constraints", "triggers", "indexes", "selectables", "rlspolicies"):
                _, removed, modified, _ = differences(getattr(a, attr), getattr(b, attr))
                found |= set(removed) | set(modified)
            for key, t in a.tables.items():
                other = b.tables.get(key)
                for name, col in t.columns.items():
                    want = None if other is None else other.columns.get(name)
                    if want is None or want.default != col.default or (
                        want.dbtypestr != col.dbtypestr
                    ):
                        found.add(f"{key}.{_quoted(name)}")
            self._handled = found
        return self._handled

    def dependents(
        self, kind: str, schema: str, name: str, detail: str | None = None, own: str = ""
    ) -> tuple[list[str], list[str]]:
        """What depends on an object and is not taken care of by the plan, by name; and the
        keys of every dependent found (some still exist when the drop runs)."""
        found = self.catalog.dependents(kind, schema, name, detail)
        handled = self.handled()
        rest = [
            desc
            for desc, key in found
            if key is None or not (key in handled or (own and key.startswith(own + ".")))
        ]
        return rest, [key for _, key in found if key is not None]

    def extension_dependents(self, name: str) -> list[str]:
        """What uses a live extension's objects and is not taken care of by the plan."""
        handled = self.handled()
        return [
            desc
            for desc, key in self.catalog.extension_dependents(name)
            if key is None or key not in handled
        ]

    def dropped_along(self, what: str, dependents: list[str]) -> list[Hazard]:
        """The dependent_objects hazard of a drop (none when nothing depends on it)."""
        if not dependents:
            return []
        message = f"dropping {what} drops what depends on it (CASCADE)"
        return [Hazard(HazardKind.DEPENDENT_OBJECTS, message, objects=tuple(dependents))]

    def callers(self, name: str, schema: str) -> list[str]:
        """Who calls function `name` in the live database: function bodies (parsed),
        triggers, column defaults and checks."""
        a = self.a
        out = []
        for key, f in sorted(a.functions.items()):
            if f.name == name:
                continue
            calls = sqlread.body_calls(
                str(f.language), str(f.definition or ""), str(f.result_string), f.identity_arguments
            )
            if calls is not None and name in calls:
                out.append(f"function {key}")
        for key, tg in sorted(a.triggers.items()):
            if tg.proc_name == name and tg.proc_schema == schema:
                out.append(f"trigger {key}")
        for key, t in sorted(a.tables.items()):
            for c in t.columns.values():
                if c.default and name in (sqlread.expression_calls(c.default) or set()):
                    out.append(f"default of {key}.{c.quoted_name}")
        for key, con in sorted(a.constraints.items()):
            if con.constraint_type == "CHECK" and name in (
                sqlread.constraint_calls(con.definition) or set()
            ):
                out.append(f"constraint {key}")
        return out

    def function_drop(self, key: str) -> tuple[tuple[Hazard, ...], bool]:
        """The hazards of dropping live function `key`, and whether the drop must CASCADE."""
        f = self.a.selectables[key]
        hazards: list[Hazard] = []
        # Its successor: itself with a new return type, else a new overload of its name
        # (an overload the spec keeps is no successor: this one is just dropped).
        successor = self.b.functions.get(key) or next(
            (
                g
                for k, g in self.b.functions.items()
                if g.schema == f.schema and g.name == f.name and k not in self.a.functions
            ),
            None,
        )
        if successor is not None:
            hazards.append(
                Hazard(
                    HazardKind.FUNCTION_SIGNATURE_CHANGED,
                    f"{f.name}({f.identity_arguments}) returning {f.result_string} becomes "
                    f"{successor.name}({successor.identity_arguments}) returning "
                    f"{successor.result_string}: it is dropped and created again",
                    objects=tuple(self.callers(f.name, f.schema)),
                )
            )
        deps, keys = self.dependents("function", f.schema, f.name, f.identity_arguments)
        hazards += self.dropped_along(key, deps)
        return tuple(hazards), bool(deps) or bool(set(keys) & self.forgotten)


def _cascade(dependents: list[str]) -> str:
    return " cascade" if dependents else ""


def _replaced_function_names(a: Any, b: Any) -> set[str]:
    """Names of live functions the plan drops (gone, or changed beyond CREATE OR REPLACE)."""
    out = set()
    for key, f in a.functions.items():
        new = b.functions.get(key)
        if new is None or (new != f and not _replaceable(f, new)):
            out.add(f.name)
    return out


def _checks_calling(a: Any, b: Any, names: set[str]) -> set[str]:
    """Checks (kept by the spec) whose expression calls one of `names`: replaced with them."""
    if not names:
        return set()
    return {
        key
        for key, c in a.constraints.items()
        if c.constraint_type == "CHECK"
        and key in b.constraints
        and names & (sqlread.constraint_calls(c.definition) or set())
    }


def _forget_defaults_calling(a: Any, names: set[str]) -> set[str]:
    """Column defaults that call a function the plan drops go with it (CASCADE) and are set
    again once it is created: forget them in the live snapshot so the plan sets them."""
    forgotten = set()
    for key, t in a.tables.items():
        for name, c in t.columns.items():
            if names and c.default and names & (sqlread.expression_calls(c.default) or set()):
                c.default = None
                forgotten.add(f"{key}.{_quoted(name)}")
    return forgotten


# --- domains and composite types (our own reads: migra never diffs domains) ----------------


class _TypeChanges:
    """Domains and composite types the spec manages: created and changed before the tables
    (whose columns may use them), dropped after them. A change Postgres cannot make in place
    while columns use the type (a domain's base type, an attribute order) is named as an
    unsupported change, never planned as a drop that would take those columns along."""

    def __init__(self, ctx: _Context, later: _Later) -> None:
        self.ctx, self.later = ctx, later
        self.live, self.target = ctx.live, ctx.target
        self.drops: list[Change] = []
        self.unsupported: list[str] = []
        self.recreated: set[str] = set()  # COMMENT ON keys of types dropped and created again

    def before_tables(self) -> list[Change]:
        out: list[Change] = []
        calling = self._domains_calling_functions()
        for key, want in sorted(self.target.domains.items()):
            if key not in calling:  # those go after the functions: see after_functions
                out += self._domain_changes(key, want)
        for key, want_t in sorted(self.target.composites.items()):
            have_t = self.live.composites.get(key)
            if have_t is None:
                out.append(Change("create", "type", key, _composite_create(key, want_t)))
            elif have_t.attributes != want_t.attributes:
                out += self._composite_alters(key, have_t, want_t)
        for key, gone in sorted(self.live.domains.items()):
            if key not in self.target.domains:
                self.drops.append(self._drop("domain", key, gone.name))
        for key, gone_t in sorted(self.live.composites.items()):
            if key not in self.target.composites:
                self.drops.append(self._drop("type", key, gone_t.name))
        return out

    def after_functions(self) -> list[Change]:
        """Changes of the domains whose check or default calls a function the spec declares,
        after the functions created before the tables."""
        out: list[Change] = []
        for key in sorted(self._domains_calling_functions()):
            out += self._domain_changes(key, self.target.domains[key])
        return out

    def _domains_calling_functions(self) -> set[str]:
        functions = {f.name for f in self.target.inspector.functions.values()}
        out = set()
        for key, want in self.target.domains.items():
            calls = [sqlread.constraint_calls(definition) for _, definition, _ in want.checks]
            if want.default is not None:
                calls.append(sqlread.expression_calls(want.default))
            if any((c or set()) & functions for c in calls):
                out.add(key)
        return out

    def _domain_changes(self, key: str, want: DomainInfo) -> list[Change]:
        out: list[Change] = []
        have = self.live.domains.get(key)
        if have is None:
            out.append(Change("create", "domain", key, _domain_create(key, want)))
        elif (have.type, have.collation) != (want.type, want.collation):
            if have.used_by:
                self.unsupported.append(
                    f"unsupported change: domain {key} from {have.type} to {want.type} "
                    f"(used by {', '.join(have.used_by)}); change the columns first"
                )
                return out
            out.append(Change("drop", "domain", key, f"drop domain {key}"))
            out.append(Change("alter", "domain", key, _domain_create(key, want)))
            self.recreated.add(f"DOMAIN {self._comment_name(key)}")
        else:
            out += self._domain_alters(key, have, want)
        return out

    def _comment_name(self, key: str) -> str:
        schema, name = _split_key(key)
        return f"{quote(schema)}.{quote(name)}"

    def _drop(self, kind: str, key: str, name: str) -> Change:
        deps, _ = self.ctx.dependents("type", _split_key(key)[0], name)
        sql = f"drop {kind} {key}" + _cascade(deps)
        return Change("drop", kind, key, sql, hazards=tuple(self.ctx.dropped_along(key, deps)))

    def _rows_at_stake(self, used_by: tuple[str, ...]) -> bool:
        return any(self.ctx.rows(t) != 0 for t in used_by)

    def _domain_alters(self, key: str, have: DomainInfo, want: DomainInfo) -> list[Change]:
        out: list[Change] = []
        ctx = self.ctx

        def alter(sql: str, hazards: tuple[Hazard, ...] = ()) -> None:
            out.append(Change("alter", "domain", key, f"alter domain {key} {sql}", hazards=hazards))

        if have.default != want.default:
            alter(f"set default {want.default}" if want.default is not None else "drop default")
        if have.not_null and not want.not_null:
            alter("drop not null")
        have_checks = {n: (d, v) for n, d, v in have.checks}
        want_checks = {n: d for n, d, _ in want.checks}
        for name, (definition, _) in have_checks.items():
            if want_checks.get(name) != definition:
                alter(f"drop constraint {quote(name)}")
        stake = self._rows_at_stake(have.used_by)
        if want.not_null and not have.not_null:
            hz = tuple(
                ctx.stake(
                    HazardKind.NOT_NULL_ON_EXISTING_ROWS,
                    f"sets domain {key} NOT NULL: the columns of {t} using it are checked",
                    t,
                )
                for t in have.used_by
                if ctx.rows(t) != 0
            )
            alter("set not null", hz)
        for name, definition in want_checks.items():
            old = have_checks.get(name)
            if old is not None and old[0] == definition and old[1]:
                continue
            if old is None or old[0] != definition:
                if not stake:
                    alter(f"add constraint {quote(name)} {definition}")
                    continue
                alter(f"add constraint {quote(name)} {definition} not valid")
            self.later.validate.append(
                Change(
                    "alter",
                    "domain",
                    key,
                    f"alter domain {key} validate constraint {quote(name)}",
                    transactional=False,
                    hazards=tuple(
                        ctx.stake(
                            HazardKind.CONSTRAINT_VALIDATION,
                            f"validates check {name} of domain {key} on the existing rows of {t}",
                            t,
                        )
                        for t in have.used_by
                        if ctx.rows(t) != 0
                    ),
                    lock_timeout=LONG_TIMEOUT,
                    statement_timeout=LONG_TIMEOUT,
                )
            )
        return out

    def _composite_alters(
        self, key: str, have: CompositeInfo, want: CompositeInfo
    ) -> list[Change]:
        ctx = self.ctx
        old, new = dict(have.attributes), dict(want.attributes)
        kept = [a for a, _ in have.attributes if a in new]
        added = [a for a, _ in want.attributes if a not in old]
        if kept + added != [a for a, _ in want.attributes]:
            if have.used_by:
                self.unsupported.append(
                    f"unsupported change: type {key} attributes reordered (used by "
                    f"{', '.join(have.used_by)}); Postgres adds attributes at the end only"
                )
                return []
            self.recreated.add(f"TYPE {self._comment_name(key)}")
            return [
                Change("drop", "type", key, f"drop type {key}"),
                Change("alter", "type", key, _composite_create(key, want)),
            ]
        retyped = [a for a in kept if old[a] != new[a]]
        if retyped and have.used_by:
            # Postgres refuses ALTER ATTRIBUTE TYPE while a table column has the type.
            self.unsupported.append(
                f"unsupported change: type {key} attribute {retyped[0]} from {old[retyped[0]]} "
                f"to {new[retyped[0]]} (used by {', '.join(have.used_by)}); Postgres cannot "
                "change it while a column has the type"
            )
            return []
        cascade = " cascade" if have.used_by else ""
        out: list[Change] = []
        for a in [a for a, _ in have.attributes if a not in new]:
            hz = tuple(
                ctx.stake(HazardKind.DATA_LOSS, f"drops attribute {a} of {key} in {t}", t)
                for t in have.used_by
            )
            out.append(Change("alter", "type", key,
                              f"alter type {key} drop attribute {quote(a)}{cascade}", hazards=hz))
        for a in kept:
            if old[a] == new[a]:
                continue
            out.append(Change(
                "alter", "type", key, f"alter type {key} alter attribute {quote(a)} type {new[a]}"
            ))
        for a in added:
            out.append(Change("alter", "type", key,
                              f"alter type {key} add attribute {quote(a)} {new[a]}{cascade}"))
        return out


def _split_key(key: str) -> tuple[str, str]:
    """'"s"."n"' -> ('s', 'n'), quotes inside names undoubled."""
    parts: list[str] = []
    i = 0
    while i < len(key):
        assert key[i] == '"', key
        j, name = i + 1, ""
        while True:
            if key[j] == '"' and key[j + 1 : j + 2] == '"':
                name, j = name + '"', j + 2
            elif key[j] == '"':
                break
            else:
                name, j = name + key[j], j + 1
        parts.append(name)
        i = j + 2  # past the closing quote and the dot
    return parts[0], parts[-1]


def _domain_create(key: str, d: DomainInfo) -> str:
    parts = [f"create domain {key} as {d.type}"]
    if d.collation:
        parts.append(f"collate {quote(d.collation)}")
    if d.default is not None:
        parts.append(f"default {d.default}")
    if d.not_null:
        parts.append("not null")
    parts += [f"constraint {quote(name)} {definition}" for name, definition, _ in d.checks]
    return " ".join(parts)


def _composite_create(key: str, t: CompositeInfo) -> str:
    return f"create type {key} as ({', '.join(f'{quote(a)} {ty}' for a, ty in t.attributes)})"


# --- materialized views ---------------------------------------------------------------------


def _materialized_view_changes(ctx: _Context, planned: list[Change]) -> list[Change]:
    """migra creates, drops and replaces materialized views in dependency order (views
    beneath, tables whose columns change); here: their kind, WITH NO DATA, the hazard of
    recomputing one that readers use, their indexes, and REFRESH when only the data flag
    changes."""
    live, target = ctx.live, ctx.target
    if "materialized_views" not in target.manages:
        return planned
    matviews = set(target.matviews) | set(live.matviews)
    out: list[Change] = []
    made: set[str] = set()
    for c in planned:
        if c.kind == "view" and c.name in matviews:
            sql, hazards = c.sql, c.hazards
            if c.action != "drop":
                made.add(c.name)
                want = target.matviews.get(c.name)
                if want is not None and not want.populated:
                    sql += "\nwith no data"
                have = live.matviews.get(c.name)
                if have is not None and have.populated and want is not None and want.populated:
                    hazards += (
                        Hazard(
                            HazardKind.BLOCKING_LOCK,
                            f"recomputes materialized view {c.name} inside the transaction: "
                            "its readers wait until the query has run",
                        ),
                    )
            c = Change(c.action, "materialized view", c.name, sql, c.transactional, hazards,
                       c.lock_timeout, c.statement_timeout)
        out.append(c)
    for key, want in sorted(target.matviews.items()):
        have = live.matviews.get(key)
        if have is not None and key not in made and have.populated != want.populated:
            data = "" if want.populated else " with no data"
            out.append(Change("alter", "materialized view", key,
                              f"refresh materialized view {key}{data}"))
        have_ix = {} if have is None or key in made else dict(have.indexes)
        want_ix = dict(want.indexes)
        for name, definition in sorted(have_ix.items()):
            if want_ix.get(name) != definition:
                out.append(Change("drop", "index", name, f"drop index {name}"))
        for name, definition in sorted(want_ix.items()):
            if have_ix.get(name) != definition:
                out.append(Change("create", "index", name, definition))
    return out


# --- columns and constraints: generated columns, identity options, storage parameters --------


def _generation_changes(
    key: str, before: Any, after: Any, modified: Mapping[str, Any], ctx: _Context
) -> tuple[set[str], list[Change]]:
    """Generated columns whose expression or kind (stored, virtual) changes.

    Postgres 17+ changes an expression in place (SET EXPRESSION AS); before it, and for a
    change of kind, the column is dropped and added again, which loses nothing: its values
    are computed from the others. Returns the columns to drop and add, and the SET EXPRESSION
    statements.
    """
    regenerated: set[str] = set()
    out: list[Change] = []
    live_kinds, target_kinds = ctx.live.extras.generated, ctx.target.extras.generated
    for name in modified:
        c, old = after.columns[name], before.columns[name]
        if not (c.is_generated and old.is_generated):
            continue
        column = f"{key}.{c.quoted_name}"
        kind, old_kind = target_kinds.get(column, "s"), live_kinds.get(column, "s")
        if c.default == old.default and kind == old_kind:
            continue
        if kind != old_kind or ctx.live.extras.major < 17 or c.dbtypestr != old.dbtypestr:
            regenerated.add(name)
            continue
        hazards: tuple[Hazard, ...] = ()
        if kind == "s" and ctx.rows(key) != 0:
            hazards = (
                ctx.stake(
                    HazardKind.TABLE_REWRITE,
                    f"computes {column} again for every row: {key} is rewritten",
                    key,
                ),
            )
        out.append(
            Change(
                "alter",
                "column",
                column,
                f"alter table {key} alter column {c.quoted_name} set expression as ({c.default})",
                hazards=hazards,
            )
        )
    return regenerated, out


def _identity_sql(options: Mapping[str, str]) -> str:
    return " ".join(
        options["cycle"] if word == "cycle" else f"{word} {options[word]}" for word in options
    )


def _column_clause(table: str, c: Any, extras: RelationExtras) -> str:
    """A column as CREATE TABLE and ADD COLUMN write it: schemainspect's clause with what it
    leaves out (the collation in CREATE TABLE, identity options, VIRTUAL)."""
    column = f"{table}.{c.quoted_name}"
    x = f"{c.quoted_name} {c.dbtypestr}"
    if c.collation:
        x += f" collate {_quoted(c.collation)}"
    if c.is_identity:
        x += f" generated {'always' if c.is_identity_always else 'by default'} as identity"
        if column in extras.identity:
            x += f" ({_identity_sql(extras.identity[column])})"
    if c.not_null:
        x += " not null"
    if c.is_generated:
        kind = "virtual" if extras.generated.get(column) == "v" else "stored"
        x += f" generated always as ({c.default}) {kind}"
    elif c.default:
        x += f" default {c.default}"
    return x


def _create_table_sql(key: str, t: Any, extras: RelationExtras) -> str:
    """CREATE TABLE with every column as the spec has it, and its storage parameters."""
    if t.is_partitioning_child_table or t.partition_def or t.parent_table:
        return _sql(t.create_statement)  # partitions and inheritance: schemainspect's form
    columns = ",\n".join("    " + _column_clause(key, c, extras) for c in t.columns.values())
    storage = storage_of(extras, key)
    with_ = f" with ({_storage_list(storage)})" if storage else ""
    return f"create {t.persistence_modifier}table {key} (\n{columns}\n){with_}"


def _identity_options(
    key: str, before: Any, after: Any, added: set[str], ctx: _Context
) -> list[Change]:
    """ALTER COLUMN ... SET START WITH ... for identity columns whose options differ
    (migra compares only ALWAYS / BY DEFAULT). The current value is kept: a new start is
    where a RESTART would go, not a restart."""
    out: list[Change] = []
    for name, c in after.columns.items():
        column = f"{key}.{c.quoted_name}"
        want = ctx.target.extras.identity.get(column)
        if not c.is_identity or name in added or want is None:
            continue
        old = before.columns.get(name)
        if old is None or not old.is_identity:
            continue  # added with its options
        have = ctx.live.extras.identity.get(column, {})
        changed = {k: v for k, v in want.items() if have.get(k) != v}
        if not changed:
            continue
        sets = " ".join(
            f"set {v}" if k == "cycle" else f"set {k} {v}" for k, v in changed.items()
        )
        out.append(
            Change(
                "alter",
                "column",
                column,
                f"alter table {key} alter column {c.quoted_name} {sets}",
            )
        )
    return out


def storage_of(extras: RelationExtras, key: str) -> dict[str, str]:
    """Storage parameters of a relation, booleans spelled one way (Postgres keeps `off`)."""
    out = {}
    for name, value in extras.storage.get(key, {}).items():
        if name in BOOLEAN_STORAGE_PARAMETERS:
            value = {"on": "true", "yes": "true", "1": "true", "off": "false", "no": "false",
                     "0": "false"}.get(value.lower(), value.lower())
        out[name] = value
    return out


def _storage_list(options: Mapping[str, str]) -> str:
    return ", ".join(f"{name} = '{value}'" for name, value in options.items())


def _storage_changes(kind: str, key: str, ctx: _Context) -> list[Change]:
    """ALTER TABLE|INDEX ... SET (...) / RESET (...): storage parameters (migra ignores them).
    Both take a lock that lets reads and writes go on; the new values apply to new pages."""
    have, want = storage_of(ctx.live.extras, key), storage_of(ctx.target.extras, key)
    out = []
    changed = {k: v for k, v in want.items() if have.get(k) != v}
    if changed:
        out.append(Change("alter", kind, key, f"alter {kind} {key} set ({_storage_list(changed)})"))
    gone = sorted(set(have) - set(want))
    if gone:
        out.append(Change("alter", kind, key, f"alter {kind} {key} reset ({', '.join(gone)})"))
    return out


def _index_storage(ctx: _Context) -> list[Change]:
    """Storage parameters of indexes kept as they are (a new or rebuilt index has them)."""
    _, _, modified, _ = differences(ctx.a.indexes, ctx.b.indexes)
    out: list[Change] = []
    for key in sorted(set(ctx.a.indexes) & set(ctx.b.indexes) - set(modified)):
        out += _storage_changes("index", key, ctx)
    return out


# --- serial and identity columns: the sequence handed over ----------------------------------


@dataclass(frozen=True)
class _Handover:
    """A serial column made an identity, or an identity made a serial.

    Both sequences are named after the column (t_id_seq): the live one is renamed out of the
    way before the new one is made, so the new one gets the name a fresh build gives it
    (not t_id_seq1). The new one goes on from the old one's position, when the old one has
    given out values, so the rows' values are not handed out again; then the old one goes
    (an identity's with DROP IDENTITY).
    """

    old: str  # the live sequence under its temporary name
    rename: tuple[str, ...]
    setval: str
    drop: str | None  # a serial's sequence; an identity's goes with its column's identity
    skip: str | None  # migra's drop of the serial's sequence, replaced by `drop`


def _owned_sequence(i: Any, table: Any, column: Any) -> str | None:
    """The key of the sequence a serial column owns and its default takes values from."""
    if not column.default:
        return None
    read = sqlread.regclass_literals(column.default) or set()
    for key, seq in i.sequences.items():
        if (seq.schema, seq.table_name, seq.column_name) == (
            table.schema,
            table.name,
            column.name,
        ) and seq.name in read:
            return str(key)
    return None


def _go_on(new: str, old: str) -> str:
    """The new sequence (`new`: an expression for its name) goes on from the old one's value,
    when the old one has handed out values, and the new one counts up from a start below it
    (a `start` the spec gives above it is kept, as a fresh build has it)."""
    return (
        f"select setval(s.seqrelid, o.last_value) from {old} o, pg_sequence s"
        f" where s.seqrelid = ({new})::regclass and o.is_called and s.seqincrement > 0"
        " and o.last_value >= s.seqstart"
    )


def _handover_renames(ctx: _Context) -> list[Change]:
    """Finds the columns whose sequence is handed over (ctx.handovers), and renames each live
    sequence out of the new one's way, before any sequence is created."""
    for key, before in ctx.a.tables.items():
        after = ctx.b.tables.get(key)
        if after is None:
            continue
        for name, old in before.columns.items():
            c = after.columns.get(name)
            if c is None or c.is_generated or old.is_generated:
                continue
            column = f"{key}.{c.quoted_name}"
            digest = hashlib.sha256(column.encode()).hexdigest()[:12]
            temporary = f"schemadiff_seq_{digest}"
            old_name = _quoted(before.schema, temporary)
            if c.is_identity and not old.is_identity:
                seq = _owned_sequence(ctx.a, before, old)
                if seq is None or seq in ctx.b.sequences:
                    continue
                ctx.handovers[column] = _Handover(
                    old_name,
                    (
                        # Owned by the column, it would be what pg_get_serial_sequence finds.
                        f"alter sequence {seq} owned by none",
                        f"alter sequence {seq} rename to {_quoted(temporary)}",
                    ),
                    _go_on(
                        f"pg_get_serial_sequence({_literal(key)}, {_literal(name)})", old_name
                    ),
                    f"drop sequence {old_name}",
                    _sql(ctx.a.sequences[seq].drop_statement),
                )
            elif old.is_identity and not c.is_identity:
                seq = _owned_sequence(ctx.b, after, c)
                live = ctx.catalog.serial_sequence(key, name)
                if seq is None or seq in ctx.a.sequences or live is None:
                    continue
                ctx.handovers[column] = _Handover(
                    old_name,
                    (f"alter sequence {live} rename to {_quoted(temporary)}",),
                    _go_on(_literal(seq), old_name),
                    None,
                    None,
                )
    return [
        Change("rename", "sequence", h.old, sql, lock_timeout=CATALOG_LOCK_TIMEOUT)
        for h in ctx.handovers.values()
        for sql in h.rename
    ]
