"""The command line: a thin click layer over plain functions; exit codes come from errors.py."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click

from schemadiff.errors import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    NotConvergedError,
    RefusedError,
    SchemadiffError,
    SpecError,
)

F = TypeVar("F", bound=Callable[..., Any])

SPEC_OPTION = click.option(
    "--spec",
    "spec_path",
    default="schema.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    envvar="SCHEMADIFF_SPEC",
    help="The schema file (env SCHEMADIFF_SPEC).",
)


DATABASE_OPTION = click.option(
    "--database-url",
    envvar="DATABASE_URL",
    metavar="URL",
    help="Target database (env DATABASE_URL; libpq PG* variables also work). Without one, the "
    "embedded database under .schemadiff/ is started and used.",
)


def _handle_errors(func: F) -> F:
    """Turn user errors into a message on stderr and their exit code; never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SpecError as e:
            for problem in e.problems:
                click.echo(str(problem), err=True)
            n = len(e.problems)
            click.echo(f"{n} problem{'s' if n != 1 else ''} found.", err=True)
            sys.exit(e.exit_code)
        except SchemadiffError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(e.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="schemadiff")
def cli() -> None:
    """Declarative PostgreSQL schema-as-code.

    Describe the database in schema.yaml, then, like Terraform:

    \b
      schemadiff validate            check the spec
      schemadiff plan                what would change in the database
      schemadiff apply               change it (asks first; --auto-approve in scripts)
      schemadiff drift               for CI: exit 2 when the database differs

    Without --database-url / DATABASE_URL, commands use an embedded Postgres kept under
    .schemadiff/ (see `schemadiff dev status`).

    Exit codes: 0 ok / no changes, 1 error, 2 changes present, 3 refused (hazards, stale plan).
    """


@cli.command()
@SPEC_OPTION
@_handle_errors
def validate(spec_path: str) -> None:
    """Check the spec; print every problem as file:line:col: message (exit 1)."""
    from schemadiff.spec import load_spec

    spec = load_spec(spec_path)
    click.echo(
        f"{spec_path}: ok ({len(spec.tables)} tables, {len(spec.functions)} functions, "
        f"{len(spec.config.keys) if spec.config else 0} config keys)",
        err=True,
    )
    sys.exit(EXIT_OK)


@cli.command()
@SPEC_OPTION
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["sql", "mermaid"]),
    default="sql",
    show_default=True,
    help="sql: DDL for an empty database, dependency-ordered; mermaid: an ER diagram.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here, not stdout.")
@_handle_errors
def render(spec_path: str, fmt: str, output: str | None) -> None:
    """Print what the spec stands for: the DDL of an empty database, or an ER diagram."""
    from schemadiff import render as r
    from schemadiff.spec import load_spec

    spec = load_spec(spec_path)
    text = r.render_sql(spec) if fmt == "sql" else r.mermaid(spec)
    _write(text, output)


@cli.command("schema-json")
def schema_json() -> None:
    """Print the JSON Schema of schema.yaml, for editors (yaml-language-server)."""
    click.echo(
        resources.files("schemadiff").joinpath("spec.schema.json").read_text("utf-8"), nl=False
    )


def _load(spec_path: str) -> Any:
    from schemadiff.spec import load_spec

    return load_spec(spec_path)


def _print_unmanaged(unmanaged: list[str]) -> None:
    for name in unmanaged:
        click.echo(f"not managed (left alone): {name}", err=True)


@cli.command()
@SPEC_OPTION
@DATABASE_OPTION
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    help="Also save the plan as JSON, for `schemadiff apply PLAN`.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "sql", "json"]),
    default="text",
    show_default=True,
    help="What to print on stdout.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes (0 none, 1 error), like terraform plan.",
)
@_handle_errors
def plan(
    spec_path: str, database_url: str | None, out: str | None, fmt: str, detailed_exitcode: bool
) -> None:
    """Show what apply would change in the database to make it match the spec.

    The spec is built in a throwaway shadow database of the target's Postgres major and
    compared with the target. Each statement carries its hazards (data_loss, ...).
    """
    from schemadiff import render as r
    from schemadiff import target as tg
    from schemadiff.plan import make_plan

    spec = _load(spec_path)
    target = tg.resolve(database_url, spec_path)
    result = make_plan(spec, target.url)
    _print_unmanaged(result.unmanaged)
    if out:
        Path(out).write_text(result.to_json(), encoding="utf-8")
        click.echo(f"plan saved to {out}; apply it with: schemadiff apply {out}", err=True)
    renderers: dict[str, Callable[[Any], str]] = {
        "text": r.plan_text, "sql": r.plan_sql, "json": r.plan_json
    }
    text = renderers[fmt](result)
    click.echo(text, nl=False)
    sys.exit(EXIT_CHANGES if detailed_exitcode and not result.empty else EXIT_OK)


@cli.command()
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, exists=True))
@SPEC_OPTION
@DATABASE_OPTION
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--allow-hazards",
    default="",
    metavar="KIND,...",
    help="Hazard kinds to accept, e.g. data_loss,index_build (every kind present must be named).",
)
@click.option(
    "--lock-timeout",
    default="5s",
    show_default=True,
    help="How long a statement may wait for a table lock before apply gives up.",
)
@click.option(
    "--statement-timeout",
    default="0",
    show_default=True,
    help="How long one statement may run (0: no limit).",
)
@click.option(
    "--lock-wait",
    default="30s",
    show_default=True,
    help="How long to wait for another schemadiff apply on the same database.",
)
@_handle_errors
def apply(
    plan_file: str | None,
    spec_path: str,
    database_url: str | None,
    auto_approve: bool,
    allow_hazards: str,
    lock_timeout: str,
    statement_timeout: str,
    lock_wait: str,
) -> None:
    """Change the database to match the spec.

    Without PLAN_FILE: plans, shows the plan, asks y/N (--auto-approve skips the question).
    With PLAN_FILE (from `plan -o`): applies exactly that plan, refusing (exit 3) if the
    database or the spec changed since it was made. Hazardous plans need --allow-hazards.
    Runs under an advisory lock, in one transaction (CREATE INDEX CONCURRENTLY after it),
    records the apply in schemadiff.apply_history, then plans again to check it converged.
    """
    from schemadiff import apply as ap
    from schemadiff import render as r
    from schemadiff import target as tg
    from schemadiff.hazards import parse_kinds
    from schemadiff.plan import Plan, live_fingerprint, planner, spec_hash

    try:
        allowed = frozenset(parse_kinds(allow_hazards))
    except ValueError as e:
        raise SchemadiffError(str(e)) from None
    options = ap.Options(
        ap.duration(lock_timeout, "--lock-timeout"),
        ap.duration(statement_timeout, "--statement-timeout"),
        ap.seconds(lock_wait, "--lock-wait"),
        allowed,
    )
    spec = _load(spec_path)
    target = tg.resolve(database_url, spec_path)
    with planner(spec, target.url) as pl:
        if plan_file:
            the_plan = Plan.from_json(Path(plan_file).read_text(encoding="utf-8"), plan_file)
            if the_plan.spec_hash != spec_hash(spec):
                raise RefusedError(
                    f"stale plan: {spec_path} changed since {plan_file} was made; "
                    "run `schemadiff plan -o` again"
                )
        else:
            the_plan = pl.plan()
            _print_unmanaged(the_plan.unmanaged)
            click.echo(r.plan_text(the_plan), nl=False)
        while True:
            if the_plan.empty:
                click.echo("Nothing to apply.", err=True)
                sys.exit(EXIT_OK)
            ap.check_hazards(the_plan, allowed)
            if not plan_file and not auto_approve:
                _confirm(target.label)

            def not_stale(made: Plan = the_plan) -> None:
                if live_fingerprint(target.url, spec) == made.live_fingerprint:
                    return
                if plan_file:
                    raise RefusedError(
                        f"stale plan: the database changed since {plan_file} was made; "
                        "run `schemadiff plan -o` again"
                    )
                raise _ChangedMeanwhile

            try:
                # Checked under the advisory lock: another apply may have run meanwhile.
                ap.apply_plan(the_plan, target.url, options, before=not_stale)
            except _ChangedMeanwhile:
                click.echo("The database changed while this apply waited (another apply?); "
                           "planning again.", err=True)
                the_plan = pl.plan()
                _print_unmanaged(the_plan.unmanaged)
                click.echo(r.plan_text(the_plan), nl=False)
                continue
            break
        click.echo(f"Applied: {r.plan_counts(the_plan)}.", err=True)
        after = pl.plan()
    if not after.empty:
        raise NotConvergedError(
            "applied, but the database still differs from the spec:\n"
            + "\n".join(r.plan_summary(after))
        )
    click.echo("The database matches the spec.", err=True)


class _ChangedMeanwhile(Exception):
    """The live schema changed between planning and taking the apply lock."""


def _confirm(label: str) -> None:
    if not sys.stdin.isatty():
        raise SchemadiffError(
            "apply needs confirmation, but stdin is not a terminal; "
            "pass --auto-approve (or apply a reviewed plan file)"
        )
    if not click.confirm(f"Apply these changes to {label}?", default=False, err=True):
        raise RefusedError("apply cancelled; nothing changed")


@cli.command()
@SPEC_OPTION
@DATABASE_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_handle_errors
def drift(spec_path: str, database_url: str | None, fmt: str) -> None:
    """For CI: exit 0 when the database matches the spec, 2 when it drifted, 1 on error."""
    from schemadiff import render as r
    from schemadiff import target as tg
    from schemadiff.plan import make_plan

    spec = _load(spec_path)
    target = tg.resolve(database_url, spec_path)
    result = make_plan(spec, target.url)
    _print_unmanaged(result.unmanaged)
    if result.empty:
        click.echo(f"in sync: {target.label} matches {spec_path}", err=True)
        if fmt == "json":
            click.echo(result.to_json(), nl=False)
        sys.exit(EXIT_OK)
    click.echo(f"drift: {target.label} differs from {spec_path}", err=True)
    click.echo(r.plan_text(result) if fmt == "text" else result.to_json(), nl=False)
    sys.exit(EXIT_CHANGES)


@cli.group()
def dev() -> None:
    """The embedded local database under .schemadiff/ (used when no URL is given)."""


@dev.command("status")
@SPEC_OPTION
@_handle_errors
def dev_status(spec_path: str) -> None:
    """Say whether the embedded database exists and runs; print its URL when it does."""
    from schemadiff import target as tg

    text, cluster = tg.embedded_status(tg.project_dir(spec_path))
    click.echo(f"embedded database: {text}", err=True)
    if cluster is not None:
        click.echo(cluster.url())


@dev.command("stop")
@SPEC_OPTION
@_handle_errors
def dev_stop(spec_path: str) -> None:
    """Stop the embedded database cleanly (its data is kept)."""
    from schemadiff import target as tg

    stopped = tg.stop_embedded(tg.project_dir(spec_path))
    click.echo(
        "embedded database stopped" if stopped else "embedded database was not running", err=True
    )


# -- seed and config commands ------------------------------------------------------------------


# -- import ------------------------------------------------------------------------------------


# -- pull-request workflow: diff, fmt, init --------------------------------------------------


# -- reset and verify --------------------------------------------------------------------------


@cli.command("reset")
@SPEC_OPTION
@DATABASE_OPTION
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--dry-run", is_flag=True, help="Print the DROP statements on stdout; drop nothing."
)
@click.option(
    "--lock-timeout",
    default="5s",
    show_default=True,
    help="How long a DROP may wait for a table lock before reset gives up.",
)
@click.option(
    "--lock-wait",
    default="30s",
    show_default=True,
    help="How long to wait for a schemadiff apply running on the same database.",
)
@_handle_errors
def reset_command(
    spec_path: str,
    database_url: str | None,
    yes: bool,
    dry_run: bool,
    lock_timeout: str,
    lock_wait: str,
) -> None:
    """Drop every object the spec manages, and nothing else.

    Drops the spec's triggers, tables (with their indexes, constraints, owned sequences and
    rows, the config rows included), functions and enums. Objects the spec does not declare
    stay. Refuses (exit 3), dropping nothing, when one of them depends on a managed object
    (never CASCADE). Asks y/N (--yes skips the question; without a terminal --yes is needed).
    Runs in one transaction under apply's advisory lock; recorded in schemadiff.apply_history.
    """
    from schemadiff import apply as ap
    from schemadiff import reset as rs
    from schemadiff import target as tg

    timeout = ap.duration(lock_timeout, "--lock-timeout")
    wait_s = ap.seconds(lock_wait, "--lock-wait")
    spec = _load(spec_path)
    target = tg.resolve(database_url, spec_path)
    found = rs.inspect(spec, target.url)
    if found.empty:
        click.echo(
            f"Nothing to reset: none of the objects {spec_path} manages exists in {target.label}.",
            err=True,
        )
        return
    click.echo(
        f"reset drops from {target.label} (what the spec does not declare is left alone):",
        err=True,
    )
    for line in found.summary:
        click.echo(f"  - {line}", err=True)
    if dry_run:
        click.echo(found.sql, nl=False)
    rs.refuse_if_blocked(found)
    if dry_run:
        click.echo("dry run: nothing was dropped", err=True)
        return
    if not yes:
        if not sys.stdin.isatty():
            raise SchemadiffError(
                "reset needs confirmation, but stdin is not a terminal; pass --yes to drop "
                "without asking (nothing was dropped)"
            )
        if not click.confirm(f"Drop these objects from {target.label}?", default=False, err=True):
            raise RefusedError("reset cancelled; nothing was dropped")
    done = rs.run(spec, target.url, found, timeout, wait_s)
    counts: dict[str, int] = {}
    for d in done.drops:
        counts[d.kind] = counts.get(d.kind, 0) + len(d.names)
    what = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items())
    click.echo(f"Reset: dropped {what} from {target.label}.", err=True)


@cli.command("verify")
@SPEC_OPTION
@DATABASE_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_handle_errors
def verify_command(spec_path: str, database_url: str | None, fmt: str) -> None:
    """Check every managed object is present and equal, and every seed row and config key.

    Exit 0 when all is there, 2 with one line per thing missing or different, 1 on error.
    What the database has and the spec does not declare is listed as "extra (not managed)"
    and does not fail verify. Seed rows (seeds/ next to the spec) are checked by primary key.
    """
    from schemadiff import target as tg
    from schemadiff.verify import verify

    spec = _load(spec_path)
    target = tg.resolve(database_url, spec_path)
    report = verify(spec, target.url)
    click.echo(report.text() if fmt == "text" else report.to_json(), nl=False)
    extras = len(report.extras)
    note = f"; {extras} extra object{'s' if extras != 1 else ''}, not managed" if extras else ""
    if report.ok:
        click.echo(
            f"verified: {target.label} has every object, seed row and config key of "
            f"{spec_path}{note}",
            err=True,
        )
        sys.exit(EXIT_OK)
    n = len(report.problems)
    click.echo(
        f"verify failed: {n} thing{'s' if n != 1 else ''} missing or different in "
        f"{target.label}{note}",
        err=True,
    )
    sys.exit(EXIT_CHANGES)


def _write(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


def main() -> None:
    try:
        cli.main(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_ERROR)
