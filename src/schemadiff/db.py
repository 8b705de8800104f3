"""Connections, URL redaction and catalog reads: the one module that opens connections."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
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
select 'TABLE ' || format('%%I.%%I', n.nspname, c.relname), d.description
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  left join pg_description d
         on d.objoid = c.oid and d.classoid = 'pg_class'::regclass and d.objsubid = 0
 where n.nspname = %(schema)s and c.relkind in ('r', 'p')
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
select 'TYPE ' || format('%%I.%%I', n.nspname, t.typname), d.description
  from pg_type t join pg_namespace n on n.oid = t.typnamespace
  left join pg_description d on d.objoid = t.oid and d.classoid = 'pg_type'::regclass
 where n.nspname = %(schema)s and t.typtype = 'e'
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

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "url": ""}  # a cached snapshot never counts, nor keeps URLs


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
            where n.nspname = %(schema)s and v.relkind = 'v' and d.refobjid <> v.oid
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
