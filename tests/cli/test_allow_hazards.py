"""`apply --allow-hazards` must name every kind present: all kinds but one still refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from schemadiff.hazards import HazardKind

from ..conftest import run_cli, write_spec
from .common import history, scalar

SPEC = """\
tables:
  t:
    columns:
      id: {type: integer}
      n: {type: integer}
    primary_key: [id]
    indexes:
      - columns: [n]
"""


def test_allow_hazards_naming_all_kinds_but_one_refuses_and_names_it(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    db.execute(
        "create table t (id integer primary key, n integer, x text);"
        "insert into t select g, g, 'x' from generate_series(1, 50) g; analyze t;"
    )
    write_spec(tmp_path, SPEC)
    url = ("--database-url", db_url)
    everything = sorted(k.value for k in HazardKind)
    # The plan has data_loss (drop x) and index_build (the index on n).
    for missing in ("index_build", "data_loss"):
        allowed = ",".join(k for k in everything if k != missing)
        r = run_cli("apply", "--auto-approve", "--allow-hazards", allowed, *url, cwd=tmp_path)
        assert r.returncode == 3, r.stderr
        assert "the plan has hazards that were not allowed" in r.stderr
        assert f"to apply anyway: --allow-hazards {missing}\n" in r.stderr
        other = "data_loss" if missing == "index_build" else "index_build"
        assert f"): {other}" not in r.stderr  # only the missing kind is named
        assert scalar(db, "select count(*) from pg_attribute where attrelid = 't'::regclass "
                          "and attname = 'x'") == 1
        assert scalar(db, "select to_regclass('t_n_idx')") is None
    assert history(db) == []
    r = run_cli("apply", "--auto-approve", "--allow-hazards", ",".join(everything), *url,
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert scalar(db, "select to_regclass('t_n_idx')") is not None
