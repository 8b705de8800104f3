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
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from schemadiff._migra import Changes as MigraChanges
from schemadiff._migra import (
    differences,
    get_enum_modifications,
    get_inspector,
    get_selectable_differences,
    statements_from_differences,
)
from schemadiff.db import TableRows
from schemadiff.hazards import Hazard, HazardKind

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


@dataclass(frozen=True)
class Change:
    """One statement of a plan: what it does to which object, and its hazards."""

    action: str  # create | alter | drop
    kind: str  # table | column | index | constraint | function | trigger | comment | ...
    name: str
    sql: str
    transactional: bool = True
    hazards: tuple[Hazard, ...] = ()


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


def snapshot(
    sa_conn: Any,
    schema: str,
    comments: dict[str, str | None],
    rows: TableRows,
    other_schemas: Iterable[str] = (),
) -> Snapshot:
    """Inspect one database (one schema of it); remove and name what the spec cannot express."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inspector = get_inspector(sa_conn, schema=schema)
    unmanaged = [f"schema {s} (only schema '{schema}' is managed)" for s in other_schemas]
    unmanaged += _remove_unmanaged(inspector)
    # Detach from the connection: a snapshot is plain data (and can be cached on disk).
    inspector.c = inspector.engine = inspector.dialect = None
    return Snapshot(inspector, comments, rows, unmanaged)


def _remove_unmanaged(i: Any) -> list[str]:
    """Objects of kinds the spec cannot express: left alone, listed by name."""
    found: list[str] = []

    def take(attr: str, label: str, keep: Any = lambda v: False) -> None:
        things = getattr(i, attr)
        for key in list(things):
            if not keep(things[key]):
                found.append(f"{label} {key}")
                del things[key]
                i.selectables.pop(key, None)
                i.relations.pop(key, None)

    take("views", "view")
    take("materialized_views", "materialized view")
    take("composite_types", "composite type")
    take("domains", "domain")
    take("rlspolicies", "policy")
    take("collations", "collation")
    take("sequences", "sequence", keep=lambda s: bool(s.quoted_table_and_column_name))
    take("functions", "routine", keep=lambda f: getattr(f, "kind", "f") == "f")
    for key in [k for k, t in i.tables.items() if t.is_partitioned or t.parent_table]:
        found.append(f"partitioned table {key}")
        del i.tables[key]
        i.selectables.pop(key, None)
        i.relations.pop(key, None)
    for key in [k for k, ix in i.indexes.items() if f"{ix.quoted_full_table_name}" not in i.tables]:
        del i.indexes[key]
    for key in [k for k, c in i.constraints.items() if c.quoted_full_table_name not in i.tables]:
        del i.constraints[key]
    for key in [k for k, t in i.triggers.items() if t.quoted_full_selectable_name not in i.tables]:
        del i.triggers[key]
    return sorted(found)


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
    ):
        for key, obj in sorted(getattr(i, attr).items()):
            parts.append(f"{attr}|{key}|{_definition(obj)}")
    parts += [f"comment|{k}|{v}" for k, v in sorted(snap.comments.items())]
    parts += sorted(extra)
    return "sha256:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _definition(obj: Any) -> str:
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


def diff(live: Snapshot, target: Snapshot) -> Diff:
    """The changes that turn `live` into `target`, in an order Postgres accepts."""
    a, b = live.inspector, target.inspector
    ch = MigraChanges(a, b)
    out: list[Change] = []

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
    add(ch.extensions(creations_only=True, modifications=False), "create", "extension")
    add(ch.extensions(modifications_only=True, modifications=True), "alter", "extension")
    add(ch.enums(creations_only=True, modifications=False), "create", "enum")
    add(ch.sequences(creations_only=True), "create", "sequence")
    out += _simple("trigger", a.triggers, b.triggers, drops=True)
    rebuilt_fks = _fks_on_replaced_unique_indexes(a, b)
    out += _simple("constraint", _non_pk(a), _non_pk(b), drops=True, also=rebuilt_fks)
    out += _selectables(a, b, drops=True)
    out += _simple("constraint", _pk(a), _pk(b), drops=True)
    out += _simple("index", a.indexes, b.indexes, drops=True)
    out += _early_functions(a, b)
    out += _tables(live, target)
    add(ch.sequences(drops_only=True), "drop", "sequence")
    out += _enum_drops(a, b)
    add(ch.extensions(drops_only=True, modifications=False), "drop", "extension")
    out += _index_creations(live, target)
    out += _simple("constraint", _pk(a), _pk(b), creations=True)
    out += _simple("constraint", _non_pk(a), _non_pk(b), creations=True, also=rebuilt_fks)
    out += _selectables(a, b, creations=True, skip=_early_function_keys(a, b))
    out += _simple("trigger", a.triggers, b.triggers, creations=True)
    add(ch.schemas(drops_only=True), "drop", "schema")
    out += _comments(live.comments, target.comments)
    out = _without_redundant_drops(out, a, b)
    # Statements run in order; the transactional ones first in one transaction, then the rest.
    return Diff(
        [c for c in out if c.transactional] + [c for c in out if not c.transactional],
        live.unmanaged,
    )


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
    return {
        k
        for k, v in list(added.items()) + list(modified.items())
        if v.relationtype == "f" and not (set(getattr(v, "dependent_on", [])) & pending)
    }


def _replaceable(old: Any, new: Any) -> bool:
    """True when CREATE OR REPLACE turns `old` into `new` (migra misses a new return type)."""
    return bool(new.can_replace(old)) and getattr(new, "result_string", None) == getattr(
        old, "result_string", None
    )


def _early_functions(a: Any, b: Any) -> list[Change]:
    keys = _early_function_keys(a, b)
    if not keys:
        return []
    out = [Change("alter", "setting", "", "SET LOCAL check_function_bodies = off")]
    for key in sorted(keys):
        action = "alter" if key in a.selectables else "create"
        out.append(Change(action, "function", key, _sql(b.selectables[key].create_statement)))
    return out


def _selectables(
    a: Any, b: Any, drops: bool = False, creations: bool = False, skip: set[str] | None = None
) -> list[Change]:
    """Functions (and any other selectable but tables), in migra's dependency order."""
    sel_a = OrderedDict(sorted(a.selectables.items()))
    sel_b = OrderedDict(sorted(b.selectables.items()))
    (_, _, _, _, _, added, removed, modified, replaceable) = get_selectable_differences(
        sel_a, sel_b, a.enums, b.enums, True
    )
    skip = skip or set()
    replaceable = {k for k in replaceable if _replaceable(sel_a[k], sel_b[k])}
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
        action = "drop" if drops else ("alter" if key in modified else "create")
        out.append(Change(action, kind, key, _sql(sql)))
    return out


def _tables(live: Snapshot, target: Snapshot) -> list[Change]:
    """Tables and their columns, each statement with the hazards it carries."""
    a, b = live.inspector, target.inspector
    added, removed, modified, _ = differences(a.tables, b.tables)
    out: list[Change] = []
    for key, t in removed.items():
        rows = live.rows.get(key)
        out.append(
            Change(
                "drop",
                "table",
                key,
                _sql(t.drop_statement),
                hazards=(Hazard(HazardKind.DATA_LOSS, f"drops table {key} and its rows", rows),),
            )
        )
    enums_pre, enums_post = get_enum_modifications(
        a.tables, b.tables, a.enums, b.enums, return_tuple=True
    )
    _, _, enums_changed, _ = differences(a.enums, b.enums)
    enum_hazards = tuple(
        Hazard(HazardKind.ENUM_VALUE_REMOVED, f"enum {k} loses {', '.join(removed_labels)}")
        for k, e in enums_changed.items()
        if (removed_labels := [x for x in a.enums[k].elements if x not in e.elements])
    )
    out += [Change("alter", "enum", "", _sql(s), hazards=enum_hazards) for s in enums_pre]
    for key, t in added.items():
        out.append(Change("create", "table", key, _sql(t.create_statement)))
        if t.rowsecurity:
            out.append(Change("alter", "table", key, _sql(t.alter_rls_statement)))
    out += [Change("alter", "enum", "", _sql(s)) for s in enums_post]
    for key, t in modified.items():
        out += _table_alters(key, a.tables[key], t, live.rows.get(key))
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


def _table_alters(key: str, before: Any, after: Any, rows: int | None) -> list[Change]:
    out: list[Change] = []
    if after.is_unlogged != before.is_unlogged:
        out.append(Change("alter", "table", key, _sql(after.alter_unlogged_statement)))
    c_added, c_removed, c_modified, _ = differences(before.columns, after.columns)
    for name in list(c_modified):
        c, old = after.columns[name], before.columns[name]
        if c.is_generated != old.is_generated and not (
            not c.is_generated and old.can_drop_generated
        ):
            # A column cannot be altered into or out of generated: drop and add it again.
            del c_modified[name]
            c_removed[name], c_added[name] = old, c
    for c in c_removed.values():
        out.append(
            Change(
                "drop",
                "column",
                f"{key}.{c.quoted_name}",
                _sql(after.alter_table_statement(c.drop_column_clause)),
                hazards=(
                    Hazard(HazardKind.DATA_LOSS, f"drops column {key}.{c.quoted_name}", rows),
                ),
            )
        )
    for c in c_added.values():
        hazards: tuple[Hazard, ...] = ()
        if c.not_null and not c.default and not c.is_identity and rows:
            hazards = (
                Hazard(
                    HazardKind.NOT_NULL_ON_EXISTING_ROWS,
                    f"adds NOT NULL column {c.quoted_name} without a default to a table with rows",
                    rows,
                ),
            )
        out.append(
            Change(
                "create",
                "column",
                f"{key}.{c.quoted_name}",
                _sql(after.alter_table_statement(c.add_column_clause)),
                hazards=hazards,
            )
        )
    for name, c in c_modified.items():
        out += _column_alters(key, c, before.columns[name], rows)
    if after.rowsecurity != before.rowsecurity:
        out.append(Change("alter", "table", key, _sql(after.alter_rls_statement)))
    return out


def _column_alters(table: str, c: Any, old: Any, rows: int | None) -> list[Change]:
    """The same clauses, in the same order, as schemainspect's alter_clauses, one per Change."""
    name = f"{table}.{c.quoted_name}"
    clauses: list[tuple[str, tuple[Hazard, ...]]] = []
    not_null_added = c.not_null and not old.not_null
    not_null_dropped = old.not_null and not c.not_null
    if c.default != old.default:
        clauses.append((c.alter_default_clause_or_generated(old), ()))
    if not_null_added:
        hz = (
            (Hazard(HazardKind.NOT_NULL_ON_EXISTING_ROWS, f"sets {name} NOT NULL", rows),)
            if rows != 0
            else ()
        )
        clauses.append((c.alter_not_null_clause, hz))
    if c.is_identity != old.is_identity or c.is_identity_always != old.is_identity_always:
        clauses.append((c.alter_identity_clause(old), ()))
    if not_null_dropped:
        clauses.append((c.alter_not_null_clause, ()))
    if c.dbtypestr != old.dbtypestr or c.collation != old.collation:
        clause = c.alter_enum_type_clause if c.is_enum and old.is_enum else c.alter_data_type_clause
        hz = ()
        if not _is_widening(old.dbtypestr, c.dbtypestr):
            hz = (
                Hazard(
                    HazardKind.DATA_LOSS,
                    f"changes {name} from {old.dbtypestr} to {c.dbtypestr}; values that do "
                    "not fit are rejected or truncated",
                    rows,
                ),
            )
        clauses.append((clause, hz))
    return [
        Change("alter", "column", name, f"alter table {table} {clause}", hazards=hz)
        for clause, hz in clauses
    ]


def _is_widening(old: str, new: str) -> bool:
    """True when every value of type `old` fits `new` unchanged."""
    ob, om = _split_type(old)
    nb, nm = _split_type(new)
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


def _split_type(t: str) -> tuple[str, list[int]]:
    base, _, rest = t.partition("(")
    mods = [int(x) for x in rest.rstrip(")").split(",") if x.strip().lstrip("-").isdigit()]
    return base.strip(), mods


def _enum_drops(a: Any, b: Any) -> list[Change]:
    _added, removed, _, _ = differences(a.enums, b.enums)
    return [Change("drop", "enum", k, _sql(a.enums[k].drop_statement)) for k in removed]


def _index_creations(live: Snapshot, target: Snapshot) -> list[Change]:
    """New indexes; on a table that exists already, built CONCURRENTLY outside the transaction.

    An index that backs a new constraint stays in the transaction, since the constraint that
    uses it is added there.
    """
    a, b = live.inspector, target.inspector
    added, _, modified, _ = differences(a.indexes, b.indexes)
    out: list[Change] = []
    for key in list(added) + list(modified):
        ix = b.indexes[key]
        table = ix.quoted_full_table_name
        existing = table in a.tables
        if existing and not ix.constraint and not ix.is_pk:
            sql = _concurrently(ix.definition)
            rows = live.rows.get(table)
            hz = (
                (Hazard(HazardKind.INDEX_BUILD, f"builds {key} on {table}", rows),)
                if rows != 0
                else ()
            )
            out.append(Change("create", "index", key, sql, transactional=False, hazards=hz))
        else:
            out.append(Change("create", "index", key, _sql(ix.create_statement)))
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
