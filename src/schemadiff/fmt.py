"""`schemadiff fmt`: the canonical layout of schema.yaml, comments kept, meaning unchanged.

Two steps:
1. a ruamel.yaml round trip (comments and quoting kept) settles indentation and spacing:
   mappings indented by 2, list items by 4 with the dash at 2 (`  - name: x`);
2. the keys of every node are put in the order docs/spec.md shows for its kind (version,
   schema, extensions, ... at the top; comment, columns, primary_key, ... in a table; type,
   nullable, default, ... in a column). Names chosen by the user (tables, columns, config
   keys) keep their order. This step moves whole lines: a key takes along its value, the
   comment at the end of its lines and the comment lines right above it; one-line flow
   mappings (`{type: text, nullable: false}`) are rewritten in place.

The result must load to the same Spec as the input (every value, every list in the same
order); when it would not, fmt refuses and changes nothing.
"""

from __future__ import annotations

import dataclasses
import difflib
import io
import itertools
from collections.abc import Callable
from typing import Any

import yaml

from schemadiff import spec as s
from schemadiff.errors import SchemadiffError, SpecError

# The order docs/spec.md shows, per node kind.
ORDER: dict[str, tuple[str, ...]] = {
    "spec": (
        "version",
        "schema",
        "extensions",
        "enums",
        "domains",
        "types",
        "sequences",
        "functions",
        "procedures",
        "tables",
        "views",
        "materialized_views",
        "grants",
        "config",
    ),
    "enum": ("values", "comment", "renamed_from"),
    "schema": ("name", "comment"),
    "extension": ("name", "version", "schema"),
    "sequence": (
        "start",
        "increment",
        "min",
        "max",
        "cache",
        "cycle",
        "as",
        "owned_by",
        "comment",
    ),
    "domain": ("type", "nullable", "default", "checks", "collation", "comment"),
    "composite_type": ("attributes", "comment"),
    "materialized_view": ("query", "indexes", "with_data", "comment"),
    "enum_value": ("name", "renamed_from"),
    "function": s.FUNCTION_KEYS,
    "procedure": ("args", "language", "security", "set", "body"),
    "table": (
        "comment",
        "unlogged",
        "with",
        "columns",
        "primary_key",
        "unique",
        "foreign_keys",
        "checks",
        "excludes",
        "indexes",
        "triggers",
        "row_level_security",
        "force_row_level_security",
        "policies",
        "partition_by",
        "partitions",
        "renamed_from",
    ),
    "partition_by": ("method", "columns", "expression"),
    "partition": ("from", "to", "in", "modulus", "remainder", "default"),
    "column": (
        "type",
        "collation",
        "nullable",
        "default",
        "identity",
        "generated",
        "unique",
        "check",
        "comment",
        "renamed_from",
    ),
    "default": ("sql",),
    "identity": ("generated", "start", "increment", "min", "max", "cache", "cycle"),
    "generated": ("expression", "stored"),
    "primary_key": (
        "name",
        "columns",
        "deferrable",
        "initially_deferred",
        "comment",
        "renamed_from",
    ),
    "unique": (
        "name",
        "columns",
        "deferrable",
        "initially_deferred",
        "nulls_not_distinct",
        "comment",
        "renamed_from",
    ),
    "foreign_key": (
        "name",
        "columns",
        "references",
        "on_delete",
        "on_update",
        "deferrable",
        "initially_deferred",
        "match",
        "comment",
        "renamed_from",
    ),
    "references": ("table", "columns"),
    "check": ("name", "expression", "no_inherit", "comment", "renamed_from"),
    "exclude": ("name", "using", "elements", "where", "deferrable", "initially_deferred"),
    "exclude_element": ("column", "expression", "opclass", "with"),
    "index": (
        "name",
        "columns",
        "where",
        "unique",
        "method",
        "include",
        "nulls_not_distinct",
        "with",
        "comment",
        "renamed_from",
    ),
    "index_element": ("column", "expression", "order", "nulls", "opclass"),
    "trigger": s.TRIGGER_KEYS,
    "referencing": ("old_table", "new_table"),
    "policy": ("command", "permissive", "roles", "using", "with_check"),
    "grant": ("schema", "tables", "sequences", "functions"),
    "view": (
        "query", "check_option", "security_barrier", "security_invoker", "comment", "triggers"
    ),
    "config": ("table", "key_column", "value_column", "keys"),
    "config_key": ("default", "description", "secret", "value", "value_from_env"),
}
# Keys a node kind does not list here keep their order, after the listed ones.

# kind of a mapping -> key -> kind of its value (None: any key)
_CHILDREN: dict[str, dict[str | None, str]] = {
    "spec": {
        "schema": "schema",
        "extensions": "extension[]",
        "enums": "enums",
        "sequences": "sequences",
        "functions": "functions",
        "procedures": "procedures",
        "tables": "tables",
        "views": "views",
        "grants": "grants",
        "config": "config",
        "domains": "domains",
        "types": "types",
        "materialized_views": "materialized_views",
    },
    "domains": {None: "domain"},
    "domain": {"default": "default", "checks": "check[]"},
    "types": {None: "composite_type"},
    "materialized_views": {None: "materialized_view"},
    "materialized_view": {"indexes": "index[]"},
    "grants": {None: "grant"},
    "enums": {None: "enum"},
    "enum": {"values": "enum_value[]"},
    "sequences": {None: "sequence"},
    "functions": {None: "function"},
    "procedures": {None: "procedure"},
    "tables": {None: "table"},
    "views": {None: "view"},
    "view": {"triggers": "trigger[]"},
    "table": {
        "columns": "columns",
        "primary_key": "primary_key",
        "unique": "unique[]",
        "foreign_keys": "foreign_key[]",
        "checks": "check[]",
        "excludes": "exclude[]",
        "indexes": "index[]",
        "triggers": "trigger[]",
        "policies": "policies",
        "partition_by": "partition_by",
        "partitions": "partitions",
    },
    "policies": {None: "policy"},
    "trigger": {"referencing": "referencing"},
    "partitions": {None: "partition"},
    "columns": {None: "column"},
    "column": {"default": "default", "identity": "identity", "generated": "generated"},
    "exclude": {"elements": "exclude_element[]"},
    "foreign_key": {"references": "references"},
    "index": {"columns": "index_element[]"},
    "config": {"keys": "config_keys"},
    "config_keys": {None: "config_key"},
}


def _child_kind(kind: str, key: str) -> str:
    children = _CHILDREN.get(kind, {})
    return children.get(key) or children.get(None) or ""


def _item_kind(kind: str) -> str:
    if kind == "function":  # a list of overloads, each a function
        return kind
    return kind[:-2] if kind.endswith("[]") else ""


# -- the public functions ------------------------------------------------------------------


def format_text(text: str, filename: str = "schema.yaml") -> str:
    """The canonical form of a spec's text; raises SpecError on YAML syntax errors."""
    _compose(text, filename)  # syntax errors first, with their position
    meaning = _meaning(text)
    normalized = _roundtrip(text)
    if _meaning(normalized) != meaning:
        normalized = text  # ruamel read something differently: keep the layout as written
    result = _reorder(normalized, filename)
    if _meaning(result) != meaning:
        raise SchemadiffError(
            f"{filename}: fmt would change what the spec means, so it changed nothing "
            "(please report this, with the file)"
        )
    return result


def unified_diff(before: str, after: str, filename: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            f"{filename} (as written)",
            f"{filename} (formatted)",
        )
    )


# -- step 1: ruamel round trip ---------------------------------------------------------------


def _roundtrip(text: str) -> str:
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 1 << 16  # never wrap a long line
    y.indent(mapping=2, sequence=4, offset=2)
    try:
        data = y.load(text)
    except Exception:  # ruamel rejects something PyYAML accepts: keep the text as it is
        return text
    out = io.StringIO()
    y.dump(data, out)
    result = out.getvalue()
    return result if result.endswith("\n") else result + "\n"


# -- meaning: what must not change ---------------------------------------------------------


def _meaning(text: str) -> object:
    """The Spec the text loads to, without positions; the plain data when it is invalid."""
    try:
        spec = s.parse_spec(text, "schema.yaml")
    except SpecError:
        try:
            return ("data", yaml.safe_load(text))
        except yaml.YAMLError:
            return ("unreadable", text)
    return ("spec", _strip(dataclasses.asdict(spec)))


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in ("loc", "source", "path")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _compose(text: str, filename: str) -> yaml.Node | None:
    node, problems = s.compose_yaml(text, filename)
    if problems:
        raise SpecError(problems)
    return node


# -- step 2: key order -----------------------------------------------------------------------


def _reorder(text: str, filename: str) -> str:
    if text and not text.endswith("\n"):
        text += "\n"  # lines move: the last one needs its line break too
    root = _compose(text, filename)
    if root is None:
        return text
    lines = text.splitlines(keepends=True)
    block_edits: list[Callable[[], None]] = []  # in post-order: inner mappings first
    flow_edits: list[tuple[int, int, int, str]] = []  # (line, start col, end col, text)

    def end_line(node: yaml.Node) -> int:
        """The last line that holds some of the node's content (not trailing comments)."""
        if isinstance(node, yaml.ScalarNode):
            line = node.end_mark.line
            if node.end_mark.column == 0 and line > node.start_mark.line:
                line -= 1
            while line > node.start_mark.line and not lines[line].strip():
                line -= 1
            return int(line)
        if not isinstance(node, yaml.CollectionNode) or node.flow_style or not node.value:
            return int(node.end_mark.line)
        if isinstance(node, yaml.MappingNode):
            return max(max(end_line(k), end_line(v)) for k, v in node.value)
        return max(end_line(item) for item in node.value)

    def visit(node: yaml.Node, kind: str, parent_line: int | None) -> None:
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.flow_style:
            flow(node, kind)
            return
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                visit(item, _item_kind(kind), None)
            return
        if not isinstance(node, yaml.MappingNode):
            return
        for k, v in node.value:
            key = str(k.value) if isinstance(k, yaml.ScalarNode) else ""
            visit(v, _child_kind(kind, key), k.start_mark.line)
        if kind in ORDER:
            block(node, ORDER[kind], parent_line)

    def wanted(entries: list[tuple[yaml.Node, yaml.Node]], order: tuple[str, ...]) -> list[int]:
        def rank(i: int) -> tuple[int, int]:
            k = entries[i][0]
            key = str(k.value) if isinstance(k, yaml.ScalarNode) else ""
            return (order.index(key) if key in order else len(order), i)

        return sorted(range(len(entries)), key=rank)

    def block(node: yaml.MappingNode, order: tuple[str, ...], parent_line: int | None) -> None:
        entries = node.value
        new = wanted(entries, order)
        if new == list(range(len(entries))):
            return
        key_lines = [k.start_mark.line for k, _ in entries]
        ends = [max(end_line(k), end_line(v)) for k, v in entries]
        if any(b <= a for a, b in itertools.pairwise(key_lines)):
            return  # two keys on one line: not a layout this step can move safely
        first = key_lines[0]
        starts = [
            parent_line + 1 if parent_line is not None and parent_line < first else first,
            *(e + 1 for e in ends[:-1]),
        ]
        column = entries[0][0].start_mark.column
        region = (starts[0], ends[-1] + 1)

        def edit() -> None:
            spans = [list(lines[starts[i] : ends[i] + 1]) for i in range(len(entries))]
            # A mapping that is a list item starts on the dash's line: "- name: x".
            prefix = lines[first][:column]
            if prefix.strip():
                spans[0][first - starts[0]] = " " * column + lines[first][column:]
            # Blank lines stay where they were: slot i keeps the blank lines that led it.
            blanks = []
            for span in spans:
                n = 0
                while n < len(span) and not span[n].strip():
                    n += 1
                blanks.append(n)
            out: list[str] = []
            for slot, i in enumerate(new):
                out += spans[slot][: blanks[slot]] + spans[i][blanks[i] :]
            if prefix.strip():
                # The dash goes to the new first key; comment lines above that key stay
                # above it, so above the dash.
                head = new[0]
                at = blanks[0] + key_lines[head] - starts[head] - blanks[head]
                out[at] = prefix + out[at][column:]
                dash = " " * (len(prefix) - len(prefix.lstrip()))
                for j in range(at):
                    if out[j].strip():
                        out[j] = dash + out[j].lstrip()
            lines[region[0] : region[1]] = out

        block_edits.append(edit)

    def flow(node: yaml.Node, kind: str) -> None:
        if node.start_mark.line != node.end_mark.line:
            return  # a flow collection over several lines: left as written
        text_ = flow_text(node, kind)
        if text_ is None:
            return
        line = node.start_mark.line
        flow_edits.append((line, node.start_mark.column, node.end_mark.column, text_))

    def flow_text(node: yaml.Node, kind: str) -> str | None:
        if isinstance(node, yaml.ScalarNode):
            line = lines[node.start_mark.line]
            raw = line[node.start_mark.column : node.end_mark.column]
            return raw or None
        if isinstance(node, yaml.SequenceNode):
            items = [flow_text(x, _item_kind(kind)) for x in node.value]
            if any(i is None for i in items):
                return None
            return "[" + ", ".join(i for i in items if i is not None) + "]"
        if not isinstance(node, yaml.MappingNode):
            return None
        entries = node.value
        order = ORDER.get(kind)
        indexes = wanted(entries, order) if order else list(range(len(entries)))
        parts = []
        for i in indexes:
            k, v = entries[i]
            key = str(k.value) if isinstance(k, yaml.ScalarNode) else ""
            kt, vt = flow_text(k, ""), flow_text(v, _child_kind(kind, key))
            if kt is None or vt is None:
                return None
            parts.append(f"{kt}: {vt}")
        return "{" + ", ".join(parts) + "}"

    visit(root, "spec", None)
    for line, start, end, new_text in sorted(flow_edits, key=lambda e: (e[0], -e[1])):
        current = lines[line]
        lines[line] = current[:start] + new_text + current[end:]
    for edit in block_edits:
        edit()
    return "".join(lines)
