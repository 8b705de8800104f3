"""seeds/<table>.yaml -> rows, validated against the spec and loaded in foreign-key order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import yaml

from schemadiff import spec as s
from schemadiff.errors import Location, Problem, SpecError
from schemadiff.model import qualified, quote
from schemadiff.spec import NodeReader


@dataclass
class SeedTable:
    table: str
    key: list[str]
    rows: list[dict[str, Any]]
    loc: Location


def load_seeds(directory: str | Path, spec: s.Spec) -> list[SeedTable]:
    """Every seed file of `directory`, checked against the spec, parents before children."""
    d = Path(directory)
    if not d.is_dir():
        return []
    problems: list[Problem] = []
    seeds: list[SeedTable] = []
    for path in sorted(d.glob("*.y*ml")):
        seed = _load_file(path, spec, problems)
        if seed is not None:
            seeds.append(seed)
    if problems:
        raise SpecError(problems)
    return _fk_order(seeds, spec)


def _load_file(path: Path, spec: s.Spec, problems: list[Problem]) -> SeedTable | None:
    reader = NodeReader(str(path))
    node = reader.compose(path.read_text(encoding="utf-8"))
    result = None
    table = spec.table(path.stem)
    if node is not None and table is None:
        reader.error(node, f"seed file for table '{path.stem}', which the spec does not declare")
    elif node is not None and table is not None:
        if table.primary_key is None:
            reader.error(node, f"table '{table.name}' has no primary key; seeds need one")
        elif not isinstance(node, yaml.SequenceNode):
            reader.error(node, "a seed file is a list of rows (each row '- {column: value}')")
        else:
            columns = [c.name for c in table.columns]
            rows = []
            for row_node in node.value:
                entries = reader.mapping(row_node, f"row of '{table.name}'", columns)
                if entries is None:
                    continue
                row = {k: reader.scalar(v) for k, (_, v) in entries.items()}
                missing = [k for k in table.primary_key.columns if k not in row]
                if missing:
                    reader.error(row_node, f"row of '{table.name}' lacks key {', '.join(missing)}")
                    continue
                rows.append(row)
            result = SeedTable(table.name, table.primary_key.columns, rows, reader.loc(node))
    problems.extend(reader.problems)
    return result


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


def insert_missing(conn: psycopg.Connection[Any], spec: s.Spec, seeds: list[SeedTable]) -> int:
    """Insert seed rows whose key is absent; returns how many rows were added."""
    added = 0
    with conn.transaction():
        for sd in seeds:
            for row in sd.rows:
                cols = list(row)
                sql = (
                    f"INSERT INTO {qualified(spec.schema, sd.table)} "
                    f"({', '.join(quote(c) for c in cols)}) VALUES "
                    f"({', '.join(['%s'] * len(cols))}) "
                    f"ON CONFLICT ({', '.join(quote(k) for k in sd.key)}) DO NOTHING"
                )
                cur = conn.execute(sql.encode(), [row[c] for c in cols])
                added += cur.rowcount
    return added
