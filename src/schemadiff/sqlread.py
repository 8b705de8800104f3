"""Reading SQL the way Postgres does, with pglast (Postgres' own parser as a library).

Where a hazard depends on what an expression or a function body says (which functions a
default calls, which sequence it reads, who calls a function) or on whether two texts are the
same object once renames are taken into account, the text is parsed, never pattern-matched.
Every function returns "unknown" (None, or False for equivalence) on text it cannot parse,
and callers then assume the worst.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pglast import parser

# Positions differ between two texts of the same tree; they are not part of its meaning.
_POSITIONS = frozenset({"location", "stmt_location", "stmt_len"})


def _parse(sql: str) -> Any:
    try:
        return json.loads(parser.parse_sql_json(sql))["stmts"]
    except Exception:  # pglast raises ParseError, and others on odd input; both mean unknown
        return None


def _walk(node: Any, visit: Callable[[dict[str, Any]], None]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, visit)
    elif isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)


def _last_name(names: list[Any]) -> str | None:
    last = names[-1] if names else None
    if isinstance(last, dict) and "String" in last:
        return str(last["String"]["sval"])
    return None


def _calls(tree: Any) -> set[str]:
    found: set[str] = set()

    def visit(node: dict[str, Any]) -> None:
        call = node.get("FuncCall")
        if isinstance(call, dict) and (name := _last_name(call.get("funcname", []))):
            found.add(name)

    _walk(tree, visit)
    return found


def expression_calls(expression: str) -> set[str] | None:
    """Names of the functions an SQL expression calls (None: it does not parse)."""
    tree = _parse(f"SELECT {expression}")
    return None if tree is None else _calls(tree)


def constraint_calls(definition: str) -> set[str] | None:
    """Names of the functions a constraint definition (CHECK (...)) calls; None: unknown."""
    tree = _parse(WRAPS["constraint"](definition))
    return None if tree is None else _calls(tree)


def relations_read(query: str) -> set[str] | None:
    """Names (unqualified) of the tables, views and materialized views a query reads, without
    its own CTEs; None: it does not parse."""
    tree = _parse(query)
    if tree is None:
        return None
    found: set[str] = set()
    ctes: set[str] = set()

    def visit(node: dict[str, Any]) -> None:
        if isinstance(rv := node.get("RangeVar"), dict) and "relname" in rv:
            found.add(str(rv["relname"]))
        if isinstance(cte := node.get("CommonTableExpr"), dict) and "ctename" in cte:
            ctes.add(str(cte["ctename"]))

    _walk(tree, visit)
    return found - ctes


def regclass_literals(expression: str) -> set[str] | None:
    """Relation names an expression names as 'name'::regclass (nextval('t_id_seq'::regclass))."""
    tree = _parse(f"SELECT {expression}")
    if tree is None:
        return None
    found: set[str] = set()

    def visit(node: dict[str, Any]) -> None:
        cast = node.get("TypeCast")
        if not isinstance(cast, dict):
            return
        if _last_name(cast.get("typeName", {}).get("names", [])) != "regclass":
            return
        const = cast.get("arg", {}).get("A_Const", {})
        if "sval" in const:
            found.add(str(const["sval"]["sval"]).rsplit(".", 1)[-1].strip('"'))

    _walk(tree, visit)
    return found


def string_constants(sql: str) -> set[str] | None:
    """Every string constant in an SQL text ('paid' in `status = 'paid'::order_status`);
    None: it does not parse."""
    tree = _parse(sql)
    if tree is None:
        return None
    found: set[str] = set()

    def visit(node: dict[str, Any]) -> None:
        const = node.get("A_Const")
        if isinstance(const, dict) and isinstance(const.get("sval"), dict):
            found.add(str(const["sval"]["sval"]))

    _walk(tree, visit)
    return found


def body_calls(
    language: str, body: str, returns: str = "void", arguments: str = ""
) -> set[str] | None:
    """Names of the functions a function body calls (sql or plpgsql); None: unknown.

    `returns` and `arguments` are the function's, as plpgsql's parser needs them.
    """
    lang = language.lower()
    if lang == "sql":
        tree = _parse(body)
        return None if tree is None else _calls(tree)
    if lang != "plpgsql":
        return None
    tag = "$schemadiff_body$"
    try:
        compiled = json.loads(
            parser.parse_plpgsql_json(
                f"CREATE FUNCTION schemadiff_probe({arguments}) RETURNS {returns} LANGUAGE plpgsql "
                f"AS {tag}{body}{tag}"
            )
        )
    except Exception:
        return None
    found: set[str] = set()
    unknown = False

    def visit(node: dict[str, Any]) -> None:
        nonlocal unknown
        expr = node.get("PLpgSQL_expr")
        if not isinstance(expr, dict) or "query" not in expr:
            return
        query = str(expr["query"])
        # parseMode 0 is a whole statement; the others are expressions or assignments.
        if expr.get("parseMode", 0) in (3, 4, 5) and ":=" in query:
            query = query.split(":=", 1)[1]
        tree = _parse(query) if not expr.get("parseMode") else None
        if tree is None:
            tree = _parse(f"SELECT {query}")
        if tree is None:
            unknown = True
            return
        found.update(_calls(tree))

    _walk(compiled, visit)
    return None if unknown and not found else found


@dataclass
class Renames:
    """Declared renames, by unqualified name, as the equivalence check applies them."""

    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # new table -> old -> new
    functions: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    relations: dict[str, str] = field(default_factory=dict)  # regclass literals (sequences)

    def __bool__(self) -> bool:
        return any((self.tables, self.columns, self.functions, self.types, self.relations))


def _rename(node: Any, r: Renames, table: str | None) -> Any:
    """A copy of a parse tree without positions, with the old names of `r` made new.

    Column names are renamed in the scope they belong to: those of `table` (the object's
    own table), and a foreign key's referenced columns by the referenced table's renames.
    """
    if isinstance(node, list):
        return [_rename(x, r, table) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _rename(v, r, table) for k, v in node.items() if k not in _POSITIONS}
    own: Mapping[str, str] = r.columns.get(table or "", {})

    def rename_last(names: list[Any], mapping: Mapping[str, str]) -> None:
        name = _last_name(names)
        if name is not None and name in mapping:
            names[-1] = {"String": {"sval": mapping[name]}}

    def rename_all(names: list[Any], mapping: Mapping[str, str]) -> None:
        for i, item in enumerate(names):
            name = _last_name([item])
            if name is not None and name in mapping:
                names[i] = {"String": {"sval": mapping[name]}}

    if "relname" in out and "relpersistence" in out:  # a RangeVar
        out["relname"] = r.tables.get(out["relname"], out["relname"])
    if "names" in out and "typemod" in out:  # a TypeName
        rename_last(out["names"], r.types)
    if isinstance(col := out.get("ColumnRef"), dict):
        rename_last(col.get("fields", []), own)
    if isinstance(elem := out.get("IndexElem"), dict) and elem.get("name") in own:
        elem["name"] = own[elem["name"]]
    if isinstance(call := out.get("FuncCall"), dict):
        rename_last(call.get("funcname", []), r.functions)
    if isinstance(cast := out.get("TypeCast"), dict):
        const = cast.get("arg", {}).get("A_Const", {})
        if _last_name(cast.get("typeName", {}).get("names", [])) == "regclass" and "sval" in const:
            value = str(const["sval"]["sval"])
            const["sval"]["sval"] = r.relations.get(value, value)
    if isinstance(con := out.get("Constraint"), dict):
        for key in ("keys", "fk_attrs", "including"):
            rename_all(con.get(key, []), own)
        referenced = con.get("pktable", {}).get("relname")
        rename_all(con.get("pk_attrs", []), r.columns.get(referenced or "", {}))
    if isinstance(trig := out.get("CreateTrigStmt"), dict):
        rename_all(trig.get("columns", []), own)
        rename_last(trig.get("funcname", []), r.functions)
    return out


WRAPS: dict[str, Callable[[str], str]] = {
    "expression": lambda text: f"SELECT {text}",
    "constraint": lambda text: f"ALTER TABLE schemadiff_t ADD CONSTRAINT schemadiff_c {text}",
    "statement": lambda text: text,
}


def equivalent(
    wrap: str, live: str | None, target: str | None, renames: Renames, table: str | None
) -> bool:
    """True when `live`, with the renames applied, parses to the same tree as `target`.

    `wrap` says what the texts are: an expression, a constraint definition, or a statement.
    `table` is the (new) name of the table the object belongs to, for its column names.
    """
    if live is None or target is None:
        return live == target
    a, b = _parse(WRAPS[wrap](live)), _parse(WRAPS[wrap](target))
    if a is None or b is None:
        return False
    return bool(_rename(a, renames, table) == _rename(b, Renames(), None))


@dataclass
class TriggerParts:
    """A CREATE TRIGGER statement (as pg_get_triggerdef prints it), part by part."""

    name: str
    timing: str  # before | after | instead of
    events: list[str]  # insert | update | delete | truncate, in Postgres' order
    update_of: list[str]
    for_each: str  # row | statement
    when: str | None
    function: str
    function_schema: str | None
    args: list[str]
    old_table: str | None
    new_table: str | None
    constraint: bool
    deferrable: bool
    initially_deferred: bool
    from_table: bool  # a constraint trigger's FROM (referenced table)


# Bits of pg_trigger.tgtype, as CreateTrigStmt carries them (Postgres' trigger.h).
_TIMING_BITS = {2: "before", 64: "instead of"}
_EVENT_BITS = ((4, "insert"), (16, "update"), (8, "delete"), (32, "truncate"))


def trigger_parts(definition: str) -> TriggerParts | None:
    """Read a trigger's definition with Postgres' parser; None when it does not parse."""
    from pglast import parse_sql
    from pglast.stream import RawStream

    try:
        stmt: Any = parse_sql(definition)[0].stmt
    except Exception:  # pglast raises ParseError, and others on odd input; both mean unknown
        return None
    if type(stmt).__name__ != "CreateTrigStmt":
        return None
    events = [name for bit, name in _EVENT_BITS if stmt.events & bit]
    funcname = [n.sval for n in stmt.funcname or ()]
    old_table = new_table = None
    for rel in stmt.transitionRels or ():
        if rel.isNew:
            new_table = rel.name
        else:
            old_table = rel.name
    return TriggerParts(
        name=stmt.trigname,
        timing=_TIMING_BITS.get(stmt.timing or 0, "after"),
        events=events,
        update_of=[c.sval for c in stmt.columns or ()],
        for_each="row" if stmt.row else "statement",
        when=RawStream()(stmt.whenClause) if stmt.whenClause is not None else None,
        function=funcname[-1],
        function_schema=funcname[0] if len(funcname) > 1 else None,
        args=[a.sval for a in stmt.args or ()],
        old_table=old_table,
        new_table=new_table,
        constraint=bool(stmt.isconstraint),
        deferrable=bool(stmt.deferrable),
        initially_deferred=bool(stmt.initdeferred),
        from_table=stmt.constrrel is not None,
    )


def argument_types(args: list[str]) -> list[str] | None:
    """The types that identify a function with these arguments ("name type DEFAULT ..."
    strings; OUT arguments do not count), as written; None when they do not parse."""
    from pglast import parse_sql
    from pglast.stream import RawStream

    try:
        stmt: Any = parse_sql(
            f"CREATE FUNCTION schemadiff_probe({', '.join(args)}) RETURNS void "
            "LANGUAGE sql AS ''"
        )[0].stmt
    except Exception:  # pglast raises ParseError, and others on odd input; both mean unknown
        return None
    return [
        str(RawStream()(p.argType)).lower()
        for p in stmt.parameters or ()
        if str(getattr(p.mode, "value", p.mode)) in ("i", "b", "v", "d")
    ]


def argument_defaults(definition: str) -> int | None:
    """How many arguments of a CREATE FUNCTION statement have a default; None: unknown."""
    from pglast import parse_sql

    try:
        stmt: Any = parse_sql(definition)[0].stmt
    except Exception:  # pglast raises ParseError, and others on odd input; both mean unknown
        return None
    return sum(1 for p in getattr(stmt, "parameters", None) or () if p.defexpr is not None)


def partition_bound(bound: str) -> dict[str, Any] | None:
    """A partition bound as pg_get_expr prints it (`FOR VALUES FROM ('a') TO (MAXVALUE)`,
    `FOR VALUES IN (1, NULL)`, `FOR VALUES WITH (modulus 2, remainder 0)`, `DEFAULT`) ->
    the spec's keys: from/to, in, modulus/remainder, default. Values are YAML scalars, or
    {"sql": "MINVALUE"} for what is no literal. None when it cannot be read."""
    stmts = _parse(f"CREATE TABLE x PARTITION OF y {bound}")
    try:
        spec = stmts[0]["stmt"]["CreateStmt"]["partbound"]
    except (TypeError, KeyError, IndexError):
        return None
    if spec.get("is_default"):
        return {"default": True}
    if spec.get("strategy") == "h":
        return {"modulus": int(spec.get("modulus", 0)), "remainder": int(spec.get("remainder", 0))}
    values: dict[str, Any] = {}
    for key, datums in (("from", "lowerdatums"), ("to", "upperdatums"), ("in", "listdatums")):
        if datums in spec:
            read = [_bound_value(d) for d in spec[datums]]
            if any(v is _UNREADABLE for v in read):
                return None
            values[key] = read
    return values or None


_UNREADABLE = object()


def _bound_value(node: dict[str, Any]) -> Any:
    if "ColumnRef" in node:
        fields = node["ColumnRef"].get("fields", [])
        word = fields[0].get("String", {}).get("sval", "") if len(fields) == 1 else ""
        return {"sql": word.upper()} if word in ("minvalue", "maxvalue") else _UNREADABLE
    const = node.get("A_Const")
    if const is None:
        return _UNREADABLE
    if const.get("isnull"):
        return None
    if "sval" in const:
        return str(const["sval"].get("sval", ""))
    if "ival" in const:
        return int(const["ival"].get("ival", 0))
    if "fval" in const:
        return str(const["fval"].get("fval", ""))
    if "boolval" in const:
        return bool(const["boolval"].get("boolval", False))
    return _UNREADABLE
