"""Spec -> SQLAlchemy MetaData -> DDL for an empty database, in dependency order.

Order (the same pg_dump uses, so cycles between tables never matter): schema, extensions,
enums, sequences, domains, composite types, functions (before the defaults, checks and triggers
that call them), domains whose check or default calls one of them, tables without foreign keys,
indexes, foreign keys, procedures, sequence ownership, triggers, row-level security and
policies, views (in the order written, each after the views it reads), materialized views and
their indexes (each after what it reads; a view reading one comes after it), comments, grants,
managed config rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import (
    AddConstraint,
    CreateIndex,
    CreateTable,
    SetColumnComment,
    SetTableComment,
)
from sqlalchemy.types import UserDefinedType

from schemadiff import spec as s
from schemadiff import sqlread

# Re-exported: the quoting helpers lived here first.
from schemadiff.sqltext import qualified as qualified
from schemadiff.sqltext import quote as quote
from schemadiff.sqltext import string_literal as string_literal
from schemadiff.types import literal_sql

DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


class SpecType(UserDefinedType[Any]):
    """A column type rendered exactly as the spec spells it; Postgres is the judge of it."""

    cache_ok = True

    def __init__(self, text: str) -> None:
        self.text = text

    def get_col_spec(self, **kw: Any) -> str:
        return self.text


@dataclass(frozen=True)
class Statement:
    """One DDL statement of a rendered spec, with what it creates (for summaries and errors)."""

    kind: str
    name: str
    sql: str


def build_metadata(spec: s.Spec) -> sa.MetaData:
    """The spec's tables as SQLAlchemy objects (columns, keys, checks, indexes, comments)."""
    md = sa.MetaData(schema=spec.schema)
    for t in spec.tables:
        pk_cols = set(t.primary_key.columns) if t.primary_key else set()
        columns = [
            sa.Column(
                c.name,
                SpecType(column_type_sql(c)),
                *_column_extras(c),
                nullable=c.nullable and c.name not in pk_cols and not c.identity,
                server_default=_server_default(c.default),
                comment=c.comment,
                autoincrement="auto" if c.identity else False,
            )
            for c in t.columns
        ]
        items: list[Any] = list(columns)
        if t.primary_key:
            pk = t.primary_key
            items.append(
                sa.PrimaryKeyConstraint(*pk.columns, name=pk.name, **_deferral(pk))
            )
        items += [_unique(u) for u in t.uniques]
        # NO INHERIT checks are added after the table: SQLAlchemy cannot write the clause.
        items += [
            sa.CheckConstraint(sa.text(ck.expression), name=ck.name)
            for ck in t.checks
            if not ck.no_inherit
        ]
        items += [_exclude(ex) for ex in t.excludes]
        items += [
            sa.ForeignKeyConstraint(
                fk.columns,
                [f"{spec.schema}.{fk.ref_table}.{c}" for c in fk.ref_columns],
                name=fk.name,
                ondelete=_action(fk.on_delete),
                onupdate=_action(fk.on_update),
                deferrable=True if fk.deferrable else None,
                initially="DEFERRED" if fk.initially_deferred else None,
                match="FULL" if fk.match == "full" else None,
                use_alter=True,
            )
            for fk in t.foreign_keys
        ]
        prefixes = ["UNLOGGED"] if t.unlogged else []
        kw: dict[str, Any] = {"postgresql_with": dict(t.storage)} if t.storage else {}
        if t.partition_by is not None:
            kw["postgresql_partition_by"] = partition_key_sql(t.partition_by)
        table = sa.Table(t.name, md, *items, comment=t.comment, prefixes=prefixes, **kw)
        for ix in t.indexes:
            _index(table, ix)
    return md


def render_statements(spec: s.Spec) -> list[Statement]:
    """Every statement that builds the spec in an empty database, deterministic and ordered."""
    out: list[Statement] = []
    if spec.schema != "public":
        out.append(
            Statement("schema", spec.schema, f"CREATE SCHEMA IF NOT EXISTS {quote(spec.schema)}")
        )
        # Column types, defaults and checks name enums and functions without the schema.
        out.append(
            Statement("setting", "search_path", f"SET search_path TO {quote(spec.schema)}, public")
        )
    for ext in spec.all_extensions():
        out.append(Statement("extension", ext.name, extension_sql(ext)))
    for e in spec.enums:
        labels = ", ".join(string_literal(v) for v in e.values)
        out.append(
            Statement(
                "enum", e.name, f"CREATE TYPE {qualified(spec.schema, e.name)} AS ENUM ({labels})"
            )
        )
    for sq in spec.sequences:
        out.append(Statement("sequence", sq.name, sequence_sql(spec.schema, sq)))
    calling = domains_calling_functions(spec)
    for d in spec.domains:
        if d.name not in calling:
            out.append(Statement("domain", d.name, domain_sql(spec.schema, d)))
    for ct in spec.types:
        out.append(Statement("type", ct.name, composite_sql(spec.schema, ct)))
    late = _functions_on_table_types(spec)
    for f in spec.functions:
        if f.name not in late:
            out.append(Statement("function", f.name, function_sql(spec.schema, f)))
    for d in spec.domains:
        if d.name in calling:
            out.append(Statement("domain", d.name, domain_sql(spec.schema, d)))
    md = build_metadata(spec)
    tables = [md.tables[f"{spec.schema}.{t.name}"] for t in spec.tables]
    for table in tables:
        out.append(
            Statement(
                "table",
                table.name,
                _compile(CreateTable(table, include_foreign_key_constraints=[])),
            )
        )
    out += no_inherit_checks(spec)
    for t in spec.tables:
        for part in t.partitions:
            out.append(Statement("partition", part.name, partition_sql(spec.schema, t.name, part)))
    for table in tables:
        for ix in sorted(table.indexes, key=lambda i: _order_of(spec, table.name, i.name)):
            out.append(Statement("index", str(ix.name), _compile(CreateIndex(ix))))
    for table in tables:
        for fk in _foreign_keys_in_spec_order(spec, table):
            out.append(Statement("foreign_key", str(fk.name), _compile(AddConstraint(fk))))
    for f in spec.functions:
        if f.name in late:
            out.append(Statement("function", f.name, function_sql(spec.schema, f)))
    for f in spec.procedures:
        out.append(Statement("procedure", f.name, function_sql(spec.schema, f)))
    for sq in spec.sequences:
        if sq.owned_by:
            owner_table, _, owner_column = sq.owned_by.partition(".")
            out.append(
                Statement(
                    "sequence",
                    sq.name,
                    f"ALTER SEQUENCE {qualified(spec.schema, sq.name)} OWNED BY "
                    f"{qualified(spec.schema, owner_table)}.{quote(owner_column)}",
                )
            )
    for t in spec.tables:
        for tg in t.triggers:
            out.append(Statement("trigger", tg.name, trigger_sql(spec.schema, t.name, tg)))
            if not tg.enabled:
                out.append(
                    Statement(
                        "trigger",
                        tg.name,
                        f"ALTER TABLE {qualified(spec.schema, t.name)} "
                        f"DISABLE TRIGGER {quote(tg.name)}",
                    )
                )
    out.extend(security_statements(spec))
    for view in views_in_read_order(spec):
        if isinstance(view, s.View):
            out.append(Statement("view", view.name, view_sql(spec.schema, view)))
            continue
        out.append(
            Statement("materialized view", view.name, materialized_view_sql(spec.schema, view))
        )
        for mv_ix in view.indexes:
            out.append(
                Statement("index", mv_ix.name, matview_index_sql(spec.schema, view.name, mv_ix))
            )
    for v in spec.views:  # INSTEAD OF triggers: once every view exists
        out += [Statement("trigger", tg.name, trigger_sql(spec.schema, v.name, tg))
                for tg in v.triggers]
    for table in tables:
        if table.comment is not None:
            out.append(Statement("comment", table.name, _compile(SetTableComment(table))))
        for col in table.columns:
            if col.comment is not None:
                out.append(
                    Statement(
                        "comment", f"{table.name}.{col.name}", _compile(SetColumnComment(col))
                    )
                )
    for v in spec.views:
        if v.comment is not None:
            out.append(
                Statement(
                    "comment",
                    v.name,
                    f"COMMENT ON VIEW {qualified(spec.schema, v.name)} "
                    f"IS {string_literal(v.comment)}",
                )
            )
    for f in spec.functions:
        if f.comment is not None:
            sig = f"{qualified(spec.schema, f.name)}({', '.join(map(_without_default, f.args))})"
            out.append(
                Statement(
                    "comment", f.name, f"COMMENT ON FUNCTION {sig} IS {string_literal(f.comment)}"
                )
            )
    for kind, objects in (
        ("DOMAIN", spec.domains),
        ("TYPE", spec.types),
        ("MATERIALIZED VIEW", spec.materialized_views),
    ):
        for x in objects:
            if x.comment is not None:
                sql = f"COMMENT ON {kind} {qualified(spec.schema, x.name)} IS "
                out.append(Statement("comment", x.name, sql + string_literal(x.comment)))
    for e in spec.enums:
        if e.comment is not None:
            out.append(
                Statement(
                    "comment",
                    e.name,
                    f"COMMENT ON TYPE {qualified(spec.schema, e.name)} "
                    f"IS {string_literal(e.comment)}",
                )
            )
    out += _more_comments(spec)
    from schemadiff import grants

    out += [Statement("grant", "", sql) for sql in grants.render(spec)]
    if spec.config:
        out.extend(config_insert_statements(spec))
    return out


def domains_calling_functions(spec: s.Spec) -> set[str]:
    """Domains whose check or default calls a function the spec declares: created after the
    functions (the others before, as functions may take them as argument types)."""
    functions = {f.name for f in spec.functions}
    out = set()
    for d in spec.domains:
        texts = [ck.expression for ck in d.checks]
        if d.default is not None and d.default.sql is not None:
            texts.append(d.default.sql)
        if any((sqlread.expression_calls(text) or set()) & functions for text in texts):
            out.add(d.name)
    return out


def views_in_read_order(spec: s.Spec) -> list[s.View | s.MaterializedView]:
    """Views, then materialized views, each in the order written, except that one comes after
    the views and materialized views its query reads (a view may read a materialized view).
    A query that does not parse, or a cycle, keeps the written order (Postgres then says)."""
    pending: list[s.View | s.MaterializedView] = [*spec.views, *spec.materialized_views]
    names = {v.name for v in pending}
    reads = {v.name: (sqlread.relations_read(v.query) or set()) & names - {v.name}
             for v in pending}
    out: list[s.View | s.MaterializedView] = []
    done: set[str] = set()
    while pending:
        ready = next((v for v in pending if reads[v.name] <= done), pending[0])
        pending.remove(ready)
        out.append(ready)
        done.add(ready.name)
    return out


def partition_key_sql(by: s.PartitionBy) -> str:
    """RANGE (a, b) / LIST ((expr)) / HASH (a): what PARTITION BY takes."""
    keys = ", ".join(quote(c) for c in by.columns) if by.columns else f"({by.expression})"
    return f"{by.method.upper()} ({keys})"


def partition_sql(schema: str, table: str, part: s.Partition) -> str:
    return (
        f"CREATE TABLE {qualified(schema, part.name)} PARTITION OF "
        f"{qualified(schema, table)} {part.bound_sql()}"
    )


def extension_sql(ext: s.Extension) -> str:
    """CREATE EXTENSION, with the schema and version only when the spec gives them."""
    sql = f"CREATE EXTENSION IF NOT EXISTS {quote(ext.name)}"
    if ext.schema:
        sql += f" WITH SCHEMA {quote(ext.schema)}"
    if ext.version:
        sql += f" VERSION {string_literal(ext.version)}"
    return sql


def _more_comments(spec: s.Spec) -> list[Statement]:
    """Comments on the schema, constraints, indexes, triggers and sequences."""
    out: list[Statement] = []

    def comment(name: str, target: str, text: str | None) -> None:
        if text is not None:
            out.append(Statement("comment", name, f"COMMENT ON {target} IS {string_literal(text)}"))

    comment(spec.schema, f"SCHEMA {quote(spec.schema)}", spec.schema_comment)
    for sq in spec.sequences:
        comment(sq.name, f"SEQUENCE {qualified(spec.schema, sq.name)}", sq.comment)
    for t in spec.tables:
        on = f"ON {qualified(spec.schema, t.name)}"
        keys: list[s.PrimaryKey | s.UniqueConstraint | s.ForeignKey | s.Check] = [
            *([t.primary_key] if t.primary_key else []),
            *t.uniques,
            *t.foreign_keys,
            *t.checks,
        ]
        for k in keys:
            comment(k.name, f"CONSTRAINT {quote(k.name)} {on}", k.comment)
        for ix in t.indexes:
            comment(ix.name, f"INDEX {qualified(spec.schema, ix.name)}", ix.comment)
        for tg in t.triggers:
            comment(tg.name, f"TRIGGER {quote(tg.name)} {on}", tg.comment)
    for v in spec.views:
        for tg in v.triggers:
            on = f"ON {qualified(spec.schema, v.name)}"
            comment(tg.name, f"TRIGGER {quote(tg.name)} {on}", tg.comment)
    return out


def render_sql(spec: s.Spec) -> str:
    """The DDL as one script that psql can run on an empty database."""
    lines = [
        "-- Generated by schemadiff from " + spec.path.rsplit("/", 1)[-1] + "; do not edit.",
        # Function bodies may name tables created further down.
        "SET check_function_bodies = off;",
        "",
    ]
    for st in render_statements(spec):
        lines.append(st.sql.strip() + ";")
        lines.append("")
    return "\n".join(lines)


# Settings whose value is a list of names (written unquoted: `public, pg_temp`).
_LIST_SETTINGS = frozenset({"search_path", "temp_tablespaces"})


def function_sql(schema: str, f: s.Function) -> str:
    """CREATE OR REPLACE FUNCTION (or PROCEDURE) with every option the spec declares."""
    tag = "$fn$"
    n = 0
    while tag in f.body:
        n += 1
        tag = f"$fn{n}$"
    options = []
    if f.kind == "function":
        options.append(f.volatility.upper())
        options += ["STRICT"] if f.strict else []
        options += ["LEAKPROOF"] if f.leakproof else []
        options += [f"PARALLEL {f.parallel.upper()}"] if f.parallel != "unsafe" else []
    options += ["SECURITY DEFINER"] if f.security == "definer" else []
    options += [f"COST {_number(f.cost)}"] if f.cost is not None else []
    options += [f"ROWS {_number(f.rows)}"] if f.rows is not None else []
    settings = "".join(
        f"\n SET {name} = {value if name in _LIST_SETTINGS else string_literal(value)}"
        for name, value in sorted(f.settings.items())
    )
    body = f.body if f.body.endswith("\n") else f.body + "\n"
    returns = f"\n RETURNS {f.returns}" if f.kind == "function" else ""
    head = " ".join([f"LANGUAGE {f.language}", *options])
    return (
        f"CREATE OR REPLACE {f.kind.upper()} {qualified(schema, f.name)}({', '.join(f.args)})"
        f"{returns}\n {head}{settings}\n"
        f"AS {tag}\n{body}{tag}"
    )


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _functions_on_table_types(spec: s.Spec) -> set[str]:
    """Functions taking or returning a table's row type: created once the table exists."""
    names = {t.name for t in spec.tables} | {v.name for v in spec.views}
    names |= {f"{spec.schema}.{n}" for n in names}

    def type_name(text: str) -> str:
        words = _without_default(text).split()
        return words[-1].removesuffix("[]") if words else ""

    return {
        f.name
        for f in spec.functions
        if type_name(f.returns.removeprefix("SETOF ").removeprefix("setof ")) in names
        or any(type_name(a) in names for a in f.args)
    }


def domain_sql(schema: str, d: s.Domain) -> str:
    parts = [f"CREATE DOMAIN {qualified(schema, d.name)} AS {d.type}"]
    if d.collation:
        parts.append(f"COLLATE {quote(d.collation)}")
    if d.default is not None:
        parts.append(f"DEFAULT {_default_sql(d.default)}")
    if not d.nullable:
        parts.append("NOT NULL")
    parts += [f"CONSTRAINT {quote(ck.name)} CHECK ({ck.expression})" for ck in d.checks]
    return " ".join(parts)


def composite_sql(schema: str, t: s.CompositeType) -> str:
    attributes = ", ".join(f"{quote(name)} {type_}" for name, type_ in t.attributes)
    return f"CREATE TYPE {qualified(schema, t.name)} AS ({attributes})"


def materialized_view_sql(schema: str, mv: s.MaterializedView) -> str:
    data = "" if mv.with_data else "\nWITH NO DATA"
    query = mv.query.strip().rstrip(";").rstrip()
    return f"CREATE MATERIALIZED VIEW {qualified(schema, mv.name)} AS\n{query}{data}"


def matview_index_sql(schema: str, view: str, ix: s.Index) -> str:
    """An index on a materialized view: compiled like a table's, on a stand-in table whose
    columns are the ones the index names (their types do not matter to the DDL)."""
    names = [el.column for el in ix.elements if el.column] + list(ix.include)
    columns = [sa.Column(n, SpecType("text")) for n in dict.fromkeys(names)]
    stand_in = sa.Table(view, sa.MetaData(schema=schema), *columns)
    return _compile(CreateIndex(_index(stand_in, ix)))


def _default_sql(default: s.Default) -> str:
    if default.sql is not None:
        return default.sql
    assert default.literal is not None
    return literal_sql(default.literal)


def view_sql(schema: str, v: s.View) -> str:
    options = ", ".join(f"{k}={val}" for k, val in v.options.items())
    with_ = f" WITH ({options})" if options else ""
    return f"CREATE VIEW {qualified(schema, v.name)}{with_} AS\n{v.query}"


def sequence_sql(schema: str, sq: s.Sequence) -> str:
    options = [f"AS {sq.as_type}"] if sq.as_type else []
    for word, value in (
        ("START WITH", sq.start),
        ("INCREMENT BY", sq.increment),
        ("MINVALUE", sq.min),
        ("MAXVALUE", sq.max),
        ("CACHE", sq.cache),
    ):
        if value is not None:
            options.append(f"{word} {value}")
    if sq.cycle:
        options.append("CYCLE")
    return " ".join([f"CREATE SEQUENCE {qualified(schema, sq.name)}", *options])


_ARG_DEFAULT = re.compile(r"\s+(?:DEFAULT\s|=).*$", re.IGNORECASE | re.DOTALL)


def _without_default(arg: str) -> str:
    """'a integer DEFAULT 0' -> 'a integer': COMMENT ON FUNCTION takes no defaults."""
    return _ARG_DEFAULT.sub("", arg)


def trigger_sql(schema: str, table: str, tg: s.Trigger) -> str:
    events = " OR ".join(
        f"UPDATE OF {', '.join(map(quote, tg.update_of))}"
        if e == "update" and tg.update_of
        else e.upper()
        for e in tg.events
    )
    when = f" WHEN ({tg.when})" if tg.when else ""
    constraint = " CONSTRAINT" if tg.constraint else ""
    deferral = " DEFERRABLE" if tg.deferrable else ""
    deferral += " INITIALLY DEFERRED" if tg.initially_deferred else ""
    referencing = ""
    if tg.old_table or tg.new_table:
        referencing = " REFERENCING" + "".join(
            f" {which} TABLE AS {quote(name)}"
            for which, name in (("OLD", tg.old_table), ("NEW", tg.new_table))
            if name
        )
    args = ", ".join(string_literal(a) for a in tg.args)
    return (
        f"CREATE{constraint} TRIGGER {quote(tg.name)} {tg.timing.upper()} {events} ON "
        f"{qualified(schema, table)}{deferral}{referencing} FOR EACH {tg.for_each.upper()}{when} "
        f"EXECUTE FUNCTION {qualified(schema, tg.function)}({args})"
    )


def policy_sql(schema: str, table: str, p: s.Policy) -> str:
    roles = ", ".join("PUBLIC" if r == "public" else quote(r) for r in p.roles)
    using = f" USING ({p.using})" if p.using else ""
    check = f" WITH CHECK ({p.with_check})" if p.with_check else ""
    return (
        f"CREATE POLICY {quote(p.name)} ON {qualified(schema, table)} AS "
        f"{'PERMISSIVE' if p.permissive else 'RESTRICTIVE'} FOR {p.command.upper()} "
        f"TO {roles}{using}{check}"
    )


def security_statements(spec: s.Spec) -> list[Statement]:
    """Row-level security of each table, then its policies."""
    out = []
    for t in spec.tables:
        table = qualified(spec.schema, t.name)
        if t.row_level_security:
            out.append(
                Statement("table", t.name, f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            )
        if t.force_row_level_security:
            out.append(Statement("table", t.name, f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
        for p in t.policies:
            out.append(Statement("policy", p.name, policy_sql(spec.schema, t.name, p)))
    return out


def config_insert_statements(spec: s.Spec) -> list[Statement]:
    """Missing managed keys get their default; existing rows are left as operators set them.

    Secrets are inserted with their (empty) default here: their real value comes from the
    environment at apply time and must never appear in rendered SQL.
    """
    cfg = spec.config
    assert cfg is not None
    out = []
    for key in cfg.keys:
        value = key.value if key.value is not None else key.default
        if key.secret:
            value = key.default if key.default is not None else ""
        out.append(
            Statement(
                "config",
                key.name,
                f"INSERT INTO {qualified(spec.schema, cfg.table)} "
                f"({quote(cfg.key_column)}, {quote(cfg.value_column)}) VALUES "
                f"({string_literal(key.name)}, "
                f"{'NULL' if value is None else string_literal(value)}) "
                f"ON CONFLICT ({quote(cfg.key_column)}) DO NOTHING",
            )
        )
    return out


def _compile(element: Any) -> str:
    text = str(element.compile(dialect=DIALECT)).strip()
    return "\n".join(line.rstrip().replace("\t", "    ") for line in text.splitlines())


def _server_default(default: s.Default | None) -> Any:
    if default is None:
        return None
    if default.sql is not None:
        return sa.text(default.sql)
    assert default.literal is not None
    return sa.text(literal_sql(default.literal))


def _action(action: str) -> str | None:
    return None if action == "no action" else action.upper()


def _index(table: sa.Table, ix: s.Index) -> sa.Index:
    exprs: list[Any] = []
    ops: dict[str, str] = {}
    for el in ix.elements:
        if el.column is not None:
            expr: Any = table.c[el.column]
            if el.opclass:
                ops[el.column] = el.opclass
            if el.order == "desc":
                expr = expr.desc()
            elif el.order == "asc":
                expr = expr.asc()
            if el.nulls == "first":
                expr = expr.nulls_first()
            elif el.nulls == "last":
                expr = expr.nulls_last()
            exprs.append(expr)
        else:
            text = f"({el.expression})"
            if el.opclass:
                text += f" {el.opclass}"
            if el.order:
                text += f" {el.order.upper()}"
            if el.nulls:
                text += f" NULLS {el.nulls.upper()}"
            exprs.append(sa.text(text))
    kwargs: dict[str, Any] = {}
    if ix.method != "btree":
        kwargs["postgresql_using"] = ix.method
    if ix.where:
        kwargs["postgresql_where"] = sa.text(ix.where)
    if ix.include:
        kwargs["postgresql_include"] = ix.include
    if ops:
        kwargs["postgresql_ops"] = ops
    if ix.nulls_not_distinct:
        kwargs["postgresql_nulls_not_distinct"] = True
    if ix.storage:
        kwargs["postgresql_with"] = dict(ix.storage)
    return sa.Index(ix.name, *exprs, unique=ix.unique, _table=table, **kwargs)


def _order_of(spec: s.Spec, table: str, index_name: Any) -> int:
    t = spec.table(table)
    assert t is not None
    return next(i for i, ix in enumerate(t.indexes) if ix.name == index_name)


def _foreign_keys_in_spec_order(spec: s.Spec, table: sa.Table) -> list[sa.ForeignKeyConstraint]:
    t = spec.table(table.name)
    assert t is not None
    by_name = {fk.name: fk for fk in table.foreign_key_constraints}
    return [by_name[fk.name] for fk in t.foreign_keys]


# --- columns and constraints: collation, generated, identity options, EXCLUDE, NO INHERIT ---


def column_type_sql(c: s.Column) -> str:
    """The column's type as CREATE TABLE writes it, with its collation."""
    if c.collation is None:
        return c.type
    return f"{c.type} COLLATE {quote_always(c.collation)}"


def quote_always(name: str) -> str:
    """Collation names are quoted always: "C" and "en_US" are case-sensitive."""
    return '"' + name.replace('"', '""') + '"'


def _column_extras(c: s.Column) -> list[Any]:
    if c.generated is not None:
        return [sa.Computed(sa.text(c.generated.expression), persisted=c.generated.stored)]
    if not c.identity:
        return []
    o = c.identity_options or s.IdentityOptions()
    return [
        sa.Identity(
            always=c.identity == "always",
            start=o.start,
            increment=o.increment,
            minvalue=o.min,
            maxvalue=o.max,
            cache=o.cache,
            cycle=True if o.cycle else None,
        )
    ]


def _deferral(k: s.PrimaryKey | s.UniqueConstraint | s.Exclude) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if k.deferrable:
        out["deferrable"] = True
    if k.initially_deferred:
        out["initially"] = "DEFERRED"
    return out


def _unique(u: s.UniqueConstraint) -> sa.UniqueConstraint:
    kwargs: dict[str, Any] = _deferral(u)
    if u.nulls_not_distinct:
        kwargs["postgresql_nulls_not_distinct"] = True
    return sa.UniqueConstraint(*u.columns, name=u.name, **kwargs)


def no_inherit_checks(spec: s.Spec) -> list[Statement]:
    """CHECK ... NO INHERIT constraints, added once their table exists."""
    return [
        Statement(
            "check",
            ck.name,
            f"ALTER TABLE {qualified(spec.schema, t.name)} ADD CONSTRAINT {quote(ck.name)} "
            f"CHECK ({ck.expression}) NO INHERIT",
        )
        for t in spec.tables
        for ck in t.checks
        if ck.no_inherit
    ]


def _exclude(ex: s.Exclude) -> postgresql.ExcludeConstraint:
    elements: list[Any] = []
    ops: dict[str, str] = {}
    for el in ex.elements:
        if el.column is not None:
            elements.append((el.column, el.operator))
            if el.opclass:
                ops[el.column] = el.opclass
        else:
            text = f"({el.expression})" + (f" {el.opclass}" if el.opclass else "")
            elements.append((sa.literal_column(text), el.operator))
    return postgresql.ExcludeConstraint(
        *elements,
        name=ex.name,
        using=ex.method,
        where=sa.text(ex.where) if ex.where else None,
        ops=ops,
        **_deferral(ex),
    )
