"""schema.yaml -> a typed, validated Spec in which every node knows its file:line:col.

The loader walks PyYAML's node graph itself (instead of `safe_load`) so that every value keeps
its position, duplicate keys are caught, and mapping keys are read as written (YAML 1.1 would
turn a column named `on` into True). Every problem is collected; the caller gets all of them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml
from yaml.constructor import SafeConstructor

from schemadiff import sqlread
from schemadiff import types as pgtypes
from schemadiff.errors import Location, Problem, SpecError

# libyaml's parser when PyYAML has it (ten times faster); both give nodes with positions.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_IDENTIFIER_BYTES = 63
FK_ACTIONS = ("no action", "restrict", "cascade", "set null", "set default")
INDEX_METHODS = ("btree", "hash", "gin", "gist", "brin", "spgist")
TRIGGER_TIMINGS = ("before", "after", "instead of")
TRIGGER_EVENTS = ("insert", "update", "delete", "truncate")
VOLATILITIES = ("volatile", "stable", "immutable")
LANGUAGES = ("plpgsql", "sql")
IDENTITIES = ("always", "by default")
SEQUENCE_TYPES = ("smallint", "integer", "bigint")
# Top-level kinds of issue 8, each managed only when the spec has its key.
OPTIONAL_KINDS = ("domains", "types", "materialized_views")
VIEW_KEYS = (
    "query", "check_option", "security_barrier", "security_invoker", "comment", "triggers"
)
PARALLEL = ("unsafe", "restricted", "safe")
POLICY_COMMANDS = ("all", "select", "insert", "update", "delete")
# Roles a spec may not name: they resolve to a different role in the shadow database.
ROLE_KEYWORDS = ("current_user", "session_user", "current_role")
# What `grants:` may grant on each kind of object.
PRIVILEGES = {
    "schema": ("usage", "create"),
    "tables": ("select", "insert", "update", "delete", "truncate", "references", "trigger"),
    "sequences": ("usage", "select", "update"),
    "functions": ("execute",),
}
FK_MATCHES = ("simple", "full")
# Storage parameters whose values are booleans: written `true`/`false` whatever the spelling.
BOOLEAN_STORAGE_PARAMETERS = frozenset(
    {
        "autovacuum_enabled",
        "toast.autovacuum_enabled",
        "vacuum_truncate",
        "toast.vacuum_truncate",
        "user_catalog_table",
        "fastupdate",
        "deduplicate_items",
        "vacuum_index_cleanup",
        "autosummarize",
    }
)
PARTITION_METHODS = ("range", "list", "hash")

# A trigger's keys, in the order `schemadiff fmt` writes them.
TRIGGER_KEYS = (
    "name",
    "function",
    "timing",
    "events",
    "update_of",
    "for_each",
    "when",
    "args",
    "referencing",
    "constraint",
    "deferrable",
    "initially_deferred",
    "enabled",
    "comment",
)
# A function's keys, in the order `schemadiff fmt` writes them.
FUNCTION_KEYS = (
    "args",
    "returns",
    "language",
    "volatility",
    "strict",
    "leakproof",
    "parallel",
    "security",
    "cost",
    "rows",
    "set",
    "body",
    "comment",
    "renamed_from",
)

Scalar = str | int | float | bool
_R = TypeVar("_R", bound="_Renameable")


class _Renameable(Protocol):
    name: str
    renamed_from: str | None


@dataclass(frozen=True)
class Default:
    """A column default: exactly one of a literal value or an SQL expression."""

    literal: Scalar | None = None
    sql: str | None = None


@dataclass(frozen=True)
class Generated:
    """GENERATED ALWAYS AS (expression) STORED, or VIRTUAL (Postgres 18+) when not stored."""

    expression: str
    stored: bool = True


@dataclass(frozen=True)
class IdentityOptions:
    """Options of an identity column's sequence; None takes Postgres' default."""

    start: int | None = None
    increment: int | None = None
    min: int | None = None
    max: int | None = None
    cache: int | None = None
    cycle: bool = False


@dataclass
class Column:
    name: str
    type: str
    nullable: bool
    default: Default | None
    comment: str | None
    loc: Location
    identity: str | None = None  # "always" | "by default": GENERATED ... AS IDENTITY
    renamed_from: str | None = None  # declared rename: ALTER ... RENAME, never drop + add
    collation: str | None = None
    generated: Generated | None = None
    identity_options: IdentityOptions | None = None


@dataclass
class PrimaryKey:
    name: str
    columns: list[str]
    loc: Location
    renamed_from: str | None = None
    comment: str | None = None  # COMMENT ON CONSTRAINT
    deferrable: bool = False
    initially_deferred: bool = False


@dataclass
class UniqueConstraint:
    name: str
    columns: list[str]
    loc: Location
    renamed_from: str | None = None
    comment: str | None = None
    deferrable: bool = False
    initially_deferred: bool = False
    nulls_not_distinct: bool = False


@dataclass
class ForeignKey:
    name: str
    columns: list[str]
    ref_table: str
    ref_columns: list[str]
    on_delete: str
    on_update: str
    loc: Location
    deferrable: bool = False
    initially_deferred: bool = False
    renamed_from: str | None = None
    comment: str | None = None
    match: str = "simple"  # simple | full


@dataclass
class Check:
    name: str
    expression: str
    loc: Location
    renamed_from: str | None = None
    comment: str | None = None
    no_inherit: bool = False


@dataclass
class ExcludeElement:
    """One element of an EXCLUDE constraint: a column or an expression, and its operator."""

    operator: str
    column: str | None = None
    expression: str | None = None
    opclass: str | None = None


@dataclass
class Exclude:
    """EXCLUDE USING method (element WITH operator, ...) [WHERE (predicate)]."""

    name: str
    method: str
    elements: list[ExcludeElement]
    where: str | None
    loc: Location
    deferrable: bool = False
    initially_deferred: bool = False


@dataclass
class IndexElement:
    """One key of an index: a column or an expression, with optional order/nulls/opclass."""

    column: str | None = None
    expression: str | None = None
    order: str | None = None  # "asc" | "desc"
    nulls: str | None = None  # "first" | "last"
    opclass: str | None = None


@dataclass
class Index:
    name: str
    elements: list[IndexElement]
    unique: bool
    method: str
    where: str | None
    include: list[str]
    loc: Location
    renamed_from: str | None = None
    comment: str | None = None
    nulls_not_distinct: bool = False
    storage: dict[str, str] = field(default_factory=dict)  # WITH (name = value, ...)


@dataclass
class Trigger:
    name: str
    function: str
    timing: str
    events: list[str]
    for_each: str
    when: str | None
    loc: Location
    comment: str | None = None
    update_of: list[str] = field(default_factory=list)  # UPDATE OF these columns
    args: list[str] = field(default_factory=list)  # string arguments passed to the function
    old_table: str | None = None  # REFERENCING OLD TABLE AS ...
    new_table: str | None = None  # REFERENCING NEW TABLE AS ...
    constraint: bool = False  # CREATE CONSTRAINT TRIGGER
    deferrable: bool = False
    initially_deferred: bool = False
    enabled: bool = True  # false: ALTER TABLE ... DISABLE TRIGGER


@dataclass
class Policy:
    """A row-level security policy on a table."""

    name: str
    command: str  # all | select | insert | update | delete
    permissive: bool
    roles: list[str]  # role names; "public" for everyone
    using: str | None
    with_check: str | None
    loc: Location


@dataclass
class Grant:
    """The privileges of one role on the spec's schema and objects (all it has there)."""

    role: str  # a role name, or "public"
    schema: list[str]
    tables: dict[str, list[str]]  # table or view -> privileges
    sequences: dict[str, list[str]]
    functions: dict[str, list[str]]  # function or procedure name (every overload)
    loc: Location


@dataclass
class PartitionBy:
    """PARTITION BY method (columns | expression)."""

    method: str  # range | list | hash
    columns: list[str]
    expression: str | None
    loc: Location


@dataclass
class Partition:
    """A partition: FOR VALUES FROM/TO, IN, WITH (MODULUS, REMAINDER), or DEFAULT.

    Bound values are SQL text, already quoted (`'2024-01-01'`, `10`, `MINVALUE`).
    """

    name: str
    from_: list[str] | None
    to: list[str] | None
    in_: list[str] | None
    modulus: int | None
    remainder: int | None
    default: bool
    loc: Location

    def bound_sql(self) -> str:
        if self.default:
            return "DEFAULT"
        if self.in_ is not None:
            return f"FOR VALUES IN ({', '.join(self.in_)})"
        if self.modulus is not None:
            return f"FOR VALUES WITH (MODULUS {self.modulus}, REMAINDER {self.remainder})"
        return (
            f"FOR VALUES FROM ({', '.join(self.from_ or [])}) TO ({', '.join(self.to or [])})"
        )


@dataclass
class Table:
    name: str
    comment: str | None
    columns: list[Column]
    primary_key: PrimaryKey | None
    uniques: list[UniqueConstraint]
    foreign_keys: list[ForeignKey]
    checks: list[Check]
    indexes: list[Index]
    triggers: list[Trigger]
    loc: Location
    renamed_from: str | None = None
    unlogged: bool = False  # CREATE UNLOGGED TABLE
    row_level_security: bool = False
    force_row_level_security: bool = False
    policies: list[Policy] = field(default_factory=list)
    storage: dict[str, str] = field(default_factory=dict)  # WITH (name = value, ...)
    excludes: list[Exclude] = field(default_factory=list)
    partition_by: PartitionBy | None = None
    partitions: list[Partition] = field(default_factory=list)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class Function:
    name: str
    args: list[str]
    returns: str
    language: str
    volatility: str
    security: str
    body: str
    comment: str | None
    loc: Location
    renamed_from: str | None = None
    strict: bool = False
    leakproof: bool = False
    parallel: str = "unsafe"
    cost: float | None = None  # None: Postgres' default (100)
    rows: float | None = None  # estimated rows of a set-returning function (default 1000)
    settings: dict[str, str] = field(default_factory=dict)  # SET name = value on the function
    kind: str = "function"  # function | procedure


@dataclass
class Enum:
    name: str
    values: list[str]
    comment: str | None
    loc: Location
    renamed_from: str | None = None
    # Declared label renames (`{name: new, renamed_from: old}` in values): new -> old.
    renamed_values: dict[str, str] = field(default_factory=dict)


@dataclass
class Sequence:
    """A sequence; unset options take Postgres' defaults."""

    name: str
    start: int | None
    increment: int | None
    min: int | None
    max: int | None
    cache: int | None
    cycle: bool
    as_type: str | None  # smallint | integer | bigint (Postgres' default: bigint)
    owned_by: str | None  # "table.column"
    loc: Location
    comment: str | None = None


@dataclass
class Extension:
    """An extension; version and schema are compared only when the spec gives them."""

    name: str
    version: str | None
    schema: str | None
    loc: Location


@dataclass
class View:
    name: str
    query: str
    comment: str | None
    loc: Location
    check_option: str | None = None  # "local" | "cascaded": WITH ... CHECK OPTION
    security_barrier: bool = False
    security_invoker: bool = False
    triggers: list[Trigger] = field(default_factory=list)  # INSTEAD OF ... FOR EACH ROW

    @property
    def options(self) -> dict[str, str]:
        """The view's reloptions as Postgres stores them (false ones are left out)."""
        out = {"check_option": self.check_option} if self.check_option else {}
        for key in ("security_barrier", "security_invoker"):
            if getattr(self, key):
                out[key] = "true"
        return out


@dataclass
class Domain:
    """CREATE DOMAIN: a base type with its default, NOT NULL and named checks (on VALUE)."""

    name: str
    type: str
    nullable: bool
    default: Default | None
    checks: list[Check]
    collation: str | None
    comment: str | None
    loc: Location


@dataclass
class CompositeType:
    """CREATE TYPE ... AS (attribute type, ...)."""

    name: str
    attributes: list[tuple[str, str]]  # (name, type), in order
    comment: str | None
    loc: Location


@dataclass
class MaterializedView:
    name: str
    query: str
    indexes: list[Index]
    with_data: bool
    comment: str | None
    loc: Location


@dataclass
class ConfigKey:
    name: str
    default: str | None
    description: str | None
    secret: bool
    value: str | None
    value_from_env: str | None
    loc: Location


@dataclass
class Config:
    table: str
    key_column: str
    value_column: str
    keys: list[ConfigKey]
    loc: Location


@dataclass
class Spec:
    path: str
    schema: str
    extensions: list[str]
    enums: list[Enum]
    functions: list[Function]
    tables: list[Table]
    config: Config | None
    source: str = field(repr=False, default="")
    sequences: list[Sequence] = field(default_factory=list)
    views: list[View] = field(default_factory=list)
    declared: frozenset[str] = frozenset()  # the top-level keys the file has
    extension_items: list[Extension] = field(default_factory=list)  # `extensions`, in full
    schema_comment: str | None = None  # COMMENT ON SCHEMA (schema: {name, comment})
    domains: list[Domain] = field(default_factory=list)
    types: list[CompositeType] = field(default_factory=list)
    materialized_views: list[MaterializedView] = field(default_factory=list)
    procedures: list[Function] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)

    @property
    def manages(self) -> frozenset[str]:
        """Kinds managed only when the spec declares them (views, standalone sequences,
        extensions, domains, composite types, materialized views, procedures, grants)."""
        return self.declared & {
            "views", "sequences", "extensions", "procedures", "grants", *OPTIONAL_KINDS
        }

    @property
    def type_names(self) -> set[str]:
        """Names a column type may be besides the built-in ones: enums, domains, types."""
        named: list[Enum | Domain | CompositeType] = [*self.enums, *self.domains, *self.types]
        return {x.name for x in named}

    def roles(self) -> list[str]:
        """The roles the spec names (policies, grants), `public` aside: each must exist."""
        found = {r for t in self.tables for p in t.policies for r in p.roles}
        found |= {g.role for g in self.grants}
        return sorted(found - {"public"})

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)

    def all_extensions(self) -> list[Extension]:
        """The extensions in full (a Spec built in code may list names only)."""
        if self.extension_items:
            return self.extension_items
        return [Extension(n, None, None, Location(self.path, 1, 1)) for n in self.extensions]

    def function(self, name: str) -> Function | None:
        return next((f for f in self.functions if f.name == name), None)


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file; raise SpecError listing every problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(
            [Problem(Location(str(p), 1, 1), "file not found; create it or pass --spec PATH")]
        ) from None
    except UnicodeDecodeError as e:
        raise SpecError(
            [Problem(Location(str(p), 1, 1), f"not UTF-8 text ({e.reason}); save it as UTF-8")]
        ) from None
    return parse_spec(text, str(p))


def parse_spec(text: str, filename: str = "schema.yaml") -> Spec:
    """Parse spec text; raise SpecError listing every problem."""
    reader = _Reader(filename)
    root = reader.compose(text)
    if root is None:
        raise SpecError(reader.problems)
    spec = reader.spec(root)
    spec.source = text
    if reader.problems:
        raise SpecError(sorted(reader.problems, key=lambda p: (p.location.line, p.location.col)))
    return spec


def compose_yaml(text: str, filename: str) -> tuple[yaml.Node | None, list[Problem]]:
    """YAML text -> node graph, or the syntax problem with its position."""
    try:
        return yaml.compose(text, Loader=_LOADER), []
    except yaml.YAMLError:
        pass  # parse again with the pure-Python parser: its messages say more
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), []
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = e.problem or "malformed YAML"
        if "\t" in what or "'\\t'" in what or "tab" in what:
            what += " (indent with spaces, not tabs)"
        return None, [Problem(Location(filename, line, col), f"YAML syntax error: {what}")]
    except yaml.reader.ReaderError as e:
        pos = max(0, min(e.position, len(text)))
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        char = f"#x{e.character:04x}" if isinstance(e.character, int) else repr(e.character)
        what = f"character {char} is not allowed in YAML ({e.reason})"
        return None, [Problem(Location(filename, line, col), f"YAML error: {what}")]
    except yaml.YAMLError as e:
        return None, [Problem(Location(filename, 1, 1), f"YAML error: {e}")]


class NodeReader:
    """Typed access to YAML nodes that records problems instead of raising."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []
        self._constructor = SafeConstructor()

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.filename, node.start_mark.line + 1, node.start_mark.column + 1)

    def error(self, node: yaml.Node | Location, message: str) -> None:
        where = node if isinstance(node, Location) else self.loc(node)
        self.problems.append(Problem(where, message))

    def compose(self, text: str) -> yaml.Node | None:
        node, problems = compose_yaml(text, self.filename)
        self.problems.extend(problems)
        if node is None and not problems:
            self.problems.append(
                Problem(Location(self.filename, 1, 1), "the file is empty; see docs/spec.md")
            )
        return node

    def mapping(
        self,
        node: yaml.Node,
        what: str,
        allowed: Iterable[str] | None = None,
        required: Iterable[str] = (),
    ) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        """A mapping as {key: (key_node, value_node)}; reports unknown, duplicate, missing keys."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} must be a mapping (key: value), not {_kind(node)}")
            return None
        result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        allowed_list = list(allowed) if allowed is not None else None
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_node, f"{what}: keys must be plain names")
                continue
            key = str(key_node.value)
            if key in result:
                first = self.loc(result[key][0])
                self.error(key_node, f"{what}: duplicate key '{key}' (first at line {first.line})")
                continue
            if allowed_list is not None and key not in allowed_list:
                hint = _did_you_mean(key, allowed_list)
                self.error(key_node, f"{what}: unknown key '{key}'{hint}")
                continue
            result[key] = (key_node, value_node)
        for key in required:
            if key not in result:
                self.error(node, f"{what}: missing required key '{key}'")
        return result

    def scalar(self, node: yaml.Node) -> Any:
        try:
            return self._constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as e:
            reason = getattr(e, "problem", None) or str(e)
            self.error(node, f"cannot read '{node.value}': {reason}; quote it to make it a string")
            return str(node.value)

    def string(self, node: yaml.Node, what: str, allow_empty: bool = False) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            self.error(node, f"{what} must be a string, not {_kind(node)}")
            return None
        value = str(node.value)
        if not value.strip() and not allow_empty:
            self.error(node, f"{what} must not be empty")
            return None
        return value

    def boolean(self, node: yaml.Node, what: str) -> bool | None:
        value = self.scalar(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(value, bool):
            self.error(node, f"{what} must be true or false")
            return None
        return value

    def choice(self, node: yaml.Node, what: str, choices: Iterable[str]) -> str | None:
        value = self.string(node, what)
        if value is None:
            return None
        normalized = " ".join(value.lower().split())
        options = list(choices)
        if normalized not in options:
            self.error(node, f"{what} must be one of: {', '.join(options)} (got '{value}')")
            return None
        return normalized

    def string_list(self, node: yaml.Node, what: str) -> list[str] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"{what} must be a list, e.g. [a, b]")
            return None
        items = [self.string(item, f"{what} item") for item in node.value]
        return [i for i in items if i is not None]

    def identifier(self, node: yaml.Node | Location, name: str, what: str) -> None:
        """Report names Postgres would silently truncate."""
        size = len(name.encode("utf-8"))
        if size > MAX_IDENTIFIER_BYTES:
            self.error(
                node,
                f"{what} '{name}' is {size} bytes; Postgres truncates names over "
                f"{MAX_IDENTIFIER_BYTES} bytes, so give it a shorter explicit name",
            )


class _Reader(NodeReader):
    """Builds the Spec from the node graph."""

    def spec(self, root: yaml.Node) -> Spec:
        top = self.mapping(
            root,
            "the spec",
            (
                "version",
                "schema",
                "extensions",
                "enums",
                "sequences",
                "functions",
                "procedures",
                "tables",
                "views",
                "grants",
                "config",
                *OPTIONAL_KINDS,
            ),
            ("version", "tables"),
        )
        spec = Spec(self.filename, "public", [], [], [], [], None)
        if top is None:
            return spec
        spec.declared = frozenset(top)
        if "version" in top:
            node = top["version"][1]
            version = self.scalar(node) if isinstance(node, yaml.ScalarNode) else None
            if version != 1 or isinstance(version, bool):
                self.error(node, "version must be 1")
        if "schema" in top:
            self._schema(spec, top["schema"][1])
        if "extensions" in top:
            spec.extension_items = self._extensions(top["extensions"][1])
            spec.extensions = [e.name for e in spec.extension_items]
        if "enums" in top:
            spec.enums = self._named(top["enums"][1], "enums", self._enum)
        if "sequences" in top:
            spec.sequences = self._named(top["sequences"][1], "sequences", self._sequence)
        if "functions" in top:
            spec.functions = self._functions(top["functions"][1])
        if "procedures" in top:
            spec.procedures = self._named(top["procedures"][1], "procedures", self._procedure)
        if "tables" in top:
            spec.tables = self._named(top["tables"][1], "tables", self._table)
        if "views" in top:
            spec.views = self._named(top["views"][1], "views", self._view)
        if "config" in top:
            spec.config = self._config(top["config"][1])
        if "domains" in top:
            spec.domains = self._named(top["domains"][1], "domains", self._domain)
        if "types" in top:
            spec.types = self._named(top["types"][1], "types", self._composite)
        if "materialized_views" in top:
            spec.materialized_views = self._named(
                top["materialized_views"][1], "materialized_views", self._materialized_view
            )
        if "grants" in top:
            spec.grants = self._named(top["grants"][1], "grants", self._grant)
        _Checker(self, spec).check()
        return spec

    def _schema(self, spec: Spec, node: yaml.Node) -> None:
        """`schema: name`, or `schema: {name, comment}` to comment on the schema too."""
        name_node = node
        if isinstance(node, yaml.MappingNode):
            m = self.mapping(node, "schema", ("name", "comment"), ("name",))
            if m is None or "name" not in m:
                return
            name_node = m["name"][1]
            if "comment" in m:
                spec.schema_comment = self.string(
                    m["comment"][1], "schema comment", allow_empty=True
                )
        spec.schema = self.string(name_node, "schema") or "public"
        self.identifier(name_node, spec.schema, "schema name")
        if spec.schema == "public" and spec.schema_comment is not None:
            self.error(
                node,
                "schema comment: only a schema the spec creates takes a comment, not public",
            )

    def _extensions(self, node: yaml.Node) -> list[Extension]:
        """`extensions:` items: a name, or {name, version, schema}."""
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, "extensions must be a list, e.g. [pg_trgm]")
            return []
        out: list[Extension] = []
        seen: set[str] = set()
        for item in node.value:
            ext: Extension | None = None
            if isinstance(item, yaml.MappingNode):
                m = self.mapping(item, "extension", ("name", "version", "schema"), ("name",))
                name = self.string(m["name"][1], "extension name") if m and "name" in m else None
                if m is not None and name:
                    version = (
                        self._version(m["version"][1]) if "version" in m else None
                    )
                    schema = (
                        self.string(m["schema"][1], f"extension '{name}' schema")
                        if "schema" in m
                        else None
                    )
                    ext = Extension(name, version, schema, self.loc(item))
            else:
                name = self.string(item, "extensions item")
                if name:
                    ext = Extension(name, None, None, self.loc(item))
            if ext is None:
                continue
            if ext.name in seen:
                self.error(item, f"extension '{ext.name}' is listed twice")
                continue
            seen.add(ext.name)
            out.append(ext)
        return out

    def _version(self, node: yaml.Node) -> str | None:
        # Versions look like numbers to YAML ("1.6"); written unquoted, 1.10 would read 1.1.
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            self.error(node, 'extension version must be a string: quote it, e.g. "1.6"')
            return None
        return self.string(node, "extension version")

    def _named(
        self, node: yaml.Node, what: str, build: Callable[[str, yaml.Node, yaml.Node], Any]
    ) -> list[Any]:
        entries = self.mapping(node, what)
        if entries is None:
            return []
        built = []
        for name, (key_node, value_node) in entries.items():
            self.identifier(key_node, name, f"{what[:-1]} name")
            item = build(name, key_node, value_node)
            if item is not None:
                built.append(item)
        return built

    def _enum(self, name: str, key_node: yaml.Node, node: yaml.Node) -> Enum | None:
        m = self.mapping(
            node, f"enum '{name}'", ("values", "comment", "renamed_from"), ("values",)
        )
        if m is None:
            return None
        values: list[str] = []
        renamed: dict[str, str] = {}
        if "values" in m:
            values, renamed = self._enum_values(m["values"][1], f"enum '{name}' values")
        if len(set(values)) != len(values):
            self.error(m["values"][1], f"enum '{name}' has duplicate values")
        olds = list(renamed.values())
        for new, old in renamed.items():
            if old in values or olds.count(old) > 1:
                self.error(
                    m["values"][1],
                    f"enum '{name}': value '{new}' renamed_from '{old}', which is still a "
                    "value or claimed twice",
                )
        comment = self.string(m["comment"][1], "comment") if "comment" in m else None
        e = Enum(name, values, comment, self.loc(key_node), renamed_values=renamed)
        return self._renamed(m, e)

    def _enum_values(self, node: yaml.Node, what: str) -> tuple[list[str], dict[str, str]]:
        """Labels, each a string or {name, renamed_from}; and the renames (new -> old)."""
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"{what} must be a list, e.g. [a, b]")
            return [], {}
        values: list[str] = []
        renamed: dict[str, str] = {}
        for item in node.value:
            if not isinstance(item, yaml.MappingNode):
                value = self.string(item, f"{what} item")
                if value is not None:
                    values.append(value)
                continue
            m = self.mapping(item, f"{what} item", ("name", "renamed_from"), ("name",))
            if m is None or "name" not in m:
                continue
            value = self.string(m["name"][1], f"{what} name")
            if value is None:
                continue
            values.append(value)
            if "renamed_from" in m:
                old = self.string(m["renamed_from"][1], f"{what} renamed_from")
                if old == value:
                    self.error(m["renamed_from"][1], f"renamed_from: '{old}' is its own name")
                elif old is not None:
                    renamed[value] = old
        return values, renamed

    def _sequence(self, name: str, key_node: yaml.Node, node: yaml.Node) -> Sequence | None:
        what = f"sequence '{name}'"
        m = self.mapping(
            node,
            what,
            ("start", "increment", "min", "max", "cache", "cycle", "as", "owned_by", "comment"),
        )
        if m is None:
            return None

        def integer(key: str) -> int | None:
            if key not in m:
                return None
            value_node = m[key][1]
            value = self.scalar(value_node) if isinstance(value_node, yaml.ScalarNode) else None
            if isinstance(value, bool) or not isinstance(value, int):
                self.error(value_node, f"{what} {key} must be an integer")
                return None
            return value

        seq = Sequence(
            name,
            integer("start"),
            integer("increment"),
            integer("min"),
            integer("max"),
            integer("cache"),
            bool(self.boolean(m["cycle"][1], f"{what} cycle")) if "cycle" in m else False,
            self.choice(m["as"][1], f"{what} as", SEQUENCE_TYPES) if "as" in m else None,
            None,
            self.loc(key_node),
            self._comment(m, what),
        )
        if seq.increment == 0:
            self.error(m["increment"][1], f"{what} increment must not be 0")
        if seq.cache is not None and seq.cache < 1:
            self.error(m["cache"][1], f"{what} cache must be at least 1")
        if "owned_by" in m:
            owner = self.string(m["owned_by"][1], f"{what} owned_by")
            if owner is not None and owner.count(".") != 1:
                self.error(m["owned_by"][1], f"{what} owned_by must be written table.column")
            else:
                seq.owned_by = owner
        return seq

    def _view(self, name: str, key_node: yaml.Node, node: yaml.Node) -> View | None:
        what = f"view '{name}'"
        m = self.mapping(node, what, VIEW_KEYS, ("query",))
        if m is None:
            return None
        query = self.string(m["query"][1], f"{what} query") if "query" in m else None
        check_option = (
            self.choice(m["check_option"][1], f"{what} check_option", ("local", "cascaded"))
            if "check_option" in m
            else None
        )
        flags = {
            key: bool(self.boolean(m[key][1], f"{what} {key}")) if key in m else False
            for key in ("security_barrier", "security_invoker")
        }
        comment = (
            self.string(m["comment"][1], f"{what} comment", allow_empty=True)
            if "comment" in m
            else None
        )
        if query is None:
            return None
        view = View(
            name, query, comment, self.loc(key_node), check_option,
            security_barrier=flags["security_barrier"],
            security_invoker=flags["security_invoker"],
        )
        for item in self._list(m, "triggers", what):
            tg = self._trigger(view, item)
            if tg:
                view.triggers.append(tg)
        return view

    def _domain(self, name: str, key_node: yaml.Node, node: yaml.Node) -> Domain | None:
        what = f"domain '{name}'"
        m = self.mapping(
            node,
            what,
            ("type", "nullable", "default", "checks", "collation", "comment"),
            ("type",),
        )
        if m is None:
            return None
        type_ = self.string(m["type"][1], f"{what} type") if "type" in m else None
        nullable = True
        if "nullable" in m:
            nullable = self.boolean(m["nullable"][1], f"{what} nullable") is not False
        default = self._default(m["default"][1], what) if "default" in m else None
        checks: list[Check] = []
        holder = Table(name, None, [], None, [], [], [], [], [], self.loc(key_node))
        for item in self._list(m, "checks", what):
            ck = self._check(holder, item)
            if ck:
                checks.append(ck)
        names = [ck.name for ck in checks]
        if len(set(names)) != len(names):
            self.error(m["checks"][1], f"{what}: two checks have the same name")
        collation = (
            self.string(m["collation"][1], f"{what} collation") if "collation" in m else None
        )
        comment = (
            self.string(m["comment"][1], f"{what} comment", allow_empty=True)
            if "comment" in m
            else None
        )
        if type_ is None:
            return None
        return Domain(
            name, type_.strip(), nullable, default, checks, collation, comment, self.loc(key_node)
        )

    def _composite(self, name: str, key_node: yaml.Node, node: yaml.Node) -> CompositeType | None:
        what = f"type '{name}'"
        m = self.mapping(node, what, ("attributes", "comment"), ("attributes",))
        if m is None:
            return None
        attributes: list[tuple[str, str]] = []
        if "attributes" in m:
            attrs = m["attributes"][1]
            if isinstance(attrs, yaml.SequenceNode):
                for item in attrs.value:
                    text = self.string(item, f"{what} attribute")
                    parts = (text or "").split(None, 1)
                    if text is not None and len(parts) != 2:
                        self.error(item, f"{what} attribute must be written 'name type'")
                    elif text is not None:
                        attributes.append((parts[0], parts[1].strip()))
            else:
                entries = self.mapping(attrs, f"{what} attributes")
                for attr, (attr_key, attr_node) in (entries or {}).items():
                    self.identifier(attr_key, attr, "attribute name")
                    type_ = self.string(attr_node, f"{what} attribute '{attr}' type")
                    if type_ is not None:
                        attributes.append((attr, type_.strip()))
            if not getattr(attrs, "value", None):
                self.error(attrs, f"{what} has no attributes")
            names = [a for a, _ in attributes]
            if len(set(names)) != len(names):
                self.error(attrs, f"{what}: an attribute is listed twice")
        comment = (
            self.string(m["comment"][1], f"{what} comment", allow_empty=True)
            if "comment" in m
            else None
        )
        return CompositeType(name, attributes, comment, self.loc(key_node))

    def _materialized_view(
        self, name: str, key_node: yaml.Node, node: yaml.Node
    ) -> MaterializedView | None:
        what = f"materialized view '{name}'"
        m = self.mapping(node, what, ("query", "indexes", "with_data", "comment"), ("query",))
        if m is None:
            return None
        query = self.string(m["query"][1], f"{what} query") if "query" in m else None
        holder = Table(name, None, [], None, [], [], [], [], [], self.loc(key_node))
        indexes = [
            ix for item in self._list(m, "indexes", what) if (ix := self._index(holder, item))
        ]
        with_data = (
            self.boolean(m["with_data"][1], f"{what} with_data") is not False
            if "with_data" in m
            else True
        )
        comment = (
            self.string(m["comment"][1], f"{what} comment", allow_empty=True)
            if "comment" in m
            else None
        )
        if query is None:
            return None
        return MaterializedView(name, query, indexes, with_data, comment, self.loc(key_node))

    def _functions(self, node: yaml.Node) -> list[Function]:
        """`functions:` maps a name to one definition, or to a list of them (overloads:
        the same name with different argument types)."""
        entries = self.mapping(node, "functions")
        if entries is None:
            return []
        built: list[Function] = []
        for name, (key_node, value_node) in entries.items():
            self.identifier(key_node, name, "function name")
            if not isinstance(value_node, yaml.SequenceNode):
                f = self._function(name, key_node, value_node)
                built += [f] if f else []
                continue
            if not value_node.value:
                self.error(value_node, f"function '{name}': the list of overloads is empty")
            seen: dict[str, Location] = {}
            for item in value_node.value:
                f = self._function(name, item, item)
                if f is None:
                    continue
                if f.renamed_from is not None:
                    self.error(f.loc, f"function '{name}': an overload cannot be renamed_from")
                    f.renamed_from = None
                types = sqlread.argument_types(f.args)
                sig = ", ".join(types if types is not None else f.args)
                if sig in seen:
                    self.error(
                        f.loc,
                        f"function '{name}({sig})' is declared twice (first at line "
                        f"{seen[sig].line}); overloads need different argument types",
                    )
                seen.setdefault(sig, f.loc)
                built.append(f)
        return built

    def _function(self, name: str, key_node: yaml.Node, node: yaml.Node) -> Function | None:
        what = f"function '{name}'"
        m = self.mapping(node, what, FUNCTION_KEYS, ("returns", "language", "body"))
        if m is None:
            return None
        returns = self.string(m["returns"][1], f"{what} returns") if "returns" in m else None
        f = self._routine(name, key_node, m, what, returns or "")
        if f is None or returns is None:
            return None
        if "volatility" in m:
            f.volatility = (
                self.choice(m["volatility"][1], f"{what} volatility", VOLATILITIES)
                or f.volatility
            )
        for key in ("strict", "leakproof"):
            if key in m:
                setattr(f, key, bool(self.boolean(m[key][1], f"{what} {key}")))
        if "parallel" in m:
            f.parallel = self.choice(m["parallel"][1], f"{what} parallel", PARALLEL) or "unsafe"
        f.cost = self._positive(m, "cost", what)
        f.rows = self._positive(m, "rows", what)
        if f.rows is not None and not returns.lower().startswith(("setof ", "table")):
            self.error(m["rows"][0], f"{what}: rows needs a set-returning function (setof, table)")
        return self._renamed(m, f)

    def _procedure(self, name: str, key_node: yaml.Node, node: yaml.Node) -> Function | None:
        what = f"procedure '{name}'"
        m = self.mapping(
            node, what, ("args", "language", "security", "set", "body"), ("language", "body")
        )
        if m is None:
            return None
        f = self._routine(name, key_node, m, what, "")
        if f is not None:
            f.kind = "procedure"
        return f

    def _routine(
        self,
        name: str,
        key_node: yaml.Node,
        m: dict[str, tuple[yaml.Node, yaml.Node]],
        what: str,
        returns: str,
    ) -> Function | None:
        """What functions and procedures share: args, language, security, set, body."""
        args = self.string_list(m["args"][1], f"{what} args") if "args" in m else []
        language = (
            self.choice(m["language"][1], f"{what} language", LANGUAGES)
            if "language" in m
            else None
        )
        security = "invoker"
        if "security" in m:
            security = (
                self.choice(m["security"][1], f"{what} security", ("invoker", "definer"))
                or security
            )
        body = self.string(m["body"][1], f"{what} body") if "body" in m else None
        comment = self.string(m["comment"][1], "comment") if "comment" in m else None
        settings: dict[str, str] = {}
        if "set" in m:
            entries = self.mapping(m["set"][1], f"{what} set")
            for key, (key_node_, value_node) in (entries or {}).items():
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", key):
                    self.error(key_node_, f"{what} set: '{key}' is not a setting name")
                    continue
                value = self.scalar(value_node) if isinstance(value_node, yaml.ScalarNode) else None
                if isinstance(value, bool) or not isinstance(value, str | int | float):
                    self.error(value_node, f"{what} set {key} must be a string or number")
                    continue
                settings[key.lower()] = str(value)
        if language is None or body is None:
            return None
        f = Function(
            name, args or [], returns, language, "volatile", security, body, comment,
            self.loc(key_node),
        )
        f.settings = settings
        return f

    def _positive(
        self, m: dict[str, tuple[yaml.Node, yaml.Node]], key: str, what: str
    ) -> float | None:
        if key not in m:
            return None
        node = m[key][1]
        value = self.scalar(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.error(node, f"{what} {key} must be a positive number")
            return None
        return float(value)

    def _table(self, name: str, key_node: yaml.Node, node: yaml.Node) -> Table | None:
        what = f"table '{name}'"
        m = self.mapping(
            node,
            what,
            (
                "comment",
                "columns",
                "primary_key",
                "unique",
                "foreign_keys",
                "checks",
                "indexes",
                "triggers",
                "row_level_security",
                "force_row_level_security",
                "policies",
                "renamed_from",
                "unlogged",
                "with",
                "excludes",
                "partition_by",
                "partitions",
            ),
            ("columns",),
        )
        if m is None:
            return None
        table = Table(name, None, [], None, [], [], [], [], [], self.loc(key_node))
        self._renamed(m, table)
        if "unlogged" in m:
            table.unlogged = bool(self.boolean(m["unlogged"][1], f"{what} unlogged"))
        if "partition_by" in m:
            table.partition_by = self._partition_by(m["partition_by"][1], what)
        if "partitions" in m:
            if table.partition_by is None:
                self.error(m["partitions"][0], f"{what}: partitions need partition_by")
            else:
                table.partitions = self._partitions(table, m["partitions"][1])
        if "comment" in m:
            table.comment = self.string(m["comment"][1], f"{what} comment", allow_empty=True)
        if "columns" in m:
            self._columns(table, m["columns"][1])
        if "primary_key" in m:
            table.primary_key = self._primary_key(table, m["primary_key"][1])
        for item in self._list(m, "unique", what):
            uc = self._unique(table, item)
            if uc:
                table.uniques.append(uc)
        for item in self._list(m, "foreign_keys", what):
            fk = self._foreign_key(table, item)
            if fk:
                table.foreign_keys.append(fk)
        for item in self._list(m, "checks", what):
            ck = self._check(table, item)
            if ck:
                table.checks.append(ck)
        for item in self._list(m, "indexes", what):
            ix = self._index(table, item)
            if ix:
                table.indexes.append(ix)
        for item in self._list(m, "triggers", what):
            tg = self._trigger(table, item)
            if tg:
                table.triggers.append(tg)
        for key in ("row_level_security", "force_row_level_security"):
            if key in m:
                setattr(table, key, bool(self.boolean(m[key][1], f"{what} {key}")))
        if table.force_row_level_security and not table.row_level_security:
            self.error(
                m["force_row_level_security"][0],
                f"{what}: force_row_level_security needs row_level_security: true",
            )
        if "policies" in m:
            entries = self.mapping(m["policies"][1], f"{what} policies")
            for name, (key_node, value_node) in (entries or {}).items():
                self.identifier(key_node, name, "policy name")
                policy = self._policy(table, name, key_node, value_node)
                if policy:
                    table.policies.append(policy)
        if "with" in m:
            table.storage = self._storage(m["with"][1], f"{what} with")
        for item in self._list(m, "excludes", what):
            ex = self._exclude(table, item)
            if ex:
                table.excludes.append(ex)
        return table

    def _partition_by(self, node: yaml.Node, what: str) -> PartitionBy | None:
        what = f"{what} partition_by"
        m = self.mapping(node, what, ("method", "columns", "expression"), ("method",))
        if m is None:
            return None
        method = self.choice(m["method"][1], f"{what} method", PARTITION_METHODS) if (
            "method" in m
        ) else None
        if ("columns" in m) == ("expression" in m):
            self.error(node, f"{what}: give exactly one of 'columns' or 'expression'")
            return None
        columns = self._columns_of(m, what) or []
        expression = self.string(m["expression"][1], f"{what} expression") if (
            "expression" in m
        ) else None
        if method is None or not (columns or expression):
            return None
        return PartitionBy(method, columns, expression, self.loc(node))

    def _partitions(self, table: Table, node: yaml.Node) -> list[Partition]:
        entries = self.mapping(node, f"table '{table.name}' partitions")
        out: list[Partition] = []
        for name, (key_node, value_node) in (entries or {}).items():
            self.identifier(key_node, name, "partition name")
            part = self._partition(table, name, key_node, value_node)
            if part is not None:
                out.append(part)
        return out

    def _partition(
        self, table: Table, name: str, key_node: yaml.Node, node: yaml.Node
    ) -> Partition | None:
        what = f"partition '{name}'"
        m = self.mapping(node, what, ("from", "to", "in", "modulus", "remainder", "default"))
        if m is None:
            return None
        part = Partition(name, None, None, None, None, None, False, self.loc(key_node))
        forms = [k for k in ("from", "in", "modulus", "default") if k in m]
        method = table.partition_by.method if table.partition_by else ""
        wanted = {"range": "from", "list": "in", "hash": "modulus"}.get(method)
        if len(forms) != 1 or (forms[0] not in (wanted, "default")):
            self.error(
                node,
                f"{what}: give one of '{wanted}' (partition_by method {method}) or "
                "'default: true'",
            )
            return None
        if "default" in m:
            part.default = bool(self.boolean(m["default"][1], f"{what} default"))
            if not part.default or method == "hash":
                self.error(m["default"][1], f"{what}: default must be true (range or list)")
                return None
        elif "from" in m:
            if "to" not in m:
                self.error(node, f"{what}: 'from' needs 'to'")
                return None
            part.from_ = self._bound_values(m["from"][1], f"{what} from")
            part.to = self._bound_values(m["to"][1], f"{what} to")
        elif "in" in m:
            part.in_ = self._bound_values(m["in"][1], f"{what} in")
        else:
            part.modulus = self._bound_int(m["modulus"][1], f"{what} modulus")
            if "remainder" not in m:
                self.error(node, f"{what}: 'modulus' needs 'remainder'")
                return None
            part.remainder = self._bound_int(m["remainder"][1], f"{what} remainder", zero=True)
        if any(k in m for k in ("to",)) and "from" not in m:
            self.error(m["to"][0], f"{what}: 'to' needs 'from'")
        if "remainder" in m and "modulus" not in m:
            self.error(m["remainder"][0], f"{what}: 'remainder' needs 'modulus'")
        return part

    def _bound_int(self, node: yaml.Node, what: str, zero: bool = False) -> int | None:
        value = self.scalar(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if zero else 1):
            self.error(node, f"{what} must be an integer of at least {0 if zero else 1}")
            return None
        return value

    def _bound_values(self, node: yaml.Node, what: str) -> list[str] | None:
        """A value or a list of values: literals (quoted here), or {sql: MINVALUE}."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if not items:
            self.error(node, f"{what} must not be empty")
            return None
        out: list[str] = []
        for item in items:
            if isinstance(item, yaml.MappingNode):
                m = self.mapping(item, what, ("sql",), ("sql",))
                sql = self.string(m["sql"][1], f"{what} sql") if m and "sql" in m else None
                if sql is None:
                    return None
                out.append(sql.strip())
                continue
            if not isinstance(item, yaml.ScalarNode):
                self.error(item, f"{what}: a value, a list of values, or {{sql: ...}}")
                return None
            value = self.scalar(item)
            if value is None:
                out.append("NULL")
            elif isinstance(value, bool):
                out.append("true" if value else "false")
            elif isinstance(value, int | float):
                out.append(str(value))
            else:
                out.append("'" + str(value).replace("'", "''") + "'")
        return out

    def _comment(self, m: dict[str, tuple[yaml.Node, yaml.Node]], what: str) -> str | None:
        """An optional `comment:` (any text, empty allowed)."""
        if "comment" not in m:
            return None
        return self.string(m["comment"][1], f"{what} comment", allow_empty=True)
    def _policy(
        self, table: Table, name: str, key_node: yaml.Node, node: yaml.Node
    ) -> Policy | None:
        what = f"table '{table.name}' policy '{name}'"
        m = self.mapping(
            node, what, ("command", "permissive", "roles", "using", "with_check")
        )
        if m is None:
            return None
        command = "all"
        if "command" in m:
            command = self.choice(m["command"][1], f"{what} command", POLICY_COMMANDS) or command
        permissive = True
        if "permissive" in m:
            permissive = self.boolean(m["permissive"][1], f"{what} permissive") is not False
        roles = ["public"]
        if "roles" in m:
            roles = self.string_list(m["roles"][1], f"{what} roles") or []
            if not roles:
                self.error(m["roles"][1], f"{what} roles must not be empty (public: everyone)")
                roles = ["public"]
            for role in roles:
                if role.lower() in ROLE_KEYWORDS:
                    self.error(
                        m["roles"][1],
                        f"{what}: name the role instead of {role} (it would differ between "
                        "the database and the shadow schemadiff compares it with)",
                    )
            roles = sorted({"public" if r.lower() == "public" else r for r in roles})
        using = self.string(m["using"][1], f"{what} using") if "using" in m else None
        check = self.string(m["with_check"][1], f"{what} with_check") if "with_check" in m else None
        if command in ("select", "delete") and check is not None:
            self.error(m["with_check"][0], f"{what}: a {command} policy takes no with_check")
        if command == "insert" and using is not None:
            self.error(m["using"][0], f"{what}: an insert policy takes no using")
        return Policy(name, command, permissive, roles, using, check, self.loc(key_node))

    # --- columns and constraints: storage parameters, deferral, identity, generated, EXCLUDE

    def _storage(self, node: yaml.Node, what: str) -> dict[str, str]:
        """`with: {fillfactor: 70, autovacuum_enabled: false}` -> {"fillfactor": "70", ...}."""
        entries = self.mapping(node, what)
        out: dict[str, str] = {}
        for name, (key_node, value_node) in (entries or {}).items():
            if not re.fullmatch(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?", name):
                self.error(key_node, f"{what}: '{name}' is not a storage parameter name")
                continue
            value = self.scalar(value_node) if isinstance(value_node, yaml.ScalarNode) else None
            if isinstance(value, bool):
                out[name] = "true" if value else "false"
            elif isinstance(value, int | float) or (isinstance(value, str) and value.strip()):
                text = str(value).strip()
                if name in BOOLEAN_STORAGE_PARAMETERS:
                    text = _BOOLEAN_WORDS.get(text.lower(), text)
                out[name] = text
            else:
                self.error(value_node, f"{what} {name} must be a number, a word or true/false")
        return out

    def _deferral(
        self, m: dict[str, tuple[yaml.Node, yaml.Node]], what: str
    ) -> tuple[bool, bool]:
        """`deferrable:` and `initially_deferred:` (which needs the first)."""
        deferrable = (
            bool(self.boolean(m["deferrable"][1], f"{what} deferrable"))
            if "deferrable" in m
            else False
        )
        deferred = (
            bool(self.boolean(m["initially_deferred"][1], f"{what} initially_deferred"))
            if "initially_deferred" in m
            else False
        )
        if deferred and not deferrable:
            self.error(
                m["initially_deferred"][0], f"{what}: initially_deferred needs deferrable: true"
            )
        return deferrable, deferred

    def _identity(
        self, node: yaml.Node, what: str
    ) -> tuple[str | None, IdentityOptions | None]:
        """`identity: always` or `identity: {generated: always, start: 100, ...}`."""
        if not isinstance(node, yaml.MappingNode):
            return self.choice(node, f"{what} identity", IDENTITIES), None
        keys = ("generated", "start", "increment", "min", "max", "cache", "cycle")
        m = self.mapping(node, f"{what} identity", keys, ("generated",))
        if m is None or "generated" not in m:
            return None, None
        kind = self.choice(m["generated"][1], f"{what} identity generated", IDENTITIES)
        numbers: dict[str, int | None] = {}
        for key in keys[1:6]:
            numbers[key] = None
            if key in m:
                value_node = m[key][1]
                value = (
                    self.scalar(value_node) if isinstance(value_node, yaml.ScalarNode) else None
                )
                if isinstance(value, bool) or not isinstance(value, int):
                    self.error(value_node, f"{what} identity {key} must be an integer")
                else:
                    numbers[key] = value
        if numbers["increment"] == 0:
            self.error(m["increment"][1], f"{what} identity increment must not be 0")
        if numbers["cache"] is not None and numbers["cache"] < 1:
            self.error(m["cache"][1], f"{what} identity cache must be at least 1")
        cycle = (
            bool(self.boolean(m["cycle"][1], f"{what} identity cycle")) if "cycle" in m else False
        )
        options = IdentityOptions(
            numbers["start"],
            numbers["increment"],
            numbers["min"],
            numbers["max"],
            numbers["cache"],
            cycle,
        )
        return kind, (options if options != IdentityOptions() else None)

    def _generated(self, node: yaml.Node, what: str) -> Generated | None:
        """`generated: {expression: price * qty, stored: true}` (or just the expression)."""
        if isinstance(node, yaml.ScalarNode):
            expr = self.string(node, f"{what} generated")
            return Generated(expr.strip()) if expr else None
        m = self.mapping(node, f"{what} generated", ("expression", "stored"), ("expression",))
        if m is None or "expression" not in m:
            return None
        expr = self.string(m["expression"][1], f"{what} generated expression")
        stored = (
            self.boolean(m["stored"][1], f"{what} generated stored") if "stored" in m else True
        )
        return Generated(expr.strip(), stored is not False) if expr else None

    def _exclude(self, table: Table, node: yaml.Node) -> Exclude | None:
        what = f"table '{table.name}' exclude constraint"
        m = self.mapping(
            node,
            what,
            ("name", "using", "elements", "where", "deferrable", "initially_deferred"),
            ("name", "elements"),
        )
        if m is None:
            return None
        name = self._name_or(m, None, "exclude constraint", node)
        method = "gist"
        if "using" in m:
            method = self.choice(m["using"][1], f"{what} using", INDEX_METHODS) or method
        elements: list[ExcludeElement] = []
        if "elements" in m:
            els = m["elements"][1]
            if not isinstance(els, yaml.SequenceNode) or not els.value:
                self.error(els, f"{what} elements must be a non-empty list")
            else:
                for item in els.value:
                    em = self.mapping(
                        item,
                        f"{what} element",
                        ("column", "expression", "with", "opclass"),
                        ("with",),
                    )
                    if em is None or "with" not in em:
                        continue
                    if ("column" in em) == ("expression" in em):
                        self.error(
                            item, f"{what} element: give exactly one of 'column' or 'expression'"
                        )
                        continue
                    op = self.string(em["with"][1], f"{what} element with")
                    el = ExcludeElement(op.strip() if op else "")
                    if "column" in em:
                        el.column = self.string(em["column"][1], f"{what} element column")
                    else:
                        el.expression = self.string(
                            em["expression"][1], f"{what} element expression"
                        )
                    if "opclass" in em:
                        el.opclass = self.string(em["opclass"][1], f"{what} element opclass")
                    if op and (el.column or el.expression):
                        elements.append(el)
        where = self.string(m["where"][1], f"{what} where") if "where" in m else None
        deferrable, deferred = self._deferral(m, what)
        if not name or not elements:
            return None
        return Exclude(name, method, elements, where, self.loc(node), deferrable, deferred)

    def _renamed(self, m: dict[str, tuple[yaml.Node, yaml.Node]], obj: _R) -> _R:
        """Read `renamed_from:` (the object's old name) into obj.renamed_from."""
        if "renamed_from" in m:
            old = self.string(m["renamed_from"][1], "renamed_from")
            if old is not None:
                self.identifier(m["renamed_from"][1], old, "renamed_from name")
                if old == obj.name:
                    self.error(m["renamed_from"][1], f"renamed_from: '{old}' is its own name")
                else:
                    obj.renamed_from = old
        return obj

    def _list(
        self, m: dict[str, tuple[yaml.Node, yaml.Node]], key: str, what: str
    ) -> list[yaml.Node]:
        if key not in m:
            return []
        node = m[key][1]
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"{what} {key} must be a list (items start with '- ')")
            return []
        return list(node.value)

    def _columns(self, table: Table, node: yaml.Node) -> None:
        entries = self.mapping(node, f"table '{table.name}' columns")
        if entries is None:
            return
        if not entries:
            self.error(node, f"table '{table.name}' has no columns")
        for name, (key_node, value_node) in entries.items():
            self.identifier(key_node, name, "column name")
            self._column(table, name, key_node, value_node)

    def _column(self, table: Table, name: str, key_node: yaml.Node, node: yaml.Node) -> None:
        what = f"column '{table.name}.{name}'"
        loc = self.loc(key_node)
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
            type_ = self.string(node, f"{what} type")
            if type_:
                table.columns.append(Column(name, type_, True, None, None, loc))
            return
        m = self.mapping(
            node,
            what,
            (
                "type",
                "nullable",
                "default",
                "unique",
                "check",
                "comment",
                "identity",
                "renamed_from",
                "collation",
                "generated",
            ),
            ("type",),
        )
        if m is None:
            return
        type_ = self.string(m["type"][1], f"{what} type") if "type" in m else None
        nullable = True
        if "nullable" in m:
            nullable = self.boolean(m["nullable"][1], f"{what} nullable") is not False
        default = self._default(m["default"][1], what) if "default" in m else None
        comment = (
            self.string(m["comment"][1], f"{what} comment", allow_empty=True)
            if "comment" in m
            else None
        )
        if "unique" in m and self.boolean(m["unique"][1], f"{what} unique"):
            uname = f"{table.name}_{name}_key"
            self.identifier(m["unique"][0], uname, "derived unique constraint name")
            table.uniques.append(UniqueConstraint(uname, [name], self.loc(m["unique"][0])))
        if "check" in m:
            expr = self.string(m["check"][1], f"{what} check")
            if expr:
                cname = f"{table.name}_{name}_check"
                self.identifier(m["check"][0], cname, "derived check constraint name")
                table.checks.append(Check(cname, expr, self.loc(m["check"][0])))
        identity, identity_options = (
            self._identity(m["identity"][1], what) if "identity" in m else (None, None)
        )
        if identity is not None and default is not None:
            self.error(m["identity"][0], f"{what}: an identity column cannot have a default")
        collation = (
            self.string(m["collation"][1], f"{what} collation") if "collation" in m else None
        )
        generated = self._generated(m["generated"][1], what) if "generated" in m else None
        if generated is not None and (default is not None or identity is not None):
            self.error(
                m["generated"][0],
                f"{what}: a generated column cannot have a default or be an identity",
            )
        if type_ is not None:
            col = Column(name, type_.strip(), nullable, default, comment, loc, identity)
            col.collation, col.generated, col.identity_options = (
                collation,
                generated,
                identity_options,
            )
            table.columns.append(self._renamed(m, col))

    def _default(self, node: yaml.Node, what: str) -> Default | None:
        if isinstance(node, yaml.MappingNode):
            m = self.mapping(node, f"{what} default", ("sql",), ("sql",))
            if m and "sql" in m:
                sql = self.string(m["sql"][1], f"{what} default sql")
                return Default(sql=sql.strip()) if sql else None
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, f"{what} default must be a literal (0, 'abc', true) or {{sql: ...}}")
            return None
        value = self.scalar(node)
        if value is None:
            self.error(node, f"{what} default: null is not a default; leave the key out")
            return None
        if not isinstance(value, str | int | float | bool):
            self.error(node, f"{what} default must be a string, number or boolean, or {{sql: ...}}")
            return None
        return Default(literal=value)

    def _name_or(
        self,
        m: dict[str, tuple[yaml.Node, yaml.Node]],
        derived: str | None,
        what: str,
        node: yaml.Node,
    ) -> str | None:
        if "name" in m:
            name = self.string(m["name"][1], f"{what} name")
            if name:
                self.identifier(m["name"][1], name, f"{what} name")
            return name
        if derived is None:
            self.error(node, f"{what} needs an explicit 'name'")
            return None
        self.identifier(node, derived, f"derived {what} name (give an explicit 'name')")
        return derived

    def _columns_of(self, m: dict[str, tuple[yaml.Node, yaml.Node]], what: str) -> list[str] | None:
        if "columns" not in m:
            return None
        cols = self.string_list(m["columns"][1], f"{what} columns")
        if cols is not None and not cols:
            self.error(m["columns"][1], f"{what} columns must not be empty")
            return None
        return cols

    def _primary_key(self, table: Table, node: yaml.Node) -> PrimaryKey | None:
        what = f"table '{table.name}' primary_key"
        if isinstance(node, yaml.SequenceNode):
            cols = self.string_list(node, what)
            if not cols:
                self.error(node, f"{what} must not be empty")
                return None
            name = f"{table.name}_pkey"
            self.identifier(node, name, "derived primary key name")
            return PrimaryKey(name, cols, self.loc(node))
        m = self.mapping(
            node,
            what,
            ("name", "columns", "renamed_from", "comment", "deferrable", "initially_deferred"),
            ("columns",),
        )
        if m is None:
            return None
        pk_cols = self._columns_of(m, what)
        pk_name = self._name_or(m, f"{table.name}_pkey", "primary key", node)
        deferrable, deferred = self._deferral(m, what)
        if not pk_cols or not pk_name:
            return None
        pk = PrimaryKey(pk_name, pk_cols, self.loc(node), comment=self._comment(m, what))
        pk.deferrable, pk.initially_deferred = deferrable, deferred
        return self._renamed(m, pk)

    def _unique(self, table: Table, node: yaml.Node) -> UniqueConstraint | None:
        what = f"table '{table.name}' unique constraint"
        m = self.mapping(
            node,
            what,
            (
                "name",
                "columns",
                "renamed_from",
                "comment",
                "deferrable",
                "initially_deferred",
                "nulls_not_distinct",
            ),
            ("columns",),
        )
        if m is None:
            return None
        cols = self._columns_of(m, what)
        deferrable, deferred = self._deferral(m, what)
        nnd = (
            bool(self.boolean(m["nulls_not_distinct"][1], f"{what} nulls_not_distinct"))
            if "nulls_not_distinct" in m
            else False
        )
        if not cols:
            return None
        name = self._name_or(m, f"{table.name}_{'_'.join(cols)}_key", "unique constraint", node)
        if not name:
            return None
        uc = UniqueConstraint(name, cols, self.loc(node), comment=self._comment(m, what))
        uc.deferrable, uc.initially_deferred, uc.nulls_not_distinct = deferrable, deferred, nnd
        return self._renamed(m, uc)

    def _foreign_key(self, table: Table, node: yaml.Node) -> ForeignKey | None:
        what = f"table '{table.name}' foreign key"
        m = self.mapping(
            node,
            what,
            (
                "name",
                "columns",
                "references",
                "on_delete",
                "on_update",
                "deferrable",
                "initially_deferred",
                "renamed_from",
                "comment",
                "match",
            ),
            ("columns", "references"),
        )
        if m is None:
            return None
        cols = self._columns_of(m, what)
        ref_table: str | None = None
        ref_cols: list[str] = []
        if "references" in m:
            ref_node = m["references"][1]
            if isinstance(ref_node, yaml.ScalarNode):
                ref_table = self.string(ref_node, f"{what} references")
            else:
                rm = self.mapping(ref_node, f"{what} references", ("table", "columns"), ("table",))
                if rm:
                    if "table" in rm:
                        ref_table = self.string(rm["table"][1], f"{what} references table")
                    if "columns" in rm:
                        ref_cols = self.string_list(rm["columns"][1], f"{what} references") or []
        on_delete = on_update = "no action"
        if "on_delete" in m:
            on_delete = self.choice(m["on_delete"][1], f"{what} on_delete", FK_ACTIONS) or on_delete
        if "on_update" in m:
            on_update = self.choice(m["on_update"][1], f"{what} on_update", FK_ACTIONS) or on_update
        deferrable, deferred = self._deferral(m, what)
        if not cols or not ref_table:
            return None
        name = self._name_or(m, f"{table.name}_{'_'.join(cols)}_fkey", "foreign key", node)
        if not name:
            return None
        match = "simple"
        if "match" in m:
            match = self.choice(m["match"][1], f"{what} match", FK_MATCHES) or match
        return self._renamed(
            m,
            ForeignKey(
                name,
                cols,
                ref_table,
                ref_cols,
                on_delete,
                on_update,
                self.loc(node),
                deferrable,
                deferred,
                comment=self._comment(m, what),
                match=match,
            ),
        )

    def _check(self, table: Table, node: yaml.Node) -> Check | None:
        what = f"table '{table.name}' check"
        m = self.mapping(
            node,
            what,
            ("name", "expression", "renamed_from", "comment", "no_inherit"),
            ("name", "expression"),
        )
        if m is None:
            return None
        name = self._name_or(m, None, "check constraint", node)
        expr = self.string(m["expression"][1], f"{what} expression") if "expression" in m else None
        no_inherit = (
            bool(self.boolean(m["no_inherit"][1], f"{what} no_inherit"))
            if "no_inherit" in m
            else False
        )
        if not name or not expr:
            return None
        ck = Check(name, expr.strip(), self.loc(node), comment=self._comment(m, what))
        ck.no_inherit = no_inherit
        return self._renamed(m, ck)

    def _index(self, table: Table, node: yaml.Node) -> Index | None:
        what = f"table '{table.name}' index"
        m = self.mapping(
            node,
            what,
            (
                "name",
                "columns",
                "unique",
                "method",
                "where",
                "include",
                "renamed_from",
                "comment",
                "nulls_not_distinct",
                "with",
            ),
            ("columns",),
        )
        if m is None:
            return None
        elements: list[IndexElement] = []
        if "columns" in m:
            cols_node = m["columns"][1]
            if not isinstance(cols_node, yaml.SequenceNode) or not cols_node.value:
                self.error(cols_node, f"{what} columns must be a non-empty list")
            else:
                for item in cols_node.value:
                    el = self._index_element(item, what)
                    if el:
                        elements.append(el)
        derived = None
        if elements and all(e.column for e in elements):
            derived = f"{table.name}_{'_'.join(e.column or '' for e in elements)}_idx"
        name = self._name_or(m, derived, "index", node)
        unique = bool(self.boolean(m["unique"][1], f"{what} unique")) if "unique" in m else False
        method = "btree"
        if "method" in m:
            method = self.choice(m["method"][1], f"{what} method", INDEX_METHODS) or method
        where = self.string(m["where"][1], f"{what} where") if "where" in m else None
        include = (
            (self.string_list(m["include"][1], f"{what} include") or []) if ("include" in m) else []
        )
        nnd = (
            bool(self.boolean(m["nulls_not_distinct"][1], f"{what} nulls_not_distinct"))
            if "nulls_not_distinct" in m
            else False
        )
        if nnd and not unique:
            self.error(m["nulls_not_distinct"][0], f"{what}: nulls_not_distinct needs unique: true")
        storage = self._storage(m["with"][1], f"{what} with") if "with" in m else {}
        if not name or not elements:
            return None
        ix = Index(
            name,
            elements,
            unique,
            method,
            where,
            include,
            self.loc(node),
            comment=self._comment(m, what),
        )
        ix.nulls_not_distinct, ix.storage = nnd, storage
        return self._renamed(m, ix)

    def _index_element(self, node: yaml.Node, what: str) -> IndexElement | None:
        if isinstance(node, yaml.ScalarNode):
            col = self.string(node, f"{what} column")
            return IndexElement(column=col) if col else None
        m = self.mapping(
            node, f"{what} column", ("column", "expression", "order", "nulls", "opclass")
        )
        if m is None:
            return None
        if ("column" in m) == ("expression" in m):
            self.error(node, f"{what} column: give exactly one of 'column' or 'expression'")
            return None
        el = IndexElement()
        if "column" in m:
            el.column = self.string(m["column"][1], f"{what} column")
        else:
            el.expression = self.string(m["expression"][1], f"{what} expression")
        if "order" in m:
            el.order = self.choice(m["order"][1], f"{what} order", ("asc", "desc"))
        if "nulls" in m:
            el.nulls = self.choice(m["nulls"][1], f"{what} nulls", ("first", "last"))
        if "opclass" in m:
            el.opclass = self.string(m["opclass"][1], f"{what} opclass")
        return el if (el.column or el.expression) else None

    def _trigger(self, table: Table | View, node: yaml.Node) -> Trigger | None:
        what = f"{'view' if isinstance(table, View) else 'table'} '{table.name}' trigger"
        m = self.mapping(
            node,
            what,
            TRIGGER_KEYS,
            ("name", "function", "timing", "events"),
        )
        if m is None:
            return None
        name = self._name_or(m, None, "trigger", node)
        function = self.string(m["function"][1], f"{what} function") if "function" in m else None
        timing = (
            self.choice(m["timing"][1], f"{what} timing", TRIGGER_TIMINGS)
            if "timing" in m
            else None
        )
        events: list[str] = []
        if "events" in m:
            ev_list = m["events"][1]
            raw = self.string_list(ev_list, f"{what} events")
            for ev_node in ev_list.value if raw is not None else []:
                if (
                    not isinstance(ev_node, yaml.ScalarNode)
                    or ev_node.tag == "tag:yaml.org,2002:null"
                    or not ev_node.value.strip()
                ):
                    continue  # already reported by string_list
                ev = str(ev_node.value)
                if ev.lower() not in TRIGGER_EVENTS:
                    self.error(ev_node, f"{what} event must be one of: {', '.join(TRIGGER_EVENTS)}")
                else:
                    events.append(ev.lower())
            if raw == [] and not ev_list.value:
                self.error(ev_list, f"{what} events must not be empty")
        for_each = "row"
        if "for_each" in m:
            for_each = (
                self.choice(m["for_each"][1], f"{what} for_each", ("row", "statement")) or for_each
            )
        when = self.string(m["when"][1], f"{what} when") if "when" in m else None
        if not name or not function or not timing or not events:
            return None
        tg = Trigger(
            name, function, timing, events, for_each, when, self.loc(node), self._comment(m, what)
        )
        self._trigger_extras(tg, m, what)
        return tg

    def _trigger_extras(
        self, tg: Trigger, m: dict[str, tuple[yaml.Node, yaml.Node]], what: str
    ) -> None:
        """UPDATE OF, arguments, transition tables, constraint triggers, enabled state."""
        if "update_of" in m:
            tg.update_of = self.string_list(m["update_of"][1], f"{what} update_of") or []
            if "update" not in tg.events:
                self.error(m["update_of"][0], f"{what}: update_of needs the update event")
        if "args" in m:
            node = m["args"][1]
            if not isinstance(node, yaml.SequenceNode):
                self.error(node, f"{what} args must be a list, e.g. [a, b]")
            else:
                for item in node.value:
                    value = self.scalar(item) if isinstance(item, yaml.ScalarNode) else None
                    if value is None or isinstance(value, bool) or not isinstance(
                        value, str | int | float
                    ):
                        self.error(item, f"{what} args item must be a string or number")
                    else:
                        tg.args.append(str(value))
        if "referencing" in m:
            ref = self.mapping(
                m["referencing"][1], f"{what} referencing", ("old_table", "new_table")
            )
            for key in ("old_table", "new_table"):
                if ref and key in ref:
                    setattr(tg, key, self.string(ref[key][1], f"{what} referencing {key}"))
            if tg.timing != "after":
                self.error(m["referencing"][0], f"{what}: transition tables need timing: after")
        for key in ("constraint", "deferrable", "initially_deferred", "enabled"):
            if key in m:
                setattr(tg, key, bool(self.boolean(m[key][1], f"{what} {key}")))
        if tg.deferrable and not tg.constraint:
            self.error(m["deferrable"][0], f"{what}: deferrable needs constraint: true")
        if tg.initially_deferred and not tg.deferrable:
            self.error(
                m["initially_deferred"][0], f"{what}: initially_deferred needs deferrable: true"
            )
        if tg.constraint and (tg.timing != "after" or tg.for_each != "row"):
            self.error(
                m["constraint"][0], f"{what}: a constraint trigger is after ... for each row"
            )

    def _grant(self, role: str, key_node: yaml.Node, node: yaml.Node) -> Grant | None:
        what = f"grants of role '{role}'"
        if role.lower() in ROLE_KEYWORDS:
            self.error(key_node, f"{what}: name the role instead of {role}")
            return None
        m = self.mapping(node, what, tuple(PRIVILEGES))
        if m is None:
            return None

        def privileges(node: yaml.Node, kind: str, where: str) -> list[str]:
            names = self.string_list(node, f"{where} privileges") or []
            out = []
            for name in names:
                if name.lower() not in PRIVILEGES[kind]:
                    self.error(
                        node,
                        f"{where}: '{name}' is not a privilege on {kind}; one of: "
                        f"{', '.join(PRIVILEGES[kind])}",
                    )
                elif name.lower() not in out:
                    out.append(name.lower())
            return out

        grant = Grant("public" if role.lower() == "public" else role, [], {}, {}, {},
                      self.loc(key_node))
        if "schema" in m:
            grant.schema = privileges(m["schema"][1], "schema", f"{what} schema")
        for kind in ("tables", "sequences", "functions"):
            if kind not in m:
                continue
            entries = self.mapping(m[kind][1], f"{what} {kind}")
            for name, (_, value_node) in (entries or {}).items():
                objects: dict[str, list[str]] = getattr(grant, kind)
                objects[name] = privileges(value_node, kind, f"{what} {kind[:-1]} '{name}'")
        return grant

    def _config(self, node: yaml.Node) -> Config | None:
        m = self.mapping(
            node, "config", ("table", "key_column", "value_column", "keys"), ("table", "keys")
        )
        if m is None:
            return None
        table = self.string(m["table"][1], "config table") if "table" in m else None
        key_col = (
            self.string(m["key_column"][1], "config key_column") if "key_column" in m else "key"
        )
        value_col = (
            self.string(m["value_column"][1], "config value_column")
            if "value_column" in m
            else "value"
        )
        keys: list[ConfigKey] = []
        entries = self.mapping(m["keys"][1], "config keys") if "keys" in m else None
        for name, (key_node, value_node) in (entries or {}).items():
            ck = self._config_key(name, key_node, value_node)
            if ck:
                keys.append(ck)
        if not table or not key_col or not value_col:
            return None
        return Config(table, key_col, value_col, keys, self.loc(node))

    def _config_key(self, name: str, key_node: yaml.Node, node: yaml.Node) -> ConfigKey | None:
        what = f"config key '{name}'"
        m = self.mapping(
            node, what, ("default", "description", "secret", "value", "value_from_env")
        )
        if m is None:
            return None

        def text(key: str) -> str | None:
            if key not in m:
                return None
            value_node = m[key][1]
            value = self.scalar(value_node) if isinstance(value_node, yaml.ScalarNode) else None
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, str | int | float):
                return str(value)
            self.error(value_node, f"{what} {key} must be a string")
            return None

        secret = bool(self.boolean(m["secret"][1], f"{what} secret")) if "secret" in m else False
        env = text("value_from_env")
        if env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env):
            self.error(m["value_from_env"][1], f"{what} value_from_env must be a variable name")
        if secret and "value" in m:
            self.error(
                m["value"][1],
                f"{what} is secret: never write its value in the spec; use value_from_env",
            )
        return ConfigKey(
            name,
            text("default"),
            text("description"),
            secret,
            text("value"),
            env,
            self.loc(key_node),
        )


class _Checker:
    """Cross-references: columns, tables, functions, types and name collisions."""

    def __init__(self, reader: NodeReader, spec: Spec) -> None:
        self.r = reader
        self.spec = spec

    def check(self) -> None:
        spec = self.spec
        enum_names = spec.type_names
        relation_names: dict[str, Location] = {}

        def claim(name: str, loc: Location, what: str) -> None:
            # Tables, indexes, sequences and the indexes behind PK/UNIQUE share one namespace.
            if name in relation_names:
                first = relation_names[name]
                self.r.error(loc, f"{what} name '{name}' is already used at line {first.line}")
            else:
                relation_names[name] = loc

        for t in spec.tables:
            claim(t.name, t.loc, "table")
            for part in t.partitions:
                claim(part.name, part.loc, "partition")
            if t.partition_by is not None:
                self._columns_exist(
                    t, t.partition_by.columns, t.partition_by.loc, "partition_by"
                )
        for sq in spec.sequences:
            claim(sq.name, sq.loc, "sequence")
        for v in spec.views:
            claim(v.name, v.loc, "view")
        for mv in spec.materialized_views:
            claim(mv.name, mv.loc, "materialized view")
            for ix in mv.indexes:
                claim(ix.name, ix.loc, "index")
        self._types(enum_names)
        for f in spec.functions:
            if f.language == "plpgsql" and f.returns.lower() == "trigger" and f.args:
                self.r.error(f.loc, f"trigger function '{f.name}' must take no args")
        for t in spec.tables:
            cols = {c.name for c in t.columns}
            for c in t.columns:
                problem = pgtypes.check_type(c.type, enum_names, spec.extensions)
                if problem:
                    self.r.error(c.loc, f"column '{t.name}.{c.name}': {problem}")
                elif c.default is not None and c.default.literal is not None:
                    problem = pgtypes.check_literal(
                        c.type, c.default.literal, {e.name: e.values for e in spec.enums}
                    )
                    if problem:
                        self.r.error(c.loc, f"column '{t.name}.{c.name}' default: {problem}")
                if pgtypes.is_serial(c.type):
                    claim(f"{t.name}_{c.name}_seq", c.loc, "sequence (of serial column)")
                if c.identity is not None and (
                    pgtypes.base_name(c.type) not in pgtypes.INTEGER or pgtypes.is_array(c.type)
                ):
                    self.r.error(
                        c.loc,
                        f"column '{t.name}.{c.name}': identity needs smallint, integer or "
                        f"bigint, not '{c.type}'",
                    )
            constraint_names: dict[str, Location] = {}

            def constraint(
                name: str,
                loc: Location,
                table: Table = t,
                constraint_names: dict[str, Location] = constraint_names,
            ) -> None:
                if name in constraint_names:
                    self.r.error(
                        loc,
                        f"table '{table.name}': constraint name '{name}' is already used at "
                        f"line {constraint_names[name].line}",
                    )
                constraint_names[name] = loc

            if t.primary_key:
                self._columns_exist(t, t.primary_key.columns, t.primary_key.loc, "primary key")
                constraint(t.primary_key.name, t.primary_key.loc)
                claim(t.primary_key.name, t.primary_key.loc, "primary key")
            for u in t.uniques:
                self._columns_exist(t, u.columns, u.loc, "unique constraint")
                constraint(u.name, u.loc)
                claim(u.name, u.loc, "unique constraint")
            for ck in t.checks:
                constraint(ck.name, ck.loc)
            for ex in t.excludes:
                constraint(ex.name, ex.loc)
                claim(ex.name, ex.loc, "exclude constraint")
                named = [e.column for e in ex.elements if e.column]
                self._columns_exist(t, [n for n in named if n], ex.loc, f"exclude '{ex.name}'")
            for fk in t.foreign_keys:
                constraint(fk.name, fk.loc)
                self._columns_exist(t, fk.columns, fk.loc, "foreign key")
                self._foreign_key_target(t, fk)
            for ix in t.indexes:
                claim(ix.name, ix.loc, "index")
                named = [e.column for e in ix.elements if e.column]
                self._columns_exist(t, [n for n in named if n], ix.loc, f"index '{ix.name}'")
                self._columns_exist(t, ix.include, ix.loc, f"index '{ix.name}' include")
            trigger_names: set[str] = set()
            for tg in t.triggers:
                self.r.identifier(tg.loc, tg.name, "trigger name")
                if tg.name in trigger_names:
                    self.r.error(tg.loc, f"table '{t.name}': duplicate trigger '{tg.name}'")
                trigger_names.add(tg.name)
                self._columns_exist(t, tg.update_of, tg.loc, f"trigger '{tg.name}' update_of")
                fn = next(
                    (
                        f
                        for f in spec.functions
                        if f.name == tg.function and f.returns.lower() == "trigger"
                    ),
                    spec.function(tg.function),
                )
                if fn is None:
                    hint = _did_you_mean(tg.function, [f.name for f in spec.functions])
                    self.r.error(
                        tg.loc,
                        f"trigger '{tg.name}' calls function '{tg.function}', which is not "
                        f"declared under functions:{hint}",
                    )
                elif fn.returns.lower() != "trigger":
                    self.r.error(
                        tg.loc,
                        f"trigger '{tg.name}': function '{fn.name}' must return trigger",
                    )
            del cols
        for sq in spec.sequences:
            if sq.owned_by:
                owner_table, _, owner_column = sq.owned_by.partition(".")
                owner = spec.table(owner_table)
                if owner is None or owner.column(owner_column) is None:
                    self.r.error(
                        sq.loc,
                        f"sequence '{sq.name}' owned_by '{sq.owned_by}': no such table column",
                    )
        names = [f.name for f in spec.functions]
        for e in spec.enums:
            if e.name in names:
                self.r.error(e.loc, f"enum '{e.name}' has the same name as a function")
        if spec.config:
            self._config(spec.config)
        self._grants()
        self._renames()
        self._view_triggers(spec)

    def _types(self, type_names: set[str]) -> None:
        """Domains and composite types: their types are known, names unique among types."""
        spec = self.spec
        seen: dict[str, Location] = {}
        named: list[tuple[str, Enum | Domain | CompositeType]] = [
            *(("enum", e) for e in spec.enums),
            *(("domain", d) for d in spec.domains),
            *(("type", t) for t in spec.types),
        ]
        for kind, x in named:
            if x.name in seen:
                self.r.error(x.loc, f"{kind} name '{x.name}' is already used at line "
                             f"{seen[x.name].line}")
            seen.setdefault(x.name, x.loc)
        for d in spec.domains:
            problem = pgtypes.check_type(d.type, type_names - {d.name}, spec.extensions)
            if problem:
                self.r.error(d.loc, f"domain '{d.name}': {problem}")
        for t in spec.types:
            for attr, type_ in t.attributes:
                problem = pgtypes.check_type(type_, type_names - {t.name}, spec.extensions)
                if problem:
                    self.r.error(t.loc, f"type '{t.name}' attribute '{attr}': {problem}")


    def _view_triggers(self, spec: Spec) -> None:
        """A trigger on a view is INSTEAD OF INSERT/UPDATE/DELETE FOR EACH ROW (what Postgres
        allows on a view), calling a declared function that returns trigger."""
        functions = [f.name for f in spec.functions]
        for v in spec.views:
            names: set[str] = set()
            for tg in v.triggers:
                where = f"view '{v.name}' trigger '{tg.name}'"
                self.r.identifier(tg.loc, tg.name, "trigger name")
                if tg.name in names:
                    self.r.error(tg.loc, f"view '{v.name}': duplicate trigger '{tg.name}'")
                names.add(tg.name)
                if tg.timing != "instead of" or tg.for_each != "row":
                    self.r.error(
                        tg.loc, f"{where}: a trigger on a view is `timing: instead of` and "
                        "`for_each: row` (write BEFORE/AFTER triggers on its tables)",
                    )
                if "truncate" in tg.events:
                    self.r.error(tg.loc, f"{where}: a view has no truncate event")
                extras = [
                    key for key, used in (
                        ("when", tg.when is not None), ("update_of", bool(tg.update_of)),
                        ("referencing", bool(tg.old_table or tg.new_table)),
                        ("constraint", tg.constraint), ("enabled: false", not tg.enabled),
                    ) if used
                ]
                if extras:
                    self.r.error(
                        tg.loc, f"{where}: an INSTEAD OF trigger takes no {', '.join(extras)}"
                    )
                fn = spec.function(tg.function)
                if fn is None:
                    hint = _did_you_mean(tg.function, functions)
                    self.r.error(
                        tg.loc,
                        f"trigger '{tg.name}' calls function '{tg.function}', which is not "
                        f"declared under functions:{hint}",
                    )
                elif fn.returns.lower() != "trigger":
                    self.r.error(
                        tg.loc, f"trigger '{tg.name}': function '{fn.name}' must return trigger"
                    )

    def _grants(self) -> None:
        spec = self.spec
        known = {
            "tables": [t.name for t in spec.tables] + [v.name for v in spec.views],
            "sequences": [sq.name for sq in spec.sequences]
            + [
                f"{t.name}_{c.name}_seq"
                for t in spec.tables
                for c in t.columns
                if pgtypes.is_serial(c.type)
            ],
            "functions": [f.name for f in [*spec.functions, *spec.procedures]],
        }
        for g in spec.grants:
            for kind, names in known.items():
                for name in getattr(g, kind):
                    if name not in names:
                        self.r.error(
                            g.loc,
                            f"grants of role '{g.role}': {kind[:-1]} '{name}' is not declared"
                            f"{_did_you_mean(name, names)}",
                        )

    def _renames(self) -> None:
        """`renamed_from` must name one old object: not one another object also claims, nor
        one the spec still declares (both would exist at once)."""
        spec = self.spec
        groups: list[tuple[str, list[Any]]] = [
            ("table", list(spec.tables)),
            ("enum", list(spec.enums)),
            ("function", list(spec.functions)),
            ("index", [ix for t in spec.tables for ix in t.indexes]),
        ]
        for t in spec.tables:
            groups.append((f"column of table '{t.name}'", list(t.columns)))
            keys = [t.primary_key] if t.primary_key else []
            constraints = [*keys, *t.uniques, *t.foreign_keys, *t.checks]
            groups.append((f"constraint of table '{t.name}'", constraints))
        for what, items in groups:
            declared = {x.name for x in items}
            claimed: dict[str, Location] = {}
            for x in items:
                old = getattr(x, "renamed_from", None)
                if not old:
                    continue
                if old in claimed:
                    self.r.error(
                        x.loc,
                        f"renamed_from: {what} '{old}' is already claimed at line "
                        f"{claimed[old].line}; a renamed object has one new name",
                    )
                elif old in declared:
                    self.r.error(
                        x.loc,
                        f"renamed_from: {what} '{old}' is still declared in the spec, so "
                        f"'{x.name}' cannot be its new name",
                    )
                claimed.setdefault(old, x.loc)

    def _columns_exist(self, t: Table, columns: list[str], loc: Location, what: str) -> None:
        names = [c.name for c in t.columns]
        seen: set[str] = set()
        for col in columns:
            if col not in names:
                self.r.error(
                    loc,
                    f"table '{t.name}' {what}: no column '{col}'{_did_you_mean(col, names)}",
                )
            if col in seen:
                self.r.error(loc, f"table '{t.name}' {what}: column '{col}' listed twice")
            seen.add(col)

    def _foreign_key_target(self, t: Table, fk: ForeignKey) -> None:
        target = self.spec.table(fk.ref_table)
        if target is None:
            hint = _did_you_mean(fk.ref_table, [x.name for x in self.spec.tables])
            self.r.error(
                fk.loc,
                f"foreign key '{fk.name}' references table '{fk.ref_table}', "
                f"which is not declared{hint}",
            )
            return
        if not fk.ref_columns:
            if target.primary_key is None:
                self.r.error(
                    fk.loc,
                    f"foreign key '{fk.name}': table '{target.name}' has no primary key; "
                    "list the referenced columns",
                )
                return
            fk.ref_columns = list(target.primary_key.columns)
        self._columns_exist(target, fk.ref_columns, fk.loc, f"(referenced by '{fk.name}')")
        if len(fk.ref_columns) != len(fk.columns):
            self.r.error(
                fk.loc,
                f"foreign key '{fk.name}' has {len(fk.columns)} column(s) but references "
                f"{len(fk.ref_columns)}",
            )
            return
        keys = [target.primary_key.columns] if target.primary_key else []
        keys += [u.columns for u in target.uniques]
        if all(sorted(k) != sorted(fk.ref_columns) for k in keys):
            self.r.error(
                fk.loc,
                f"foreign key '{fk.name}': {target.name}({', '.join(fk.ref_columns)}) is not "
                "a primary key or unique constraint; Postgres requires one",
            )

    def _config(self, config: Config) -> None:
        t = self.spec.table(config.table)
        if t is None:
            self.r.error(config.loc, f"config table '{config.table}' is not declared in tables:")
            return
        for col in (config.key_column, config.value_column):
            if t.column(col) is None:
                self.r.error(config.loc, f"config: table '{t.name}' has no column '{col}'")
        if t.primary_key is None or t.primary_key.columns != [config.key_column]:
            self.r.error(
                config.loc,
                f"config: '{config.key_column}' must be the primary key of '{t.name}'",
            )


_BOOLEAN_WORDS = {
    "on": "true", "yes": "true", "true": "true", "1": "true",
    "off": "false", "no": "false", "false": "false", "0": "false",
}


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "empty"
    return f"'{node.value}'"
