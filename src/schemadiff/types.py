"""Postgres type names as written in the spec: what is known, and which literals fit which type."""

from __future__ import annotations

import difflib
import re

INTEGER = {"smallint", "integer", "int", "int2", "int4", "int8", "bigint"}
SERIAL = {"smallserial", "serial", "bigserial", "serial2", "serial4", "serial8"}
NUMERIC = {"real", "float4", "float8", "double precision", "float", "numeric", "decimal", "money"}
TEXT = {"text", "varchar", "character varying", "char", "character", "bpchar", "name", "citext"}
BOOLEAN = {"boolean", "bool"}
DATETIME = {
    "date",
    "time",
    "time without time zone",
    "time with time zone",
    "timetz",
    "timestamp",
    "timestamp without time zone",
    "timestamp with time zone",
    "timestamptz",
}
OTHER = DATETIME | {
    "bytea",
    "interval",
    "uuid",
    "json",
    "jsonb",
    "xml",
    "inet",
    "cidr",
    "macaddr",
    "macaddr8",
    "tsvector",
    "tsquery",
    "point",
    "line",
    "lseg",
    "box",
    "path",
    "polygon",
    "circle",
    "bit",
    "bit varying",
    "varbit",
    "int4range",
    "int8range",
    "numrange",
    "tsrange",
    "tstzrange",
    "daterange",
    "int4multirange",
    "int8multirange",
    "nummultirange",
    "tsmultirange",
    "tstzmultirange",
    "datemultirange",
    "oid",
    "regclass",
    "regproc",
    "regtype",
    "pg_lsn",
    "jsonpath",
    "txid_snapshot",
    "pg_snapshot",
}
# Types that exist only once their extension is created.
EXTENSION_TYPES = {"citext": "citext", "hstore": "hstore", "ltree": "ltree", "vector": "vector"}
KNOWN = INTEGER | SERIAL | NUMERIC | TEXT | BOOLEAN | OTHER

_MODIFIER = re.compile(r"\(\s*\d+\s*(,\s*-?\d+\s*)?\)")
_ARRAY = re.compile(r"(\[\d*\])+$")


def base_name(type_: str) -> str:
    """'numeric(18,8)[]' -> 'numeric'; 'TIMESTAMP(3) WITH TIME ZONE' -> 'timestamp with time zone'.

    Modifiers and array brackets are dropped, spaces and case normalized.
    """
    t = _ARRAY.sub("", type_.strip().lower())
    t = _MODIFIER.sub(" ", t)
    return " ".join(t.split())


def is_array(type_: str) -> bool:
    return bool(_ARRAY.search(type_.strip()))


def is_serial(type_: str) -> bool:
    return base_name(type_) in SERIAL


def check_type(type_: str, enums: set[str], extensions: list[str]) -> str | None:
    """None when the type is known, else a message that says what to write instead."""
    if type_ in enums or (is_array(type_) and _ARRAY.sub("", type_.strip()) in enums):
        return None
    base = base_name(type_)
    if base in EXTENSION_TYPES:
        ext = EXTENSION_TYPES[base]
        if ext in extensions:
            return None
        return f"type '{type_}' needs the extension '{ext}': add it under extensions:"
    if base not in KNOWN:
        close = difflib.get_close_matches(base, sorted(KNOWN | enums), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return (
            f"unknown type '{type_}'{hint}; write the type as Postgres spells it, "
            "or declare an enum under enums:"
        )
    if base in SERIAL and is_array(type_):
        return f"'{type_}': serial types cannot be arrays"
    stripped = _ARRAY.sub("", type_.strip().lower())
    if _MODIFIER.search(stripped) and base not in (
        NUMERIC
        | TEXT
        | {
            "bit",
            "bit varying",
            "varbit",
            "time",
            "timetz",
            "timestamp",
            "timestamptz",
            "time with time zone",
            "time without time zone",
            "timestamp with time zone",
            "timestamp without time zone",
            "interval",
        }
    ):
        return f"type '{type_}' takes no (size) modifier"
    return None


def check_literal(
    type_: str, value: str | int | float | bool, enums: dict[str, list[str]]
) -> str | None:
    """None when a literal default fits the column type, else what to write instead."""
    if is_array(type_):
        if isinstance(value, str):
            return None
        return "an array default is written as a string like '{a,b}' or {sql: ARRAY[...]}"
    base = base_name(type_)
    if type_ in enums:
        if isinstance(value, str) and value in enums[type_]:
            return None
        return f"'{value}' is not a label of enum {type_}: {', '.join(enums[type_])}"
    if base in BOOLEAN:
        return (
            None
            if isinstance(value, bool)
            else (f"'{value}' is not a boolean; write true or false")
        )
    if base in INTEGER | SERIAL:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"'{value}' is not an integer; write a number, or {{sql: ...}} for an expression"
        return None
    if base in NUMERIC:
        if isinstance(value, bool) or not isinstance(value, int | float):
            if isinstance(value, str) and _is_number(value):
                return None
            return f"'{value}' is not a number; write a number, or {{sql: ...}} for an expression"
        return None
    if isinstance(value, bool) and base not in TEXT:
        return f"'{value}' is a boolean, but the column is {type_}"
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def literal_sql(value: str | int | float | bool) -> str:
    """A literal default as SQL text: numbers bare, booleans as true/false, strings quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"
