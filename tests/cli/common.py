"""Shared pieces of the CLI tests: small specs, the SQL that matches them, query helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

# One table; TABLE_T_SQL builds exactly what it declares.
SPEC_T = """\
tables:
  t:
    columns:
      id: {type: integer, nullable: false}
      name: {type: text}
    primary_key: [id]
"""
TABLE_T_SQL = "create table t (id integer not null primary key, name text)"

# SPEC_T plus a column on t: plans one ALTER of t.
SPEC_T_EXTRA = """\
tables:
  t:
    columns:
      id: {type: integer, nullable: false}
      name: {type: text}
      extra: {type: integer}
    primary_key: [id]
"""

UNREACHABLE_URL = "postgresql://postgres@/nowhere?host=/nonexistent-schemadiff-test&port=5432"


def scalar(conn: psycopg.Connection[Any], sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def table_exists(conn: psycopg.Connection[Any], name: str) -> bool:
    return bool(scalar(conn, "select to_regclass(%s) is not null", (name,)))


def columns(conn: psycopg.Connection[Any], table: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        """select column_name, data_type, is_nullable from information_schema.columns
            where table_schema = 'public' and table_name = %s order by ordinal_position""",
        (table,),
    ).fetchall()


def history(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    """(outcome, statements, error) of every apply, oldest first; [] when none was recorded."""
    if not table_exists(conn, "schemadiff.apply_history"):
        return []
    return conn.execute(
        "select outcome, statements, error from schemadiff.apply_history order by id"
    ).fetchall()


def popen_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start `python -m schemadiff ARGS` in the background, with run_cli's environment."""
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full_env["SCHEMADIFF_QUIET"] = ""
    full_env.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "schemadiff", *args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=full_env, cwd=cwd,
    )
