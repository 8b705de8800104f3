"""`schemadiff init`: a new project's files, or an existing database adopted as its spec."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from schemadiff import fmt
from schemadiff.errors import SchemadiffError

SCHEMA_LINE = "# yaml-language-server: $schema=./schema.json"

EXAMPLE_SPEC = f"""\
{SCHEMA_LINE}
# The database, declared. `schemadiff plan` shows what would change in it,
# `schemadiff apply` changes it. Every kind of node is described in schemadiff's docs/spec.md.
version: 1

tables:
  notes:
    comment: An example table; rename it or replace it with your own
    columns:
      id: {{type: bigserial}}
      title: {{type: text, nullable: false}}
      body: text
      created_at: {{type: timestamptz, nullable: false, default: {{sql: now()}}}}
    primary_key: [id]
    indexes:
      - columns: [created_at]
"""

SEEDS_README = """\
Default rows, one file per table: `<table>.yaml` holds a list of rows (column: value).
`schemadiff seed` loads them in foreign-key order, matched by primary key; twice changes nothing.

Example, `notes.yaml`:

    - {id: 1, title: Welcome}
"""

PROJECT_TOML = """\
# schemadiff project settings. Paths are relative to this file.
spec = "schema.yaml"
seeds = "seeds"

# `--env NAME` on plan, apply and drift selects one of these.
[environments.dev]
url_env = "DATABASE_URL"

# [environments.prod]
# url_env = "PROD_DATABASE_URL"      # the variable that holds the URL (never the URL itself)
# allow_hazards = ["index_build"]    # what apply accepts here without --allow-hazards
# lock_timeout = "3s"
# statement_timeout = "5min"
"""


@dataclass(frozen=True)
class Written:
    path: Path
    what: str


def importer() -> Callable[[str], Any] | None:
    """`schemadiff.introspect.import_database` (URL -> result with .text), when it exists."""
    try:
        module = importlib.import_module("schemadiff.introspect")
    except ImportError:
        return None
    fn: Any = getattr(module, "import_database", None)
    return fn if callable(fn) else None


def init(
    directory: Path,
    from_database: str | None = None,
    force: bool = False,
    report: Callable[[str], None] = lambda message: None,
) -> list[Written]:
    """Write schema.yaml, schema.json, seeds/ and schemadiff.toml into `directory`.

    With `from_database` (a URL), schema.yaml is that database imported, in fmt's layout;
    what it cannot describe is passed to `report`, one line each.
    """
    names = ("schema.yaml", "schema.json", "seeds/README.md", "schemadiff.toml")
    existing = [directory / n for n in names if (directory / n).exists()]
    if existing and not force:
        shown = ", ".join(str(p) for p in existing)
        raise SchemadiffError(f"init would overwrite {shown}; pass --force to overwrite them")
    spec_text = EXAMPLE_SPEC
    if from_database is not None:
        fn = importer()
        if fn is None:
            raise SchemadiffError(
                "init --from-database: import is not available yet in this version of "
                "schemadiff; run `schemadiff init` and describe the tables by hand"
            )
        result = fn(from_database)
        for item in getattr(result, "unmanaged", []):
            report(f"not managed: {item}")
        for note in getattr(result, "notes", []):
            report(f"note: {note}")
        if getattr(result, "problems", []):
            raise SchemadiffError(
                "init --from-database: the imported spec does not validate (please report "
                "this): " + "; ".join(result.problems)
            )
        text = str(getattr(result, "text", result))
        body = text if text.endswith("\n") else text + "\n"
        spec_text = body if body.startswith(SCHEMA_LINE) else f"{SCHEMA_LINE}\n{body}"
        with contextlib.suppress(SchemadiffError):  # fmt's layout, so `fmt --check` passes
            spec_text = fmt.format_text(spec_text, "schema.yaml")
    files = {
        directory / "schema.yaml": (spec_text, "the spec"),
        directory / "schema.json": (
            resources.files("schemadiff").joinpath("spec.schema.json").read_text("utf-8"),
            "its JSON Schema, for editors",
        ),
        directory / "seeds" / "README.md": (SEEDS_README, "where default rows go"),
        directory / "schemadiff.toml": (PROJECT_TOML, "project settings"),
    }
    written = []
    for path, (text, what) in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(Written(path, what))
    return written
