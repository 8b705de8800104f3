"""Run every benchmark and write BENCHMARKS.md (outside the test run; speed is never asserted).

    python benchmarks/run.py [--runs 5] [--sizes 100,1000,3000] [--out BENCHMARKS.md]

Each figure is min / median / max wall seconds over --runs runs, after one warm-up run.
Whole-process figures time `python -m schemadiff ...` from outside, as a user would see it.
The baseline is raw migra (`Migration(live, target).add_all_changes()`) between the same live
database and an already-built target database, in the same process and run.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic import synthetic_spec  # noqa: E402

from schemadiff import db, postgres  # noqa: E402
from schemadiff.model import render_sql  # noqa: E402
from schemadiff.plan import Planner  # noqa: E402
from schemadiff.shadow import shadow_database  # noqa: E402
from schemadiff.spec import Spec, load_spec  # noqa: E402


@dataclass
class Figure:
    case: str
    times: list[float]
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def row(self, baseline: Figure | None = None) -> str:
        ratio = f"{self.median / baseline.median:.2f}×" if baseline else ""
        return (
            f"| {self.case} | {min(self.times):.3f} | {self.median:.3f} | "
            f"{max(self.times):.3f} | {ratio} | {self.note} |"
        )


def measure(case: str, func: Callable[[], object], runs: int, note: str = "") -> Figure:
    func()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    fig = Figure(case, times, note)
    print(f"  {case}: median {fig.median:.3f}s", file=sys.stderr, flush=True)
    return fig


def cli(*args: str, cache: bool = True) -> Callable[[], None]:
    env = {**os.environ, "SCHEMADIFF_QUIET": "1"}
    if not cache:
        env["SCHEMADIFF_NO_CACHE"] = "1"
    env.pop("DATABASE_URL", None)

    def run() -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "schemadiff", *args], capture_output=True, text=True, env=env
        )
        if proc.returncode not in (0, 2):
            raise SystemExit(f"schemadiff {' '.join(args)} failed:\n{proc.stderr}")

    return run


class Databases:
    """Fresh databases on one benchmark server."""

    def __init__(self, cluster: postgres.Cluster) -> None:
        self.cluster = cluster
        self.n = 0

    def new(self, spec: Spec | None = None) -> str:
        self.n += 1
        name = f"bench{self.n}"
        with db.connection(self.cluster.url()) as conn:
            conn.execute(f"CREATE DATABASE {name}".encode())
        url = self.cluster.url(name)
        if spec is not None:
            with db.connection(url) as conn, conn.transaction():
                conn.execute(render_sql(spec).encode())
        return url


def raw_migra(live: str, target: str) -> Callable[[], None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from migra import Migration

    def run() -> None:
        engines = [db.sqlalchemy_engine(u) for u in (live, target)]
        with engines[0].connect() as a, engines[1].connect() as b:
            m = Migration(a, b)
            m.set_safety(False)
            m.add_all_changes()
        for e in engines:
            e.dispose()

    return run


def our_plan(spec: Spec, live: str, shadow_url: str) -> Callable[[], None]:
    def run() -> None:
        with Planner(spec, live, shadow_url=shadow_url) as p:
            p.plan()

    return run


def scale_case(n: int, dbs: Databases, runs: int, tmp: Path) -> list[tuple[Figure, Figure | None]]:
    path = tmp / f"synthetic_{n}.yaml"
    path.write_text(synthetic_spec(n))
    spec = load_spec(path)
    live = dbs.new(spec)
    target = dbs.new(spec)
    baseline = measure(f"raw migra, {n} tables", raw_migra(live, target), runs)
    ours = measure(
        f"plan in process (shadow built), {n} tables", our_plan(spec, live, target), runs
    )
    drift = measure(
        f"`schemadiff drift` whole process, {n} tables",
        cli("drift", "--spec", str(path), "--database-url", live, cache=False), runs,
        "includes starting and building the shadow",
    )
    return [(baseline, None), (ours, baseline), (drift, None)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="100,1000,3000")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    # As an installed wheel has them: bytecode of our own modules, written once up front (this
    # environment may set PYTHONDONTWRITEBYTECODE, which would compile them in every process).
    compileall.compile_dir(str(ROOT / "src"), quiet=1)
    load = os.getloadavg()[0]
    sizes = [int(x) for x in args.sizes.split(",") if x]
    spec_path = ROOT / "schema.yaml"
    agentrade = load_spec(spec_path)
    install = postgres.find_install(None)
    rows: list[tuple[Figure, Figure | None]] = []
    with tempfile.TemporaryDirectory() as tmpdir, postgres.ephemeral_cluster(install.major) as c:
        tmp = Path(tmpdir)
        dbs = Databases(c)
        print("Agentrade", file=sys.stderr)
        live = dbs.new(agentrade)
        target = dbs.new(agentrade)
        baseline = measure("raw migra, Agentrade", raw_migra(live, target), args.runs)
        rows.append((baseline, None))
        rows.append((measure("plan in process (shadow built), Agentrade",
                             our_plan(agentrade, live, target), args.runs), baseline))
        rows.append((measure("`schemadiff plan` whole process (cold), Agentrade",
                             cli("plan", "--spec", str(spec_path), "--database-url", live,
                                 cache=False),
                             args.runs, "imports, shadow start and build, plan"), None))
        rows.append((measure("`schemadiff plan` whole process (shadow snapshot cached), "
                             "Agentrade",
                             cli("plan", "--spec", str(spec_path), "--database-url", live),
                             args.runs, "the spec was planned before"), None))
        rows.append((measure("`schemadiff drift` whole process, Agentrade in sync",
                             cli("drift", "--spec", str(spec_path), "--database-url", live,
                                 cache=False),
                             args.runs, "shadow built (no cache), as on a fresh CI machine"),
                     None))

        def apply_empty() -> None:
            cli("apply", "--auto-approve", "--spec", str(spec_path),
                "--database-url", dbs.new(), cache=False)()

        rows.append((measure("`schemadiff apply` whole process, Agentrade into an empty db",
                             apply_empty, args.runs, "shadow built (no cache)"), None))

        def apply_empty_cached() -> None:
            cli("apply", "--auto-approve", "--spec", str(spec_path),
                "--database-url", dbs.new())()

        rows.append((measure("`schemadiff apply` whole process, Agentrade into an empty db "
                             "(shadow snapshot cached)", apply_empty_cached, args.runs,
                             "the spec was planned before"), None))

        def shadow_cached() -> None:
            with shadow_database(agentrade, install.major):
                pass

        rows.append((measure("shadow ready (template cached), Agentrade", shadow_cached,
                             args.runs), None))

        def shadow_cold() -> None:
            with tempfile.TemporaryDirectory(dir="/var/tmp") as cache:
                os.environ["SCHEMADIFF_CACHE_DIR"] = cache
                try:
                    with shadow_database(agentrade, install.major):
                        pass
                finally:
                    del os.environ["SCHEMADIFF_CACHE_DIR"]

        rows.append((measure("shadow ready (cold: initdb first), Agentrade", shadow_cold,
                             args.runs), None))

        def shadow_on_server() -> None:
            with shadow_database(agentrade, install.major, server_url=c.url()):
                pass

        rows.append((measure("shadow ready (--shadow-server: a temporary database), Agentrade",
                             shadow_on_server, args.runs, "no cluster start"), None))
        for n in sizes:
            print(f"{n} tables", file=sys.stderr)
            rows += scale_case(n, dbs, args.runs, tmp)
    write_report(Path(args.out), rows, args, install, load)


def growth(rows: list[tuple[Figure, Figure | None]]) -> list[str]:
    """Milliseconds per table of the in-process plan at each size: flat means linear."""
    out = []
    for fig, base in rows:
        if base is None or "tables" not in fig.case:
            continue
        n = int(fig.case.rsplit(", ", 1)[1].split()[0].replace(",", ""))
        out.append(
            f"| {n:,} | {fig.median * 1000 / n:.2f} | {base.median * 1000 / n:.2f} |"
        )
    if not out:
        return []
    return [
        "",
        "Growth with table count (median milliseconds per table; a flat column is linear time):",
        "",
        "| tables | plan in process, ms/table | raw migra, ms/table |",
        "|---|---|---|",
        *out,
    ]


def write_report(out: Path, rows: list[tuple[Figure, Figure | None]], args: argparse.Namespace,
                 install: postgres.Install, load: float) -> None:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = [
        "# Benchmarks",
        "",
        "Produced by `python benchmarks/run.py"
        + (f" --sizes {args.sizes}" if args.sizes != "100,1000,3000" else "")
        + f" --runs {args.runs}` (one warm-up run, then {args.runs} counted runs; wall seconds).",
        "",
        f"Machine: {os.cpu_count()} cores, {mem_gib:.0f} GiB, {platform.platform()}, "
        f"Python {platform.python_version()}, Postgres {install.version} ({install.source}); "
        f"load average {load:.2f} when the run started.",
        "",
        "Ratio: our median ÷ raw migra's median on the same two databases.",
        "",
        "| case | min | median | max | ratio | note |",
        "|---|---|---|---|---|---|",
    ]
    lines += [fig.row(base) for fig, base in rows]
    lines += growth(rows)
    notes = ROOT / "benchmarks" / "notes.md"
    if notes.exists():  # what the figures mean and where the time goes (written by hand)
        lines += ["", notes.read_text(encoding="utf-8").rstrip()]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
