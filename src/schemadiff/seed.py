"""seeds/<table>.yaml -> rows, validated against the spec, and the changes that load them.

A seed file is a list of rows (mappings column -> value) of one table, keyed by the table's
primary key. Values are typed by YAML (`5` is a number, `"5"` a string, `true` a boolean, a
mapping or list is JSON for json/jsonb columns, a list is an array for array columns) and are
checked against the column types when the files are read, with file:line:col.

`changes()` compares the rows with the live database and returns plain differ.Change objects
(kind "seed", name "<table> <key>") in execution order: deletions first (children before
parents), then inserts and updates (parents before children). Modes:
- insert: rows whose key is missing are inserted (INSERT ... ON CONFLICT (key) DO NOTHING);
- upsert: also, rows whose listed columns differ from the seed are updated (those columns only);
- sync: also, rows whose key is not in the seed file are deleted (hazard seed_rows_deleted).
Running any mode twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import yaml

from schemadiff import db
from schemadiff import spec as s
from schemadiff import types as ty
from schemadiff.differ import Change
from schemadiff.errors import DatabaseError, Location, Problem, SchemadiffError, SpecError
from schemadiff.hazards import Hazard, HazardKind
from schemadiff.progress import Progress
from schemadiff.spec import NodeReader
from schemadiff.sqltext import qualified, quote, string_literal

if TYPE_CHECKING:
    from schemadiff.plan import Plan

MODES = ("insert", "upsert", "sync")
SEEDS_DIR = "seeds"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_PLAIN_DECIMAL = re.compile(r"^[-+]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][-+]?\d+)?$")
_JSON = {"json", "jsonb"}
_SETVAL = "SELECT setval"


@dataclass
class SeedTable:
    table: str
    key: list[str]
    rows: list[dict[str, Any]]
    loc: Location


def default_dir(spec: s.Spec) -> Path | None:
    """`seeds/` next to the spec file, when both exist (a spec parsed from text has none)."""
    path = Path(spec.path)
    if not path.is_file():
        return None
    d = path.parent / SEEDS_DIR
    return d if d.is_dir() else None


def load_seeds(
    directory: str | Path, spec: s.Spec, progress: Progress | None = None
) -> list[SeedTable]:
    """Every seed file of `directory`, checked against the spec, parents before children."""
    progress = progress or Progress()
    d = Path(directory)
    if not d.is_dir():
        progress.detail(f"seeds: no directory {d}, no seed rows")
        return []
    problems: list[Problem] = []
    seeds: list[SeedTable] = []
    files = sorted(d.glob("*.y*ml"))
    with (
        progress.phase(f"reading {d}/"),
        progress.counter("reading seed file", len(files)) as n,
    ):
        for path in files:
            n.step(path.name)
            seed = _load_file(path, spec, problems)
            if seed is not None:
                seeds.append(seed)
    if problems:
        raise SpecError(problems)
    rows = sum(len(sd.rows) for sd in seeds)
    progress.detail(f"seeds: {rows} row{'s' if rows != 1 else ''} of {len(seeds)} tables from {d}")
    return _fk_order(seeds, spec)


def _load_file(path: Path, spec: s.Spec, problems: list[Problem]) -> SeedTable | None:
    reader = NodeReader(str(path))
    node = reader.compose(path.read_text(encoding="utf-8"))
    result = None
    table = spec.table(path.stem)
    enums = {e.name: e.values for e in spec.enums}
    if node is not None and table is None:
        reader.error(node, f"seed file for table '{path.stem}', which the spec does not declare")
    elif node is not None and table is not None:
        if table.primary_key is None:
            reader.error(node, f"table '{table.name}' has no primary key; seeds need one")
        elif not isinstance(node, yaml.SequenceNode):
            reader.error(node, "a seed file is a list of rows (each row '- {column: value}')")
        else:
            key = table.primary_key.columns
            columns = [c.name for c in table.columns]
            rows: list[dict[str, Any]] = []
            seen: dict[tuple[str, ...], int] = {}
            for row_node in node.value:
                entries = reader.mapping(row_node, f"row of '{table.name}'", columns)
                if entries is None:
                    continue
                row: dict[str, Any] = {}
                ok = True
                for name, (_, value_node) in entries.items():
                    column = table.column(name)
                    assert column is not None
                    value = _value(reader, value_node)
                    problem = _check_value(column, value, name in key, enums)
                    if problem:
                        reader.error(value_node, f"{table.name}.{name}: {problem}")
                        ok = False
                    row[name] = value
                missing = [k for k in key if k not in row]
                if missing:
                    reader.error(row_node, f"row of '{table.name}' lacks key {', '.join(missing)}")
                    continue
                if not ok:
                    continue
                ident = tuple(_text(row[k]) for k in key)
                line = row_node.start_mark.line + 1
                if ident in seen:
                    reader.error(
                        row_node,
                        f"row of '{table.name}': duplicate key {key_text(list(ident))} "
                        f"(first at line {seen[ident]})",
                    )
                    continue
                seen[ident] = line
                rows.append(row)
            result = SeedTable(table.name, key, rows, reader.loc(node))
    problems.extend(reader.problems)
    return result


def _value(reader: NodeReader, node: yaml.Node) -> Any:
    """A YAML value; plain decimal numbers become Decimal (exact: `5.00` stays 5.00)."""
    if isinstance(node, yaml.ScalarNode) and node.tag == _FLOAT_TAG:
        text = str(node.value)
        if _PLAIN_DECIMAL.match(text):
            return Decimal(text.replace("_", ""))
    return reader.scalar(node)


def _check_value(column: s.Column, value: Any, is_key: bool, enums: dict[str, list[str]]) -> str:
    """'' when `value` fits the column, else what is wrong."""
    if value is None:
        if is_key:
            return "a primary key column cannot be null"
        if not column.nullable:
            return "the column is NOT NULL; give a value or leave the column out"
        return ""
    type_ = column.type
    base = ty.base_name(type_)
    number = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if base in _JSON:
        return ""
    if ty.is_array(type_):
        if isinstance(value, list):
            return ""
        return f"the column is {type_}; write a list, e.g. [a, b]"
    if type_ in enums:
        if isinstance(value, str) and value in enums[type_]:
            return ""
        return f"{_show(value)} is not a label of enum {type_}: {', '.join(enums[type_])}"
    if base in ty.BOOLEAN:
        return "" if isinstance(value, bool) else f"{_show(value)} is not a boolean (true/false)"
    if base in ty.INTEGER | ty.SERIAL:
        if isinstance(value, int) and not isinstance(value, bool):
            return ""
        return f"{_show(value)} is not an integer (the column is {type_})"
    if base in ty.NUMERIC:
        return "" if number else f"{_show(value)} is not a number (the column is {type_})"
    if base in ty.DATETIME:
        if isinstance(value, str | dt.date | dt.time):
            return ""
        return f"{_show(value)} is not a date/time; write e.g. 2024-01-31 or '2024-01-31 12:00Z'"
    if base == "bytea" and isinstance(value, bytes):
        return ""
    if isinstance(value, str):
        return ""
    return f"{_show(value)} is not a string (the column is {type_}); quote it"


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else json.dumps(_plain(value))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _fk_order(seeds: list[SeedTable], spec: s.Spec) -> list[SeedTable]:
    by_name = {sd.table: sd for sd in seeds}
    ordered: list[SeedTable] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name not in by_name or by_name[name] in ordered or name in visiting:
            return
        visiting.add(name)
        table = spec.table(name)
        assert table is not None
        for fk in table.foreign_keys:
            if fk.ref_table != name:
                visit(fk.ref_table)
        ordered.append(by_name[name])

    for sd in seeds:
        visit(sd.table)
    return ordered


# -- SQL text ---------------------------------------------------------------------------------


def literal(value: Any, type_: str) -> str:
    """A seed value as SQL literal text for a column of `type_` (Postgres coerces it)."""
    if value is None:
        return "NULL"
    base = ty.base_name(type_)
    if base in _JSON:
        return string_literal(json.dumps(_plain(value), ensure_ascii=False))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else string_literal(str(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "'NaN'"
        if math.isinf(value):
            return "'Infinity'" if value > 0 else "'-Infinity'"
        return repr(value)
    if isinstance(value, dt.date | dt.time):
        return string_literal(value.isoformat())
    if isinstance(value, bytes):
        return string_literal("\\x" + value.hex())
    if isinstance(value, list):
        return string_literal(_array_text(value))
    return string_literal(str(value))


def _array_text(values: list[Any]) -> str:
    """A Postgres array literal: {"a","b",NULL}, nested lists as nested braces."""
    parts = []
    for v in values:
        if v is None:
            parts.append("NULL")
        elif isinstance(v, list):
            parts.append(_array_text(v))
        else:
            text = _text(v)
            parts.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def key_text(values: list[Any]) -> str:
    """'default' for one key column, '(deepseek, default)' for several."""
    texts = [_text(v) for v in values]
    return texts[0] if len(texts) == 1 else "(" + ", ".join(texts) + ")"


def _where(key: list[str], values: list[Any], types: dict[str, str]) -> str:
    pairs = zip(key, values, strict=True)
    return " AND ".join(f"{quote(k)} = {literal(v, types[k])}" for k, v in pairs)


# -- comparing with the live database ----------------------------------------------------------


def _live_types(conn: psycopg.Connection[Any], schema: str, table: str) -> dict[str, str]:
    """Column -> type as Postgres prints it; {} when the table does not exist."""
    rows = conn.execute(
        """select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a
            where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped""",
        (qualified(schema, table),),
    ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def _distinct(left: str, right: str, type_: str) -> str:
    """`left IS DISTINCT FROM right` for a type, also those without an equality operator."""
    base = ty.base_name(type_)
    if base == "json":
        return f"{left}::jsonb IS DISTINCT FROM {right}::jsonb"
    if base in {"xml", "point", "line", "lseg", "box", "path", "polygon", "circle"}:
        return f"{left}::text IS DISTINCT FROM {right}::text"
    return f"{left} IS DISTINCT FROM {right}"


def changes(
    conn: psycopg.Connection[Any],
    spec: s.Spec,
    seeds: list[SeedTable],
    mode: str = "insert",
    missing_tables_ok: bool = False,
) -> list[Change]:
    """The seed changes against the live rows, in execution order.

    `missing_tables_ok`: a seeded table that does not exist yet (a plan creates it) gets every
    row inserted; otherwise it is an error (run apply first).
    """
    if mode not in MODES:
        raise SchemadiffError(f"unknown seed mode '{mode}'; valid modes: {', '.join(MODES)}")
    deletes: list[Change] = []
    writes: list[Change] = []
    try:
        for sd in seeds:
            spec_types = {c.name: c.type for c in spec.table(sd.table).columns}  # type: ignore[union-attr]
            live = _live_types(conn, spec.schema, sd.table)
            listed = sorted({c for row in sd.rows for c in row}, key=list(spec_types).index)
            if not live or any(k not in live for k in sd.key):
                if not missing_tables_ok:
                    raise SchemadiffError(
                        f"table {sd.table} (or its key columns) does not exist in the database "
                        "yet; run `schemadiff apply` first"
                    )
                writes += [_insert(spec, sd, row, spec_types) for row in sd.rows]
                writes += _sequences(spec, sd, sd.rows)
                continue
            absent = [c for c in listed if c not in live]
            if absent and mode != "insert":
                raise SchemadiffError(
                    f"table {sd.table} has no column {', '.join(absent)} in the database yet; "
                    "run `schemadiff apply` first"
                )
            compare = [] if mode == "insert" else [c for c in listed if c not in sd.key]
            found = _existing(conn, spec, sd, live, compare)
            inserted = []
            for i, row in enumerate(sd.rows):
                if i not in found:
                    writes.append(_insert(spec, sd, row, live))
                    inserted.append(row)
                    continue
                differing = [c for c in found[i] if c in row]
                if differing:
                    writes.append(_update(spec, sd, row, differing, live))
            writes += _sequences(spec, sd, inserted)
            if mode == "sync":
                deletes = _deletes(conn, spec, sd, live) + deletes  # children first
    except psycopg.Error as e:
        raise DatabaseError(f"cannot read the seeded tables: {str(e).strip()}") from None
    return deletes + writes


def _insert(spec: s.Spec, sd: SeedTable, row: dict[str, Any], types: dict[str, str]) -> Change:
    cols = list(row)
    return Change(
        "create",
        "seed",
        f"{sd.table} {key_text([row[k] for k in sd.key])}",
        f"INSERT INTO {qualified(spec.schema, sd.table)} ({', '.join(quote(c) for c in cols)}) "
        f"VALUES ({', '.join(literal(row[c], types[c]) for c in cols)}) "
        f"ON CONFLICT ({', '.join(quote(k) for k in sd.key)}) DO NOTHING",
    )


def _sequences(spec: s.Spec, sd: SeedTable, inserted: list[dict[str, Any]]) -> list[Change]:
    """Serial columns the inserted rows set explicitly: move their sequence past the rows.

    Otherwise the application's next insert would draw a value a seed row already holds.
    The sequence never moves backwards (GREATEST with its last value).
    """
    table = spec.table(sd.table)
    assert table is not None
    out = []
    for column in table.columns:
        if not ty.is_serial(column.type) or not any(column.name in row for row in inserted):
            continue
        name = qualified(spec.schema, sd.table)
        seq = f"pg_get_serial_sequence({string_literal(name)}, {string_literal(column.name)})"
        out.append(
            Change(
                "alter",
                "seed",
                f"{sd.table} {column.name} sequence",
                f"{_SETVAL}({seq}, GREATEST((SELECT max({quote(column.name)}) FROM {name}), "
                f"pg_sequence_last_value({seq}::regclass), 1))",
            )
        )
    return out


def _update(
    spec: s.Spec, sd: SeedTable, row: dict[str, Any], cols: list[str], types: dict[str, str]
) -> Change:
    values = [row[k] for k in sd.key]
    sets = ", ".join(f"{quote(c)} = {literal(row[c], types[c])}" for c in cols)
    return Change(
        "alter",
        "seed",
        f"{sd.table} {key_text(values)}",
        f"UPDATE {qualified(spec.schema, sd.table)} SET {sets} "
        f"WHERE {_where(sd.key, values, types)}",
    )


def _existing(
    conn: psycopg.Connection[Any],
    spec: s.Spec,
    sd: SeedTable,
    live: dict[str, str],
    compare: list[str],
) -> dict[int, list[str]]:
    """Seed row index -> the compared columns whose live value differs, for rows that exist."""
    if not sd.rows:
        return {}
    cols = sd.key + compare
    values = ", ".join(
        "("
        + ", ".join(
            [str(i)]
            + [f"CAST({literal(row.get(c), live[c])} AS {live[c]})" for c in cols]
        )
        + ")"
        for i, row in enumerate(sd.rows)
    )
    aliases = ", ".join(f"c{j}" for j in range(len(cols)))
    on = " AND ".join(f"t.{quote(k)} = v.c{j}" for j, k in enumerate(sd.key))
    diffs = [
        _distinct(f"t.{quote(c)}", f"v.c{j}", live[c])
        for j, c in enumerate(cols)
        if j >= len(sd.key)
    ]
    select = ", ".join(["v.i", *diffs])
    sql = (
        f"SELECT {select} FROM (VALUES {values}) AS v(i, {aliases}) "
        f"JOIN {qualified(spec.schema, sd.table)} t ON {on}"
    )
    out: dict[int, list[str]] = {}
    for r in conn.execute(sql.encode()).fetchall():
        out[int(r[0])] = [c for c, differs in zip(compare, r[1:], strict=True) if differs]
    return out


def _deletes(
    conn: psycopg.Connection[Any], spec: s.Spec, sd: SeedTable, live: dict[str, str]
) -> list[Change]:
    """Rows of a seeded table whose key the seed file does not list."""
    table = qualified(spec.schema, sd.table)
    keys = ", ".join(f"t.{quote(k)}::text" for k in sd.key)
    order = ", ".join(f"t.{quote(k)}" for k in sd.key)
    sql = f"SELECT {keys} FROM {table} t"
    if sd.rows:
        values = ", ".join(
            "(" + ", ".join(f"CAST({literal(row[k], live[k])} AS {live[k]})" for k in sd.key) + ")"
            for row in sd.rows
        )
        aliases = ", ".join(f"c{j}" for j in range(len(sd.key)))
        on = " AND ".join(f"t.{quote(k)} = v.c{j}" for j, k in enumerate(sd.key))
        sql += f" WHERE NOT EXISTS (SELECT 1 FROM (VALUES {values}) AS v({aliases}) WHERE {on})"
    sql += f" ORDER BY {order}"
    out = []
    for r in conn.execute(sql.encode()).fetchall():
        texts = [str(v) for v in r]
        where = " AND ".join(
            f"{quote(k)} = {string_literal(v)}" for k, v in zip(sd.key, texts, strict=True)
        )
        name = f"{sd.table} {key_text(texts)}"
        out.append(
            Change(
                "drop",
                "seed",
                name,
                f"DELETE FROM {table} WHERE {where}",
                hazards=(
                    Hazard(
                        HazardKind.SEED_ROWS_DELETED,
                        f"deletes row {name}, which seeds/{sd.table}.yaml does not list",
                        1,
                    ),
                ),
            )
        )
    return out


def counts(seeds: list[SeedTable], found: list[Change]) -> dict[str, dict[str, int]]:
    """Table -> {'create': inserts, 'alter': updates, 'drop': deletes}, in seed order."""
    out = {sd.table: {"create": 0, "alter": 0, "drop": 0} for sd in seeds}
    for c in found:
        if c.kind != "seed" or c.sql.startswith(_SETVAL):
            continue
        for sd in seeds:
            if c.name.startswith(sd.table + " "):
                out[sd.table][c.action] += 1
                break
    return out


def summary(seeds: list[SeedTable], found: list[Change], done: bool) -> list[str]:
    """'users: 1 inserted, 0 updated, 0 deleted' per table (or 'to insert' before running)."""
    words = ("inserted", "updated", "deleted") if done else ("to insert", "to update", "to delete")
    return [
        f"{table}: {n['create']} {words[0]}, {n['alter']} {words[1]}, {n['drop']} {words[2]}"
        for table, n in counts(seeds, found).items()
    ]


def seed_plan(spec: s.Spec, url: str, seeds: list[SeedTable], mode: str) -> Plan:
    """The seed changes of `mode` as a Plan, for the one executor (apply.apply_plan)."""
    from schemadiff.plan import Plan, spec_hash

    with db.connection(url) as conn:
        major = db.server_major(conn)
        found = changes(conn, spec, seeds, mode)
    return Plan(
        db.redact_url(url) or "(libpq PG* settings)",
        major,
        spec_hash(spec),
        f"seed:{mode}",
        found,
    )


def insert_missing(conn: psycopg.Connection[Any], spec: s.Spec, seeds: list[SeedTable]) -> int:
    """Insert seed rows whose key is absent, in one transaction; returns how many were added."""
    added = 0
    with conn.transaction():
        for c in changes(conn, spec, seeds, "insert"):
            rows = conn.execute(c.sql.encode()).rowcount
            added += 0 if c.sql.startswith(_SETVAL) else rows
    return added
