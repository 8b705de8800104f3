"""With no URL at all, commands use the project's embedded Postgres under .schemadiff/."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from schemadiff import postgres, target

from ..conftest import run_cli, write_spec
from .common import SPEC_T, columns


def test_embedded_database_lifecycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in [v for v in os.environ if v.startswith("PG") or v == "DATABASE_URL"]:
        monkeypatch.delenv(var)  # run_cli passes on this process's environment
    write_spec(tmp_path, SPEC_T)
    pointer = tmp_path / ".schemadiff" / "location.json"
    socket_dirs: set[Path] = set()
    try:
        r = run_cli("apply", "--auto-approve", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "starting the embedded Postgres" in r.stderr
        assert "The database matches the spec." in r.stderr
        assert pointer.exists()
        assert (tmp_path / ".schemadiff" / ".gitignore").read_text().endswith("\n*\n")
        data = Path(json.loads(pointer.read_text())["data_dir"])
        assert (data / "PG_VERSION").exists()

        status = run_cli("dev", "status", cwd=tmp_path)
        assert status.returncode == 0, status.stderr
        assert "embedded database: running" in status.stderr
        url = status.stdout.strip()
        assert url.startswith("postgresql://") and "\n" not in url
        socket_dirs.add(Path(parse_qs(urlsplit(url).query)["host"][0]))
        with psycopg.connect(url) as conn:
            assert [c[0] for c in columns(conn, "t")] == ["id", "name"]

        r = run_cli("plan", "--detailed-exitcode", cwd=tmp_path)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.startswith("No changes.")
        assert "starting the embedded Postgres" not in r.stderr  # reused, still running

        r = run_cli("dev", "stop", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "embedded database stopped" in r.stderr
        status = run_cli("dev", "status", cwd=tmp_path)
        assert status.returncode == 0, status.stderr
        assert "embedded database: stopped" in status.stderr
        assert status.stdout == ""
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=5).close()
    finally:
        if pointer.exists():
            target.stop_embedded(tmp_path)  # never leave a server running
            data = Path(json.loads(pointer.read_text())["data_dir"])
            assert postgres.running(postgres.find_install(None), data) is None
            if tmp_path not in data.parents:  # as root it lives in a shared directory
                shutil.rmtree(data.parent, ignore_errors=True)
        for d in socket_dirs:
            shutil.rmtree(d, ignore_errors=True)
