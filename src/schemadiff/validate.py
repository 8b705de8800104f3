"""`plan --validate`: the plan applied to a copy of the target's schema, then planned again.

The copy is made in a throwaway cluster of the target's major: the schema from the target's
`pg_dump --schema-only` (a pg_dump of that major; without one, `import` of the target
rendered as DDL, which covers only what the spec language expresses), plus the rows that
planning reads (the config table, and the live rows of seeded tables whose key a seed file
lists). The plan runs there with apply's executor, secrets bound to a placeholder, and a
second plan against the copy must be empty.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from schemadiff import apply, db, postgres, render, seed
from schemadiff import spec as s
from schemadiff.config import SecretChange
from schemadiff.errors import NotConvergedError, SchemadiffError
from schemadiff.hazards import HazardKind
from schemadiff.plan import Plan, Planner
from schemadiff.progress import QUIET, Progress
from schemadiff.sqltext import qualified, quote

COPY_DB = "schemadiff_copy"
# What a secret config value is set to in the copy: its real value never leaves the target.
SECRET_PLACEHOLDER = "schemadiff-validate-placeholder"
DUMP_TIMEOUT_S = 600


def validate_plan(plan: Plan, planner: Planner, url: str, dump: bool = True) -> str:
    """Apply `plan` to a copy of the schema at `url` and plan again: raise unless empty.

    `planner` made the plan (its shadow is reused). A statement failing on the copy is an
    error (exit 1), and so is a second plan that still finds changes (NotConvergedError).
    Returns the message saying it converged. `dump=False` builds the copy from `import`, as
    when no pg_dump of the target's major is found.
    """
    if plan.empty:
        return "validated: the plan is empty, nothing to apply"
    spec = planner.spec
    with postgres.ephemeral_cluster(plan.server_major) as cluster:
        with db.connection(cluster.url()) as admin:
            admin.execute(f"CREATE DATABASE {COPY_DB} TEMPLATE template0 ENCODING 'UTF8'")
        copy_url = cluster.url(COPY_DB)
        _copy_schema(url, copy_url, spec, cluster.install, dump, planner.progress)
        _copy_rows(url, copy_url, spec, planner.seeds_dir)
        on_copy, bound = _with_placeholders(plan)
        try:
            # No progress from the copy's apply: "applying 3 statements" would read as the
            # target's.
            apply.apply_plan(
                on_copy,
                copy_url,
                apply.Options(allowed_hazards=frozenset(HazardKind)),
                progress=Progress(QUIET),
            )
        except SchemadiffError as e:
            raise SchemadiffError(
                f"plan --validate: the plan fails on a copy of {plan.target}:\n{e}\n"
                "the plan was not shown or saved"
            ) from None
        with planner.against(copy_url) as again:
            after = again.plan()
    remaining = [
        c for c in after.changes
        if not (isinstance(c, SecretChange) and c.action == "alter" and c.name in bound)
    ]
    after = dataclasses.replace(after, changes=remaining)
    if not after.empty:
        lines = [
            f"plan --validate: the plan does not converge: after applying it to a copy of "
            f"{plan.target}, planning again still finds:",
            *render.plan_summary(after),
            "statements of the second plan:",
            *(f"  {c.sql.strip().splitlines()[0][:200]}" for c in after.changes),
            "the plan was not shown or saved; apply would leave these differences (please "
            "report this)",
        ]
        raise NotConvergedError("\n".join(lines))
    return f"validated: plan applied to a copy of {plan.target} and converged"


def _with_placeholders(plan: Plan) -> tuple[Plan, set[str]]:
    """The plan with every secret bound to SECRET_PLACEHOLDER; the names of those keys."""
    changes = []
    bound: set[str] = set()
    for c in plan.changes:
        if isinstance(c, SecretChange):
            c = dataclasses.replace(c, from_env="", fallback=SECRET_PLACEHOLDER)
            bound.add(c.name)
        changes.append(c)
    return dataclasses.replace(plan, changes=changes), bound


# -- the schema --------------------------------------------------------------------------------


def _copy_schema(
    url: str,
    copy_url: str,
    spec: s.Spec,
    install: postgres.Install,
    dump: bool,
    progress: Progress,
) -> None:
    pg_dump = Path(install.bin("pg_dump"))
    if dump and pg_dump.is_file():
        script = _dump_schema(pg_dump, url)
        how = f"pg_dump {install.major} --schema-only"
    else:
        script = _imported_schema(url, spec)
        how = "schemadiff import, no pg_dump"
        why = f"no pg_dump {install.major} in {install.bindir}" if dump else "pg_dump not used"
        progress.info(
            f"{why}: the copy is built from `schemadiff import` of the target, which leaves "
            "out what the spec cannot express"
        )
    try:
        with db.connection(copy_url) as conn:
            conn.execute(script.encode())
    except psycopg.Error as e:
        raise SchemadiffError(
            f"plan --validate: cannot load the schema of {db.redact_url(url)} ({how}) into a "
            f"local Postgres {install.major}: {str(e).strip()}"
        ) from None
    progress.info(f"copy of {db.redact_url(url) or 'the target'} made ({how})")


def _dump_schema(pg_dump: Path, url: str) -> str:
    """The target's DDL; the password goes through the environment, not the command line."""
    params: dict[str, Any] = conninfo_to_dict(url) if url else {}
    env = dict(os.environ)
    password = params.pop("password", None)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    cmd = [
        str(pg_dump),
        "--schema-only",
        "--no-owner",
        "--no-privileges",
        "--no-tablespaces",
        "--no-publications",
        "--no-subscriptions",
        "--no-security-labels",
    ]
    if params:
        cmd += ["--dbname", make_conninfo(**params)]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=DUMP_TIMEOUT_S, check=False
    )
    if proc.returncode != 0:
        raise SchemadiffError(
            f"plan --validate: pg_dump of {db.redact_url(url)} failed: "
            f"{db.scrub(proc.stderr.strip(), url)}"
        )
    # psql meta-commands (\restrict, \connect) are not SQL; the rest runs as one script.
    return "\n".join(
        line for line in proc.stdout.splitlines() if not line.startswith("\\")
    )


def _imported_schema(url: str, spec: s.Spec) -> str:
    from schemadiff.introspect import import_database
    from schemadiff.model import render_sql

    config_table = spec.config.table if spec.config else None
    imported = import_database(url, spec.schema, config_table)
    copy_spec = s.parse_spec(imported.text, "imported.yaml")
    prefix = "" if spec.schema == "public" else f"CREATE SCHEMA {quote(spec.schema)};\n"
    return prefix + render_sql(copy_spec)


# -- the rows planning reads -------------------------------------------------------------------


def _copy_rows(url: str, copy_url: str, spec: s.Spec, seeds_dir: Path | None) -> None:
    """Config rows, and live rows of seeded tables that a seed file lists by key (the seeds
    of `seeds_dir`, the plan's; default: seeds/ next to the spec).

    Only those: a second plan compares exactly them. Loaded as a replica (no triggers, no
    foreign key checks), since rows they reference are not copied.
    """
    selects: list[tuple[str, dict[str, str], str]] = []  # table, its columns, what to copy
    with db.connection(url) as live:
        if spec.config is not None:
            columns = _columns(live, spec.schema, spec.config.table)
            if columns:
                table = qualified(spec.schema, spec.config.table)
                selects.append((table, columns, f"SELECT {_list(columns)} FROM {table}"))
        directory = seeds_dir or seed.default_dir(spec)
        for sd in seed.load_seeds(directory, spec, Progress(QUIET)) if directory else []:
            columns = _columns(live, spec.schema, sd.table)
            if not columns or not sd.rows or any(k not in columns for k in sd.key):
                continue  # the plan creates the table (or its key)
            table = qualified(spec.schema, sd.table)
            keys = ", ".join(
                "(" + ", ".join(
                    f"CAST({seed.literal(row.get(k), columns[k])} AS {columns[k]})"
                    for k in sd.key
                ) + ")"
                for row in sd.rows
            )
            selects.append((
                table,
                columns,
                f"SELECT {_list(columns)} FROM {table} "
                f"WHERE ({_list(sd.key)}) IN (VALUES {keys})",
            ))
        if not selects:
            return
        with db.connection(copy_url) as copy:
            copy.execute("SET session_replication_role = replica")
            for table, columns, select in selects:
                cols = _list(columns)
                with (
                    live.cursor().copy(f"COPY ({select}) TO STDOUT".encode()) as out,
                    copy.cursor().copy(f"COPY {table} ({cols}) FROM STDIN".encode()) as into,
                ):
                    for block in out:
                        into.write(block)


def _columns(conn: psycopg.Connection[Any], schema: str, table: str) -> dict[str, str]:
    """Stored (not generated) column -> type; {} when the table does not exist."""
    rows = conn.execute(
        """select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a
            where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped
              and a.attgenerated = '' order by a.attnum""",
        (qualified(schema, table),),
    ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def _list(columns: dict[str, str] | list[str]) -> str:
    return ", ".join(quote(c) for c in columns)
