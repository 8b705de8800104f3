"""Live database -> spec (`schemadiff import`).

What the spec can express is decided in one place, the differ (`differ.snapshot` takes out of
the comparison what the spec cannot write, and names it): the importer writes exactly the
objects the differ keeps, from its own catalog reads, and lists the rest as not managed. So
`import`, then `plan` against the same database, is empty.

Written as Postgres spells things: types from format_type, expressions from pg_get_expr,
pg_get_constraintdef, pg_get_indexdef, pg_get_triggerdef and pg_get_viewdef, read with the
search path set to the imported schema (names in it unqualified).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from schemadiff import db, differ, sqlread
from schemadiff import types as pgtypes
from schemadiff.errors import DatabaseError, SchemadiffError, SpecError
from schemadiff.progress import Progress
from schemadiff.spec import parse_spec
from schemadiff.yamlout import Flow, dump, fits_on_one_line, flow_width

# Both kinds are read (and written) on import; a spec without them leaves them unmanaged.
IMPORTED_KINDS = frozenset(
    {"views", "sequences", "extensions", "domains", "types", "materialized_views", "procedures"}
)
_FK_ACTIONS = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
# Key names that say "secret": their values are not copied into the spec.
_SECRET_NAME = re.compile(
    r"secret|passw(or)?d|api_?key|private_?key|credential|access_?token|auth_?token",
    re.IGNORECASE,
)
_NEXTVAL = re.compile(r"nextval\('((?:[^']|'')+)'::regclass\)")
_FLOW_WIDTH = 100  # list items wider than this are written as block mappings


@dataclass
class Imported:
    """The spec text, and what the database holds that it does not."""

    text: str
    unmanaged: list[str]  # "<kind> <name> (why)", as the differ names them
    notes: list[str] = field(default_factory=list)  # other messages for stderr
    problems: list[str] = field(default_factory=list)  # the spec does not validate (a bug)


def import_database(
    url: str,
    schema: str = "public",
    config_table: str | None = None,
    progress: Progress | None = None,
) -> Imported:
    """Read `schema` of the database at `url` and write it as a spec."""
    progress = progress or Progress()
    try:
        with (
            progress.phase(f"reading schema {schema}"),
            db.connection(url) as conn,
            conn.transaction(),
        ):
            conn.execute("SET LOCAL lock_timeout = '30s'")
            exists = conn.execute(
                "select 1 from pg_namespace where nspname = %s", (schema,)
            ).fetchone()
            if not exists:
                raise SchemadiffError(f"the database has no schema '{schema}'")
            # Names in the imported schema print unqualified, as the spec writes them.
            conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
            catalog = _Catalog.read(conn, schema, config_table)
            catalog.comments = db.comments(conn, schema)
            catalog.matviews = list(conn.execute(_MATVIEWS_SQL, {"schema": schema}).fetchall())
            others = db.other_schemas(conn, schema)
            # migra's reading is done with the session's own search_path, as the plan does.
            conn.execute("SET LOCAL search_path TO DEFAULT")
            snap = differ.snapshot(
                conn, schema, {}, db.TableRows("", {}), others, manages=IMPORTED_KINDS
            )
    except psycopg.Error as e:
        raise DatabaseError(
            f"cannot read the schema of {db.redact_url(url)}: {db.scrub(str(e).strip(), url)}"
        ) from None
    writer = _Writer(schema, catalog, snap.inspector, snap, progress)
    with progress.phase("writing the spec"):
        document = writer.document(config_table)
    header = [
        f"Written by `schemadiff import` from schema {schema}; see docs/spec.md.",
        "Review it, then `schemadiff plan` against the same database should be empty.",
    ]
    text = dump(document, header)
    result = Imported(text, sorted([*snap.unmanaged, *catalog.unseen]), writer.notes)
    try:
        parse_spec(text, "imported.yaml")
    except SpecError as e:
        result.problems = [str(p) for p in e.problems]
    return result


# --- catalog ------------------------------------------------------------------------------------

_TABLES_SQL = """
select c.oid, c.relname, obj_description(c.oid, 'pg_class')
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s and c.relkind in ('r', 'p')
 order by c.relname
"""

_COLUMNS_SQL = """
select a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
       format_type(a.atttypid, null), a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid),
       a.attidentity, col_description(a.attrelid, a.attnum),
       (select d.refobjid from pg_depend d
         where d.classid = 'pg_attrdef'::regclass and d.objid = ad.oid
           and d.refclassid = 'pg_class'::regclass and d.deptype = 'n'
         order by d.refobjid limit 1),
       (select co.collname from pg_collation co join pg_type ty on ty.oid = a.atttypid
         where co.oid = a.attcollation and a.attcollation <> ty.typcollation)
  from pg_attribute a
  join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
  left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
 where n.nspname = %(schema)s and c.relkind in ('r', 'p') and a.attnum > 0
   and not a.attisdropped
 order by a.attrelid, a.attnum
"""

_CONSTRAINTS_SQL = """
select co.conrelid, co.conname, co.contype, pg_get_constraintdef(co.oid),
       array(select a.attname from unnest(co.conkey) with ordinality k(num, pos)
               join pg_attribute a on a.attrelid = co.conrelid and a.attnum = k.num
              order by k.pos),
       rt.relname,
       array(select a.attname from unnest(co.confkey) with ordinality k(num, pos)
               join pg_attribute a on a.attrelid = co.confrelid and a.attnum = k.num
              order by k.pos),
       co.confupdtype, co.confdeltype, co.condeferrable, co.condeferred,
       obj_description(co.oid, 'pg_constraint')
  from pg_constraint co
  join pg_class c on c.oid = co.conrelid join pg_namespace n on n.oid = c.relnamespace
  left join pg_class rt on rt.oid = co.confrelid
 where n.nspname = %(schema)s
 order by co.conrelid, co.conname
"""

_INDEXES_SQL = """
select i.indrelid, ic.relname, i.indisunique, am.amname, i.indnkeyatts,
       pg_get_indexdef(i.indexrelid),
       array(select pg_get_indexdef(i.indexrelid, k, false)
               from generate_series(1, i.indnatts) k order by k),
       array(select coalesce(a.attname, '')
               from generate_series(0, i.indnatts - 1) k
               left join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[k]
              order by k),
       pg_get_expr(i.indpred, i.indrelid), obj_description(i.indexrelid, 'pg_class')
  from pg_index i
  join pg_class ic on ic.oid = i.indexrelid join pg_am am on am.oid = ic.relam
  join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s
   and not exists (select 1 from pg_constraint co where co.conindid = i.indexrelid
                     and co.conrelid = i.indrelid and co.contype in ('p', 'u', 'x'))
 order by ic.relname
"""

_EXCLUDES_SQL = """
select co.conrelid, co.conname, am.amname, co.condeferrable, co.condeferred,
       array(select case when i.indkey[k.n - 1] = 0 then ''
                         else (select a.attname from pg_attribute a
                                where a.attrelid = i.indrelid and a.attnum = i.indkey[k.n - 1])
                    end
               from generate_series(1, i.indnkeyatts) k(n) order by k.n),
       array(select pg_get_indexdef(i.indexrelid, k.n, false)
               from generate_series(1, i.indnkeyatts) k(n) order by k.n),
       array(select o.oprname from unnest(co.conexclop) with ordinality x(op, pos)
               join pg_operator o on o.oid = x.op order by x.pos),
       pg_get_expr(i.indpred, i.indrelid)
  from pg_constraint co join pg_index i on i.indexrelid = co.conindid
  join pg_class ic on ic.oid = i.indexrelid join pg_am am on am.oid = ic.relam
  join pg_class c on c.oid = co.conrelid join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s and co.contype = 'x'
 order by co.conrelid, co.conname
"""

_TRIGGERS_SQL = """
select t.tgrelid, t.tgname, pg_get_triggerdef(t.oid), p.proname,
       obj_description(t.oid, 'pg_trigger'), t.tgenabled
  from pg_trigger t join pg_proc p on p.oid = t.tgfoid
  join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s and not t.tgisinternal
 order by t.tgname
"""

_FUNCTIONS_SQL = """
select p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid),
       l.lanname, p.provolatile, p.prosecdef, p.prosrc, obj_description(p.oid, 'pg_proc'),
       pg_get_function_identity_arguments(p.oid),
       p.prokind, p.proisstrict, p.proleakproof, p.proparallel, p.procost, p.prorows,
       p.proretset, p.proconfig
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  join pg_language l on l.oid = p.prolang
 where n.nspname = %(schema)s and p.prokind in ('f', 'p')
 order by p.proname, p.oid
"""

_ENUMS_SQL = """
select t.typname, array(select e.enumlabel from pg_enum e where e.enumtypid = t.oid
                         order by e.enumsortorder),
       obj_description(t.oid, 'pg_type')
  from pg_type t join pg_namespace n on n.oid = t.typnamespace
 where n.nspname = %(schema)s and t.typtype = 'e'
 order by t.typname
"""

_SEQUENCES_SQL = """
select c.oid, c.relname, format_type(s.seqtypid, null), s.seqstart, s.seqincrement, s.seqmin,
       s.seqmax, s.seqcache, s.seqcycle, oc.relname, a.attname, a.attnum, d.refobjid,
       obj_description(c.oid, 'pg_class')
  from pg_sequence s join pg_class c on c.oid = s.seqrelid
  join pg_namespace n on n.oid = c.relnamespace
  left join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = c.oid
       and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')
  left join pg_class oc on oc.oid = d.refobjid
  left join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
 where n.nspname = %(schema)s
 order by c.relname
"""

_UNLOGGED_SQL = """
select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s and c.relkind in ('r', 'p') and c.relpersistence = 'u'
"""

_PARTITION_KEYS_SQL = """
select p.partrelid, p.partstrat::text,
       case when 0 = any(p.partattrs::int2[]) then array[]::text[]
            else array(select a.attname::text from unnest(p.partattrs::int2[])
                         with ordinality k(num, pos)
                         join pg_attribute a on a.attrelid = p.partrelid and a.attnum = k.num
                        order by k.pos) end,
       pg_get_partkeydef(p.partrelid)
  from pg_partitioned_table p join pg_class c on c.oid = p.partrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s
"""

_PARTITIONS_SQL = """
select c.oid, i.inhparent, c.relname, pg_get_expr(c.relpartbound, c.oid)
  from pg_class c join pg_inherits i on i.inhrelid = c.oid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s and c.relispartition and c.relkind in ('r', 'p')
 order by c.relname
"""

_VIEWS_SQL = """
select c.oid, c.relname, pg_get_viewdef(c.oid), obj_description(c.oid, 'pg_class'),
       array(select distinct d.refobjid from pg_rewrite r
               join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
                and d.refclassid = 'pg_class'::regclass and d.refobjid <> c.oid
              where r.ev_class = c.oid),
       format('"%%s"."%%s"', replace(n.nspname, '"', '""'), replace(c.relname, '"', '""'))
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s and c.relkind = 'v'
 order by c.relname
"""


_MATVIEWS_SQL = """
select c.oid, c.relname, pg_get_viewdef(c.oid), c.relispopulated,
       format('"%%s"."%%s"', replace(n.nspname, '"', '""'), replace(c.relname, '"', '""'))
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s and c.relkind = 'm'
 order by c.relname
"""


# Kinds schemainspect does not read at all (so the differ never sees them): named here, so
# that import lists them too. Extension members are the extension's business.
_UNSEEN_SQL = """
with objects(kind, name, suffix, classid, objid) as (
  select 'aggregate', p.proname, '(' || pg_get_function_identity_arguments(p.oid) || ')',
         'pg_proc'::regclass, p.oid
    from pg_proc p where p.pronamespace = %(oid)s and p.prokind = 'a'
  union all
  select 'foreign table', c.relname, '', 'pg_class'::regclass, c.oid
    from pg_class c where c.relnamespace = %(oid)s and c.relkind = 'f'
  union all
  select case t.typtype when 'r' then 'range type' else 'base type' end, t.typname, '',
         'pg_type'::regclass, t.oid
    from pg_type t where t.typnamespace = %(oid)s and t.typtype in ('r', 'b')
     and not exists (select 1 from pg_type e where e.typarray = t.oid)
  union all
  select 'operator', o.oprname,
         format('(%%s, %%s)', o.oprleft::regtype, o.oprright::regtype),
         'pg_operator'::regclass, o.oid
    from pg_operator o where o.oprnamespace = %(oid)s
  union all
  select 'operator class', c.opcname, '', 'pg_opclass'::regclass, c.oid
    from pg_opclass c where c.opcnamespace = %(oid)s
  union all
  select 'operator family', f.opfname, '', 'pg_opfamily'::regclass, f.oid
    from pg_opfamily f where f.opfnamespace = %(oid)s
  union all
  select 'text search configuration', c.cfgname, '', 'pg_ts_config'::regclass, c.oid
    from pg_ts_config c where c.cfgnamespace = %(oid)s
  union all
  select 'text search dictionary', d.dictname, '', 'pg_ts_dict'::regclass, d.oid
    from pg_ts_dict d where d.dictnamespace = %(oid)s
  union all
  select 'conversion', c.conname, '', 'pg_conversion'::regclass, c.oid
    from pg_conversion c where c.connamespace = %(oid)s
  union all
  select 'statistics object', x.stxname, '', 'pg_statistic_ext'::regclass, x.oid
    from pg_statistic_ext x where x.stxnamespace = %(oid)s
  union all
  select 'rule', c.relname, '."' || replace(r.rulename, '"', '""') || '"',
         'pg_rewrite'::regclass, r.oid
    from pg_rewrite r join pg_class c on c.oid = r.ev_class
   where c.relnamespace = %(oid)s and r.rulename <> '_RETURN'
)
select kind, name, suffix from objects o
 where not exists (select 1 from pg_depend d where d.classid = o.classid
                     and d.objid = o.objid and d.deptype = 'e')
 order by 1, 2, 3
"""


@dataclass
class _Column:
    name: str
    type: str
    type_unmodified: str
    not_null: bool
    default: str | None
    identity: str
    comment: str | None
    default_sequence: int | None  # oid of the sequence a nextval() default reads
    collation: str | None = None  # when not the type's own


@dataclass
class _Sequence:
    oid: int
    name: str
    type: str
    start: int
    increment: int
    min: int
    max: int
    cache: int
    cycle: bool
    owner_table: str | None
    owner_column: str | None
    owner_attnum: int | None
    owner_oid: int | None
    comment: str | None = None


@dataclass
class _Catalog:
    tables: list[tuple[int, str, str | None]]
    columns: dict[int, list[_Column]]
    constraints: dict[int, list[tuple[Any, ...]]]
    indexes: dict[int, list[tuple[Any, ...]]]
    triggers: dict[int, list[tuple[Any, ...]]]
    functions: list[tuple[Any, ...]]
    enums: list[tuple[Any, ...]]
    sequences: list[_Sequence]
    views: list[tuple[Any, ...]]
    config_rows: list[tuple[str, str | None]]
    config_columns: tuple[str, str] | None
    unseen: list[str]  # "<kind> <name>" of kinds the differ does not read
    unlogged: set[int] = field(default_factory=set)  # oids of unlogged tables
    schema_comment: str | None = None
    comments: dict[str, str | None] = field(default_factory=dict)  # COMMENT ON target -> text
    matviews: list[tuple[Any, ...]] = field(default_factory=list)
    # Identity options, generated kinds, storage parameters; EXCLUDE constraints by table.
    extras: db.RelationExtras = field(default_factory=db.RelationExtras)
    excludes: dict[int, list[tuple[Any, ...]]] = field(default_factory=dict)
    # partitioned table oid -> (strategy r|l|h, key columns or [], key definition)
    partition_keys: dict[int, tuple[str, list[str], str]] = field(default_factory=dict)
    # partitioned table oid -> [(partition oid, name, bound)], by name
    partitions: dict[int, list[tuple[int, str, str]]] = field(default_factory=dict)

    @classmethod
    def read(
        cls, conn: psycopg.Connection[Any], schema: str, config_table: str | None
    ) -> _Catalog:
        oid = conn.execute("select oid from pg_namespace where nspname = %s", (schema,)).fetchone()
        args = {"schema": schema, "oid": oid[0] if oid else 0}

        def rows(query: str) -> list[tuple[Any, ...]]:
            return list(conn.execute(query, args).fetchall())

        columns: dict[int, list[_Column]] = {}
        for r in rows(_COLUMNS_SQL):
            columns.setdefault(r[0], []).append(_Column(*r[2:]))
        by_table: dict[str, dict[int, list[tuple[Any, ...]]]] = {}
        for name, query in (
            ("constraints", _CONSTRAINTS_SQL),
            ("indexes", _INDEXES_SQL),
            ("triggers", _TRIGGERS_SQL),
        ):
            grouped: dict[int, list[tuple[Any, ...]]] = {}
            for r in rows(query):
                grouped.setdefault(r[0], []).append(r)
            by_table[name] = grouped
        config_rows: list[tuple[str, str | None]] = []
        config_columns = None
        if config_table is not None:
            config_columns, config_rows = _config_rows(conn, schema, config_table)
        excludes: dict[int, list[tuple[Any, ...]]] = {}
        for r in rows(_EXCLUDES_SQL):
            excludes.setdefault(r[0], []).append(r)
        catalog = cls(
            rows(_TABLES_SQL),
            columns,
            by_table["constraints"],
            by_table["indexes"],
            by_table["triggers"],
            rows(_FUNCTIONS_SQL),
            rows(_ENUMS_SQL),
            [_Sequence(*r) for r in rows(_SEQUENCES_SQL)],
            rows(_VIEWS_SQL),
            config_rows,
            config_columns,
            [f"{kind} {_q(schema, name)}{suffix}" for kind, name, suffix in rows(_UNSEEN_SQL)],
            extras=db.relation_extras(conn, schema),
            excludes=excludes,
        )
        catalog.unlogged = {int(r[0]) for r in rows(_UNLOGGED_SQL)}
        for oid_, strategy, key_columns, definition in rows(_PARTITION_KEYS_SQL):
            catalog.partition_keys[int(oid_)] = (str(strategy), list(key_columns), str(definition))
        for child, parent, name, bound in rows(_PARTITIONS_SQL):
            catalog.partitions.setdefault(int(parent), []).append((int(child), name, bound))
        if schema != "public":
            found = rows("select obj_description(%(oid)s, 'pg_namespace')")
            catalog.schema_comment = found[0][0] if found else None
        return catalog


def _config_rows(
    conn: psycopg.Connection[Any], schema: str, table: str
) -> tuple[tuple[str, str], list[tuple[str, str | None]]]:
    """The key and value columns of a key/value table (its one-column primary key, `value`)."""
    found = conn.execute(
        """select c.oid, array(select a.attname from pg_constraint co
                                 join pg_attribute a on a.attrelid = co.conrelid
                                  and a.attnum = any(co.conkey)
                                where co.conrelid = c.oid and co.contype = 'p'),
                  exists(select 1 from pg_attribute a where a.attrelid = c.oid
                           and a.attname = 'value' and not a.attisdropped)
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = %s and c.relname = %s and c.relkind in ('r', 'p')""",
        (schema, table),
    ).fetchone()
    if found is None:
        raise SchemadiffError(f"--config-table: schema '{schema}' has no table '{table}'")
    _, pk, has_value = found
    if len(pk) != 1 or not has_value:
        raise SchemadiffError(
            f"--config-table: '{table}' must have a one-column primary key (the key) and a "
            "column named 'value'"
        )
    key_col = str(pk[0])
    query = sql.SQL("select {k}::text, {v}::text from {s}.{t} order by 1").format(
        k=sql.Identifier(key_col),
        v=sql.Identifier("value"),
        s=sql.Identifier(schema),
        t=sql.Identifier(table),
    )
    return (key_col, "value"), [(str(k), v) for k, v in conn.execute(query).fetchall()]


# --- spec document --------------------------------------------------------------------------------


def _q(*names: str) -> str:
    """A name as the differ keys it: every part double-quoted."""
    return ".".join('"' + n.replace('"', '""') + '"' for n in names)


class _Writer:
    """Builds the spec document (plain dicts in output order) from the catalog reads."""

    def __init__(
        self,
        schema: str,
        catalog: _Catalog,
        inspector: Any,
        snap: differ.Snapshot | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.progress = progress or Progress()
        self.schema = schema
        self.view_options = snap.view_options if snap is not None else {}
        self.domain_infos = snap.domains if snap is not None else {}
        self.composite_infos = snap.composites if snap is not None else {}
        self.c = catalog
        self.i = inspector
        self.notes: list[str] = []
        self.enum_labels = {name: list(labels) for name, labels, _ in catalog.enums}
        self.sequences = {s.oid: s for s in catalog.sequences}
        self.serial_sequences: set[int] = set()
        self.managed_tables = {
            oid: name for oid, name, _ in catalog.tables if _q(schema, name) in inspector.tables
        }

    def document(self, config_table: str | None) -> dict[str, Any]:
        doc: dict[str, Any] = {"version": 1}
        if self.schema != "public":
            doc["schema"] = self.schema
            if self.c.schema_comment is not None:
                doc["schema"] = Flow({"name": self.schema, "comment": self.c.schema_comment})
        extensions = sorted(e.name for e in self.i.extensions.values())
        if extensions:
            doc["extensions"] = extensions
        enums = self._enums()
        tables = self._tables()  # before sequences: serial columns claim theirs
        sequences = self._sequences()
        functions = self._functions()
        procedures = self._functions("p")
        views = self._views()
        domains, types, matviews = self._domains(), self._types(), self._matviews()
        for key, value in (
            ("enums", enums),
            ("domains", domains),
            ("types", types),
            ("sequences", sequences),
            ("functions", functions),
            ("procedures", procedures),
            ("tables", tables),
            ("views", views),
            ("materialized_views", matviews),
        ):
            if value or key == "tables":
                doc[key] = value
        if config_table is not None:
            doc["config"] = self._config(config_table)
        return doc

    def _enums(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, labels, comment in self.c.enums:
            if _q(self.schema, name) not in self.i.enums:
                continue
            item: dict[str, Any] = {"values": list(labels)}
            if comment is not None:
                item["comment"] = comment
            out[name] = Flow(item) if fits_on_one_line(item) else item
        return out

    # tables ------------------------------------------------------------------------------------

    def _tables(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        partitions = {child for kids in self.c.partitions.values() for child, _, _ in kids}
        with self.progress.counter("importing table", len(self.managed_tables)) as n:
            for oid, name, comment in self.c.tables:
                if oid in self.managed_tables and oid not in partitions:  # in its parent
                    n.step(name)
                    out[name] = self._table(oid, name, comment)
        return out

    def _table(self, oid: int, name: str, comment: str | None) -> dict[str, Any]:
        cons = [
            r
            for r in self.c.constraints.get(oid, [])
            if _q(self.schema, name, r[1]) in self.i.constraints
        ]
        pk = next((r for r in cons if r[2] == "p"), None)
        pk_cols = set(pk[4]) if pk else set()

        def on_column(r: tuple[Any, ...]) -> bool:  # written as `unique: true` on its column
            return (
                len(r[4]) == 1
                and r[1] == f"{name}_{r[4][0]}_key"
                and r[11] is None
                and not _deferral(r)
                and "NULLS NOT DISTINCT" not in r[3]
            )

        column_unique = {
            r[4][0]
            for r in cons
            if r[2] == "u" and on_column(r)
        }
        column_checks = {}
        table_checks = []
        cols = self.c.columns.get(oid, [])
        col_names = {c.name for c in cols}
        for r in cons:
            if r[2] != "c":
                continue
            no_inherit = r[3].endswith(" NO INHERIT")
            expression = _check_expression(r[3].removesuffix(" NO INHERIT"))
            owner = r[1][len(name) + 1 : -len("_check")] if r[1].endswith("_check") else None
            if (
                r[1] == f"{name}_{owner}_check"
                and owner in col_names
                and r[11] is None
                and not no_inherit
            ):
                column_checks[owner] = expression
            else:
                check: dict[str, Any] = {"name": r[1], "expression": expression}
                if r[11] is not None:
                    check["comment"] = r[11]
                if no_inherit:
                    check["no_inherit"] = True
                table_checks.append(check)
        table: dict[str, Any] = {}
        if comment is not None:
            table["comment"] = comment
        if oid in self.c.unlogged:
            table["unlogged"] = True
        storage = differ.storage_of(self.c.extras, _q(self.schema, name))
        if storage:
            table["with"] = Flow({k: _storage_value(v) for k, v in storage.items()})
        table["columns"] = {
            c.name: self._column(name, c, c.name in pk_cols, c.name in column_unique,
                                 column_checks.get(c.name))
            for c in cols
        }
        if pk:
            cols_pk = list(pk[4])
            key: dict[str, Any] = {} if pk[1] == f"{name}_pkey" else {"name": pk[1]}
            key["columns"] = cols_pk
            key.update(_deferral(pk))
            if pk[11] is not None:
                key["comment"] = pk[11]
            table["primary_key"] = cols_pk if list(key) == ["columns"] else Flow(key)
        uniques = []
        for r in cons:
            if r[2] == "u" and not on_column(r):
                item: dict[str, Any] = {}
                if r[1] != f"{name}_{'_'.join(r[4])}_key":
                    item["name"] = r[1]
                item["columns"] = list(r[4])
                item.update(_deferral(r))
                if "UNIQUE NULLS NOT DISTINCT" in r[3]:
                    item["nulls_not_distinct"] = True
                if r[11] is not None:
                    item["comment"] = r[11]
                uniques.append(Flow(item))
        if uniques:
            table["unique"] = uniques
        fks = [self._foreign_key(name, r) for r in cons if r[2] == "f"]
        if fks:
            table["foreign_keys"] = fks
        if table_checks:
            table["checks"] = [_item(c) for c in table_checks]
        indexes = [
            self._index(name, r)
            for r in self.c.indexes.get(oid, [])
            if _q(self.schema, r[1]) in self.i.indexes
        ]
        if indexes:
            table["indexes"] = indexes
        triggers = [
            self._trigger(r)
            for r in self.c.triggers.get(oid, [])
            if _q(self.schema, name, r[1]) in self.i.triggers
        ]
        if triggers:
            table["triggers"] = triggers
        excludes = [
            self._exclude(r)
            for r in self.c.excludes.get(oid, [])
            if _q(self.schema, name, r[1]) in self.i.constraints
        ]
        if excludes:
            table["excludes"] = excludes
        self._security(name, table)
        if oid in self.c.partition_keys:
            table.update(self._partitioning(oid, name))
        return table

    def _partitioning(self, oid: int, name: str) -> dict[str, Any]:
        """partition_by and partitions of a partitioned table."""
        strategy, columns, definition = self.c.partition_keys[oid]
        method = {"r": "range", "l": "list", "h": "hash"}[strategy]
        by: dict[str, Any] = {"method": method}
        if columns:
            by["columns"] = columns
        else:  # "RANGE (lower(kind))": the key inside the method's parentheses
            by["expression"] = _unwrap(definition[definition.index("(") :])
        parts: dict[str, Any] = {}
        for _, part, bound in self.c.partitions.get(oid, []):
            read = sqlread.partition_bound(bound)
            if read is None:
                raise SchemadiffError(
                    f"cannot read the bound of partition {part} of {name} ({bound}); "
                    "please report this as a bug"
                )
            parts[part] = Flow(read)
        return {"partition_by": Flow(by), "partitions": parts}

    def _security(self, name: str, table: dict[str, Any]) -> None:
        """Row-level security and the table's policies, as the differ reads them."""
        t = self.i.tables[_q(self.schema, name)]
        if t.rowsecurity:
            table["row_level_security"] = True
        if t.forcerowsecurity:
            table["force_row_level_security"] = True
        policies: dict[str, Any] = {}
        for p in self.i.rlspolicies.values():
            if p.table_name != name:
                continue
            item: dict[str, Any] = {}
            if p.commandtype != "*":
                item["command"] = p.commandtype_keyword
            if not p.permissive:
                item["permissive"] = False
            if p.roles != ["public"]:
                item["roles"] = list(p.roles)
            if p.qual:
                item["using"] = p.qual
            if p.withcheck:
                item["with_check"] = p.withcheck
            policies[p.name] = _item(item)
        if policies:
            table["policies"] = policies

    def _exclude(self, r: tuple[Any, ...]) -> Any:
        _, name, method, deferrable, deferred, attnames, parts, operators, predicate = r
        elements = []
        for attname, text, op in zip(attnames, parts, operators, strict=True):
            element = {"column": attname} if attname else {"expression": _unwrap(text)}
            element["with"] = op
            elements.append(Flow(element))
        item: dict[str, Any] = {"name": name}
        if method != "gist":
            item["using"] = method
        item["elements"] = elements
        if predicate is not None:
            item["where"] = _unwrap(predicate)
        if deferrable:
            item["deferrable"] = True
        if deferred:
            item["initially_deferred"] = True
        return _item(item)

    def _column(
        self, table: str, c: _Column, in_pk: bool, unique: bool, check: str | None
    ) -> Any:
        item: dict[str, Any] = {"type": c.type}
        serial = self._serial_type(table, c)
        key = _q(self.schema, table, c.name)
        generated = self.c.extras.generated.get(key)
        if serial:
            item["type"] = serial
        if c.collation is not None:
            item["collation"] = c.collation
        # Primary key, serial and identity columns are NOT NULL without saying so.
        if c.not_null and not (in_pk or serial or c.identity):
            item["nullable"] = False
        if c.default is not None and generated:
            expression = _unwrap(c.default)
            item["generated"] = (
                expression
                if generated == "s"
                else Flow({"expression": expression, "stored": False})
            )
        elif c.default is not None and not serial:
            item["default"] = self._default(c)
        if c.identity and not serial:
            item["identity"] = self._identity(key, c)
        if unique:
            item["unique"] = True
        if check is not None:
            item["check"] = check
        if c.comment is not None:
            item["comment"] = c.comment
        if list(item) == ["type"]:
            return item["type"]
        return Flow(item) if fits_on_one_line(item) else item

    def _identity(self, key: str, c: _Column) -> Any:
        """`always` / `by default`, with the sequence's options where not Postgres' defaults."""
        kind = "always" if c.identity == "a" else "by default"
        options = self.c.extras.identity.get(key, {})
        low, high = _type_range(c.type)
        increment = int(options.get("increment by", "1"))
        defaults = {
            "increment by": "1",
            "minvalue": "1" if increment > 0 else str(low),
            "maxvalue": str(high) if increment > 0 else "-1",
            "cache": "1",
            "cycle": "no cycle",
        }
        defaults["start with"] = defaults["minvalue"] if increment > 0 else defaults["maxvalue"]
        words = {"start with": "start", "increment by": "increment", "minvalue": "min",
                 "maxvalue": "max", "cache": "cache"}
        item: dict[str, Any] = {}
        for word, value in options.items():
            if value == defaults.get(word):
                continue
            if word == "cycle":
                item["cycle"] = True
            else:
                item[words[word]] = int(value)
        return Flow({"generated": kind, **item}) if item else kind

    def _serial_type(self, table: str, c: _Column) -> str | None:
        """serial/bigserial/smallserial when the column is exactly what one creates."""
        names = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}
        seq = self.sequences.get(c.default_sequence or 0)
        if seq is None or c.type not in names or not c.not_null or c.identity:
            return None
        if not _NEXTVAL.fullmatch(c.default or ""):
            return None
        if (seq.owner_table, seq.owner_column) != (table, c.name):
            return None
        if seq.name != f"{table}_{c.name}_seq" or seq.type != c.type or seq.comment is not None:
            return None
        _, high = _type_range(seq.type)
        options = (seq.start, seq.increment, seq.min, seq.max, seq.cache, seq.cycle)
        if options != (1, 1, 1, high, 1, False):
            return None
        self.serial_sequences.add(seq.oid)
        return names[c.type]

    def _default(self, c: _Column) -> Any:
        literal = _literal_default(c, self.enum_labels)
        return literal if literal is not None else Flow({"sql": c.default})

    def _foreign_key(self, table: str, r: tuple[Any, ...]) -> Any:
        cols, ref_table, ref_cols = list(r[4]), r[5], list(r[6])
        item: dict[str, Any] = {}
        if r[1] != f"{table}_{'_'.join(cols)}_fkey":
            item["name"] = r[1]
        item["columns"] = cols
        item["references"] = Flow({"table": ref_table, "columns": ref_cols})
        if r[8] != "a":
            item["on_delete"] = _FK_ACTIONS[r[8]]
        if r[7] != "a":
            item["on_update"] = _FK_ACTIONS[r[7]]
        if r[9]:
            item["deferrable"] = True
        if r[10]:
            item["initially_deferred"] = True
        if " MATCH FULL" in r[3]:
            item["match"] = "full"
        if r[11] is not None:
            item["comment"] = r[11]
        return _item(item)

    def _index(self, table: str, r: tuple[Any, ...]) -> Any:
        _, name, unique, method, nkey, definition, parts, attnames, predicate, comment = r
        elements = _index_elements(definition, method, list(parts[:nkey]), list(attnames[:nkey]))
        if elements is None:
            raise SchemadiffError(
                f"cannot read index {name} ({definition}); please report this as a bug"
            )
        item: dict[str, Any] = {}
        columns = [_element_column(e) for e in elements]
        if not all(columns) or name != f"{table}_{'_'.join(columns)}_idx":
            item["name"] = name  # the naming convention would not give this name
        item["columns"] = elements
        if unique:
            item["unique"] = True
        if method != "btree":
            item["method"] = method
        if predicate is not None:
            item["where"] = _unwrap(predicate)
        if len(attnames) > nkey:
            item["include"] = list(attnames[nkey:])
        if " NULLS NOT DISTINCT" in definition:
            item["nulls_not_distinct"] = True
        storage = differ.storage_of(self.c.extras, _q(self.schema, name))
        if storage:
            item["with"] = Flow({k: _storage_value(v) for k, v in storage.items()})
        if comment is not None:
            item["comment"] = comment
        return _item(item)

    def _trigger(self, r: tuple[Any, ...]) -> Any:
        _, name, definition, function, comment, enabled = r[:6]
        parts = sqlread.trigger_parts(definition)
        if parts is None:  # the differ would have taken it out
            raise SchemadiffError(f"cannot read trigger {name} ({definition})")
        item: dict[str, Any] = {
            "name": name,
            "function": function,
            "timing": parts.timing,
            "events": parts.events,
        }
        if parts.update_of:
            item["update_of"] = parts.update_of
        if parts.for_each != "row":
            item["for_each"] = parts.for_each
        if parts.when is not None:
            item["when"] = parts.when
        if parts.args:
            item["args"] = parts.args
        referencing = {
            key: value
            for key, value in (("old_table", parts.old_table), ("new_table", parts.new_table))
            if value
        }
        if referencing:
            item["referencing"] = Flow(referencing)
        for key in ("constraint", "deferrable", "initially_deferred"):
            if getattr(parts, key):
                item[key] = True
        if enabled == "D":
            item["enabled"] = False
        if comment is not None:
            item["comment"] = comment
        return _item(item)

    # sequences, functions, views ----------------------------------------------------------------

    def _sequences(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for seq in self.c.sequences:
            if seq.oid in self.serial_sequences:
                continue  # written as the column's serial type
            if _q(self.schema, seq.name) not in self.i.sequences:
                continue
            item: dict[str, Any] = {}
            low, high = _type_range(seq.type)
            if seq.type != "bigint":
                item["as"] = seq.type
            if seq.increment != 1:
                item["increment"] = seq.increment
            default_min, default_max = (1, high) if seq.increment > 0 else (low, -1)
            if seq.min != default_min:
                item["min"] = seq.min
            if seq.max != default_max:
                item["max"] = seq.max
            if seq.start != (seq.min if seq.increment > 0 else seq.max):
                item["start"] = seq.start
            if seq.cache != 1:
                item["cache"] = seq.cache
            if seq.cycle:
                item["cycle"] = True
            if seq.owner_table is not None:
                item["owned_by"] = f"{seq.owner_table}.{seq.owner_column}"
            if seq.comment is not None:
                item["comment"] = seq.comment
            out[seq.name] = Flow(item)
        return out

    def _functions(self, kind: str = "f") -> dict[str, Any]:
        """Functions (kind "f") or procedures ("p") the differ manages, by name; overloads
        of one name as a list."""
        managed = set(self.i.functions)  # keyed '"schema"."name"(identity arguments)'
        out: dict[str, Any] = {}
        for row in self.c.functions:
            (name, args, returns, language, volatility, definer, source, comment) = row[:8]
            (identity, prokind, strict, leakproof, parallel, cost, rows, retset, config) = row[8:]
            if prokind != kind or f"{_q(self.schema, name)}({identity})" not in managed:
                continue
            item: dict[str, Any] = {}
            split = _split_args(args)
            if split:
                item["args"] = split
            if kind == "f":
                item["returns"] = returns
            item["language"] = language
            if volatility != "v" and kind == "f":
                item["volatility"] = {"i": "immutable", "s": "stable"}[volatility]
            if strict:
                item["strict"] = True
            if leakproof:
                item["leakproof"] = True
            if parallel != "u" and kind == "f":
                item["parallel"] = {"s": "safe", "r": "restricted"}[parallel]
            if definer:
                item["security"] = "definer"
            if cost != 100 and kind == "f":
                item["cost"] = _whole(cost)
            if retset and rows != 1000:
                item["rows"] = _whole(rows)
            if config:
                item["set"] = Flow(
                    {key: value for key, _, value in (str(c).partition("=") for c in config)}
                )
            # Exactly the source, but for line breaks around it (the differ ignores those).
            item["body"] = source.strip("\n") + "\n"
            if comment is not None and kind == "f":
                item["comment"] = comment
            if name in out:
                first = out[name]
                out[name] = [*first, item] if isinstance(first, list) else [first, item]
            else:
                out[name] = item
        return out

    def _views(self) -> dict[str, Any]:
        managed = {
            oid: (name, definition, comment, deps, key)
            for oid, name, definition, comment, deps, key in self.c.views
            if _q(self.schema, name) in self.i.views
        }
        out: dict[str, Any] = {}
        # Created in the order written: a view after the views it reads, else by name.
        done: set[int] = set()
        while len(done) < len(managed):
            ready = sorted(
                (v[0], oid)
                for oid, v in managed.items()
                if oid not in done and all(d in done or d not in managed for d in v[3])
            )
            if not ready:  # a cycle cannot be built by Postgres either; write the rest
                ready = sorted((v[0], oid) for oid, v in managed.items() if oid not in done)
            name, oid = ready[0]
            done.add(oid)
            _, definition, comment, _, key = managed[oid]
            item: dict[str, Any] = {"query": definition.strip().rstrip(";").strip() + "\n"}
            options = self.view_options.get(key, {})
            for option in db.VIEW_OPTIONS:  # in the order docs/spec.md writes them
                if option in options:
                    item[option] = options[option] if option == "check_option" else True
            if comment is not None:
                item["comment"] = comment
            triggers = [  # INSTEAD OF triggers the differ kept (the others are not managed)
                self._trigger(r)
                for r in self.c.triggers.get(oid, [])
                if _q(self.schema, name, r[1]) in self.i.triggers
            ]
            if triggers:
                item["triggers"] = triggers
            out[name] = item
        return out

    # domains, composite types, materialized views ----------------------------------------------

    def _comment(self, kind: str, name: str) -> str | None:
        return self.c.comments.get(f"{kind} {_ident(self.schema)}.{_ident(name)}")

    def _domains(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for _, d in sorted(self.domain_infos.items(), key=lambda kv: kv[1].name):
            item: dict[str, Any] = {"type": d.type}
            if d.not_null:
                item["nullable"] = False
            if d.default is not None:
                item["default"] = Flow({"sql": d.default})
            if d.checks:
                item["checks"] = [
                    _item({"name": n, "expression": _check_expression(definition)})
                    for n, definition, _ in d.checks
                ]
            if d.collation:
                item["collation"] = d.collation
            comment = self._comment("DOMAIN", d.name)
            if comment is not None:
                item["comment"] = comment
            out[d.name] = _item(item)
        return out

    def _types(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for _, t in sorted(self.composite_infos.items(), key=lambda kv: kv[1].name):
            item: dict[str, Any] = {"attributes": Flow(dict(t.attributes))}
            comment = self._comment("TYPE", t.name)
            if comment is not None:
                item["comment"] = comment
            out[t.name] = _item(item)
        return out

    def _matviews(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for oid, name, definition, populated, key in self.c.matviews:
            if key not in self.i.materialized_views:
                continue
            item: dict[str, Any] = {"query": definition.strip().rstrip(";").strip() + "\n"}
            indexes = [self._index(name, r) for r in self.c.indexes.get(oid, [])]
            if indexes:
                item["indexes"] = indexes
            if not populated:
                item["with_data"] = False
            comment = self._comment("MATERIALIZED VIEW", name)
            if comment is not None:
                item["comment"] = comment
            out[name] = item
        return out

    def _config(self, table: str) -> dict[str, Any]:
        assert self.c.config_columns is not None
        key_col, value_col = self.c.config_columns
        cfg: dict[str, Any] = {"table": table}
        if key_col != "key":
            cfg["key_column"] = key_col
        if value_col != "value":
            cfg["value_column"] = value_col
        keys: dict[str, Any] = {}
        withheld = []
        for key, value in self.c.config_rows:
            if _SECRET_NAME.search(key):
                withheld.append(key)
                keys[key] = Flow({"default": ""})  # what schemadiff writes for a secret
            else:
                keys[key] = Flow({} if value is None else {"default": value})
        cfg["keys"] = keys
        self.notes.append(
            f"config: {len(keys)} keys of {table}, each with its current value as default. "
            "The database cannot tell which are secrets: mark those `secret: true` with "
            "`value_from_env: VAR` by hand."
        )
        if withheld:
            self.notes.append(
                "config: these keys look like secrets, so their values were not written "
                "(default \"\" instead): " + ", ".join(withheld)
            )
        return cfg


def _ident(name: str) -> str:
    """A name as format('%I') writes it: the form of the comments' keys."""
    from schemadiff.model import quote

    return quote(name)


def _whole(value: float) -> int | float:
    return int(value) if value == int(value) else value


def _item(item: dict[str, Any]) -> Any:
    """A list item: one line when short, else a block mapping."""
    if fits_on_one_line(item) and flow_width(item) <= _FLOW_WIDTH:
        return Flow(item)
    return item


def _element_column(e: Any) -> str:
    return e if isinstance(e, str) else str(e.value.get("column", ""))


# --- reading Postgres' own spelling -------------------------------------------------------------


def _type_range(type_: str) -> tuple[int | None, int]:
    bits = {"smallint": 16, "integer": 32, "bigint": 64}.get(type_)
    if bits is None:
        return None, 0
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _literal_default(c: _Column, enums: dict[str, list[str]]) -> Any:
    """A default Postgres prints as a plain literal of the column's type, as a YAML scalar.

    `0`, `4.99`, `true`, `'abc'::text` (a string cast to the column's own type), `'-1'::integer`
    (Postgres quotes negative numbers). None when it is an expression, or when the literal
    would not be written back the same way (schemadiff casts literals itself).
    """
    text = c.default or ""
    base = pgtypes.base_name(c.type)
    numeric = not pgtypes.is_array(c.type) and base in pgtypes.INTEGER | pgtypes.NUMERIC
    value: Any = None
    if text in ("true", "false") and base in pgtypes.BOOLEAN and not pgtypes.is_array(c.type):
        value = text == "true"
    elif re.fullmatch(r"\d+(\.\d+)?", text) and numeric:
        value = _number(text)
    elif m := re.fullmatch(r"'((?:[^']|'')*)'::(.+)", text, re.DOTALL):
        if m.group(2) not in (c.type, c.type_unmodified):
            return None
        raw = m.group(1).replace("''", "'")
        if numeric:
            value = _number(raw) if re.fullmatch(r"-?\d+(\.\d+)?", raw) else None
        elif base in pgtypes.BOOLEAN:
            value = None
        else:
            value = raw
    if value is None or pgtypes.check_literal(c.type, value, enums):
        return None
    return value


def _number(text: str) -> int | float | None:
    if "." not in text:
        return int(text)
    value = float(text)
    return value if repr(value) == text else None


def _deferral(r: tuple[Any, ...]) -> dict[str, Any]:
    """deferrable / initially_deferred of a constraint row (_CONSTRAINTS_SQL)."""
    out: dict[str, Any] = {}
    if r[9]:
        out["deferrable"] = True
    if r[10]:
        out["initially_deferred"] = True
    return out


def _storage_value(value: str) -> Any:
    """A storage parameter as YAML writes it: numbers and booleans as such."""
    if value in ("true", "false"):
        return value == "true"
    try:
        number = _number(value)
    except ValueError:
        return value
    return value if number is None else number


def _check_expression(definition: str) -> str:
    """'CHECK ((a > 0)) NOT VALID' -> '(a > 0)': exactly what Postgres prints inside CHECK (...).

    Kept to the letter, parentheses included: Postgres does not always print a re-parsed
    expression the same way, and the differ accepts a live check printed as the spec's text.
    """
    text = definition.removesuffix(" NOT VALID").removeprefix("CHECK ")
    return text[1:-1] if text.startswith("(") and _closing(text, 0) == len(text) - 1 else text


def _unwrap(text: str) -> str:
    """Drop parentheses around the whole expression: '((a > 0))' -> 'a > 0'."""
    text = text.strip()
    while text.startswith("(") and _closing(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _closing(text: str, start: int) -> int:
    """The index of the parenthesis closing the one at `start` (-1 if none)."""
    depth = 0
    quote: str | None = None
    n = start
    while n < len(text):
        ch = text[n]
        if quote:
            if ch == quote:
                if n + 1 < len(text) and text[n + 1] == quote:
                    n += 1
                else:
                    quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return n
        n += 1
    return -1


def _split_args(args: str) -> list[str]:
    """'a integer, b numeric(12,2) DEFAULT 1' -> ['a integer', 'b numeric(12,2) DEFAULT 1']."""
    out: list[str] = []
    depth, quote, current = 0, None, ""
    for ch in args:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        out.append(current.strip())
    return out


_IDENT = r'(?:"(?:[^"]|"")*"|[^\s"(),]+)'
_ELEMENT_TAIL = re.compile(
    rf"(?: (?!DESC\b|ASC\b|NULLS\b)(?P<opclass>{_IDENT}))?"
    r"(?: (?P<order>DESC|ASC))?(?: NULLS (?P<nulls>FIRST|LAST))?"
)


def _index_elements(
    definition: str, method: str, parts: list[str], attnames: list[str]
) -> list[Any] | None:
    """Index keys from pg_get_indexdef, each found by its own text (pg_get_indexdef(oid, k)).

    What follows a key's text up to the next ", " is its operator class (shown only when not
    the default), DESC and NULLS FIRST/LAST.
    """
    head = f" USING {method} ("
    pos = definition.find(head)
    if pos < 0:
        return None
    pos += len(head)
    out: list[Any] = []
    for n, (text, attname) in enumerate(zip(parts, attnames, strict=True)):
        if not definition.startswith(text, pos):
            return None
        pos += len(text)
        m = _ELEMENT_TAIL.match(definition, pos)
        assert m is not None  # every group is optional
        pos = m.end()
        separator = ", " if n < len(parts) - 1 else ")"
        if not definition.startswith(separator, pos):
            return None
        pos += len(separator)
        element: dict[str, Any] = {}
        if attname:
            element["column"] = attname
        else:
            element["expression"] = _unwrap(text)
        if m.group("opclass"):
            element["opclass"] = m.group("opclass")
        if m.group("order") == "DESC":
            element["order"] = "desc"
        if m.group("nulls"):
            element["nulls"] = m.group("nulls").lower()
        out.append(attname if list(element) == ["column"] else Flow(element))
    return out
