"""Which database a command works on: --database-url, DATABASE_URL, libpq PG*, or embedded.

With none of them, the project's embedded database under .schemadiff/ (next to the spec) is
started on demand and reused by the next command, so a new user needs nothing installed.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from schemadiff import postgres
from schemadiff.db import redact_url
from schemadiff.errors import LocalPostgresError
from schemadiff.progress import Progress

LIBPQ_VARS = ("PGHOST", "PGDATABASE", "PGSERVICE", "PGHOSTADDR")
STATE_DIR = ".schemadiff"


@dataclass(frozen=True)
class Target:
    url: str  # may be "" (libpq reads PG* variables)
    label: str  # safe to print
    embedded: bool


def resolve(
    database_url: str | None, spec_path: str, progress: Progress | None = None
) -> Target:
    """The database to work on; the embedded one is started when nothing names another."""
    url = database_url or os.environ.get("DATABASE_URL")
    if url:
        return Target(url, redact_url(url), False)
    if any(os.environ.get(v) for v in LIBPQ_VARS):
        return Target("", "(libpq PG* environment)", False)
    cluster = start_embedded(project_dir(spec_path), progress)
    return Target(cluster.url(), f"embedded Postgres {cluster.install.major} ({STATE_DIR}/)", True)


def project_dir(spec_path: str) -> Path:
    return Path(spec_path).resolve().parent


def _data_dir(project: Path) -> Path:
    """Where the embedded cluster's files live.

    Inside the project when the server's account can reach it; as root, in a shared directory
    keyed by the project path (root's home is private to the unprivileged server account).
    """
    state = project / STATE_DIR
    pointer = state / "location.json"
    if pointer.exists():
        return Path(json.loads(pointer.read_text())["data_dir"])
    state.mkdir(parents=True, exist_ok=True)
    # A local database (and where it lives) must never end up in the project's commits.
    ignore = state / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# schemadiff's embedded database: local, never committed\n*\n")
    data = state / "data"
    if os.geteuid() == 0 and not _reachable(state):
        key = hashlib.sha256(str(project).encode()).hexdigest()[:16]
        data = postgres.cache_dir().parent / "schemadiff-dev" / key / "data"
        data.parent.mkdir(parents=True, exist_ok=True)
        data.parent.chmod(0o755)
        data.parent.parent.chmod(0o755)
    pointer.write_text(json.dumps({"data_dir": str(data)}) + "\n")
    return data


def _reachable(path: Path) -> bool:
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])


def _install_for(data: Path) -> postgres.Install:
    version = data / "PG_VERSION"
    if version.exists():
        return postgres.find_install(int(version.read_text().strip()))
    return postgres.find_install(None)


def start_embedded(project: Path, progress: Progress | None = None) -> postgres.Cluster:
    """The project's embedded cluster, started (created first if needed) unless it runs."""
    progress = progress or Progress()
    data = _data_dir(project)
    install = _install_for(data)
    cluster = postgres.running(install, data)
    if cluster is None:
        progress.info(
            f"starting the embedded Postgres {install.major} ({install.source}) in {data}"
        )
        progress.detail(f"embedded: Postgres {install.version} from {install.bindir}")
        with progress.phase(f"starting the embedded Postgres {install.major}"):
            cluster = postgres.start_persistent(install, data)
    else:
        progress.detail(f"embedded Postgres {install.major} already running in {data}")
    return cluster


def embedded_status(project: Path) -> tuple[str, postgres.Cluster | None]:
    state = project / STATE_DIR / "location.json"
    if not state.exists():
        return "not created (the first plan/apply creates it)", None
    data = _data_dir(project)
    try:
        install = _install_for(data)
    except LocalPostgresError as e:
        return f"unusable: {e}", None
    cluster = postgres.running(install, data)
    if cluster is None:
        return f"stopped (Postgres {install.major}, data in {data})", None
    return f"running (Postgres {install.major}, data in {data})", cluster


def stop_embedded(project: Path) -> bool:
    _, cluster = embedded_status(project)
    if cluster is None:
        return False
    cluster.stop()
    return True
