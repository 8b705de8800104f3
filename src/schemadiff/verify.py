"""verify: is every managed object present and equal, every seed row and config key there?

Objects are checked with the plan machinery: every change a plan would make is something
missing or different, mapped to one readable line ("missing index idx_users_email", "column
users.failed_attempts default differs: live 1, spec 0"). Seed rows (seeds/ next to the spec,
or the directory given) are looked up by primary key, config keys in the config table.

What the database has and the spec does not declare (what a plan would DROP: another table,
an extra column or index, a config key the spec does not list; and what schemadiff never
manages: views, other schemas, ...) is not a failure: it is reported as "extra (not
managed): ..." and verify still passes. Only missing or different managed things fail.
Seed rows are checked for presence only: operators may change their values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from schemadiff import config, db
from schemadiff import spec as s
from schemadiff.progress import Progress
from schemadiff.seed import SeedTable, load_seeds
from schemadiff.sqltext import qualified, quote

if TYPE_CHECKING:  # annotations only
    from schemadiff.differ import Change

MISSING, DIFFERS, EXTRA = "missing", "differs", "extra"
EXTRA_PREFIX = "extra (not managed): "


@dataclass(frozen=True)
class Finding:
    status: str  # missing | differs | extra
    kind: str  # table, column, index, constraint, trigger, function, enum, comment, seed, ...
    name: str
    message: str


@dataclass
class Report:
    target: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.status != EXTRA]

    @property
    def extras(self) -> list[Finding]:
        return [f for f in self.findings if f.status == EXTRA]

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        lines = [f.message for f in self.problems] + [f.message for f in self.extras]
        return "".join(line + "\n" for line in lines)

    def to_json(self) -> str:
        def item(f: Finding) -> dict[str, str]:
            return {"status": f.status, "kind": f.kind, "name": f.name, "message": f.message}

        data = {
            "target": self.target,
            "ok": self.ok,
            "problems": [item(f) for f in self.problems],
            "extra": [item(f) for f in self.extras],
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def verify(
    spec: s.Spec, url: str, seeds_dir: str | Path | None = None, progress: Progress | None = None
) -> Report:
    """Check the database at `url` against the spec, its seeds and its config keys.

    `seeds_dir`: the seed directory (default: seeds/ next to the spec file).
    """
    from schemadiff.plan import make_plan  # loads migra

    directory = Path(seeds_dir) if seeds_dir is not None else default_seeds_dir(spec)
    seeds = load_seeds(directory, spec, progress)
    plan = make_plan(spec, url, progress=progress, seeds_dir=directory)
    with db.connection(url) as conn:
        live = _Live.read(conn, spec)
        report = Report(plan.target)
        report.findings += _object_findings(plan.changes, spec, live)
        report.findings += _seed_findings(conn, spec, seeds, live)
    report.findings += _config_findings(spec, live)
    for u in plan.unmanaged:  # 'view "public"."v"' -> 'view v', as the other lines
        text = _QUALIFIED.sub(lambda m: _display(m.group(0), spec.schema), u)
        report.findings.append(Finding(EXTRA, "unmanaged", text, EXTRA_PREFIX + text))
    return report


def default_seeds_dir(spec: s.Spec) -> Path:
    return Path(spec.path).resolve().parent / "seeds"


@dataclass
class _Live:
    """What the messages need from the live database, beyond what a plan says."""

    tables: set[str]
    columns: dict[tuple[str, str], tuple[str, bool, str | None]]  # type, not null, default
    comments: dict[str, str | None]
    config_rows: dict[str, str | None] | None
    definitions: dict[tuple[str, str], str]  # (kind, display name) -> live definition
    enums: dict[str, list[str]]  # enum -> labels in order

    @classmethod
    def read(cls, conn: psycopg.Connection[Any], spec: s.Spec) -> _Live:
        rows = conn.execute(
            """select c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                      pg_get_expr(d.adbin, d.adrelid)
                 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 join pg_attribute a on a.attrelid = c.oid and a.attnum > 0
                                    and not a.attisdropped
                 left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
                where n.nspname = %s and c.relkind in ('r', 'p')""",
            (spec.schema,),
        ).fetchall()
        columns = {(str(t), str(c)): (str(ty), bool(nn), df) for t, c, ty, nn, df in rows}
        cfg = spec.config
        definitions = {
            (str(kind), str(name)): str(definition)
            for kind, name, definition in conn.execute(_DEFINITIONS_SQL, {"schema": spec.schema})
        }
        enums: dict[str, list[str]] = {}
        for name, label in conn.execute(
            """select t.typname, e.enumlabel from pg_enum e join pg_type t on t.oid = e.enumtypid
                 join pg_namespace n on n.oid = t.typnamespace
                where n.nspname = %s order by t.typname, e.enumsortorder""",
            (spec.schema,),
        ):
            enums.setdefault(str(name), []).append(str(label))
        return cls(
            {t for t, _ in columns} | _tables(conn, spec.schema),
            columns,
            db.comments(conn, spec.schema),
            db.config_rows(conn, spec.schema, cfg.table, cfg.key_column, cfg.value_column)
            if cfg
            else None,
            definitions,
            enums,
        )


# Definitions as Postgres prints them, keyed as the findings name the objects.
_DEFINITIONS_SQL = """
select 'constraint', c.relname || '.' || co.conname, pg_get_constraintdef(co.oid)
  from pg_constraint co join pg_class c on c.oid = co.conrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s
union all
select 'index', i.relname, pg_get_indexdef(i.oid)
  from pg_index x join pg_class i on i.oid = x.indexrelid
  join pg_namespace n on n.oid = i.relnamespace
 where n.nspname = %(schema)s
union all
select 'trigger', c.relname || '.' || tg.tgname, pg_get_triggerdef(tg.oid)
  from pg_trigger tg join pg_class c on c.oid = tg.tgrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s and not tg.tgisinternal
"""


def _tables(conn: psycopg.Connection[Any], schema: str) -> set[str]:
    rows = conn.execute(
        """select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = %s and c.relkind in ('r', 'p')""",
        (schema,),
    ).fetchall()
    return {str(r[0]) for r in rows}


# -- plan changes -> findings ----------------------------------------------------------------


@dataclass
class _Group:
    kind: str
    name: str  # for people: users, users.failed_attempts, set_updated_at()
    actions: set[str] = field(default_factory=set)
    sqls: list[str] = field(default_factory=list)


def _object_findings(changes: list[Change], spec: s.Spec, live: _Live) -> list[Finding]:
    groups: dict[tuple[str, str], _Group] = {}
    for c in changes:
        if c.kind in ("setting", "config"):
            continue  # config keys are checked against the rows themselves
        name = (
            _comment_target(c.name, spec.schema)
            if c.kind == "comment"
            else _display(c.name, spec.schema) if c.name else _name_from_sql(c.kind, c.sql, spec)
        )
        if name is None:
            continue  # a step of an enum's change that names no type: said by the others
        g = groups.setdefault((c.kind, name), _Group(c.kind, name))
        g.actions.add(c.action)
        g.sqls.append(c.sql)

    missing = {(g.kind, g.name) for g in groups.values() if _status(g) == MISSING}
    missing_tables = {name for kind, name in missing if kind == "table"}
    extra_tables = {g.name for g in groups.values() if g.kind == "table" and _status(g) == EXTRA}
    constraint_names = {
        g.name.rsplit(".", 1)[-1] for g in groups.values() if g.kind == "constraint"
    }
    owners = _index_tables(spec)

    out: list[Finding] = []
    for g in groups.values():
        status = _status(g)
        # What goes with a table that is missing (or extra) is not listed again.
        table = _table_of(g, owners)
        if g.kind != "table" and table is not None:
            if table in missing_tables and status == MISSING:
                continue
            if table in extra_tables and status == EXTRA:
                continue
        if g.kind == "index" and g.name in constraint_names:
            continue  # the index behind a primary key or unique constraint: said once
        if g.kind == "comment":
            finding = _comment_finding(g, live, missing, spec.schema)
            if finding is not None:
                out.append(finding)
            continue
        if g.kind == "column" and status == DIFFERS and g.actions == {"alter"}:
            out += _column_findings(g, live)
            continue
        if status == MISSING:
            message = f"missing {g.kind} {g.name}"
        elif status == EXTRA:
            message = f"{EXTRA_PREFIX}{g.kind} {g.name}"
        else:
            message = f"{g.kind} {g.name} differs" + _how(g, spec, live)
        out.append(Finding(status, g.kind, g.name, message))
    return out


def _how(g: _Group, spec: s.Spec, live: _Live) -> str:
    """': live X, spec Y' for the kinds whose definitions fit on a line, else ''."""
    if g.kind == "enum":
        e = next((e for e in spec.enums if e.name == g.name), None)
        if e is not None and g.name in live.enums:
            return f": live values {', '.join(live.enums[g.name])}; spec {', '.join(e.values)}"
        return ""
    have = live.definitions.get((g.kind, g.name))
    want = next((w for sql in g.sqls if (w := _wanted_definition(g.kind, sql)) is not None), None)
    if have is None or want is None:
        return ""
    if g.kind in ("index", "trigger"):
        have = _without_head(g.kind, have)
    return f": live {have}, spec {want}"


_HEAD = {
    "index": re.compile(r'^CREATE (UNIQUE )?INDEX (CONCURRENTLY )?("(?:[^"]|"")*"|\S+) ', re.I),
    "trigger": re.compile(r'^CREATE (CONSTRAINT )?TRIGGER ("(?:[^"]|"")*"|\S+) ', re.I),
}
_ADD_CONSTRAINT = re.compile(
    r'add constraint (?:"(?:[^"]|"")*"|\S+) (.*?)( not valid)?$', re.I | re.DOTALL
)


def _without_head(kind: str, definition: str) -> str:
    """'CREATE UNIQUE INDEX x ON t USING btree (a)' -> 'UNIQUE ON t USING btree (a)'."""
    m = _HEAD[kind].match(definition)
    if not m:
        return definition
    return (m.group(1) or "") + definition[m.end() :]


def _wanted_definition(kind: str, sql: str) -> str | None:
    if kind == "constraint":
        m = _ADD_CONSTRAINT.search(sql)
        return m.group(1).strip() if m else None
    if kind in _HEAD and _HEAD[kind].match(sql):
        return _without_head(kind, sql)
    return None


def _status(g: _Group) -> str:
    # Created (maybe then altered: a sequence's owner, a table's RLS): it is not there.
    # Dropped and created again: it is there, but different.
    if "create" in g.actions and "drop" not in g.actions:
        return MISSING
    if g.actions == {"drop"}:
        return EXTRA
    return DIFFERS


def _index_tables(spec: s.Spec) -> dict[str, str]:
    """Index name -> table, for the indexes the spec declares or implies."""
    out = {}
    for t in spec.tables:
        for ix in t.indexes:
            out[ix.name] = t.name
        for u in t.uniques:
            out[u.name] = t.name
        if t.primary_key is not None:
            out[t.primary_key.name] = t.name
    return out


def _table_of(g: _Group, index_tables: dict[str, str]) -> str | None:
    if g.kind in ("column", "constraint", "trigger"):
        return g.name.rsplit(".", 1)[0] if "." in g.name else None
    if g.kind == "index":
        return index_tables.get(g.name)
    if g.kind == "sequence":  # a serial column's: 'alter sequence ... owned by t.c'
        for sql in g.sqls:
            m = re.search(r"owned by (\S+)$", sql, re.I)
            if m:
                return _display(m.group(1), "").split(".")[-2]
    return None


# COMMENT ON target word -> the kind the other lines use
_COMMENT_KINDS = {
    "TABLE": "table",
    "COLUMN": "column",
    "INDEX": "index",
    "FUNCTION": "function",
    "TYPE": "enum",
    "MATERIALIZED VIEW": "materialized view",
    "CONSTRAINT": "constraint",
    "TRIGGER": "trigger",
}


def _comment_target(target: str, schema: str) -> str:
    """'COLUMN public.users.email' -> 'column users.email'; 'TRIGGER t ON public.x' ->
    'trigger x.t' (the object's kind and name, as the other lines spell them)."""
    word, _, rest = target.partition(" ")
    if word == "MATERIALIZED":  # MATERIALIZED VIEW name: two words, as the other lines say
        word, rest = "MATERIALIZED VIEW", rest.partition(" ")[2]
    kind = _COMMENT_KINDS.get(word, word.lower())
    on = re.match(r'^("(?:[^"]|"")*"|[^ ]+) ON (.+)$', rest)
    if on:  # CONSTRAINT name ON table, TRIGGER name ON table
        return f"{kind} {_display(on.group(2), schema)}.{_display(on.group(1), schema)}"
    return f"{kind} {_display(rest, schema)}"


def _comment_finding(
    g: _Group, live: _Live, missing: set[tuple[str, str]], schema: str
) -> Finding | None:
    kind, _, name = g.name.partition(" ")
    table = name.split(".", 1)[0]
    if (kind, name) in missing or ("table", table) in missing:
        return None  # the object itself is missing: its comment goes without saying
    target = next(
        (k for k in live.comments if _comment_target(k, schema) == g.name), None
    )
    have = live.comments.get(target) if target else None
    want = _comment_value(g.sqls[-1])
    if have is None:
        return Finding(MISSING, "comment", g.name, f"missing comment on {g.name}")
    return Finding(
        DIFFERS, "comment", g.name,
        f"comment on {g.name} differs: live {_short(have)}, spec {_short(want)}",
    )


def _comment_value(sql: str) -> str | None:
    m = re.search(r" IS (NULL|'(?:[^']|'')*')$", sql, re.DOTALL)
    if not m or m.group(1) == "NULL":
        return None
    return m.group(1)[1:-1].replace("''", "'")


def _short(text: str | None, limit: int = 60) -> str:
    if text is None:
        return "none"
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


_CLAUSE = re.compile(r'alter column (?:"(?:[^"]|"")*"|\S+) (.*)$', re.IGNORECASE | re.DOTALL)


def _column_findings(g: _Group, live: _Live) -> list[Finding]:
    table, _, column = g.name.rpartition(".")
    have = live.columns.get((table, column))
    out = []
    for sql in g.sqls:
        m = _CLAUSE.search(sql)
        clause = m.group(1).strip() if m else sql
        lower = clause.lower()
        if lower.startswith("set default "):
            what = "default"
            detail = f"live {_value(have[2] if have else None)}, spec {clause[12:].strip()}"
        elif lower == "drop default":
            what = "default"
            detail = f"live {_value(have[2] if have else None)}, spec none"
        elif lower in ("set not null", "drop not null"):
            what = "nullability"
            detail = (
                "live NULL allowed, spec NOT NULL" if lower == "set not null"
                else "live NOT NULL, spec NULL allowed"
            )
        elif lower.startswith("set data type "):
            what = "type"
            wanted = re.split(r" using | collate ", clause[14:], maxsplit=1, flags=re.I)[0]
            detail = f"live {have[0] if have else 'unknown'}, spec {wanted.strip()}"
        elif "identity" in lower or "generated" in lower:
            what, detail = "identity", f"the spec wants: {clause}"
        elif lower == "drop expression":
            what, detail = "generated expression", "the spec has none"
        else:
            what, detail = "definition", f"the spec wants: {clause}"
        out.append(
            Finding(DIFFERS, "column", g.name, f"column {g.name} {what} differs: {detail}")
        )
    return out


def _value(default: str | None) -> str:
    return "none" if default is None else default


# -- names ------------------------------------------------------------------------------------


def _split_qualified(name: str) -> tuple[list[str], str]:
    """'"public"."f"(a integer)' -> (['public', 'f'], '(a integer)'); quotes removed."""
    parts: list[str] = []
    cur, quoted, i = "", False, 0
    while i < len(name):
        ch = name[i]
        if ch == '"':
            if quoted and name[i + 1 : i + 2] == '"':
                cur += '"'
                i += 2
                continue
            quoted = not quoted
        elif ch == "." and not quoted:
            parts.append(cur)
            cur = ""
        elif ch == "(" and not quoted:
            break
        else:
            cur += ch
        i += 1
    parts.append(cur)
    return parts, name[i:]


def _display(name: str, schema: str) -> str:
    """'"public"."users"."email"' -> 'users.email' (the managed schema left out)."""
    parts, args = _split_qualified(name.strip())
    if len(parts) > 1 and parts[0] == schema:
        parts = parts[1:]
    return ".".join(parts) + args


_QUALIFIED = re.compile(r'"(?:[^"]|"")*"(?:\."(?:[^"]|"")*")+')
_TYPE_NAME = re.compile(r'\btype\s+("(?:[^"]|"")*"(?:\."(?:[^"]|"")*")*|[\w.$]+)', re.I)
_SQL_NAME = re.compile(
    r'\b(?:schema|extension|sequence|type|table|index|function|view)\s+'
    r'(?:if\s+(?:not\s+)?exists\s+)?("(?:[^"]|"")*"(?:\."(?:[^"]|"")*")*|[\w.$]+)',
    re.IGNORECASE,
)


def _name_from_sql(kind: str, sql: str, spec: s.Spec) -> str | None:
    """The object a nameless change is about (migra names no enum, schema or extension)."""
    if kind == "enum":
        m = _TYPE_NAME.search(sql)
        if not m:
            return None
    else:
        m = _SQL_NAME.search(sql)
    if not m:
        return sql.strip().splitlines()[0][:80]
    name = _display(m.group(1), spec.schema)
    return name.removesuffix("__old_version_to_be_dropped")


# -- seeds and config -------------------------------------------------------------------------


def _seed_findings(
    conn: psycopg.Connection[Any], spec: s.Spec, seeds: list[SeedTable], live: _Live
) -> list[Finding]:
    out = []
    for sd in seeds:
        if sd.table not in live.tables:
            n = len(sd.rows)
            out.append(
                Finding(
                    MISSING, "seed", sd.table,
                    f"missing seed rows {sd.table}: {n} row{'s' if n != 1 else ''} "
                    f"(table {sd.table} is missing)",
                )
            )
            continue
        where = " AND ".join(f"{quote(k)} = %s" for k in sd.key)
        query = f"SELECT 1 FROM {qualified(spec.schema, sd.table)} WHERE {where}".encode()
        for row in sd.rows:
            key = ", ".join(f"{k}={row[k]}" for k in sd.key)
            try:
                found = conn.execute(query, [row[k] for k in sd.key]).fetchone()
            except psycopg.Error as e:
                first = str(e).strip().splitlines()[0]
                out.append(
                    Finding(
                        MISSING, "seed", f"{sd.table} {key}",
                        f"seed row {sd.table} {key} cannot be checked: {first}",
                    )
                )
                continue
            if found is None:
                out.append(
                    Finding(
                        MISSING, "seed", f"{sd.table} {key}", f"missing seed row {sd.table} {key}"
                    )
                )
    return out


def _config_findings(spec: s.Spec, live: _Live) -> list[Finding]:
    cfg = spec.config
    if cfg is None:
        return []
    if live.config_rows is None:
        n = len(cfg.keys)
        return [
            Finding(
                MISSING, "config", "*",
                f"missing config keys: all {n} (table {cfg.table} is missing)",
            )
        ]
    out = []
    pinned = {k.name: k.value for k in cfg.keys}
    for c in config.changes(spec, live.config_rows):
        if c.action == "create":
            out.append(Finding(MISSING, "config", c.name, f"missing config key {c.name}"))
        elif c.action == "alter":  # only keys the spec pins, never secrets
            out.append(
                Finding(
                    DIFFERS, "config", c.name,
                    f"config key {c.name} value differs: live "
                    f"{_short(live.config_rows.get(c.name))}, spec {_short(pinned.get(c.name))}",
                )
            )
        else:
            out.append(Finding(EXTRA, "config", c.name, f"{EXTRA_PREFIX}config key {c.name}"))
    return out
