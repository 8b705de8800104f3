"""`schemadiff init`: a new project's files, or an existing database adopted as its spec."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

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


def importer() -> Callable[[str], str] | None:
    """`schemadiff.introspect`'s function that turns a database URL into spec YAML, if any."""
    try:
        module = importlib.import_module("schemadiff.introspect")
    except ImportError:
        return None
    for name in ("import_yaml", "spec_yaml", "import_spec_yaml", "to_yaml", "introspect_yaml"):
        fn: Any = getattr(module, name, None)
        if callable(fn):
            return fn  # type: ignore[no-any-return]
    return None


def init(directory: Path, from_database: str | None = None, force: bool = False) -> list[Written]:
    """Write schema.yaml, schema.json, seeds/ and schemadiff.toml into `directory`."""
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
        imported = fn(from_database)
        body = imported if imported.endswith("\n") else imported + "\n"
        spec_text = body if body.startswith(SCHEMA_LINE) else f"{SCHEMA_LINE}\n{body}"
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
