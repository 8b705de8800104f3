"""Throwaway Postgres clusters never outlive schemadiff: SIGTERM unwinds, and a cluster left by
a process killed with SIGKILL is stopped and removed by the next start."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemadiff import postgres


def _clusters(scratch: Path) -> set[Path]:
    # SCHEMADIFF_SCRATCH_DIR gets a directory per user; the clusters are in it.
    return set((scratch / f"schemadiff-{os.geteuid()}").glob("schemadiff-*"))


def _holder(scratch: Path, sig: signal.Signals) -> tuple[subprocess.Popen[str], Path]:
    """A child process that starts a throwaway cluster and waits; returns it and the cluster."""
    before = _clusters(scratch)
    code = (
        "import time; from schemadiff import cli, postgres\n"
        "import signal; signal.signal(signal.SIGTERM, cli._terminated)\n"
        "c = postgres.start_ephemeral(postgres.find_install())\n"
        "try:\n    print('ready', flush=True)\n    time.sleep(120)\nfinally:\n    c.stop()\n"
    )
    env = {**os.environ, "SCHEMADIFF_SCRATCH_DIR": str(scratch)}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise AssertionError(proc.communicate()[1])
    (root,) = _clusters(scratch) - before
    assert postgres._running_pid(root / "data") is not None
    proc.send_signal(sig)
    proc.communicate(timeout=60)  # waits, and closes the pipes
    return proc, root


def _wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while postgres._pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not postgres._pid_alive(pid)


@pytest.fixture
def scratch() -> Iterator[Path]:
    # Beside the real scratch directory: the server's user (postgres, when root) can reach it.
    path = Path(tempfile.mkdtemp(prefix="orphans-", dir=postgres._scratch_dir()))
    path.chmod(0o755)
    yield path
    postgres.reap_orphans(path / f"schemadiff-{os.geteuid()}")
    shutil.rmtree(path, ignore_errors=True)


def test_sigterm_stops_the_cluster(scratch: Path) -> None:
    _, root = _holder(scratch, signal.SIGTERM)
    assert not root.exists()


def test_cluster_of_a_killed_process_is_reaped_by_the_next_start(scratch: Path) -> None:
    _, root = _holder(scratch, signal.SIGKILL)
    pid = postgres._running_pid(root / "data")
    assert pid is not None, "SIGKILL left the server running (what the reaper is for)"
    assert postgres.reap_orphans(root.parent) == [root]
    assert _wait_gone(pid)
    assert not root.exists()
