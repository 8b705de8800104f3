"""Connections, URL redaction and catalog reads: the one module that opens connections."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from schemadiff.errors import DatabaseError

REDACTED = "***"
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?=@)", re.I)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)(?P<pw>[^&#\s]*)", re.I)
_KV_PASSWORD = re.compile(
    r"(?<![?&])(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.I
)


def redact(text: str) -> str:
    """Replace every password in URLs and key=value conninfo strings within `text` by ***."""
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + REDACTED, text)
    text = _QUERY_PASSWORD.sub(lambda m: m.group("head") + REDACTED, text)
    return _KV_PASSWORD.sub(lambda m: m.group("head") + REDACTED, text)


def redact_url(url: str) -> str:
    """A URL safe to print: the password (if any, also ?password=) replaced by ***; query kept."""
    if "://" not in url:
        return redact(url)
    parts = urlsplit(url)
    if parts.password is not None:
        netloc = parts.netloc.rsplit("@", 1)
        userinfo = netloc[0].split(":", 1)[0]
        url = urlunsplit(parts._replace(netloc=f"{userinfo}:{REDACTED}@{netloc[1]}"))
    return _QUERY_PASSWORD.sub(lambda m: m.group("head") + REDACTED, url)


def scrub(message: str, url: str) -> str:
    """An error message safe to print: any password of `url` removed, even out of context."""
    message = redact(message)
    passwords: set[object] = set()
    if "://" in url:
        passwords.add(urlsplit(url).password)  # as written (maybe percent-encoded)
    # As libpq reads it: decoded, from a URL (userinfo or ?password=) or key=value conninfo.
    with contextlib.suppress(psycopg.Error, ValueError, TypeError):
        passwords.add(conninfo_to_dict(url).get("password"))
    for password in sorted((str(p) for p in passwords if p), key=len, reverse=True):
        message = message.replace(password, REDACTED)
    return message


def connect(url: str, autocommit: bool = True, **kwargs: Any) -> psycopg.Connection[Any]:
    """Open a connection; no server-side prepared statements, so poolers work."""
    try:
        conn = psycopg.connect(url, autocommit=autocommit, prepare_threshold=None, **kwargs)
    except psycopg.Error as e:
        raise DatabaseError(
            f"cannot connect to {redact_url(url) or 'the database (libpq PG* settings)'}: "
            f"{scrub(str(e).strip(), url)}"
        ) from None
    return conn


@contextmanager
def connection(url: str, autocommit: bool = True) -> Iterator[psycopg.Connection[Any]]:
    conn = connect(url, autocommit=autocommit)
    try:
        yield conn
    finally:
        conn.close()


def server_major(conn: psycopg.Connection[Any]) -> int:
    return int(conn.info.server_version) // 10000


def database_url(base_url: str, dbname: str) -> str:
    """The same server as `base_url`, another database."""
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path="/" + dbname))


def sqlalchemy_engine(url: str) -> Any:
    """An SQLAlchemy engine for migra/schemainspect: psycopg 3, no pooling, no prepares."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    elif not url:
        url = "postgresql+psycopg://"  # libpq PG* environment variables decide
    return sa.create_engine(url, poolclass=NullPool, connect_args={"prepare_threshold": None})


# Every commentable object the spec manages, with its comment (NULL when it has none), keyed
# by the target text of COMMENT ON so the differ can write the statement without guessing.
_COMMENTS_SQL = """
select case c.relkind when 'v' then 'VIEW ' else 'TABLE ' end
       || format('%%I.%%I', n.nspname, c.relname), d.description
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  left join pg_description d
         on d.objoid = c.oid and d.classoid = 'pg_class'::regclass and d.objsubid = 0
 where n.nspname = %(schema)s and c.relkind in ('r', 'p', 'v')
union all
select 'COLUMN ' || format('%%I.%%I.%%I', n.nspname, c.relname, a.attname), d.description
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  left join pg_description d on d.objoid = c.oid and d.classoid = 'pg_class'::regclass
             and d.objsubid = a.attnum
 where n.nspname = %(schema)s and c.relkind in ('r', 'p')
union all
select 'INDEX ' || format('%%I.%%I', n.nspname, c.relname), d.description
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  left join pg_description d
         on d.objoid = c.oid and d.classoid = 'pg_class'::regclass and d.objsubid = 0
 where n.nspname = %(schema)s and c.relkind in ('i', 'I')
union all
select 'FUNCTION ' || format('%%I.%%I', n.nspname, p.proname)
       || '(' || pg_get_function_identity_arguments(p.oid) || ')', d.description
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  left join pg_description d on d.objoid = p.oid and d.classoid = 'pg_proc'::regclass
 where n.nspname = %(schema)s and p.prokind = 'f'
   and not exists (select 1 from pg_depend e where e.objid = p.oid and e.deptype = 'e')
union all
select case t.typtype when 'd' then 'DOMAIN ' else 'TYPE ' end
       || format('%%I.%%I', n.nspname, t.typname), d.description
  from pg_type t join pg_namespace n on n.oid = t.typnamespace
  left join pg_description d on d.objoid = t.oid and d.classoid = 'pg_type'::regclass
 where n.nspname = %(schema)s and (t.typtype in ('e', 'd') or (t.typtype = 'c'
       and (select relkind from pg_class where oid = t.typrelid) = 'c'))
union all
select 'MATERIALIZED VIEW ' || format('%%I.%%I', n.nspname, c.relname), d.description
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  left join pg_description d
         on d.objoid = c.oid and d.classoid = 'pg_class'::regclass and d.objsubid = 0
 where n.nspname = %(schema)s and c.relkind = 'm'
union all
select 'CONSTRAINT ' || format('%%I ON %%I.%%I', co.conname, n.nspname, c.relname),
       d.description
  from pg_constraint co join pg_class c on c.oid = co.conrelid
  join pg_namespace n on n.oid = c.relnamespace
  left join pg_description d on d.objoid = co.oid and d.classoid = 'pg_constraint'::regclass
 where n.nspname = %(schema)s
union all
select 'TRIGGER ' || format('%%I ON %%I.%%I', tg.tgname, n.nspname, c.relname), d.description
  from pg_trigger tg join pg_class c on c.oid = tg.tgrelid
  join pg_namespace n on n.oid = c.relnamespace
  left join pg_description d on d.objoid = tg.oid and d.classoid = 'pg_trigger'::regclass
 where n.nspname = %(schema)s and not tg.tgisinternal
union all
select 'SEQUENCE ' || format('%%I.%%I', n.nspname, c.relname), d.description
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  left join pg_description d
         on d.objoid = c.oid and d.classoid = 'pg_class'::regclass and d.objsubid = 0
 where n.nspname = %(schema)s and c.relkind = 'S'
union all
select 'SCHEMA ' || format('%%I', n.nspname), d.description
  from pg_namespace n
  left join pg_description d
         on d.objoid = n.oid and d.classoid = 'pg_namespace'::regclass and d.objsubid = 0
 where n.nspname = %(schema)s and n.nspname <> 'public'
"""


def comments(conn: psycopg.Connection[Any], schema: str) -> dict[str, str | None]:
    """COMMENT ON target -> comment (None when the object exists without a comment)."""
    rows = conn.execute(_COMMENTS_SQL, {"schema": schema}).fetchall()
    return {str(r[0]): (None if r[1] is None else str(r[1])) for r in rows}


# Never-analyzed tables have reltuples -1 (Postgres 14+) or 0; count those exactly when small.
_EXACT_COUNT_MAX_PAGES = 1000


class TableRows:
    """Quoted table name -> rows at stake, counted only for the tables that are asked about.

    pg_class.reltuples answers for analyzed tables; a small never-analyzed table is counted
    exactly, on first request, on a connection of its own (the differ asks only about tables
    with hazardous changes, so a plan of 3,000 untouched tables runs no count at all).
    """

    def __init__(self, url: str, estimates: dict[str, tuple[int, int, str]]) -> None:
        self.url = url
        self._estimates = estimates  # key -> (reltuples, relpages, regclass text)
        self._counted: dict[str, int | None] = {}

    def get(self, key: str) -> int | None:
        if key not in self._estimates:
            return None
        tuples, pages, regclass = self._estimates[key]
        if tuples > 0:
            return tuples
        if pages > _EXACT_COUNT_MAX_PAGES:
            return None
        if key not in self._counted:
            with connection(self.url) as conn:
                row = conn.execute(f"select count(*) from {regclass}".encode()).fetchone()
            self._counted[key] = int(row[0]) if row else None
        return self._counted[key]

    def size(self, key: str) -> int | None:
        """pg_total_relation_size of a table (indexes and TOAST included), asked on demand."""
        if key not in self._estimates or not self.url:
            return None
        sizes: dict[str, int | None] = self.__dict__.setdefault("_sizes", {})
        if key not in sizes:
            regclass = self._estimates[key][2]
            try:
                with connection(self.url) as conn:
                    row = conn.execute(
                        "select pg_total_relation_size(to_regclass(%s))", (regclass,)
                    ).fetchone()
                sizes[key] = int(row[0]) if row and row[0] is not None else None
            except DatabaseError:
                sizes[key] = None
        return sizes[key]

    def rename(self, old: str, new: str) -> None:
        """A table renamed in the plan keeps its rows at stake under its new name."""
        if old in self._estimates:
            self._estimates[new] = self._estimates.pop(old)
            if old in self._counted:
                self._counted[new] = self._counted.pop(old)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "url": ""}  # a cached snapshot never counts, nor keeps URLs


# Objects that depend on another (pg_depend, normal dependencies), described for people and
# keyed the way the differ keys them, so what the plan drops itself can be told apart.
_DEPENDENTS_SQL = """
with d as (
  select distinct dep.classid, dep.objid, dep.objsubid
    from pg_depend dep
   where dep.refclassid = %(refclass)s::regclass and dep.refobjid = %(refobj)s::oid
     and (%(subid)s = 0 or dep.refobjsubid = %(subid)s) and dep.deptype = 'n'
)
select
  case when d.classid = 'pg_rewrite'::regclass then
         (select case c.relkind when 'm' then 'materialized view ' else 'view ' end
                 || c.oid::regclass::text
            from pg_rewrite r join pg_class c on c.oid = r.ev_class where r.oid = d.objid)
       else pg_describe_object(d.classid, d.objid, d.objsubid) end,
  case d.classid
    when 'pg_rewrite'::regclass then
      (select format('"%%s"."%%s"', replace(n.nspname, '"', '""'), replace(c.relname, '"', '""'))
         from pg_rewrite r join pg_class c on c.oid = r.ev_class
         join pg_namespace n on n.oid = c.relnamespace where r.oid = d.objid)
    when 'pg_constraint'::regclass then
      (select format('"%%s"."%%s"."%%s"', replace(n.nspname, '"', '""'),
                     replace(c.relname, '"', '""'), replace(co.conname, '"', '""'))
         from pg_constraint co join pg_class c on c.oid = co.conrelid
         join pg_namespace n on n.oid = c.relnamespace where co.oid = d.objid)
    when 'pg_trigger'::regclass then
      (select format('"%%s"."%%s"."%%s"', replace(n.nspname, '"', '""'),
                     replace(c.relname, '"', '""'), replace(t.tgname, '"', '""'))
         from pg_trigger t join pg_class c on c.oid = t.tgrelid
         join pg_namespace n on n.oid = c.relnamespace where t.oid = d.objid)
    when 'pg_policy'::regclass then
      (select format('"%%s"."%%s"."%%s"', replace(n.nspname, '"', '""'),
                     replace(c.relname, '"', '""'), replace(p.polname, '"', '""'))
         from pg_policy p join pg_class c on c.oid = p.polrelid
         join pg_namespace n on n.oid = c.relnamespace where p.oid = d.objid)
    when 'pg_attrdef'::regclass then
      (select format('"%%s"."%%s"."%%s"', replace(n.nspname, '"', '""'),
                     replace(c.relname, '"', '""'), replace(a.attname, '"', '""'))
         from pg_attrdef ad join pg_class c on c.oid = ad.adrelid
         join pg_namespace n on n.oid = c.relnamespace
         join pg_attribute a on a.attrelid = ad.adrelid and a.attnum = ad.adnum
        where ad.oid = d.objid)
    when 'pg_class'::regclass then
      (select format('"%%s"."%%s"', replace(n.nspname, '"', '""'), replace(c.relname, '"', '""'))
              || case when d.objsubid > 0 then format('."%%s"', replace(
                   (select attname from pg_attribute
                     where attrelid = c.oid and attnum = d.objsubid), '"', '""')) else '' end
         from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = d.objid)
    when 'pg_proc'::regclass then
      (select format('"%%s"."%%s"(%%s)', replace(n.nspname, '"', '""'),
                     replace(p.proname, '"', '""'), pg_get_function_identity_arguments(p.oid))
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.oid = d.objid)
  end
  from d
 order by 1
"""

# The same descriptions and keys, for what depends on any member of an extension.
_EXTENSION_DEPENDENTS_SQL = _DEPENDENTS_SQL.replace(
    _DEPENDENTS_SQL[: _DEPENDENTS_SQL.index("select\n  case")],
    """
with d as (
  select distinct dep.classid, dep.objid, dep.objsubid
    from pg_extension e
    join pg_depend m on m.refclassid = 'pg_extension'::regclass and m.refobjid = e.oid
                    and m.deptype = 'e'
    join pg_depend dep on dep.refclassid = m.classid and dep.refobjid = m.objid
   where e.extname = %(name)s and dep.deptype = 'n'
     and dep.classid in ('pg_class'::regclass, 'pg_constraint'::regclass, 'pg_proc'::regclass,
                         'pg_type'::regclass, 'pg_trigger'::regclass, 'pg_attrdef'::regclass,
                         'pg_rewrite'::regclass)
     and not exists (select 1 from pg_depend x where x.classid = dep.classid
                       and x.objid = dep.objid and x.deptype = 'e')
)
""",
)

_VOLATILITY_RANK = {"i": 0, "s": 1, "v": 2}


class Catalog:
    """Questions about one database's catalog, asked only when a hazard needs the answer.

    Each opens a short connection of its own; answers are cached for the plan. Without a URL
    (a cached snapshot), every answer is "unknown" and the caller assumes the worst.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._casts: set[tuple[str, str]] | None = None
        self._volatility: dict[str, str | None] = {}

    def _query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]] | None:
        if not self.url:
            return None
        try:
            with connection(self.url) as conn:
                return list(conn.execute(sql.encode() if params is None else sql, params))
        except DatabaseError:
            return None

    def binary_coercible(self) -> set[tuple[str, str]]:
        """(source, target) type pairs Postgres converts without touching the data (pg_cast)."""
        if self._casts is None:
            rows = self._query(
                "select format_type(castsource, null), format_type(casttarget, null) "
                "from pg_cast where castmethod = 'b'"
            )
            self._casts = {(str(a), str(b)) for a, b in rows or []}
        return self._casts

    def volatility(self, names: Iterable[str]) -> dict[str, str | None]:
        """Function name -> 'i' | 's' | 'v' (the most volatile of its overloads); None: none."""
        wanted = sorted({n for n in names if n not in self._volatility})
        if wanted:
            rows = self._query(
                "select proname, string_agg(provolatile::text, '') from pg_proc "
                "where proname = any(%s) group by proname",
                (wanted,),
            )
            found = {
                str(name): max(str(flags), key=lambda f: _VOLATILITY_RANK.get(f, 2))
                for name, flags in rows or []
            }
            for name in wanted:
                self._volatility[name] = found.get(name)
        return {n: self._volatility.get(n) for n in names}

    def dependents(
        self, kind: str, schema: str, name: str, detail: str | None = None
    ) -> list[tuple[str, str | None]]:
        """What depends on an object: (description, differ-style key or None), by name.

        `kind`: relation (a table or sequence; `detail` narrows it to one column), function
        (`detail`: its identity arguments) or type.
        """
        lookups = {
            "relation": (
                "pg_class",
                "select c.oid, coalesce((select attnum from pg_attribute where attrelid = c.oid"
                " and attname = %(detail)s), 0) from pg_class c join pg_namespace n"
                " on n.oid = c.relnamespace where n.nspname = %(schema)s and c.relname = %(name)s",
            ),
            "function": (
                "pg_proc",
                "select p.oid, 0 from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
                " where n.nspname = %(schema)s and p.proname = %(name)s"
                " and pg_get_function_identity_arguments(p.oid) = coalesce(%(detail)s, '')",
            ),
            "type": (
                "pg_type",
                "select t.oid, 0 from pg_type t join pg_namespace n on n.oid = t.typnamespace"
                " where n.nspname = %(schema)s and t.typname = %(name)s",
            ),
        }
        refclass, lookup = lookups[kind]
        rows = self._query(lookup, {"schema": schema, "name": name, "detail": detail})
        if not rows:
            return []
        oid, subid = rows[0]
        if kind == "relation" and detail is not None and not subid:
            return []
        found = self._query(
            _DEPENDENTS_SQL, {"refclass": refclass, "refobj": oid, "subid": int(subid)}
        )
        return [(str(desc), None if key is None else str(key)) for desc, key in found or []]

    def extension_dependents(self, name: str) -> list[tuple[str, str | None]]:
        """What depends on the members of extension `name` (its types, operators, functions)
        without being one: (description, differ-style key or None)."""
        found = self._query(_EXTENSION_DEPENDENTS_SQL, {"name": name})
        return [(str(desc), None if key is None else str(key)) for desc, key in found or []]

    def serial_sequence(self, table: str, column: str) -> str | None:
        """The sequence an identity or serial column takes its values from, as
        pg_get_serial_sequence names it (quoted where needed); None: none, or unknown."""
        rows = self._query("select pg_get_serial_sequence(%s, %s)", (table, column))
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "url": ""}


def table_rows(conn: psycopg.Connection[Any], url: str, schema: str) -> TableRows:
    """Row estimates of the schema's tables, in one query (see TableRows)."""
    rows = conn.execute(
        """select format('"%%s"."%%s"', replace(n.nspname, '"', '""'),
                         replace(c.relname, '"', '""')),
                  c.reltuples::bigint, c.relpages, format('%%I.%%I', n.nspname, c.relname)
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = %(schema)s and c.relkind in ('r', 'p')""",
        {"schema": schema},
    ).fetchall()
    return TableRows(url, {str(k): (int(t), int(p), str(r)) for k, t, p, r in rows})


def missing_roles(conn: psycopg.Connection[Any], names: list[str]) -> list[str]:
    """The roles of `names` the server does not have."""
    if not names:
        return []
    rows = conn.execute("select rolname from pg_roles where rolname = any(%s)", (names,))
    found = {str(r[0]) for r in rows.fetchall()}
    return [n for n in names if n not in found]


def other_schemas(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    """User schemas besides the managed one (and schemadiff's own)."""
    rows = conn.execute(
        """select nspname from pg_namespace
            where nspname <> %(schema)s and nspname <> 'schemadiff'
              and nspname not like 'pg\\_%%' and nspname <> 'information_schema'
            order by 1""",
        {"schema": schema},
    ).fetchall()
    return [str(r[0]) for r in rows]


def config_rows(
    conn: psycopg.Connection[Any], schema: str, table: str, key_col: str, value_col: str
) -> dict[str, str | None] | None:
    """The managed config table's rows, or None when the table does not exist yet."""
    from psycopg import sql

    exists = conn.execute(
        "select to_regclass(%s) is not null",
        (f'"{schema}"."{table}"',),
    ).fetchone()
    if not exists or not exists[0]:
        return None
    query = sql.SQL("select {k}, {v} from {s}.{t}").format(
        k=sql.Identifier(key_col),
        v=sql.Identifier(value_col),
        s=sql.Identifier(schema),
        t=sql.Identifier(table),
    )
    return {str(k): (None if v is None else str(v)) for k, v in conn.execute(query).fetchall()}


def sequence_options(conn: psycopg.Connection[Any], schema: str) -> dict[str, str]:
    """Quoted sequence name -> its options, written as CREATE/ALTER SEQUENCE takes them."""
    rows = conn.execute(
        """select format('"%%s"."%%s"', replace(n.nspname, '"', '""'),
                         replace(c.relname, '"', '""')),
                  format_type(s.seqtypid, null), s.seqstart, s.seqincrement, s.seqmin,
                  s.seqmax, s.seqcache, s.seqcycle
             from pg_sequence s join pg_class c on c.oid = s.seqrelid
             join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = %(schema)s""",
        {"schema": schema},
    ).fetchall()
    return {
        str(key): f"as {type_} start with {start} increment by {inc} minvalue {low} "
        f"maxvalue {high} cache {cache} {'cycle' if cycle else 'no cycle'}"
        for key, type_, start, inc, low, high, cache, cycle in rows
    }


# View reloptions the spec writes; booleans as Postgres accepts them spelled.
VIEW_OPTIONS = ("check_option", "security_barrier", "security_invoker")
_TRUE = ("true", "on", "yes", "1")


def view_options(conn: psycopg.Connection[Any], schema: str) -> dict[str, dict[str, str]]:
    """Quoted view name -> its options (check_option, security_barrier, security_invoker) in
    the spec's form: booleans as "true", false ones left out, others as stored."""
    rows = conn.execute(
        """select format('"%%s"."%%s"', replace(n.nspname, '"', '""'),
                         replace(c.relname, '"', '""')), c.reloptions
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = %(schema)s and c.relkind = 'v'""",
        {"schema": schema},
    ).fetchall()
    out: dict[str, dict[str, str]] = {}
    for key, reloptions in rows:
        options: dict[str, str] = {}
        for item in reloptions or []:
            name, _, value = str(item).partition("=")
            if name == "check_option":
                options[name] = value.lower()
            elif value.lower() in _TRUE:
                options[name] = "true"
            elif value.lower() not in ("false", "off", "no", "0"):
                options[name] = value
        out[str(key)] = options
    return out


# What a partition holds because its partitioned table has it (index and key clones, inherited
# checks, cloned triggers, foreign keys cloned to reference each partition): keyed as the
# differ keys them. They follow their parent, so only the parent's are compared.
_INHERITED_SQL = """
select 'indexes', format('"%%s"."%%s"', replace(n.nspname, '"', '""'),
                         replace(c.relname, '"', '""'))
  from pg_inherits i join pg_class c on c.oid = i.inhrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s and c.relkind in ('i', 'I')
union all
select 'constraints', format('"%%s"."%%s"."%%s"', replace(n.nspname, '"', '""'),
                             replace(c.relname, '"', '""'), replace(co.conname, '"', '""'))
  from pg_constraint co join pg_class c on c.oid = co.conrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s
   and (co.conparentid <> 0 or (co.contype = 'c' and not co.conislocal))
union all
select 'triggers', format('"%%s"."%%s"."%%s"', replace(n.nspname, '"', '""'),
                          replace(c.relname, '"', '""'), replace(t.tgname, '"', '""'))
  from pg_trigger t join pg_class c on c.oid = t.tgrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s and t.tgparentid <> 0
"""


def inherited_objects(conn: psycopg.Connection[Any], schema: str) -> dict[str, set[str]]:
    """Inspector map name -> keys of the objects partitions inherit from their parent."""
    out: dict[str, set[str]] = {"indexes": set(), "constraints": set(), "triggers": set()}
    for attr, key in conn.execute(_INHERITED_SQL, {"schema": schema}).fetchall():
        out[str(attr)].add(str(key))
    return out


def view_dependencies(conn: psycopg.Connection[Any], schema: str) -> dict[str, set[str]]:
    """Quoted view name -> what its query reads: relations, functions (with their identity
    arguments) and types, keyed as migra keys them; extension members are left out (the
    extension is managed as a whole)."""
    rows = conn.execute(
        """select format('"%%s"."%%s"', replace(n.nspname, '"', '""'),
                         replace(v.relname, '"', '""')),
                  case d.refclassid
                  when 'pg_class'::regclass then
                    (select format('"%%s"."%%s"', replace(rn.nspname, '"', '""'),
                                   replace(rc.relname, '"', '""'))
                       from pg_class rc join pg_namespace rn on rn.oid = rc.relnamespace
                      where rc.oid = d.refobjid)
                  when 'pg_proc'::regclass then
                    (select format('"%%s"."%%s"(%%s)', replace(pn.nspname, '"', '""'),
                                   replace(p.proname, '"', '""'),
                                   pg_get_function_identity_arguments(p.oid))
                       from pg_proc p join pg_namespace pn on pn.oid = p.pronamespace
                      where p.oid = d.refobjid)
                  when 'pg_type'::regclass then
                    (select format('"%%s"."%%s"', replace(tn.nspname, '"', '""'),
                                   replace(t.typname, '"', '""'))
                       from pg_type t join pg_namespace tn on tn.oid = t.typnamespace
                      where t.oid = d.refobjid)
                  end
             from pg_class v join pg_namespace n on n.oid = v.relnamespace
             join pg_rewrite r on r.ev_class = v.oid
             join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
            where n.nspname = %(schema)s and v.relkind in ('v', 'm') and d.refobjid <> v.oid
              and d.refclassid in ('pg_class'::regclass, 'pg_proc'::regclass,
                                   'pg_type'::regclass)
              and not exists (select 1 from pg_depend e
                               where e.classid = d.refclassid and e.objid = d.refobjid
                                 and e.deptype = 'e')""",
        {"schema": schema},
    ).fetchall()
    out: dict[str, set[str]] = {}
    for view, used in rows:
        out.setdefault(str(view), set())
        if used is not None:
            out[str(view)].add(str(used))
    return out


@dataclass(frozen=True)
class DomainInfo:
    """A domain as the catalog holds it, in the form CREATE/ALTER DOMAIN writes it."""

    name: str
    type: str  # format_type of the base type, with its modifier
    collation: str | None  # only when it differs from the base type's
    default: str | None
    not_null: bool
    checks: tuple[tuple[str, str, bool], ...]  # (name, CHECK (...), validated), by name
    used_by: tuple[str, ...]  # '"s"."t"' of the tables with a column of this domain


@dataclass(frozen=True)
class CompositeInfo:
    name: str
    attributes: tuple[tuple[str, str], ...]  # (name, format_type), in order
    used_by: tuple[str, ...]  # '"s"."t"' of the tables with a column of this type


def _quoted_sql(ns: str, rel: str) -> str:
    return (f"format('\"%%s\".\"%%s\"', replace({ns}.nspname, '\"', '\"\"'), "
            f"replace({rel}, '\"', '\"\"'))")


def domains(conn: psycopg.Connection[Any], schema: str) -> dict[str, DomainInfo]:
    """Quoted domain name -> the domain, for the schema's domains (not extension members)."""
    rows = conn.execute(
        f"""select {_quoted_sql('n', 't.typname')}, t.typname,
                  format_type(t.typbasetype, t.typtypmod),
                  (select c.collname from pg_collation c join pg_type b on b.oid = t.typbasetype
                    where c.oid = t.typcollation and t.typcollation <> b.typcollation),
                  t.typdefault, t.typnotnull,
                  array(select array[co.conname::text, pg_get_constraintdef(co.oid),
                                     co.convalidated::text]
                          from pg_constraint co where co.contypid = t.oid and co.contype = 'c'
                         order by co.conname),
                  array(select distinct {_quoted_sql('rn', 'r.relname')}
                          from pg_attribute a join pg_class r on r.oid = a.attrelid
                          join pg_namespace rn on rn.oid = r.relnamespace
                         where a.atttypid = t.oid and r.relkind in ('r', 'p')
                           and not a.attisdropped order by 1)
             from pg_type t join pg_namespace n on n.oid = t.typnamespace
            where n.nspname = %(schema)s and t.typtype = 'd'
              and not exists (select 1 from pg_depend e where e.objid = t.oid
                                and e.classid = 'pg_type'::regclass and e.deptype = 'e')""",
        {"schema": schema},
    ).fetchall()
    return {
        str(key): DomainInfo(
            str(name), str(type_), collation, default, bool(not_null),
            tuple((str(c[0]), str(c[1]), c[2] == "true") for c in checks), tuple(used),
        )
        for key, name, type_, collation, default, not_null, checks, used in rows
    }


def composite_types(conn: psycopg.Connection[Any], schema: str) -> dict[str, CompositeInfo]:
    """Quoted type name -> the composite type (CREATE TYPE ... AS), for the schema's own."""
    rows = conn.execute(
        f"""select {_quoted_sql('n', 't.typname')}, t.typname,
                  array(select array[a.attname::text, format_type(a.atttypid, a.atttypmod)]
                          from pg_attribute a
                         where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped
                         order by a.attnum),
                  array(select distinct {_quoted_sql('rn', 'r.relname')}
                          from pg_attribute a join pg_class r on r.oid = a.attrelid
                          join pg_namespace rn on rn.oid = r.relnamespace
                         where a.atttypid = t.oid and r.relkind in ('r', 'p')
                           and not a.attisdropped order by 1)
             from pg_type t join pg_namespace n on n.oid = t.typnamespace
             join pg_class c on c.oid = t.typrelid
            where n.nspname = %(schema)s and t.typtype = 'c' and c.relkind = 'c'
              and not exists (select 1 from pg_depend e where e.objid = t.oid
                                and e.classid = 'pg_type'::regclass and e.deptype = 'e')""",
        {"schema": schema},
    ).fetchall()
    return {
        str(key): CompositeInfo(str(name), tuple((str(a), str(t)) for a, t in attrs), tuple(used))
        for key, name, attrs, used in rows
    }


@dataclass(frozen=True)
class MatviewInfo:
    populated: bool  # relispopulated: created or refreshed WITH DATA
    indexes: tuple[tuple[str, str], ...]  # ('"s"."index"', pg_get_indexdef), by name


def materialized_views(conn: psycopg.Connection[Any], schema: str) -> dict[str, MatviewInfo]:
    """Quoted materialized view name -> whether it holds data, and its indexes."""
    rows = conn.execute(
        f"""select {_quoted_sql('n', 'c.relname')}, c.relispopulated,
                  array(select array[{_quoted_sql('n', 'ic.relname')},
                                     pg_get_indexdef(i.indexrelid)]
                          from pg_index i join pg_class ic on ic.oid = i.indexrelid
                         where i.indrelid = c.oid order by ic.relname)
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = %(schema)s and c.relkind = 'm'""",
        {"schema": schema},
    ).fetchall()
    return {
        str(key): MatviewInfo(bool(populated), tuple((str(a), str(b)) for a, b in indexes))
        for key, populated, indexes in rows
    }


@dataclass
class RelationExtras:
    """What schemainspect does not read about columns and storage, keyed as migra keys things:
    identity sequence options and the kind of generated columns by '"s"."t"."column"', storage
    parameters of tables and indexes by '"s"."name"'."""

    major: int = 0
    identity: dict[str, dict[str, str]] = field(default_factory=dict)
    generated: dict[str, str] = field(default_factory=dict)  # "s" stored | "v" virtual
    storage: dict[str, dict[str, str]] = field(default_factory=dict)


def relation_extras(conn: psycopg.Connection[Any], schema: str) -> RelationExtras:
    """Identity options, generated column kinds and storage parameters of one schema."""
    out = RelationExtras(server_major(conn))
    q = "format('\"%%s\"', replace({}, '\"', '\"\"'))"
    rows = conn.execute(
        f"""select {q.format('n.nspname')} || '.' || {q.format('c.relname')} || '.'
                   || {q.format('a.attname')}, a.attidentity, a.attgenerated,
                   s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
              from pg_attribute a join pg_class c on c.oid = a.attrelid
              join pg_namespace n on n.oid = c.relnamespace
              left join pg_depend d on a.attidentity <> '' and d.refclassid = 'pg_class'::regclass
                   and d.refobjid = a.attrelid and d.refobjsubid = a.attnum
                   and d.classid = 'pg_class'::regclass and d.deptype = 'i'
              left join pg_sequence s on s.seqrelid = d.objid
             where n.nspname = %(schema)s and c.relkind in ('r', 'p') and a.attnum > 0
               and not a.attisdropped and (a.attidentity <> '' or a.attgenerated <> '')""",
        {"schema": schema},
    ).fetchall()
    for key, identity, generated, start, inc, low, high, cache, cycle in rows:
        if generated:
            out.generated[str(key)] = str(generated)
        if identity and start is not None:
            out.identity[str(key)] = {
                "start with": str(start),
                "increment by": str(inc),
                "minvalue": str(low),
                "maxvalue": str(high),
                "cache": str(cache),
                "cycle": "cycle" if cycle else "no cycle",
            }
    for key, options in conn.execute(
        f"""select {q.format('n.nspname')} || '.' || {q.format('c.relname')}, c.reloptions
              from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = %(schema)s and c.relkind in ('r', 'p', 'i', 'I')
               and c.reloptions is not null""",
        {"schema": schema},
    ).fetchall():
        parsed = {}
        for item in options:
            name, _, value = str(item).partition("=")
            parsed[name] = value
        out.storage[str(key)] = parsed
    return out
