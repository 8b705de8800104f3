"""What a command loads at start-up: a plan with a cached shadow snapshot must not import
SQLAlchemy (~0.3 s of every run); it is needed only to build a shadow from the spec."""

from __future__ import annotations

from pathlib import Path

from tests.cli.common import SPEC_T
from tests.conftest import run_cli, write_spec


def _imported(stderr: str) -> set[str]:
    """Module names from -X importtime output (`import time: self | cumulative | name`)."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def test_plan_with_a_cached_shadow_does_not_import_sqlalchemy(
    tmp_path: Path, db_url: str
) -> None:
    spec = write_spec(tmp_path, SPEC_T)
    first = run_cli("plan", "--spec", str(spec), "--database-url", db_url)  # fills the cache
    assert first.returncode == 0, first.stderr
    second = run_cli(
        "plan", "--spec", str(spec), "--database-url", db_url,
        env={"PYTHONPROFILEIMPORTTIME": "1"},
    )
    assert second.returncode == 0, second.stderr
    modules = _imported(second.stderr)
    assert "schemadiff.plan" in modules  # the output is what we think it is
    assert not {m for m in modules if m.split(".")[0] == "sqlalchemy"}
    assert "create table" in second.stdout.lower()
