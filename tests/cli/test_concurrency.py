"""Two applies on one database serialize on schemadiff's advisory lock."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg

from schemadiff import apply

from ..conftest import run_cli, write_spec
from .common import SPEC_T, columns, history, popen_cli, scalar, table_exists


def test_apply_gives_up_clearly_when_the_lock_is_held(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    write_spec(tmp_path, SPEC_T)
    with psycopg.connect(db_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (apply.LOCK_KEY,))
        started = time.monotonic()
        r = run_cli("apply", "--auto-approve", "--lock-wait", "1s", "--database-url", db_url,
                    cwd=tmp_path)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "another schemadiff apply is running on" in r.stderr
        assert f"held by backend pid {holder.info.backend_pid}" in r.stderr
        assert "waited 1s" in r.stderr
        assert "Traceback" not in r.stderr
        assert time.monotonic() - started < 120
    assert not table_exists(db, "public.t")
    assert scalar(db, "select count(*) from pg_namespace where nspname = 'schemadiff'") == 0


def _wait_for(db: psycopg.Connection[Any], sql: str, procs: list[subprocess.Popen[str]],
              timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not scalar(db, sql):
        for p in procs:
            assert p.poll() is None, f"apply exited early: {p.communicate()}"
        assert time.monotonic() < deadline, f"timed out waiting for: {sql}"
        time.sleep(0.1)


def test_two_concurrent_applies_serialize(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    write_spec(tmp_path, SPEC_T)
    args = ("apply", "--auto-approve", "--database-url", db_url)
    procs: list[subprocess.Popen[str]] = []
    try:
        # Hold the lock until both have planned (against the empty database) and wait for it.
        with psycopg.connect(db_url, autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", (apply.LOCK_KEY,))
            procs = [popen_cli(*args, cwd=tmp_path), popen_cli(*args, cwd=tmp_path)]
            _wait_for(
                db,
                # both connected and already tried the lock once (and so are waiting)
                f"select count(*) = 2 from pg_stat_activity where datname = current_database() "
                f"and application_name = '{apply.APPLICATION_NAME}' "
                "and query like '%%pg_try_advisory_lock%%'",
                procs,
            )
        results = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    codes = [p.returncode for p in procs]
    assert codes == [0, 0], results
    for _, err in results:
        assert "another apply holds the lock on this database; waiting" in err
    # One applied the plan; the other, once it had the lock, found the database changed,
    # planned again and had nothing left to do.
    assert sum("Applied: 3 to create" in err for _, err in results) == 1, results
    assert sum("Nothing to apply." in err for _, err in results) == 1, results
    rows = history(db)
    assert [h[0] for h in rows] == ["applied"], rows
    assert len(rows[0][1]) == 3
    assert [c[0] for c in columns(db, "t")] == ["id", "name"]
