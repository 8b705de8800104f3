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
from schemadiff.progress import QUIET, VERBOSE, Progress

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


SHADOW_OPTION = click.option(
    "--shadow-server",
    "shadow_server",
    envvar="SCHEMADIFF_SHADOW_SERVER",
    metavar="URL",
    help="Build the shadow database on this server (same Postgres major as the target; a "
    "temporary database is created there and dropped) instead of a local throwaway Postgres "
    "(env SCHEMADIFF_SHADOW_SERVER).",
)


def _complete_env(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Environment names of the project file (none when there is no file or it is broken)."""
    from schemadiff import project

    try:
        names = project.load().environments
    except SchemadiffError:
        return []
    return [n for n in sorted(names) if n.startswith(incomplete)]


def _complete_hazards(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[str]:
    """Hazard codes for the last item of a comma-separated list: `data_loss,ind` ->
    `data_loss,index_build`."""
    from schemadiff.hazards import HazardKind

    done, _, last = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    given = set(done.split(","))
    return [
        prefix + k.value
        for k in sorted(HazardKind, key=lambda k: k.value)
        if k.value.startswith(last) and k.value not in given
    ]


ENV_OPTION = click.option(
    "--env",
    "env_name",
    envvar="SCHEMADIFF_ENV",
    metavar="NAME",
    shell_complete=_complete_env,
    help="An environment of schemadiff.toml (or pyproject's [tool.schemadiff]): its URL "
    "variable, allowed hazards and timeouts (env SCHEMADIFF_ENV).",
)


PLAN_FORMATS = ("text", "sql", "json", "markdown", "html")
PLAN_FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(PLAN_FORMATS),
    default="text",
    show_default=True,
    help="What to print on stdout (markdown: a pull-request comment; html: a report page).",
)


def _handle_errors(func: F) -> F:
    """Turn user errors into a message on stderr and their exit code; never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            if "spec_path" in kwargs:
                kwargs["spec_path"] = _project_spec_default(kwargs["spec_path"])
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
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Only data, errors and warnings: no progress or status messages (as does the "
    "variable SCHEMADIFF_QUIET=1).",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Also details on stderr: timings per phase, each statement's SQL as apply runs it, "
    "the Postgres binaries chosen.",
)
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: bool) -> None:
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

    Progress goes to stderr: one line per phase, and on a terminal a counter that redraws
    itself (applying statement 12/85). -q before the command silences it, -v adds details.
    """
    if quiet and verbose:
        click.echo("error: give --quiet or --verbose, not both", err=True)
        sys.exit(EXIT_ERROR)
    # The one reporter of this run; commands find it with _progress().
    ctx.obj = Progress(QUIET if quiet else VERBOSE if verbose else None)


def _progress() -> Progress:
    """The reporter the group made for this run (a default one outside a click run)."""
    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(Progress) if ctx is not None else None
    return found if found is not None else Progress()


def _say(message: str) -> None:
    """A status message of the command (stderr; not with --quiet)."""
    _progress().say(message)


@cli.command()
@SPEC_OPTION
@_handle_errors
def validate(spec_path: str) -> None:
    """Check the spec and its seed files; print every problem as file:line:col: message (exit 1).
    """
    from schemadiff.seed import load_seeds
    from schemadiff.spec import load_spec

    spec = load_spec(spec_path)
    # The seed files are part of the project (the pre-commit hook runs on them too).
    rows = sum(len(t.rows) for t in load_seeds(_project_seeds(spec_path), spec, _progress()))
    _say(
        f"{spec_path}: ok ({len(spec.tables)} tables, {len(spec.functions)} functions, "
        f"{len(spec.config.keys) if spec.config else 0} config keys, {rows} seed rows)"
    )
    sys.exit(EXIT_OK)


@cli.command()
@SPEC_OPTION
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["sql", "mermaid", "html"]),
    default="sql",
    show_default=True,
    help="sql: DDL for an empty database, dependency-ordered; mermaid: an ER diagram; html: a "
    "self-contained report (diagram, every table, searchable).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here, not stdout.")
@_handle_errors
def render(spec_path: str, fmt: str, output: str | None) -> None:
    """Print what the spec stands for: the DDL of an empty database, or an ER diagram."""
    from schemadiff import render as r
    from schemadiff.spec import load_spec

    spec = load_spec(spec_path)
    if fmt == "html":
        from schemadiff.report import spec_html

        text = spec_html(spec)
    else:
        text = r.render_sql(spec) if fmt == "sql" else r.mermaid(spec)
    _write(text, output)


@cli.command("schema-json")
def schema_json() -> None:
    """Print the JSON Schema of schema.yaml, for editors (yaml-language-server)."""
    click.echo(
        resources.files("schemadiff").joinpath("spec.schema.json").read_text("utf-8"), nl=False
    )


COMPLETION_SHELLS = ("bash", "zsh", "fish")


@cli.command("completion")
@click.argument("shell", required=False, type=click.Choice(COMPLETION_SHELLS))
@_handle_errors
def completion_command(shell: str | None) -> None:
    """Print the shell completion script for SHELL (default: the login shell, $SHELL).

    \b
      eval "$(schemadiff completion bash)"     # in ~/.bashrc
      eval "$(schemadiff completion zsh)"      # in ~/.zshrc
      schemadiff completion fish > ~/.config/fish/completions/schemadiff.fish

    Completes commands, options, file names, --format values, --env with the environments
    of the project file and --allow-hazards with the hazard codes.
    """
    import os

    from click.shell_completion import get_completion_class

    if shell is None:
        shell = Path(os.environ.get("SHELL", "")).name
        if shell not in COMPLETION_SHELLS:
            raise SchemadiffError(
                f"cannot tell the shell from SHELL={os.environ.get('SHELL', '')!r}; name it: "
                f"schemadiff completion {'|'.join(COMPLETION_SHELLS)}"
            )
    completer = get_completion_class(shell)
    assert completer is not None  # every name of COMPLETION_SHELLS is built into click
    # The variable the console script checks: `_SCHEMADIFF_COMPLETE=bash_complete schemadiff`.
    click.echo(completer(cli, {}, "schemadiff", "_SCHEMADIFF_COMPLETE").source())


def _load(spec_path: str) -> Any:
    from schemadiff.spec import load_spec

    return load_spec(spec_path)


def _print_unmanaged(unmanaged: list[str]) -> None:
    for name in unmanaged:
        click.echo(f"not managed (left alone): {name}", err=True)


@cli.command()
@SPEC_OPTION
@DATABASE_OPTION
@SHADOW_OPTION
@ENV_OPTION
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    help="Also save the plan as JSON, for `schemadiff apply PLAN`.",
)
@PLAN_FORMAT_OPTION
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes (0 none, 1 error), like terraform plan.",
)
@click.option(
    "--lint/--no-lint",
    "lint",
    default=None,
    help="Run squawk over the plan's SQL (extra: schemadiff[lint]); by default it runs when "
    "installed. Findings go to stderr, or into the JSON as \"lint\".",
)
@click.option(
    "--validate",
    is_flag=True,
    help="Before showing the plan, apply it to a throwaway copy of the database's schema "
    "(same Postgres major) and plan again there: exit 1 unless that second plan is empty "
    "(also `validate = true` in an environment of schemadiff.toml).",
)
@_handle_errors
def plan(
    spec_path: str,
    database_url: str | None,
    shadow_server: str | None,
    env_name: str | None,
    out: str | None,
    fmt: str,
    detailed_exitcode: bool,
    lint: bool | None,
    validate: bool,
) -> None:
    """Show what apply would change in the database to make it match the spec.

    The spec is built in a throwaway shadow database of the target's Postgres major and
    compared with the target. Each statement carries its hazards (data_loss, ...).
    """
    from schemadiff import lint as squawk
    from schemadiff import target as tg
    from schemadiff.plan import planner

    if lint and not squawk.available():
        raise SchemadiffError(f"--lint needs squawk, which is not installed: {squawk.INSTALL_HINT}")
    spec_path, database_url, env = _project_target(spec_path, database_url, env_name)
    spec = _load(spec_path)
    target = tg.resolve(database_url, spec_path, _progress())
    with planner(
        spec, target.url, shadow_server, _progress(), _project_seeds(spec_path)
    ) as pl:
        result = pl.plan()
        if validate or (env is not None and env.validate):
            from schemadiff.validate import validate_plan

            click.echo(validate_plan(result, pl, target.url), err=True)
    _print_unmanaged(result.unmanaged)
    saved = result.to_json()
    if lint is not False and squawk.available():
        # Advice beside the plan (stderr, or "lint" in the JSON); apply goes by the hazards.
        import json

        findings = squawk.lint(result)
        data = json.loads(saved)
        data["lint"] = [f.to_json() for f in findings]
        saved = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        if fmt != "json":
            for f in findings:
                click.echo(f"lint (squawk): {f.describe()}", err=True)
    if out:
        Path(out).write_text(saved, encoding="utf-8")
        _say(f"plan saved to {out}; apply it with: schemadiff apply {out}")
    click.echo(saved if fmt == "json" else _render_plan(result, fmt, spec), nl=False)
    sys.exit(EXIT_CHANGES if detailed_exitcode and not result.empty else EXIT_OK)


@cli.command()
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, exists=True))
@SPEC_OPTION
@DATABASE_OPTION
@SHADOW_OPTION
@ENV_OPTION
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--allow-hazards",
    default="",
    metavar="KIND,...",
    shell_complete=_complete_hazards,
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
    shadow_server: str | None,
    env_name: str | None,
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

    spec_path, database_url, env = _project_target(spec_path, database_url, env_name)
    lock_timeout, statement_timeout, lock_wait = _environment_timeouts(
        env, lock_timeout=lock_timeout, statement_timeout=statement_timeout, lock_wait=lock_wait
    )
    try:
        allowed = frozenset(parse_kinds(allow_hazards)) | (env.allow_hazards if env else set())
    except ValueError as e:
        raise SchemadiffError(str(e)) from None
    options = ap.Options(
        ap.duration(lock_timeout, "--lock-timeout"),
        ap.duration(statement_timeout, "--statement-timeout"),
        ap.seconds(lock_wait, "--lock-wait"),
        allowed,
    )
    spec = _load(spec_path)
    target = tg.resolve(database_url, spec_path, _progress())
    with planner(
        spec, target.url, shadow_server, _progress(), _project_seeds(spec_path)
    ) as pl:
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
                _say("Nothing to apply.")
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
                ap.apply_plan(
                    the_plan, target.url, options, before=not_stale, progress=_progress()
                )
            except _ChangedMeanwhile:
                _say("The database changed while this apply waited (another apply?); "
                     "planning again.")
                the_plan = pl.plan()
                _print_unmanaged(the_plan.unmanaged)
                click.echo(r.plan_text(the_plan), nl=False)
                continue
            break
        _say(f"Applied: {r.plan_counts(the_plan)}.")
        after = pl.plan()
    if not after.empty:
        raise NotConvergedError(
            "applied, but the database still differs from the spec:\n"
            + "\n".join(r.plan_summary(after))
        )
    _say("The database matches the spec.")


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
@SHADOW_OPTION
@ENV_OPTION
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@_handle_errors
def drift(
    spec_path: str, database_url: str | None, shadow_server: str | None, env_name: str | None,
    fmt: str,
) -> None:
    """For CI: exit 0 when the database matches the spec, 2 when it drifted, 1 on error."""
    from schemadiff import target as tg
    from schemadiff.plan import make_plan

    spec_path, database_url, _ = _project_target(spec_path, database_url, env_name)
    spec = _load(spec_path)
    target = tg.resolve(database_url, spec_path, _progress())
    result = make_plan(spec, target.url, shadow_server, _progress(), _project_seeds(spec_path))
    _print_unmanaged(result.unmanaged)
    if result.empty:
        _say(f"in sync: {target.label} matches {spec_path}")
        if fmt != "text":
            click.echo(_render_plan(result, fmt, spec), nl=False)
        sys.exit(EXIT_OK)
    click.echo(f"drift: {target.label} differs from {spec_path}", err=True)
    click.echo(_render_plan(result, fmt, spec), nl=False)
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
    _say("embedded database stopped" if stopped else "embedded database was not running")


# -- seed and config commands ------------------------------------------------------------------

SEED_MODES = ("insert", "upsert", "sync")


@cli.command()
@SPEC_OPTION
@DATABASE_OPTION
@click.option(
    "--mode",
    type=click.Choice(SEED_MODES),
    default="insert",
    show_default=True,
    help="insert: add missing rows; upsert: also update rows whose seeded columns differ; "
    "sync: also delete rows the seed files do not list (asks first).",
)
@click.option(
    "--seeds",
    "seeds_dir",
    type=click.Path(file_okay=False),
    help="The seed directory (default: the project file's `seeds`, else seeds/ next to the "
    "spec).",
)
@click.option("--yes", is_flag=True, help="Confirm the deletions of --mode sync without asking.")
@click.option("--dry-run", is_flag=True, help="Print the SQL on stdout; change nothing.")
@_handle_errors
def seed(
    spec_path: str,
    database_url: str | None,
    mode: str,
    seeds_dir: str | None,
    yes: bool,
    dry_run: bool,
) -> None:
    """Load the default rows of seeds/<table>.yaml (foreign-key order); twice changes nothing.

    Rows are matched by primary key. Prints what changed per table on stderr; with --dry-run,
    the SQL on stdout. Deleting rows (--mode sync) needs --yes, or y on a terminal.
    """
    from schemadiff import apply as ap
    from schemadiff import render as r
    from schemadiff import seed as sd
    from schemadiff import target as tg
    from schemadiff.hazards import HazardKind

    spec = _load(spec_path)
    directory = Path(seeds_dir) if seeds_dir else _project_seeds(spec_path, sd.SEEDS_DIR)
    if not directory.is_dir():
        raise SchemadiffError(
            f"no seed directory {directory}: put one file per table there "
            "(seeds/<table>.yaml, a list of rows), or pass --seeds DIR"
        )
    seeds = sd.load_seeds(directory, spec, _progress())
    target = tg.resolve(database_url, spec_path, _progress())
    the_plan = sd.seed_plan(spec, target.url, seeds, mode)
    if dry_run:
        if the_plan.changes:
            click.echo(r.plan_sql(the_plan), nl=False)
        for line in sd.summary(seeds, the_plan.changes, done=False):
            _say(f"seed ({mode}, dry run): {line}")
        sys.exit(EXIT_OK)
    if not the_plan.changes:
        _say(f"seed ({mode}): nothing to change in {target.label}")
        sys.exit(EXIT_OK)
    deletions = [c for c in the_plan.changes if c.action == "drop"]
    if deletions and not yes:
        for c in deletions:
            click.echo(f"  - {c.name}", err=True)
        _confirm_seed_deletions(target.label, len(deletions))
    ap.apply_plan(
        the_plan,
        target.url,
        ap.Options(allowed_hazards=frozenset({HazardKind.SEED_ROWS_DELETED})),
        progress=_progress(),
    )
    for line in sd.summary(seeds, the_plan.changes, done=True):
        _say(f"seed ({mode}): {line}")


def _confirm_seed_deletions(label: str, n: int) -> None:
    rows = f"{n} row{'s' if n != 1 else ''}"
    if not sys.stdin.isatty():
        raise SchemadiffError(
            f"seed --mode sync would delete {rows} (listed above; hazard seed_rows_deleted), "
            "and stdin is not a terminal to ask; pass --yes to confirm"
        )
    if not click.confirm(f"Delete {rows} from {label}?", default=False, err=True):
        raise RefusedError("seed cancelled; nothing changed")


@cli.group("config")
def config_group() -> None:
    """Managed config keys (the spec's config: section); secret values are shown as ***."""


@config_group.command("list")
@SPEC_OPTION
@DATABASE_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_handle_errors
def config_list(spec_path: str, database_url: str | None, fmt: str) -> None:
    """Every key: its value in the database and its description (secrets as ***)."""
    import json

    from schemadiff import config as cf
    from schemadiff import target as tg

    spec = _load(spec_path)
    found = cf.entries(spec, cf.read(spec, tg.resolve(database_url, spec_path, _progress()).url))
    if fmt == "json":
        data = [
            {
                "key": e.key,
                "value": e.shown(),
                "description": e.description,
                "secret": e.secret,
                "in_spec": e.in_spec,
                "in_database": e.value is not None,
            }
            for e in found
        ]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    rows = [
        (
            e.key,
            "(missing)" if e.value is None else str(e.shown()),
            e.description if e.in_spec else "(not in the spec: apply deletes it)",
        )
        for e in found
    ]
    rows.insert(0, ("KEY", "VALUE", "DESCRIPTION"))
    kw = max(len(k) for k, _, _ in rows)
    vw = min(max(len(v) for _, v, _ in rows), 40)
    for k, v, d in rows:
        click.echo(f"{k:<{kw}}  {v:<{vw}}  {d}".rstrip())


@config_group.command("get")
@click.argument("key")
@SPEC_OPTION
@DATABASE_OPTION
@click.option("--show-secrets", is_flag=True, help="Print a secret's value instead of ***.")
@_handle_errors
def config_get(spec_path: str, database_url: str | None, key: str, show_secrets: bool) -> None:
    """Print the value of KEY in the database (a secret as *** unless --show-secrets)."""
    from schemadiff import config as cf
    from schemadiff import target as tg

    spec = _load(spec_path)
    entry = cf.get(spec, cf.read(spec, tg.resolve(database_url, spec_path, _progress()).url), key)
    click.echo(entry.shown(show_secrets))
    if entry.secret and not show_secrets and entry.value:
        _say(f"({key} is secret; --show-secrets prints it)")


@config_group.command("set")
@click.argument("key")
@click.argument("value")
@SPEC_OPTION
@DATABASE_OPTION
@_handle_errors
def config_set(spec_path: str, database_url: str | None, key: str, value: str) -> None:
    """Set KEY to VALUE in the database (only keys the spec declares)."""
    from schemadiff import config as cf
    from schemadiff import target as tg

    spec = _load(spec_path)
    target = tg.resolve(database_url, spec_path, _progress())
    for warning in cf.set_value(spec, target.url, key, value):
        click.echo(f"warning: {warning}", err=True)
    _say(f"config: {key} set in {target.label}")


# -- import ------------------------------------------------------------------------------------


@cli.command("import")
@DATABASE_OPTION
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the spec to this file (an existing one only with --force); stdout without it.",
)
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@click.option(
    "--schema", "schema", default="public", show_default=True, help="The schema to import."
)
@click.option(
    "--config-table",
    metavar="NAME",
    help="Also import this key/value table's rows as managed config keys (current values "
    "become defaults; secrets must be marked by hand).",
)
@_handle_errors
def import_command(
    database_url: str | None,
    output: str | None,
    force: bool,
    schema: str,
    config_table: str | None,
) -> None:
    """Write a spec (schema.yaml) from a live database: adopt an existing database.

    Everything the spec cannot express (domains, partitioned tables, materialized views,
    policies, ...) is listed on stderr as `not managed: KIND NAME`; `schemadiff plan` against
    the same database with the written spec is empty.
    """
    from schemadiff import target as tg
    from schemadiff.introspect import import_database

    if output and Path(output).exists() and not force:
        raise SchemadiffError(f"{output} exists; pass --force to overwrite it")
    target = tg.resolve(database_url, output or "schema.yaml", _progress())
    result = import_database(target.url, schema, config_table, _progress())
    for item in result.unmanaged:
        click.echo(f"not managed: {item}", err=True)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    _write(result.text, output)
    if result.problems:
        click.echo("error: the written spec does not validate (please report this):", err=True)
        for problem in result.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(EXIT_ERROR)


# -- pull-request workflow: diff, fmt, init --------------------------------------------------

def _render_plan(result: Any, fmt: str, spec: Any) -> str:
    """A plan in one of PLAN_FORMATS (markdown: a pull-request comment; needs the spec)."""
    from schemadiff import render as r

    if fmt == "markdown":
        return r.plan_markdown(result, spec)
    if fmt == "html":
        from schemadiff.report import plan_html

        return plan_html(result, spec)
    renderers: dict[str, Callable[[Any], str]] = {
        "text": r.plan_text, "sql": r.plan_sql, "json": r.plan_json
    }
    return renderers[fmt](result)


@cli.command("diff")
@click.argument("old_spec", metavar="OLD_SPEC")
@click.argument("new_spec", metavar="[NEW_SPEC]", required=False)
@PLAN_FORMAT_OPTION
@click.option(
    "--major",
    type=int,
    metavar="N",
    help="Postgres major to build both specs in (default: the first local installation).",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when the specs differ (0 same, 1 error), like plan --detailed-exitcode.",
)
@_handle_errors
def diff_command(
    old_spec: str, new_spec: str | None, fmt: str, major: int | None, detailed_exitcode: bool
) -> None:
    """What changing the spec from OLD_SPEC to NEW_SPEC does to a database; no database needed.

    Both are built into throwaway databases of a private local Postgres, and NEW_SPEC is
    planned against the OLD_SPEC one, as `plan` would against a database that holds OLD_SPEC.
    Rows at stake are unknown, so every hazard that depends on rows is reported. NEW_SPEC
    defaults to the project's spec (schema.yaml). Either may be `-`, standard input:

    \b
      git show origin/main:schema.yaml | schemadiff diff - schema.yaml --format markdown
    """
    from schemadiff import specdiff

    new_path = new_spec or _project_spec_path(None)
    if old_spec == specdiff.STDIN and new_path == specdiff.STDIN:
        raise SchemadiffError("only one of OLD_SPEC and NEW_SPEC can be - (standard input)")
    old_src, new_src = specdiff.read_source(old_spec), specdiff.read_source(new_path)
    old, new = specdiff.parse(old_src), specdiff.parse(new_src)
    result = specdiff.diff_specs(
        old, new, major, f"{old_src.label} -> {new_src.label}", _progress()
    )
    click.echo(_render_plan(result, fmt, new), nl=False)
    if result.empty:
        _say(f"no changes: {new_src.label} and {old_src.label} build the same schema")
    sys.exit(EXIT_CHANGES if detailed_exitcode and not result.empty else EXIT_OK)


@cli.command("fmt")
@click.argument("files", metavar="[FILE]...", nargs=-1)
@click.option(
    "--check",
    is_flag=True,
    help="Change nothing: exit 1 and print a unified diff when a file is not formatted, else 0.",
)
@_handle_errors
def fmt_command(files: tuple[str, ...], check: bool) -> None:
    """Rewrite the spec (default schema.yaml) in its canonical layout; comments are kept.

    Keys in the order docs/spec.md shows for each kind of node, 2-space indentation, list
    items as `  - name: x`. The result loads to the same spec: fmt refuses otherwise. FILE `-`
    reads standard input and prints the formatted text.
    """
    from schemadiff import fmt as f
    from schemadiff.specdiff import STDIN, read_source

    unformatted = 0
    for path in files or (_project_spec_path(None),):
        source = read_source(path)
        formatted = f.format_text(source.text, source.label)
        if check:
            if formatted == source.text:
                _say(f"{source.label}: formatted")
                continue
            unformatted += 1
            click.echo(f.unified_diff(source.text, formatted, source.label), nl=False)
            click.echo(f"{source.label}: not formatted; run `schemadiff fmt {path}`", err=True)
        elif path == STDIN:
            click.echo(formatted, nl=False)
        elif formatted == source.text:
            _say(f"{path}: already formatted")
        else:
            Path(path).write_text(formatted, encoding="utf-8")
            _say(f"{path}: formatted")
    sys.exit(EXIT_ERROR if unformatted else EXIT_OK)


@cli.command("init")
@click.argument("directory", metavar="[DIR]", default=".", type=click.Path(file_okay=False))
@click.option(
    "--from-database",
    metavar="URL",
    help="Adopt an existing database: its schema becomes schema.yaml (import).",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist already.")
@_handle_errors
def init_command(directory: str, from_database: str | None, force: bool) -> None:
    """Start a project in DIR: schema.yaml (an example table), schema.json, seeds/, settings.

    schema.yaml starts with a `# yaml-language-server: $schema=./schema.json` line, so editors
    with the YAML extension complete and check it against schema.json. With --from-database,
    schema.yaml describes that database instead of the example (plan against it is empty).
    """
    from schemadiff import scaffold
    from schemadiff.spec import load_spec

    report = lambda message: click.echo(message, err=True)  # noqa: E731
    written = scaffold.init(Path(directory), from_database, force, report)
    for w in written:
        _say(f"wrote {w.path} ({w.what})")
    spec = load_spec(Path(directory) / "schema.yaml")
    _say(
        f"{len(spec.tables)} table{'s' if len(spec.tables) != 1 else ''} declared. Next: "
        "edit schema.yaml, then `schemadiff plan` and `schemadiff apply` "
        "(without DATABASE_URL, an embedded Postgres under .schemadiff/ is used)."
    )


def _project_spec_path(spec_path: str | None) -> str:
    """The spec path: given, or SCHEMADIFF_SPEC, or the project file's `spec`, or schema.yaml."""
    import os

    from schemadiff import project

    if spec_path or os.environ.get("SCHEMADIFF_SPEC"):
        return spec_path or os.environ["SCHEMADIFF_SPEC"]
    found = project.load().spec
    return _shown_path(found) if found else "schema.yaml"


def _project_spec_default(spec_path: str) -> str:
    """--spec as given; when it was left at its default, the project file's `spec` if any.

    Every command that takes --spec goes through this (in _handle_errors), so validate,
    seed, verify, dev status, ... read the same spec as plan and apply.
    """
    from click.core import ParameterSource

    from schemadiff import project

    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.get_parameter_source("spec_path") != ParameterSource.DEFAULT:
        return spec_path
    found = project.load().spec
    return _shown_path(found) if found else spec_path


def _project_seeds(spec_path: str, default: str = "seeds") -> Path:
    """The seed directory: the project file's `seeds`, else `default` next to the spec."""
    from schemadiff import project

    found = project.load().seeds
    return Path(_shown_path(found)) if found else Path(spec_path).parent / default


def _shown_path(path: Path) -> str:
    """A path relative to the current directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _project_target(
    spec_path: str, database_url: str | None, env_name: str | None
) -> tuple[str, str | None, Any]:
    """Apply the project file (schemadiff.toml / [tool.schemadiff]) to plan, apply and drift.

    The spec comes from the file unless --spec (or SCHEMADIFF_SPEC) names one. With --env,
    the URL comes from the environment's `url_env` variable, which wins over DATABASE_URL;
    giving --database-url as well is an error.
    """
    import os

    from click.core import ParameterSource

    from schemadiff import project

    ctx = click.get_current_context()
    settings = project.load()
    if ctx.get_parameter_source("spec_path") == ParameterSource.DEFAULT and settings.spec:
        spec_path = _shown_path(settings.spec)
    if not env_name:
        return spec_path, database_url, None
    env = settings.environment(env_name)
    if ctx.get_parameter_source("database_url") == ParameterSource.COMMANDLINE:
        raise SchemadiffError(
            f"give --env {env_name} or --database-url, not both (the environment names its URL "
            f"in {env.url_env or 'DATABASE_URL'})"
        )
    if env.url_env:
        database_url = os.environ.get(env.url_env)
        if not database_url:
            raise SchemadiffError(
                f"environment '{env_name}' reads its database URL from the variable "
                f"{env.url_env}, which is not set"
            )
    _say(f"environment: {env_name} ({settings.file})")
    return spec_path, database_url, env


def _environment_timeouts(env: Any, **given: str) -> tuple[str, str, str]:
    """apply's timeouts: the command line's, else the environment's, else the defaults."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    out = []
    for name in ("lock_timeout", "statement_timeout", "lock_wait"):
        value = given[name]
        if env is not None and ctx.get_parameter_source(name) == ParameterSource.DEFAULT:
            value = getattr(env, name) or value
        out.append(value)
    return out[0], out[1], out[2]


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

    Drops the spec's triggers, views, materialized views, tables (with their indexes,
    constraints, policies, partitions, owned sequences and rows, the config rows included),
    sequences, functions, procedures, domains, composite types and enums. Objects the spec
    does not declare stay. Refuses (exit 3), dropping nothing, when one of them depends on a
    managed object (never CASCADE). Asks y/N (--yes skips the question; without a terminal
    --yes is needed). Runs in one transaction under apply's advisory lock; recorded in
    schemadiff.apply_history.
    """
    from schemadiff import apply as ap
    from schemadiff import reset as rs
    from schemadiff import target as tg

    timeout = ap.duration(lock_timeout, "--lock-timeout")
    wait_s = ap.seconds(lock_wait, "--lock-wait")
    spec = _load(spec_path)
    target = tg.resolve(database_url, spec_path, _progress())
    found = rs.inspect(spec, target.url)
    if found.empty:
        _say(f"Nothing to reset: none of the objects {spec_path} manages exists in {target.label}.")
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
        _say("dry run: nothing was dropped")
        return
    if not yes:
        if not sys.stdin.isatty():
            raise SchemadiffError(
                "reset needs confirmation, but stdin is not a terminal; pass --yes to drop "
                "without asking (nothing was dropped)"
            )
        if not click.confirm(f"Drop these objects from {target.label}?", default=False, err=True):
            raise RefusedError("reset cancelled; nothing was dropped")
    done = rs.run(spec, target.url, found, timeout, wait_s, _progress())
    counts: dict[str, int] = {}
    for d in done.drops:
        counts[d.kind] = counts.get(d.kind, 0) + len(d.names)
    what = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items())
    _say(f"Reset: dropped {what} from {target.label}.")


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
    and does not fail verify. Seed rows (the project file's `seeds`, else seeds/ next to the
    spec) are checked by primary key.
    """
    from schemadiff import target as tg
    from schemadiff.verify import verify

    spec = _load(spec_path)
    target = tg.resolve(database_url, spec_path, _progress())
    report = verify(spec, target.url, _project_seeds(spec_path), _progress())
    click.echo(report.text() if fmt == "text" else report.to_json(), nl=False)
    extras = len(report.extras)
    note = f"; {extras} extra object{'s' if extras != 1 else ''}, not managed" if extras else ""
    if report.ok:
        _say(
            f"verified: {target.label} has every object, seed row and config key of "
            f"{spec_path}{note}"
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
        _say(f"wrote {output}")
    else:
        click.echo(text, nl=False)


def _terminated(signum: int, frame: object) -> None:
    # SIGTERM (a CI job cancelled, `timeout`) unwinds like Ctrl-C: with-blocks run, so the
    # throwaway shadow Postgres is stopped and an open transaction rolled back.
    raise KeyboardInterrupt


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, _terminated)
    try:
        # Named explicitly: `python -m schemadiff` must answer the same completion variable.
        # Not standalone: click exits 2 on a usage error, which is our "changes present" /
        # "drifted" code; a typo in a CI job must not read as drift.
        code = cli.main(
            prog_name="schemadiff", complete_var="_SCHEMADIFF_COMPLETE", standalone_mode=False
        )
    except click.ClickException as e:  # usage errors, bad option values, missing files
        e.show()
        sys.exit(EXIT_ERROR)
    except (KeyboardInterrupt, click.Abort):
        click.echo("interrupted", err=True)
        sys.exit(EXIT_ERROR)
    # --help, --version and completion end through click's Exit, returned here as a code.
    sys.exit(code if isinstance(code, int) else EXIT_OK)
