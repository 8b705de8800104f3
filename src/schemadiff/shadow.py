"""The shadow database: the spec built into a throwaway Postgres of the live server's major."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from schemadiff import db, postgres
from schemadiff import spec as s
from schemadiff.errors import SpecError
from schemadiff.model import render_statements
from schemadiff.progress import progress

SHADOW_DB = "shadow"


@contextmanager
def shadow_database(spec: s.Spec, major: int) -> Iterator[str]:
    """Yield the URL of a fresh database holding exactly what the spec declares."""
    started = time.monotonic()
    cluster = postgres.start_ephemeral(postgres.find_install(major))
    try:
        with db.connection(cluster.url()) as conn:
            conn.execute(f"CREATE DATABASE {SHADOW_DB} TEMPLATE template0 ENCODING 'UTF8'")
        url = cluster.url(SHADOW_DB)
        build(spec, url)
        progress(f"shadow database ready (Postgres {major}, {time.monotonic() - started:.2f}s)")
        yield url
    finally:
        cluster.stop()


def build(spec: s.Spec, url: str) -> None:
    """Run the spec's DDL in one transaction; a failure names the statement and spec line."""
    statements = render_statements(spec)
    with db.connection(url) as conn, conn.transaction():
        conn.execute("SET LOCAL check_function_bodies = off")
        for st in statements:
            try:
                conn.execute(st.sql.encode())
            except psycopg.Error as e:
                raise SpecError(
                    [_problem(spec, st.kind, st.name, str(e).strip().splitlines()[0])]
                ) from None


def _problem(spec: s.Spec, kind: str, name: str, error: str) -> s.Problem:
    """Postgres rejected a statement: point at the spec node it came from."""
    loc = s.Location(spec.path, 1, 1)
    table_name = name.split(".", 1)[0]
    for t in spec.tables:
        if t.name == table_name or any(
            x.name == name for x in [*t.indexes, *t.foreign_keys, *t.triggers]
        ):
            loc = t.loc
            for x in [*t.indexes, *t.foreign_keys, *t.triggers]:
                if x.name == name:
                    loc = x.loc
    for f in spec.functions:
        if f.name == name:
            loc = f.loc
    return s.Problem(loc, f"Postgres rejects {kind} '{name}': {error}")
