"""Progress on stderr: --quiet, --verbose, a counter redrawn only on a terminal; completion."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
from pathlib import Path

from schemadiff.hazards import HazardKind

from ..conftest import run_cli, write_spec
from .common import SPEC_T, SPEC_T_EXTRA

# Two tables: an apply of six statements (each table, its key's index, its key).
SPEC_TWO = SPEC_T + """\
  u:
    columns:
      id: {type: integer, nullable: false}
    primary_key: [id]
"""
# What a redrawn counter line starts with (erase the line, then draw it again).
REDRAW = "\r\x1b[K"


def test_quiet_keeps_errors_and_data_verbose_adds_details(tmp_path: Path, db_url: str) -> None:
    write_spec(tmp_path, SPEC_T)
    url = ("--database-url", db_url)
    quiet = run_cli("-q", "apply", "--auto-approve", *url, cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.startswith("Plan for ")  # data is untouched
    assert quiet.stderr == ""  # no progress, no "Applied: ..."

    write_spec(tmp_path, SPEC_T_EXTRA)
    normal = run_cli("apply", "--auto-approve", *url, cwd=tmp_path)
    assert normal.returncode == 0, normal.stderr
    assert re.search(r"schemadiff: shadow (database ready|snapshot reused)", normal.stderr)
    assert "schemadiff: applying 1 statement in one transaction\n" in normal.stderr
    assert "applying statement" not in normal.stderr  # the counter: on a terminal only
    assert " took " not in normal.stderr  # timings are --verbose only

    more = SPEC_T_EXTRA.replace("    primary_key", "      more: text\n    primary_key")
    write_spec(tmp_path, more)
    verbose = run_cli("--verbose", "apply", "--auto-approve", *url, cwd=tmp_path)
    assert verbose.returncode == 0, verbose.stderr
    err = verbose.stderr
    assert re.search(r"schemadiff: shadow: Postgres [\d.]+ from /\S+ \(\w+", err)  # binaries
    assert re.search(r"schemadiff: reading the database's schema took \d+\.\d\ds", err)
    assert re.search(r"schemadiff: applying the plan took \d+\.\d\ds", err)
    # each statement as it runs: the counter as a line (no terminal), then its SQL
    assert (
        'schemadiff: applying statement 1/1: create column "public"."t"."more"\n'
        '    alter table "public"."t" add column "more" text\n'
    ) in err
    assert "Applied: " in err and "schemadiff:" not in verbose.stdout
    for r in (normal, verbose):
        assert "\r" not in r.stderr and "\x1b" not in r.stderr  # not a terminal: no redraws

    error = run_cli("-q", "validate", "--spec", "missing.yaml", cwd=tmp_path)
    assert error.returncode == 1
    assert error.stderr.startswith("missing.yaml:1:1: file not found")

    both = run_cli("-q", "-v", "validate", cwd=tmp_path)
    assert both.returncode == 1 and "not both" in both.stderr


def test_counter_redraws_one_line_on_a_terminal(tmp_path: Path, db_url: str) -> None:
    write_spec(tmp_path, SPEC_TWO)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SCHEMADIFF_QUIET="", COLUMNS="200")
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "schemadiff", "apply", "--auto-approve", "--database-url", db_url],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, cwd=tmp_path, env=env,
    )
    os.close(slave)
    chunks = []
    while True:
        if not select.select([master], [], [], 120)[0]:
            proc.kill()
            raise AssertionError(f"no output for 120s: {b''.join(chunks)!r}")
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, b"".join(chunks)
    err = b"".join(chunks).decode()
    # one line, redrawn: the first statement, then (at the latest) the last one over it
    first = err.index(REDRAW + "schemadiff: applying statement 1/6: create table")
    last = err.index(REDRAW + 'schemadiff: applying statement 6/6: create constraint "public"')
    assert first < last and "\n" not in err[first:last]
    # erased when done: the next message starts on a clean line
    assert err[last:].split(REDRAW)[2].startswith("Applied: 6 to create")
    assert stdout.startswith(b"Plan for ") and b"\r" not in stdout and b"\x1b" not in stdout


def test_completion_script_and_hazard_codes(tmp_path: Path) -> None:
    script = run_cli("completion", "bash", cwd=tmp_path)
    assert script.returncode == 0, script.stderr
    assert "_SCHEMADIFF_COMPLETE=bash_complete" in script.stdout
    assert "complete -o nosort -F _schemadiff_completion schemadiff" in script.stdout

    def complete(*words: str) -> list[str]:
        r = run_cli(cwd=tmp_path, env={
            "_SCHEMADIFF_COMPLETE": "bash_complete",
            "COMP_WORDS": " ".join(("schemadiff", *words)),
            "COMP_CWORD": str(len(words)),
        })
        assert r.returncode == 0, r.stderr
        return r.stdout.splitlines()

    codes = sorted(k.value for k in HazardKind)
    assert complete("apply", "--allow-hazards", "") == [f"plain,{c}" for c in codes]
    # after a comma: the codes not named yet that start with what is typed
    assert complete("apply", "--allow-hazards", "index_build,d") == [
        "plain,index_build,data_loss", "plain,index_build,dependent_objects"
    ]
    (tmp_path / "schemadiff.toml").write_text(
        '[environments.prod]\nurl_env = "PROD_URL"\n[environments.staging]\n'
    )
    assert complete("plan", "--env", "") == ["plain,prod", "plain,staging"]
