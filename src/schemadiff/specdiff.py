"""`schemadiff diff OLD NEW`: what changing the spec from OLD to NEW does, with no live database.

Both versions are built into throwaway databases of one private cluster (the OLD one stands
for the live database, the NEW one is the shadow) and planned exactly as `plan` would plan
NEW against a database that holds OLD. What a pull request review needs, and what CI can run
when production is not reachable.

Two differences from `plan` against a real database:
- rows at stake are unknown (the OLD database is empty, but production is not), so hazards
  that depend on rows (index builds, NOT NULL on existing rows) are always reported;
- seed rows are left out: they are data, compared by `schemadiff seed`, not by the schema.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

from schemadiff import db, postgres, shadow
from schemadiff import spec as s
from schemadiff.errors import SchemadiffError, SpecError
from schemadiff.plan import Plan, Planner
from schemadiff.progress import Progress

STDIN = "-"

OLD_DB = "schemadiff_old"
NEW_DB = "schemadiff_new"

# Never-analyzed tables bigger than this many pages count as "rows unknown" (see db.TableRows).
_UNKNOWN_PAGES = 1_000_000


@dataclass(frozen=True)
class SpecSource:
    """A spec's text and the name to show for it (a path, or "(stdin)")."""

    text: str
    label: str


def read_source(path: str) -> SpecSource:
    """A spec file's text; `-` reads standard input (e.g. `git show main:schema.yaml | ...`)."""
    if path == STDIN:
        return SpecSource(sys.stdin.read(), "(stdin)")
    p = Path(path)
    try:
        return SpecSource(p.read_text(encoding="utf-8"), path)
    except FileNotFoundError:
        raise SchemadiffError(f"{path}: file not found") from None
    except UnicodeDecodeError as e:
        raise SchemadiffError(f"{path}: not UTF-8 text ({e.reason})") from None
    except OSError as e:
        raise SchemadiffError(f"{path}: cannot read it ({e.strerror})") from None


def parse(source: SpecSource) -> s.Spec:
    """Parse a spec source; a path that is not a file (stdin) keeps seeds out of it."""
    return s.parse_spec(source.text, source.label)


def diff_specs(
    old: s.Spec,
    new: s.Spec,
    major: int | None = None,
    label: str = "",
    progress: Progress | None = None,
) -> Plan:
    """The plan that turns a database built from `old` into `new`.

    `major`: the Postgres major to build both in (default: the first local installation).
    `label`: what the plan names as its target (default: the old spec's path).
    """
    progress = progress or Progress()
    if old.schema != new.schema:
        raise SchemadiffError(
            f"the two specs manage different schemas ('{old.schema}' and '{new.schema}'); "
            "diff compares versions of one spec"
        )
    install = postgres.find_install(major)
    progress.info(f"building both specs in a throwaway Postgres {install.major} ({install.source})")
    progress.detail(f"diff: Postgres {install.version} from {install.bindir}")
    with progress.phase(f"starting Postgres {install.major}"):
        cluster = postgres.start_ephemeral(install)
    try:
        admin = cluster.url()
        with db.connection(admin) as conn:
            # No autovacuum: row estimates must stay "unknown" (deterministic hazards).
            conn.execute("ALTER SYSTEM SET autovacuum = off")
            conn.execute("SELECT pg_reload_conf()")
            for name in (OLD_DB, NEW_DB):
                conn.execute(
                    f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'".encode()
                )
        old_url, new_url = cluster.url(OLD_DB), cluster.url(NEW_DB)
        with progress.phase("building both specs"), progress.counter("building spec", 2) as n:
            n.step("old")
            _build(old, old_url, "old")
            n.step("new")
            _build(new, new_url, "new")
        _rows_unknown(old_url, old.schema)
        with Planner(new, old_url, shadow_url=new_url, progress=progress) as planner:
            result = planner.plan()
    finally:
        cluster.stop()
    # Seeds are data; the sizes of an empty database's tables say nothing about production.
    result.changes = [
        dataclasses.replace(
            c, hazards=tuple(dataclasses.replace(h, size_bytes=None) for h in c.hazards)
        )
        for c in result.changes
        if c.kind != "seed"
    ]
    if not any(c.kind != "setting" for c in result.changes):
        result.changes = []
    result.target = label or old.path
    return result


def _build(spec: s.Spec, url: str, which: str) -> None:
    try:
        shadow.build(spec, url)
    except SpecError as e:
        # Postgres rejected the spec: say which of the two it was.
        raise SpecError(
            [type(p)(p.location, f"({which} spec) {p.message}") for p in e.problems]
        ) from None


def _rows_unknown(url: str, schema: str) -> None:
    """Make every table of the OLD database look big and never analyzed: rows unknown.

    The OLD database is empty, but the database a pull request will reach is not: a drop
    reports "rows unknown" rather than "0 rows", and hazards that apply only to tables with
    rows (index builds, NOT NULL on existing rows) are reported rather than left out.
    """
    with db.connection(url) as conn:
        conn.execute(
            """update pg_class c set reltuples = -1, relpages = %(pages)s
                 from pg_namespace n
                where n.oid = c.relnamespace and n.nspname = %(schema)s
                  and c.relkind in ('r', 'p')""",
            {"pages": _UNKNOWN_PAGES, "schema": schema},
        )
