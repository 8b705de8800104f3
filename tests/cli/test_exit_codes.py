"""Every command's exit codes (errors.py): 0 ok / no changes, 1 error, 2 changes, 3 refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg

from ..conftest import run_cli, write_spec
from .common import SPEC_T, TABLE_T_SQL, UNREACHABLE_URL, columns, history, table_exists


def test_validate_ok_and_bad_spec(tmp_path: Path) -> None:
    write_spec(tmp_path, SPEC_T)
    ok = run_cli("validate", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "ok (1 tables" in ok.stderr
    assert ok.stdout == ""

    bad = write_spec(tmp_path, "tables:\n  t:\n    columns:\n      id: {type: integr}\n",
                     name="bad.yaml")
    r = run_cli("validate", "--spec", str(bad), cwd=tmp_path)
    assert r.returncode == 1
    # file:line:col: message, on stderr; nothing on stdout
    assert f"{bad}:5:7: column 't.id': unknown type 'integr'" in r.stderr
    assert "1 problem found." in r.stderr
    assert r.stdout == ""
    assert "Traceback" not in r.stderr


def test_render_and_schema_json_exit_0(tmp_path: Path) -> None:
    write_spec(tmp_path, SPEC_T)
    r = run_cli("render", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "CREATE TABLE public.t (" in r.stdout
    assert r.stderr == ""
    m = run_cli("render", "--format", "mermaid", cwd=tmp_path)
    assert m.returncode == 0, m.stderr
    assert m.stdout.startswith("erDiagram")

    s = run_cli("schema-json", cwd=tmp_path)
    assert s.returncode == 0, s.stderr
    schema = json.loads(s.stdout)
    assert "tables" in schema["properties"]


def test_render_bad_spec_exit_1(tmp_path: Path) -> None:
    write_spec(tmp_path, "tables:\n  t:\n    columns:\n      id: {type: integr}\n")
    r = run_cli("render", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout == ""
    assert "schema.yaml:5:7:" in r.stderr


def test_plan_exit_codes(tmp_path: Path, db_url: str, db: psycopg.Connection[Any]) -> None:
    write_spec(tmp_path, SPEC_T)
    plain = run_cli("plan", "--database-url", db_url, cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert '+ table "public"."t"' in plain.stdout

    detailed = run_cli("plan", "--detailed-exitcode", "--database-url", db_url, cwd=tmp_path)
    assert detailed.returncode == 2, detailed.stderr
    assert '+ table "public"."t"' in detailed.stdout
    assert not table_exists(db, "public.t")  # plan changes nothing

    db.execute(TABLE_T_SQL)
    none = run_cli("plan", "--detailed-exitcode", "--database-url", db_url, cwd=tmp_path)
    assert none.returncode == 0, none.stdout + none.stderr
    assert none.stdout.startswith("No changes.")


def test_plan_and_drift_unreachable_database_exit_1(tmp_path: Path) -> None:
    write_spec(tmp_path, SPEC_T)
    for command in ("plan", "drift"):
        r = run_cli(command, "--database-url", UNREACHABLE_URL, cwd=tmp_path)
        assert r.returncode == 1, (command, r.stdout, r.stderr)
        assert "cannot connect" in r.stderr
        assert r.stdout == ""
        assert "Traceback" not in r.stderr
    r = run_cli("plan", "--detailed-exitcode", cwd=tmp_path, env={"DATABASE_URL": UNREACHABLE_URL})
    assert r.returncode == 1
    r = run_cli("apply", "--auto-approve", "--database-url", UNREACHABLE_URL, cwd=tmp_path)
    assert r.returncode == 1
    assert "cannot connect" in r.stderr


def test_apply_exit_codes(tmp_path: Path, db_url: str, db: psycopg.Connection[Any]) -> None:
    write_spec(tmp_path, SPEC_T)

    # No terminal (stdin is a pipe) and no --auto-approve: error, nothing changed.
    r = run_cli("apply", "--database-url", db_url, cwd=tmp_path, input="y\n")
    assert r.returncode == 1, r.stderr
    assert "stdin is not a terminal" in r.stderr and "--auto-approve" in r.stderr
    assert not table_exists(db, "public.t")
    assert history(db) == []

    r = run_cli("apply", "--auto-approve", "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "The database matches the spec." in r.stderr
    assert table_exists(db, "public.t")
    assert [h[0] for h in history(db)] == ["applied"]

    # A column added by hand: the plan drops it (data_loss), which apply refuses.
    db.execute("alter table t add column x int")
    before = columns(db, "t")
    r = run_cli("apply", "--auto-approve", "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    assert 'statement 1 (drop column "public"."t"."x"): data_loss' in r.stderr
    assert "--allow-hazards data_loss" in r.stderr
    assert columns(db, "t") == before
    assert [h[0] for h in history(db)] == ["applied"]

    r = run_cli("apply", "--auto-approve", "--allow-hazards", "data_loss",
                "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "x" not in [c[0] for c in columns(db, "t")]

    r = run_cli("apply", "--auto-approve", "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Nothing to apply." in r.stderr


def test_drift_exit_codes(tmp_path: Path, db_url: str, db: psycopg.Connection[Any]) -> None:
    write_spec(tmp_path, SPEC_T)
    r = run_cli("drift", "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 2, r.stderr  # the table is missing

    db.execute(TABLE_T_SQL)
    r = run_cli("drift", "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "in sync" in r.stderr
    assert r.stdout == ""

    db.execute("alter table t add column x int")  # a change made by hand
    r = run_cli("drift", "--database-url", db_url, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "drift:" in r.stderr
    assert '- column "public"."t"."x"' in r.stdout


def test_dev_status_without_embedded_database(tmp_path: Path) -> None:
    write_spec(tmp_path, SPEC_T)
    r = run_cli("dev", "status", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "not created" in r.stderr
    assert r.stdout == ""
    assert not (tmp_path / ".schemadiff").exists()  # status does not create it
    r = run_cli("dev", "stop", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "was not running" in r.stderr


def test_unknown_hazard_kind_and_bad_duration_exit_1(tmp_path: Path) -> None:
    write_spec(tmp_path, SPEC_T)
    r = run_cli("apply", "--allow-hazards", "dataloss", "--database-url", UNREACHABLE_URL,
                cwd=tmp_path)
    assert r.returncode == 1
    assert "unknown hazard kind 'dataloss'" in r.stderr
    r = run_cli("apply", "--lock-timeout", "soon", "--database-url", UNREACHABLE_URL,
                cwd=tmp_path)
    assert r.returncode == 1
    assert "--lock-timeout 'soon' is not a duration" in r.stderr


def test_usage_errors_exit_1_never_the_changes_code(tmp_path: Path) -> None:
    # click's own code for a usage error is 2, which CI would read as "drifted".
    for args in (("drift", "--no-such-option"), ("plan", "--format", "xml"), ("nope",)):
        r = run_cli(*args, cwd=tmp_path)
        assert r.returncode == 1, (args, r.stderr)
        assert "Usage:" in r.stderr or "No such command" in r.stderr
        assert r.stdout == ""
    help_ = run_cli("drift", "--help", cwd=tmp_path)
    assert help_.returncode == 0 and "Usage:" in help_.stdout
