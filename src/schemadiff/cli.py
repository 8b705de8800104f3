"""The command line: a thin click layer over plain functions; exit codes come from errors.py."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click

from schemadiff.errors import EXIT_ERROR, EXIT_OK, SchemadiffError, SpecError

F = TypeVar("F", bound=Callable[..., Any])

SPEC_OPTION = click.option(
    "--spec", "spec_path", default="schema.yaml", show_default=True,
    type=click.Path(dir_okay=False), envvar="SCHEMADIFF_SPEC",
    help="The schema file (env SCHEMADIFF_SPEC).",
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

    Describe the database in schema.yaml; `validate` checks it, `render` shows the DDL it
    stands for. Exit codes: 0 ok, 1 error, 2 changes present, 3 refused.
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
    "--format", "fmt", type=click.Choice(["sql", "mermaid"]), default="sql", show_default=True,
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
    click.echo(resources.files("schemadiff").joinpath("spec.schema.json").read_text("utf-8"), nl=False)


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
