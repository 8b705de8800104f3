"""--shadow-server: the shadow built in a temporary database of a given server, then dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from schemadiff import postgres

from ..conftest import Server, run_cli, write_spec

SPEC = """
tables:
  t:
    columns:
      id: integer
    primary_key: [id]
"""


def _shadow_databases(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        "select datname from pg_database where datname like 'schemadiff_shadow_%'"
    ).fetchall()
    return [r[0] for r in rows]


def test_plan_with_a_shadow_server_leaves_no_database_behind(
    tmp_path: Path, server: Server, db_url: str, db: psycopg.Connection[Any]
) -> None:
    write_spec(tmp_path, SPEC)
    with psycopg.connect(server.admin_url, autocommit=True) as admin:
        before = _shadow_databases(admin)
        r = run_cli("plan", "--database-url", db_url, "--shadow-server", server.admin_url,
                    "--format", "sql", cwd=tmp_path, env={"SCHEMADIFF_NO_CACHE": "1"})
        assert r.returncode == 0, r.stderr
        assert "CREATE TABLE" in r.stdout.upper()
        assert _shadow_databases(admin) == before


def test_shadow_server_of_another_major_is_refused_by_name(
    tmp_path: Path, server: Server, db_url: str
) -> None:
    others = [i for i in postgres.discover() if i.major != server.major]
    if not others:
        pytest.skip("one Postgres major on this machine")
    cluster = postgres.start_ephemeral(others[0])
    try:
        write_spec(tmp_path, SPEC)
        r = run_cli("plan", "--database-url", db_url, "--shadow-server", cluster.url(),
                    cwd=tmp_path, env={"SCHEMADIFF_NO_CACHE": "1"})
    finally:
        cluster.stop()
    assert r.returncode == 1, r.stderr
    assert f"runs Postgres {others[0].major}, the target runs {server.major}" in r.stderr
    assert "Traceback" not in r.stderr
