"""Random specs for the property tests, as plain dicts written out as YAML.

The generator knows only the spec format (docs/spec.md), none of schemadiff's internals: a spec
is a dict, dumped to YAML text and read back with parse_spec like any user's file.

Names come from small fixed pools, so two specs drawn one after the other share tables and
columns: the second one alters the first one's objects instead of only dropping and creating.
A column's name fixes its type family (n* numbers, s* strings, one fixed type for the others),
so a type change between two specs is one Postgres can cast and the rows A holds survive it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import strategies as st

TABLES = ("ta", "tb", "tc")
ENUMS = {"ea": "st", "eb": "mood"}  # enum -> the column name typed by it
ENUM_VALUES = ("v1", "v2", "v3", "v4")
SEQUENCES = ("qa", "qb")
VIEWS = ("va",)

NUMBER_TYPES = ("smallint", "integer", "bigint", "numeric(10,2)", "numeric(12,0)")
INTEGER_TYPES = ("smallint", "integer", "bigint")
SERIAL_TYPES = ("serial", "bigserial")
STRING_TYPES = ("text", "varchar(10)", "varchar(20)")
# Columns with one fixed type each: a change between two of these has no cast.
FIXED = {
    "flag": "boolean",
    "ts": "timestamptz",
    "doc": "jsonb",
    "tags": "text[]",
    "nums": "integer[]",
}
NUMBERS = ("n1", "n2", "n3")
STRINGS = ("s1", "s2")
COLUMNS = (*NUMBERS, *STRINGS, *FIXED, *ENUMS.values())
COMMENTS = ("c", "it's", "注释", "two\nlines")


def family(column: str) -> str:
    if column in NUMBERS:
        return "number"
    if column in STRINGS:
        return "string"
    return column


def keyable(column: str) -> bool:
    """A column a primary key, unique constraint or foreign key may use."""
    return family(column) in ("number", "string")


def indexable(column: str) -> bool:
    """A column a plain btree index may use."""
    return column not in ("doc", "tags", "nums")


@dataclass
class Drawn:
    """One spec as drawn: its dict (what the YAML holds) and what the rows need to know."""

    spec: dict[str, Any]

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.spec, sort_keys=False, allow_unicode=True, width=1000)

    @property
    def tables(self) -> dict[str, Any]:
        tables: dict[str, Any] = self.spec.get("tables", {})
        return tables


def _type(draw: st.DrawFn, column: str, enums: dict[str, list[str]]) -> str:
    if column in NUMBERS:
        return draw(st.sampled_from(NUMBER_TYPES + SERIAL_TYPES))
    if column in STRINGS:
        return draw(st.sampled_from(STRING_TYPES))
    if column in FIXED:
        return FIXED[column]
    return next(e for e, c in ENUMS.items() if c == column)


def _literal(draw: st.DrawFn, type_: str, enums: dict[str, list[str]]) -> Any:
    if type_ in INTEGER_TYPES:
        return draw(st.sampled_from((0, 7, -3)))
    if type_.startswith("numeric"):
        return draw(st.sampled_from((0, 1.5, 12)))
    if type_ in STRING_TYPES:
        return draw(st.sampled_from(("x", "it's", "", "长")))
    if type_ == "boolean":
        return draw(st.booleans())
    if type_ in enums:
        return draw(st.sampled_from(enums[type_]))
    return None


def _sql_default(draw: st.DrawFn, type_: str, sequences: list[str]) -> str | None:
    options: list[str] = []
    if type_ in INTEGER_TYPES or type_.startswith("numeric"):
        options += ["1 + 1", *(f"nextval('{q}'::regclass)" for q in sequences)]
    if type_ in STRING_TYPES:
        options.append("'a' || 'b'")
    if type_ == "timestamptz":
        options.append("now()")
    if type_ == "jsonb":
        options.append("'{}'::jsonb")
    if type_ == "text[]":
        options.append("'{}'::text[]")
    if type_ == "integer[]":
        options.append("ARRAY[1, 2]")
    return draw(st.sampled_from(options)) if options else None


def _column(
    draw: st.DrawFn, column: str, enums: dict[str, list[str]], sequences: list[str]
) -> Any:
    type_ = _type(draw, column, enums)
    out: dict[str, Any] = {"type": type_}
    if draw(st.integers(0, 2)) == 0:
        out["nullable"] = False
    if type_ not in SERIAL_TYPES:
        how = draw(st.sampled_from(("none", "none", "literal", "sql", "identity")))
        if how == "literal":
            value = _literal(draw, type_, enums)
            if value is not None:
                out["default"] = value
        elif how == "sql":
            sql = _sql_default(draw, type_, sequences)
            if sql is not None:
                out["default"] = {"sql": sql}
        elif how == "identity" and type_ in INTEGER_TYPES:
            out["identity"] = draw(st.sampled_from(("always", "by default")))
    if draw(st.integers(0, 4)) == 0:
        out["comment"] = draw(st.sampled_from(COMMENTS))
    return type_ if list(out) == ["type"] else out


def _check_expression(draw: st.DrawFn, column: str, type_: str) -> str | None:
    """A CHECK the rows the test inserts (values 1 and 2, '1' and '2') satisfy."""
    if family(column) == "number":
        return draw(st.sampled_from((f"{column} > -100", f"{column} <> 0")))
    if family(column) == "string":
        return draw(st.sampled_from(
            (f"length({column}) < 10", f"{column} <> ''", f"{column} IN ('1', '2', 'x')")
        ))
    if column == "flag":
        return f"{column} IS NOT NULL"
    return None


def _index(draw: st.DrawFn, table: str, columns: dict[str, Any], n: int) -> dict[str, Any] | None:
    names = list(columns)
    kind = draw(st.sampled_from(("plain", "plain", "expression", "gin")))
    if kind == "gin":
        candidates = [c for c in names if c in ("doc", "tags", "nums")]
        if not candidates:
            return None
        return {"columns": [draw(st.sampled_from(candidates))], "method": "gin"}
    out: dict[str, Any]
    if kind == "expression":
        strings = [c for c in names if family(c) == "string"]
        numbers = [c for c in names if family(c) == "number"]
        options = [f"lower({c})" for c in strings] + [f"({c} + 1)" for c in numbers]
        if not options:
            return None
        out = {"name": f"{table}_x{n}", "columns": [{"expression": draw(st.sampled_from(options))}]}
    else:
        candidates = [c for c in names if indexable(c)]
        if not candidates:
            return None
        keys = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=2, unique=True))
        elements: list[Any] = []
        for c in keys:
            order = draw(st.sampled_from((None, None, "desc")))
            nulls = draw(st.sampled_from((None, None, "first", "last")))
            el: dict[str, Any] = {"column": c}
            if order:
                el["order"] = order
            if nulls:
                el["nulls"] = nulls
            elements.append(el if len(el) > 1 else c)
        out = {"columns": elements}
        if draw(st.integers(0, 3)) == 0:
            out["name"] = f"{table}_i{n}"
    if draw(st.integers(0, 3)) == 0:
        out["unique"] = True
    if draw(st.integers(0, 3)) == 0:
        c = draw(st.sampled_from(names))
        out["where"] = draw(st.sampled_from(
            (f"{c} IS NOT NULL", f"{c} > 0") if family(c) == "number" else (f"{c} IS NOT NULL",)
        ))
    return out


def _match_foreign_key_types(tables: dict[str, Any]) -> None:
    """Give each foreign key column its referenced column's type (without a default).

    Repeated: a column given a type may itself be referenced by another key.
    """

    def type_of(t: str, c: str) -> str:
        col = tables[t]["columns"][c]
        return str(col if isinstance(col, str) else col["type"])

    for _ in range(len(tables) + 1):
        for body in tables.values():
            for fk in body.get("foreign_keys", []):
                ref = fk["references"]
                for c, rc in zip(fk["columns"], ref["columns"], strict=True):
                    base = {"serial": "integer", "bigserial": "bigint"}
                    ref_type = base.get(type_of(ref["table"], rc), type_of(ref["table"], rc))
                    old = body["columns"][c]
                    new: dict[str, Any] = {"type": ref_type}
                    if isinstance(old, dict):
                        new.update({k: v for k, v in old.items() if k in ("nullable", "comment")})
                    body["columns"][c] = new if len(new) > 1 else ref_type


@st.composite
def specs(draw: st.DrawFn) -> Drawn:
    """A valid spec over tables, columns, keys, checks, indexes, enums, sequences and views."""
    spec: dict[str, Any] = {"version": 1}
    enums: dict[str, list[str]] = {}
    for e in draw(st.lists(st.sampled_from(list(ENUMS)), max_size=2, unique=True)):
        enums[e] = draw(st.lists(st.sampled_from(ENUM_VALUES), min_size=1, max_size=4, unique=True))
    if enums:
        spec["enums"] = {
            e: {"values": v, **({"comment": "e"} if draw(st.booleans()) else {})}
            for e, v in enums.items()
        }
    sequences: dict[str, Any] = {}
    for q in draw(st.lists(st.sampled_from(SEQUENCES), max_size=1, unique=True)):
        options: dict[str, Any] = {}
        for key, values in (
            ("start", (1, 100)), ("increment", (1, 5)), ("cache", (1, 10)),
            ("cycle", (True,)), ("as", ("smallint", "integer", "bigint")),
        ):
            if draw(st.booleans()):
                options[key] = draw(st.sampled_from(values))
        sequences[q] = options
    spec["sequences"] = sequences

    available = [c for c in COLUMNS if c not in ENUMS.values() or
                 next(e for e, v in ENUMS.items() if v == c) in enums]
    tables: dict[str, Any] = {}
    for t in draw(st.lists(st.sampled_from(TABLES), min_size=1, max_size=3, unique=True)):
        names = draw(st.lists(st.sampled_from(available), min_size=1, max_size=4, unique=True))
        tables[t] = {"columns": {c: _column(draw, c, enums, list(sequences)) for c in names}}
    spec["tables"] = tables

    def type_of(t: str, c: str) -> str:
        col = tables[t]["columns"][c]
        return str(col if isinstance(col, str) else col["type"])

    for body in tables.values():
        keys = [c for c in body["columns"] if keyable(c)]
        if keys and draw(st.booleans()):
            pk = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=2, unique=True))
            body["primary_key"] = pk
    for t, body in tables.items():
        # A foreign key to a table with a primary key: its columns take the key's types.
        targets = [r for r in tables if "primary_key" in tables[r]]
        if not targets or draw(st.integers(0, 2)) != 0:
            continue
        ref = draw(st.sampled_from(targets))
        ref_cols = tables[ref]["primary_key"]
        chosen: list[str] = []
        for rc in ref_cols:
            options = [
                c for c in body["columns"]
                if family(c) == family(rc) and c not in chosen
                and not (ref == t and c in ref_cols)
            ]
            if not options:
                break
            chosen.append(draw(st.sampled_from(options)))
        if len(chosen) != len(ref_cols):
            continue
        fk: dict[str, Any] = {"columns": chosen, "references": {"table": ref, "columns": ref_cols}}
        for key in ("on_delete", "on_update"):
            action = draw(st.sampled_from(
                (None, "cascade", "restrict", "set null", "set default", "no action")
            ))
            if action:
                fk[key] = action
        if draw(st.integers(0, 3)) == 0:
            fk["deferrable"] = True
            if draw(st.booleans()):
                fk["initially_deferred"] = True
        body["foreign_keys"] = [fk]
    _match_foreign_key_types(tables)
    for t, body in tables.items():
        cols = body["columns"]
        keys = [c for c in cols if keyable(c)]
        if keys and draw(st.integers(0, 2)) == 0:
            uq = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=2, unique=True))
            body["unique"] = [{"columns": uq}]
        checks = []
        for i, c in enumerate(draw(st.lists(st.sampled_from(list(cols)), max_size=2, unique=True))):
            expression = _check_expression(draw, c, type_of(t, c))
            if expression:
                checks.append({"name": f"{t}_k{i}", "expression": expression})
        if checks:
            body["checks"] = checks
        indexes: dict[str, Any] = {}
        for n in range(draw(st.integers(0, 2))):
            ix = _index(draw, t, cols, n)
            if ix is None:
                continue
            key = ix.get("name") or "_".join(
                e if isinstance(e, str) else e["column"] for e in ix["columns"]
            )
            indexes.setdefault(key, ix)  # one index per derived name
        if indexes:
            body["indexes"] = list(indexes.values())
        if draw(st.integers(0, 3)) == 0:
            body["comment"] = draw(st.sampled_from(COMMENTS))

    views: dict[str, Any] = {}
    if draw(st.integers(0, 2)) == 0:
        t = draw(st.sampled_from(list(tables)))
        cols = draw(st.lists(st.sampled_from(list(tables[t]["columns"])), min_size=1,
                             unique=True))
        views[VIEWS[0]] = {"query": f"SELECT {', '.join(cols)} FROM {t}"}
        if draw(st.booleans()):
            views[VIEWS[0]]["comment"] = "v"
    spec["views"] = views
    return Drawn(spec)
