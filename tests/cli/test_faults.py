"""A backend killed in the middle of an apply leaves the schema exactly as it was."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg

from schemadiff import apply

from ..conftest import write_spec
from .common import SPEC_T_EXTRA, TABLE_T_SQL, columns, history, popen_cli, table_exists

# The plan creates table u2 and alters t (adds t.extra): one transaction, u2 first.
SPEC = SPEC_T_EXTRA + """\
  u2:
    columns:
      id: {type: integer, nullable: false}
    primary_key: [id]
"""


def test_backend_killed_mid_apply_changes_nothing(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    write_spec(tmp_path, SPEC)
    db.execute(TABLE_T_SQL)
    db.execute("insert into t select g, 'row ' || g from generate_series(1, 5) g")
    t_before = columns(db, "t")
    rows_before = db.execute("select * from t order by id").fetchall()

    # A reader inside an open transaction: ALTER TABLE t (ACCESS EXCLUSIVE) must wait for it.
    # (ACCESS SHARE, not ACCESS EXCLUSIVE: planning reads t's catalog under ACCESS SHARE, and an
    # ACCESS EXCLUSIVE holder would block the plan before apply's own connection ran anything.)
    locker = psycopg.connect(db_url)
    proc: subprocess.Popen[str] | None = None
    try:
        locker.execute("LOCK TABLE t IN ACCESS SHARE MODE")
        proc = popen_cli("apply", "--auto-approve", "--lock-timeout", "60s",
                         "--database-url", db_url, cwd=tmp_path)
        deadline = time.monotonic() + 120
        while True:
            row = db.execute(
                """select a.pid, a.query, a.backend_xid is not null from pg_stat_activity a
                    join pg_locks l on l.pid = a.pid and not l.granted
                   where a.application_name = %s and a.wait_event_type = 'Lock'
                     and l.relation = 't'::regclass""",
                (apply.APPLICATION_NAME,),
            ).fetchone()
            if row:
                break
            assert proc.poll() is None, f"apply exited early: {proc.communicate()}"
            assert time.monotonic() < deadline, "apply never blocked on t"
            time.sleep(0.05)
        pid, query, wrote = row
        # Statements run in batches: the blocked query holds the ALTER (after u2's CREATE).
        assert 'alter table "public"."t" add column "extra"' in query
        assert wrote  # the transaction already has an xid: u2 was created before it blocked
        killed = db.execute("select pg_terminate_backend(%s)", (pid,)).fetchone()
        assert killed == (True,)
        locker.rollback()
        out, err = proc.communicate(timeout=120)
    finally:
        locker.close()
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 1, out + err
    assert "terminating connection due to administrator command" in err
    assert "nothing changed" in err
    assert "Traceback" not in err
    assert not table_exists(db, "public.u2")
    assert columns(db, "t") == t_before
    assert db.execute("select * from t order by id").fetchall() == rows_before
    rows = history(db)
    assert [h[0] for h in rows] == ["failed"]
    _, statements, error = rows[0]
    assert statements == []
    assert "terminating connection" in error
