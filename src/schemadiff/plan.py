"""Plans: computing one (live vs shadow), its JSON file, and the fingerprints that date it."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import pickle
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from schemadiff import config, db, differ, grants, postgres, renames, seed
from schemadiff import spec as s
from schemadiff.differ import Change
from schemadiff.errors import DatabaseError, Problem, SchemadiffError, SpecError
from schemadiff.hazards import Hazard, HazardKind
from schemadiff.progress import Progress
from schemadiff.shadow import shadow_database

FORMAT_VERSION = 1


@dataclass
class Plan:
    """Everything apply needs, and everything that dates the plan."""

    target: str  # redacted URL
    server_major: int
    spec_hash: str
    live_fingerprint: str
    changes: list[Change]
    unmanaged: list[str] = field(default_factory=list)

    @property
    def hazard_kinds(self) -> set[HazardKind]:
        return {h.kind for c in self.changes for h in c.hazards}

    @property
    def empty(self) -> bool:
        return not any(c.kind != "setting" for c in self.changes)

    def to_json(self) -> str:
        data = {
            "format_version": FORMAT_VERSION,
            "target": self.target,
            "server_major": self.server_major,
            "spec_hash": self.spec_hash,
            "live_fingerprint": self.live_fingerprint,
            "hazard_kinds": sorted(self.hazard_kinds),
            "statements": [_statement_json(c) for c in self.changes],
            "unmanaged": self.unmanaged,
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, filename: str) -> Plan:
        try:
            data = json.loads(text)
            if data.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"format_version {data.get('format_version')!r}")
            changes = [_statement_from_json(st) for st in data["statements"]]
            return cls(
                data["target"],
                int(data["server_major"]),
                data["spec_hash"],
                data["live_fingerprint"],
                changes,
                list(data.get("unmanaged", [])),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise SchemadiffError(
                f"{filename} is not a schemadiff plan file ({e}); write one with "
                "`schemadiff plan -o plan.json`"
            ) from None


def _statement_json(c: Change) -> dict[str, object]:
    out: dict[str, object] = {
        "action": c.action,
        "kind": c.kind,
        "name": c.name,
        "sql": c.sql,
        "transactional": c.transactional,
        "hazards": [
            {
                "kind": h.kind.value,
                "message": h.message,
                "rows": h.rows,
                "size_bytes": h.size_bytes,
                "objects": list(h.objects),
            }
            for h in c.hazards
        ],
        # Set before the statement by apply; null: apply's --lock-timeout/--statement-timeout.
        "lock_timeout": c.lock_timeout,
        "statement_timeout": c.statement_timeout,
    }
    if isinstance(c, config.SecretChange):
        # What apply runs: a %s bound to the variable's value at apply time (never stored).
        out["parameter"] = {"sql": c.template, "from_env": c.from_env, "fallback": c.fallback}
    return out


def _statement_from_json(st: dict[str, Any]) -> Change:
    hazards = tuple(
        Hazard(
            HazardKind(h["kind"]),
            h["message"],
            h["rows"],
            h.get("size_bytes"),
            tuple(str(o) for o in h.get("objects", [])),
        )
        for h in st["hazards"]
    )
    args = (st["action"], st["kind"], st["name"], st["sql"], bool(st["transactional"]), hazards)
    lock_timeout, statement_timeout = st.get("lock_timeout"), st.get("statement_timeout")
    param = st.get("parameter")
    if param is None:
        return Change(*args, lock_timeout=lock_timeout, statement_timeout=statement_timeout)
    fallback = param["fallback"]
    return config.SecretChange(
        *args,
        lock_timeout=lock_timeout,
        statement_timeout=statement_timeout,
        template=str(param["sql"]),
        from_env=str(param["from_env"]),
        fallback=None if fallback is None else str(fallback),
    )


def spec_hash(spec: s.Spec) -> str:
    return "sha256:" + hashlib.sha256(spec.source.encode("utf-8")).hexdigest()


@dataclass
class _Live:
    major: int
    snapshot: differ.Snapshot
    config_rows: dict[str, str | None] | None
    # Privileges on the schema and its objects; None when the spec does not manage grants.
    grant_rows: list[tuple[str, str, str, str, str]] | None = None

    @property
    def fingerprint(self) -> str:
        extra = config.fingerprint_lines(self.config_rows) + _grant_lines(self.grant_rows)
        return differ.fingerprint(self.snapshot, extra)


def _grant_lines(rows: list[tuple[str, str, str, str, str]] | None) -> list[str]:
    """Fingerprint lines of the live privileges: a GRANT or REVOKE between plan and apply
    changes what the plan's GRANT/REVOKE statements should be, so it makes the plan stale."""
    return ["grant|" + "|".join(row) for row in rows or []]


# Reading the catalog waits for no lock longer than this: a table held in ACCESS EXCLUSIVE
# by another session makes the plan fail clearly instead of hanging. SET LOCAL, inside the
# read transaction, so nothing leaks into a pooled server connection.
READ_LOCK_TIMEOUT = "30s"


def _read(url: str, spec: s.Spec) -> _Live:
    try:
        with db.connection(url) as conn, conn.transaction():
            conn.execute(f"SET LOCAL lock_timeout = '{READ_LOCK_TIMEOUT}'".encode())
            major = db.server_major(conn)
            comments = db.comments(conn, spec.schema)
            rows = db.table_rows(conn, url, spec.schema)
            others = db.other_schemas(conn, spec.schema)
            cfg = spec.config
            config_rows = (
                db.config_rows(conn, spec.schema, cfg.table, cfg.key_column, cfg.value_column)
                if cfg
                else None
            )
            snap = differ.snapshot(
                conn, spec.schema, comments, rows, others, manages=spec.manages
            )
            snap.extension_pins = {
                e.name: (e.version is not None, e.schema is not None)
                for e in spec.all_extensions()
            }
            grant_rows = (
                grants.read(conn, spec.schema) if "grants" in spec.manages else None
            )
    except psycopg.Error as e:
        raise DatabaseError(_read_error(url, e)) from None
    return _Live(major, snap, config_rows, grant_rows)


def _probe(url: str, spec: s.Spec) -> int:
    """The server's major, after checking that every role the spec names exists there:
    schemadiff never creates or drops roles."""
    wanted = spec.roles()
    try:
        with db.connection(url) as conn:
            major = db.server_major(conn)
            missing = set(db.missing_roles(conn, wanted)) if wanted else set()
    except psycopg.Error as e:
        raise DatabaseError(_read_error(url, e)) from None
    users = [(p.loc, role) for t in spec.tables for p in t.policies for role in p.roles]
    users += [(g.loc, g.role) for g in spec.grants]
    problems = [
        Problem(loc, f"role '{role}' does not exist in the database; create it first "
                     "(schemadiff never creates or drops roles)")
        for loc, role in users
        if role in missing
    ]
    if problems:
        raise SpecError(problems)
    return major


def _read_error(url: str, e: BaseException) -> str:
    if isinstance(e, psycopg.errors.LockNotAvailable):
        return (
            f"cannot read the schema of {db.redact_url(url)}: a table is locked by another "
            f"session (waited {READ_LOCK_TIMEOUT}); try again when it is released"
        )
    return f"cannot read the schema of {db.redact_url(url)}: {db.scrub(str(e).strip(), url)}"


def live_fingerprint(url: str, spec: s.Spec) -> str:
    """The fingerprint of the live database as a plan computed now would record it."""
    return _read(url, spec).fingerprint


class Planner:
    """Plans a spec against one target; the shadow database is built once and reused."""

    def __init__(
        self,
        spec: s.Spec,
        url: str,
        shadow_url: str | None = None,
        shadow_server: str | None = None,
        progress: Progress | None = None,
        seeds_dir: Path | None = None,
        equivalent_checks: dict[str, set[str]] | None = None,
    ) -> None:
        """`shadow_url`: a database already holding the spec (benchmarks, `diff`, tests);
        `equivalent_checks`: its CHECKs' other forms, as shadow.prepare returns them.
        `shadow_server`: build the shadow in a temporary database there (--shadow-server).
        `seeds_dir`: where the seed files are (default: seeds/ next to the spec file)."""
        self.spec = spec
        self.url = url
        self.shadow_url = shadow_url
        self.shadow_server = shadow_server
        self.progress = progress or Progress()
        self.seeds_dir = seeds_dir
        self._stack = ExitStack()
        self._shadow: differ.Snapshot | None = None
        self._equivalent: dict[str, set[str]] = dict(equivalent_checks or {})
        self._seeds: list[seed.SeedTable] | None = None

    def __enter__(self) -> Planner:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def against(self, url: str) -> Planner:
        """A planner of the same spec for another target, reusing this one's shadow."""
        other = Planner(
            self.spec, url, self.shadow_url, self.shadow_server, self.progress, self.seeds_dir
        )
        other._shadow, other._equivalent, other._seeds = self._shadow, self._equivalent, self._seeds
        return other

    def _read_shadow(self, url: str) -> tuple[differ.Snapshot, dict[str, set[str]]]:
        """A shadow the caller built (Planner's shadow_url: tests, benchmarks): only read."""
        return _read(url, self.spec).snapshot, self._equivalent

    def _cached_shadow(
        self, path: Path | None
    ) -> tuple[differ.Snapshot, dict[str, set[str]]] | None:
        """The spec's snapshot from the cache when this spec was built before.

        The shadow is a pure function of the spec text, the Postgres version and this code,
        so its inspected snapshot is cached on disk under that key (SCHEMADIFF_NO_CACHE=1
        turns the cache off). A shadow server's exact build is not known here: its snapshots
        are not cached.
        """
        if path is None or not path.exists():
            return None
        with contextlib.suppress(Exception):  # a bad cache entry is rebuilt, not fatal
            cached: tuple[differ.Snapshot, dict[str, set[str]]] = pickle.loads(path.read_bytes())
            self.progress.info(f"shadow snapshot reused from the cache ({path.name[:12]})")
            return cached
        return None

    def _cache_path(self, major: int) -> Path | None:
        if self.shadow_server:
            return None
        install = postgres.find_install(major)
        self.progress.detail(
            f"shadow: Postgres {install.version} from {install.bindir} ({install.source})"
        )
        return _snapshot_cache_path(self.spec, install)

    def _build_shadow(
        self, major: int, path: Path | None
    ) -> tuple[differ.Snapshot, dict[str, set[str]]]:
        """The spec built into a shadow database and read; its snapshot stored in the cache."""
        shadow = self._stack.enter_context(
            shadow_database(self.spec, major, self.shadow_server, self.progress)
        )
        result = (_read(shadow.url, self.spec).snapshot, shadow.equivalent_checks)
        if path is not None:
            with contextlib.suppress(OSError):
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(pickle.dumps(result))
                tmp.replace(path)
        return result

    def _seed_changes(self) -> list[Change]:
        """Seed rows the database lacks (insert mode; every row for a table this plan creates).

        The seeds are in `seeds_dir` (default: seeds/ next to the spec file). Rows are compared
        by primary key only, so values operators changed are kept, and nothing is ever deleted
        here (`schemadiff seed` does updates and deletions). Seed rows are not part of the live
        fingerprint: the inserts are ON CONFLICT DO NOTHING, safe to run whatever happened
        meanwhile.
        """
        if self._seeds is None:
            directory = self.seeds_dir or seed.default_dir(self.spec)
            self._seeds = (
                seed.load_seeds(directory, self.spec, self.progress) if directory else []
            )
        if not self._seeds:
            return []
        with db.connection(self.url) as conn:
            return seed.changes(conn, self.spec, self._seeds, "insert", missing_tables_ok=True)

    def _grant_changes(self, rows: list[tuple[str, str, str, str, str]] | None) -> list[Change]:
        """GRANT and REVOKE for the roles the spec's `grants:` lists (after everything else).

        `rows`: the privileges read with the rest of the catalog, so the plan's statements and
        its fingerprint come from the same read."""
        if rows is None:  # the spec does not manage grants
            return []
        return grants.changes(self.spec, rows)

    def plan(self) -> Plan:
        major = _probe(self.url, self.spec)
        # The live catalog is read while the shadow is made (or read) on another thread:
        # most of either is waiting on a server.
        with ThreadPoolExecutor(1) as pool:
            shadow = None
            if self._shadow is None and self.shadow_url is not None:
                shadow = pool.submit(self._read_shadow, self.shadow_url)
            elif self._shadow is None:
                _check_major(self.spec, major)
                path = self._cache_path(major)
                cached = self._cached_shadow(path)
                if cached is not None:
                    self._shadow, self._equivalent = cached
                else:
                    shadow = pool.submit(self._build_shadow, major, path)
            with self.progress.phase("reading the database's schema"):
                live = _read(self.url, self.spec)
            if shadow is not None:
                self._shadow, self._equivalent = shadow.result()
        assert self._shadow is not None
        target = self._shadow
        fingerprint = live.fingerprint  # before equivalences touch the snapshot
        differ.accept_equivalent_checks(live.snapshot, target, self._equivalent)
        with self.progress.phase("comparing"):
            result = differ.diff(live.snapshot, target, renames.declared(self.spec))
            changes = (
                result.changes + config.changes(self.spec, live.config_rows)
                + self._grant_changes(live.grant_rows) + self._seed_changes()
            )
        # One transaction first, then what cannot run inside one (CREATE INDEX CONCURRENTLY).
        ordered = [c for c in changes if c.transactional] + [
            c for c in changes if not c.transactional
        ]
        if not any(c.kind != "setting" for c in ordered):
            ordered = []
        return Plan(
            db.redact_url(self.url) or "(libpq PG* settings)",
            live.major,
            spec_hash(self.spec),
            fingerprint,
            ordered,
            result.unmanaged,
        )


def _check_major(spec: s.Spec, major: int) -> None:
    """What the spec uses that the live server's major cannot do: one error per use."""
    problems = [
        Problem(
            c.loc,
            f"column '{t.name}.{c.name}' is a virtual generated column, which needs Postgres "
            f"18 or newer (the database runs {major}); write `stored: true`",
        )
        for t in spec.tables
        for c in t.columns
        if c.generated is not None and not c.generated.stored and major < 18
    ]
    if problems:
        raise SpecError(problems)


def _snapshot_cache_path(spec: s.Spec, install: postgres.Install) -> Path | None:
    if os.environ.get("SCHEMADIFF_NO_CACHE"):
        return None
    package = Path(__file__).parent
    code = sorted(
        (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in package.glob("*.py")
    )
    versions = [importlib.metadata.version(d) for d in ("migra", "schemainspect", "sqlalchemy")]
    key = hashlib.sha256(
        repr((spec.source, install.version, install.bindir, code, versions)).encode()
    ).hexdigest()
    return postgres.cache_dir() / "snapshots" / f"{key}.pickle"


@contextmanager
def planner(
    spec: s.Spec,
    url: str,
    shadow_server: str | None = None,
    progress: Progress | None = None,
    seeds_dir: Path | None = None,
) -> Iterator[Planner]:
    """A Planner for `spec` against `url`, its shadow stopped at the end of the block."""
    with Planner(
        spec, url, shadow_server=shadow_server, progress=progress, seeds_dir=seeds_dir
    ) as p:
        yield p


def make_plan(
    spec: s.Spec,
    url: str,
    shadow_server: str | None = None,
    progress: Progress | None = None,
    seeds_dir: Path | None = None,
) -> Plan:
    """One plan of `spec` against the database at `url`."""
    with planner(spec, url, shadow_server, progress, seeds_dir) as p:
        return p.plan()
