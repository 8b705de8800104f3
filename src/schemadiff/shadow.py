"""The shadow database: the spec built into a throwaway Postgres of the live server's major."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psycopg

from schemadiff import db, postgres
from schemadiff import spec as s
from schemadiff.errors import DatabaseError, Location, Problem, SchemadiffError, SpecError
from schemadiff.progress import Progress
from schemadiff.sqltext import quote, string_literal

if TYPE_CHECKING:
    from schemadiff.model import Statement  # SQLAlchemy: imported only when a shadow is built

SHADOW_DB = "postgres"


@dataclass
class Shadow:
    url: str
    # Postgres deparses some expressions differently once re-parsed (an IN list on a varchar
    # column gains casts), so a CHECK applied from the shadow's definition never compares
    # equal to the shadow again. The shadow's checks are stored in their re-parsed form, and
    # the first form is kept here as an equivalent: quoted constraint name -> definitions.
    equivalent_checks: dict[str, set[str]] = field(default_factory=dict)


@contextmanager
def shadow_database(
    spec: s.Spec,
    major: int,
    server_url: str | None = None,
    progress: Progress | None = None,
) -> Iterator[Shadow]:
    """Yield a fresh database holding exactly what the spec declares.

    By default in a throwaway cluster of `major`; with `server_url` (a server where this
    user may create databases, like Atlas' dev database), in a temporary database there,
    dropped afterwards: no local binaries needed, and no cluster start per plan.
    """
    progress = progress or Progress()
    started = time.monotonic()
    if server_url is not None:
        with _temporary_database(server_url, major) as url:
            yield _ready(spec, url, f"on {db.redact_url(server_url)}", started, progress)
        return
    # The cluster starts (a copy and a process) while this thread renders the spec's DDL
    # (SQLAlchemy's import and the render): the two waits overlap.
    with progress.phase(f"starting a shadow Postgres {major}"), ThreadPoolExecutor(1) as pool:
        starting = pool.submit(postgres.start_ephemeral, postgres.find_install(major))
        try:
            statements = build_statements(spec)
        except BaseException:
            with contextlib.suppress(Exception):
                starting.result().stop()
            raise
        cluster = starting.result()
    try:
        # The cluster is private and thrown away: its own database serves as the shadow.
        url = cluster.url(SHADOW_DB)
        yield _ready(spec, url, f"Postgres {major}", started, progress, statements)
    finally:
        cluster.stop()


def _ready(
    spec: s.Spec,
    url: str,
    where: str,
    started: float,
    progress: Progress,
    statements: list[Statement] | None = None,
) -> Shadow:
    with progress.phase("building the spec in the shadow database"):
        shadow = prepare(spec, url, statements)
    progress.info(f"shadow database ready ({where}, {time.monotonic() - started:.2f}s)")
    return shadow


def prepare(spec: s.Spec, url: str, statements: list[Statement] | None = None) -> Shadow:
    """Build the spec into the empty database at `url` and make it a shadow.

    A shadow need not have a cluster of its own: the tests put many on one server.
    """
    build(spec, url, statements)
    equivalent = canonicalize_checks(url, spec.schema)
    for key, form in spec_check_forms(spec).items():
        equivalent.setdefault(key, set()).add(form)
    return Shadow(url, equivalent)


@contextmanager
def _temporary_database(server_url: str, major: int) -> Iterator[str]:
    name = f"schemadiff_shadow_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        with db.connection(server_url) as conn:
            have = db.server_major(conn)
            if have != major:
                raise SchemadiffError(
                    f"the shadow server {db.redact_url(server_url)} runs Postgres {have}, the "
                    f"target runs {major}: the shadow must be the same major (give a server "
                    "of that major, or leave --shadow-server out to use a local one)"
                )
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'".encode())
    except psycopg.Error as e:
        raise DatabaseError(
            f"cannot create a shadow database on {db.redact_url(server_url)}: "
            f"{db.scrub(str(e).strip(), server_url)}"
        ) from None
    try:
        yield db.database_url(server_url, name)
    finally:
        with contextlib.suppress(psycopg.Error), db.connection(server_url) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


def build_statements(spec: s.Spec) -> list[Statement]:
    """The spec's DDL as build() runs it.

    The roles the spec names (policies, grants) are created first when missing: the target
    must have them already (plan checks that), the shadow's server need not. Roles are
    cluster-wide, so on a --shadow-server they stay there after the shadow database goes."""
    from schemadiff.model import Statement, render_statements  # SQLAlchemy: only when built

    return [
        Statement(
            "role",
            role,
            f"DO $role$ BEGIN CREATE ROLE {quote(role)}; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $role$",
        )
        for role in spec.roles()
    ] + render_statements(spec)


def build(spec: s.Spec, url: str, statements: list[Statement] | None = None) -> None:
    """Run the spec's DDL (build_statements) in one transaction; a failure names the
    statement and spec line."""
    if statements is None:
        statements = build_statements(spec)
    script = ";\n".join(["SET LOCAL check_function_bodies = off", *(st.sql for st in statements)])
    with db.connection(url) as conn:
        try:
            # One round trip for the whole script (simple query protocol: no parameters).
            with conn.transaction():
                conn.execute(script.encode())
            return
        except psycopg.Error:
            pass  # run again statement by statement to find which one, and where it came from
    with db.connection(url) as conn, conn.transaction():
        conn.execute("SET LOCAL check_function_bodies = off")
        for st in statements:
            try:
                conn.execute(st.sql.encode())
            except psycopg.Error as e:
                raise SpecError(
                    [_problem(spec, st.kind, st.name, str(e).strip().splitlines()[0])]
                ) from None


_CHECKS_SQL = """
select format('%%I.%%I', n.nspname, c.relname), co.conname, pg_get_constraintdef(co.oid),
       format('"%%s"."%%s"."%%s"', n.nspname, c.relname, co.conname),
       obj_description(co.oid, 'pg_constraint')
  from pg_constraint co join pg_class c on c.oid = co.conrelid
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = %(schema)s and co.contype = 'c'
 order by 4
"""


def canonicalize_checks(url: str, schema: str) -> dict[str, set[str]]:
    """Re-create each CHECK from its own definition; return the first forms that differ."""
    with db.connection(url) as conn:
        before = conn.execute(_CHECKS_SQL, {"schema": schema}).fetchall()
        script = []
        for table, name, definition, _, comment in before:
            script.append(
                f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}, "
                f"ADD CONSTRAINT {quote(name)} {definition}"
            )
            if comment is not None:  # it went with the constraint
                script.append(
                    f"COMMENT ON CONSTRAINT {quote(name)} ON {table} "
                    f"IS {string_literal(comment)}"
                )
        if script:
            # One round trip (simple query protocol) for all of them, not one per check: a
            # shadow on a --shadow-server across a network paid each.
            with conn.transaction():
                conn.execute(";\n".join(script).encode())
        after = {r[3]: r[2] for r in conn.execute(_CHECKS_SQL, {"schema": schema}).fetchall()}
    return {
        key: {definition} for _, _, definition, key, _ in before if after[key] != definition
    }


def spec_check_forms(spec: s.Spec) -> dict[str, str]:
    """Each CHECK as written in the spec, in the form Postgres prints it: `CHECK (expr)`.

    A live check that Postgres prints exactly as the spec's expression is the spec's check
    (what Postgres prints parses back to the same expression), even where parsing that text
    again would print it differently; `schemadiff import` writes checks that way.
    """
    return {
        f'"{spec.schema}"."{t.name}"."{ck.name}"': f"CHECK ({ck.expression})"
        for t in spec.tables
        for ck in t.checks
    }


def _problem(spec: s.Spec, kind: str, name: str, error: str) -> Problem:
    """Postgres rejected a statement: point at the spec node it came from."""
    loc = Location(spec.path, 1, 1)
    table_name = name.split(".", 1)[0]
    for t in spec.tables:
        parts: list[s.Index | s.ForeignKey | s.Trigger] = [*t.indexes, *t.foreign_keys, *t.triggers]
        if t.name == table_name:
            loc = t.loc
        for x in parts:
            if x.name == name:
                loc = x.loc
    for f in spec.functions:
        if f.name == name:
            loc = f.loc
    return Problem(loc, f"Postgres rejects {kind} '{name}': {error}")
