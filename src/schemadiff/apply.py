"""Run a plan against the target: one executor, under an advisory lock, with timeouts.

Transactional statements run in one transaction (all or nothing); the rest (CREATE INDEX
CONCURRENTLY) run after it, one by one. Every apply, failed or not, is recorded in
schemadiff.apply_history.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from schemadiff import db
from schemadiff.config import SecretChange
from schemadiff.db import REDACTED
from schemadiff.differ import Change
from schemadiff.errors import DatabaseError, RefusedError, SchemadiffError
from schemadiff.hazards import HELP, HazardKind
from schemadiff.plan import Plan
from schemadiff.progress import Counter, Progress

# One lock per database for every schemadiff apply, whatever the spec (pg_advisory_lock key).
LOCK_KEY = 0x5C4E_D1FF
APPLICATION_NAME = "schemadiff apply"
HISTORY_DDL = (
    "CREATE SCHEMA IF NOT EXISTS schemadiff",
    """CREATE TABLE IF NOT EXISTS schemadiff.apply_history (
        id bigserial PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now(),
        spec_hash text NOT NULL,
        live_fingerprint text NOT NULL,
        statements jsonb NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('applied', 'failed')),
        error text,
        duration_ms integer NOT NULL
    )""",
)
_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|min|m|h)?\s*$")


@dataclass(frozen=True)
class Options:
    lock_timeout: str = "5s"
    statement_timeout: str = "0"
    lock_wait_s: float = 30.0
    allowed_hazards: frozenset[HazardKind] = frozenset()


def duration(text: str, what: str) -> str:
    """'5s', '1m', '500ms', '0' -> a value Postgres accepts for a timeout setting."""
    m = _DURATION.match(text)
    if not m:
        raise SchemadiffError(f"{what} '{text}' is not a duration; write e.g. 500ms, 5s, 2m, 1h")
    unit = {"m": "min", None: "ms"}.get(m.group(2), m.group(2))
    return f"{m.group(1)}{unit}"


def seconds(text: str, what: str) -> float:
    value = duration(text, what)
    number = int(re.match(r"\d+", value).group())  # type: ignore[union-attr]
    factor = {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0}[value[len(str(number)) :]]
    return number * factor


def check_hazards(plan: Plan, allowed: frozenset[HazardKind]) -> None:
    """Refuse (exit 3) unless every hazard kind present is allowed; name each statement."""
    missing = plan.hazard_kinds - allowed
    if not missing:
        return
    lines = ["the plan has hazards that were not allowed:"]
    for i, c in enumerate(plan.changes, start=1):
        for h in c.hazards:
            if h.kind in missing:
                lines.append(f"  statement {i} ({c.action} {c.kind} {c.name}): {h.describe()}")
    for kind in sorted(missing):
        lines.append(f"  {kind}: {HELP[kind]}")
    lines.append(f"to apply anyway: --allow-hazards {','.join(sorted(missing))}")
    raise RefusedError("\n".join(lines))


def apply_plan(
    plan: Plan,
    url: str,
    options: Options,
    before: Callable[[], None] | None = None,
    progress: Progress | None = None,
) -> None:
    """Apply under the lock; `before` runs once the lock is held (the stale-plan check)."""
    progress = progress or Progress()
    check_hazards(plan, options.allowed_hazards)
    conn = db.connect(url, application_name=APPLICATION_NAME)
    try:
        _lock(conn, url, options.lock_wait_s, progress)
        if before is not None:
            before()
        for ddl in HISTORY_DDL:
            conn.execute(ddl.encode())
        conn.execute(f"SET lock_timeout = '{options.lock_timeout}'".encode())
        conn.execute(f"SET statement_timeout = '{options.statement_timeout}'".encode())
        with progress.phase("applying the plan"):
            _run(conn, plan, url, options, progress)
    finally:
        conn.close()


def _lock(
    conn: psycopg.Connection[Any], url: str, wait_s: float, progress: Progress | None = None
) -> None:
    deadline = time.monotonic() + wait_s
    announced = False
    while True:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        if row and row[0]:
            return
        if time.monotonic() >= deadline:
            holder = conn.execute(
                """SELECT pid, coalesce(application_name, '') FROM pg_locks l
                   JOIN pg_stat_activity a USING (pid)
                   WHERE l.locktype = 'advisory' AND l.objid = %s AND l.granted
                     AND l.database = (SELECT oid FROM pg_database
                                       WHERE datname = current_database())""",
                (LOCK_KEY & 0xFFFFFFFF,),
            ).fetchone()
            who = f" (held by backend pid {holder[0]}, {holder[1] or 'unknown'})" if holder else ""
            raise DatabaseError(
                f"another schemadiff apply is running on {db.redact_url(url)}{who}; waited "
                f"{wait_s:g}s. Try again when it is done, or raise --lock-wait"
            )
        if not announced:
            (progress or Progress()).info(
                "another apply holds the lock on this database; waiting"
            )
            announced = True
        time.sleep(0.1)


class _LockTimeout(DatabaseError):
    """A statement gave up waiting for a lock (lock_timeout): worth trying again."""


# A statement (or the transaction) that timed out waiting for a lock is tried again after
# each of these pauses, then apply gives up.
RETRY_PAUSES_S = (0.5, 1.0, 2.0)


def _run(
    conn: psycopg.Connection[Any], plan: Plan, url: str, options: Options, progress: Progress
) -> None:
    started = time.monotonic()
    total = len(plan.changes)
    transactional = [c for c in plan.changes if c.transactional]
    others = [c for c in plan.changes if not c.transactional]
    done: list[Change] = []
    timeouts = _Timeouts(conn, options)
    try:
        if transactional:
            progress.info(
                f"applying {len(transactional)} statement{'s' if len(transactional) != 1 else ''}"
                " in one transaction"
            )
            for attempt, pause in enumerate((*RETRY_PAUSES_S, None), start=1):
                try:
                    try:
                        with (
                            conn.transaction(),
                            progress.counter("applying statement", total) as n,
                        ):
                            _run_batched(conn, transactional, timeouts, n)
                    except _BatchFailed:
                        # Rolled back whole; run it again one statement at a time, which
                        # names the statement that fails (or succeeds, if it was transient).
                        timeouts.reset()
                        with (
                            conn.transaction(),
                            progress.counter("applying statement", total) as n,
                        ):
                            for i, c in enumerate(transactional, start=1):
                                n.step(f"{c.action} {c.kind} {c.name}")
                                progress.block(c.sql)
                                timeouts.set(c, local=True)
                                _execute(conn, c, i, url)
                    break
                except _LockTimeout as e:
                    if pause is None:
                        raise
                    # The transaction is rolled back whole: try it again from its start.
                    progress.info(f"{e.args[0].splitlines()[0]}; retrying the transaction in "
                                  f"{pause:g}s (attempt {attempt + 1})")
                    time.sleep(pause)
                finally:
                    timeouts.reset()
            done += transactional
        if others:
            progress.info(
                f"running {len(others)} statement{'s' if len(others) != 1 else ''} outside the "
                "transaction (concurrent index builds)"
            )
        for i, c in enumerate(others, start=len(transactional) + 1):
            with progress.counter("applying statement", total, start=i - 1) as n:
                n.step(f"{c.action} {c.kind} {c.name} (outside the transaction)")
                progress.block(c.sql)
                for attempt, pause in enumerate((*RETRY_PAUSES_S, None), start=1):
                    try:
                        timeouts.set(c, local=False)
                        _execute(conn, c, i, url)
                        break
                    except DatabaseError as e:
                        dropped = c.kind == "index" and _drop_invalid_index(conn, c.name, progress)
                        if isinstance(e, _LockTimeout) and pause is not None:
                            progress.info(f"{e.args[0].splitlines()[0]}; retrying in {pause:g}s "
                                          f"(attempt {attempt + 1})")
                            time.sleep(pause)
                            continue
                        if dropped:
                            raise DatabaseError(
                                f"{e}\n  the INVALID index {c.name} that the failed concurrent "
                                "build left was dropped"
                            ) from None
                        raise
            done.append(c)
    except (DatabaseError, psycopg.Error) as e:
        if isinstance(e, psycopg.Error):  # the connection broke (e.g. the backend was killed)
            e = DatabaseError(f"the connection to the database was lost: {db.scrub(str(e), url)}")
        _record(url, plan, done, "failed", str(e), started, progress)
        if not done:
            raise DatabaseError(f"{e}\nthe transaction was rolled back; nothing changed") from None
        raise DatabaseError(
            f"{e}\nthe transaction had committed {len(done)} statements before this one"
        ) from None
    _record(url, plan, done, "applied", None, started, progress)


class _BatchFailed(Exception):
    """A batch of statements failed; which one is found by running them one at a time."""


def _run_batched(
    conn: psycopg.Connection[Any], changes: list[Change], timeouts: _Timeouts, counter: Counter
) -> None:
    """Run `changes` in the open transaction, consecutive plain statements in one round trip.

    One simple-protocol query per run of statements with the same timeouts (Postgres 13+
    applies statement_timeout to each statement of such a query): an empty database gets
    Agentrade's ~600 statements in a handful of round trips instead of ~600. `counter` counts
    each statement as it joins a batch (its SQL shown with --verbose).
    """
    batch: list[str] = []

    def flush() -> None:
        if batch:
            # The semicolon on its own line: a statement may end in a -- comment.
            script = "\n;\n".join(batch)
            batch.clear()
            counter.show()  # the last statement of the batch, while the batch runs
            try:
                conn.execute(script.encode())
            except psycopg.errors.LockNotAvailable as e:
                raise _LockTimeout(f"a statement timed out waiting for a lock: {e}") from None
            except psycopg.Error:
                if conn.broken:  # nothing to learn from a second run: report the lost link
                    raise
                raise _BatchFailed from None

    for c in changes:
        if timeouts.wanted(c) != timeouts.current or isinstance(c, SecretChange):
            flush()
            timeouts.set(c, local=True)
        counter.step(f"{c.action} {c.kind} {c.name}")
        counter.progress.block(c.sql)
        if isinstance(c, SecretChange):
            try:
                _execute(conn, c, 0, "")
            except DatabaseError:
                raise _BatchFailed from None
            continue
        batch.append(c.sql.strip().removesuffix(";"))
    flush()


class _Timeouts:
    """Sets each statement's lock_timeout and statement_timeout (the plan's, else the
    options'), only when they differ from what the session (or transaction) has."""

    def __init__(self, conn: psycopg.Connection[Any], options: Options) -> None:
        self.conn = conn
        self.default = (options.lock_timeout, options.statement_timeout)
        self.current = self.default

    def wanted(self, c: Change) -> tuple[str, str]:
        return (
            duration(c.lock_timeout, "lock_timeout") if c.lock_timeout else self.default[0],
            duration(c.statement_timeout, "statement_timeout")
            if c.statement_timeout
            else self.default[1],
        )

    def set(self, c: Change, local: bool) -> None:
        wanted = self.wanted(c)
        scope = "LOCAL " if local else ""
        for name, have, want in zip(
            ("lock_timeout", "statement_timeout"), self.current, wanted, strict=True
        ):
            if have != want:
                self.conn.execute(f"SET {scope}{name} = '{want}'".encode())
        self.current = wanted

    def reset(self) -> None:
        """After a transaction, SET LOCAL values are gone: the session's are back."""
        self.current = self.default


def _execute(conn: psycopg.Connection[Any], c: Change, i: int, url: str) -> None:
    secret: str | None = None
    try:
        if isinstance(c, SecretChange):
            # The value is bound here, read from the environment now; c.sql shows only ***.
            secret = c.value()
            if secret is None:
                return
            conn.execute(c.template.encode(), (secret,))
        else:
            conn.execute(c.sql.encode())
    except psycopg.Error as e:
        first_line = c.sql.strip().splitlines()[0][:200]
        message = db.scrub(str(e).strip(), url)
        if secret:
            message = message.replace(secret, REDACTED)
        error = _LockTimeout if isinstance(e, psycopg.errors.LockNotAvailable) else DatabaseError
        raise error(
            f"statement {i} failed ({c.action} {c.kind} {c.name}): {first_line}\n  {message}"
        ) from None


def _drop_invalid_index(conn: psycopg.Connection[Any], name: str, progress: Progress) -> bool:
    """A failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind: remove it.

    True when one was dropped.
    """
    try:
        row = conn.execute(
            "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", (name,)
        ).fetchone()
        if row and row[0]:
            conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}".encode())
            progress.info(f"dropped the invalid index {name} that the failed build left")
            return True
    except psycopg.Error:
        pass  # the connection is gone; the next plan shows the index to rebuild
    return False


def _record(
    url: str,
    plan: Plan,
    done: list[Change],
    outcome: str,
    error: str | None,
    started: float,
    progress: Progress | None = None,
) -> None:
    """Write the history row on a fresh connection (the apply's own may be dead)."""
    statements = json.dumps(
        [{"sql": c.sql, "kind": c.kind, "name": c.name} for c in done], ensure_ascii=False
    )
    try:
        with db.connection(url) as conn:
            for ddl in HISTORY_DDL:
                conn.execute(ddl.encode())
            conn.execute(
                """INSERT INTO schemadiff.apply_history
                   (spec_hash, live_fingerprint, statements, outcome, error, duration_ms)
                   VALUES (%s, %s, %s, %s, %s, %s)""",
                (
                    plan.spec_hash,
                    plan.live_fingerprint,
                    statements,
                    outcome,
                    error,
                    int((time.monotonic() - started) * 1000),
                ),
            )
    except SchemadiffError as e:
        (progress or Progress()).warn(
            f"warning: could not record the apply in schemadiff.apply_history: {e}"
        )
