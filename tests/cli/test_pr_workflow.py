"""The pull-request workflow: plan/diff as a markdown comment, spec-to-spec diff, fmt, project
settings (schemadiff.toml / [tool.schemadiff], --env), init."""

from __future__ import annotations

import html
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
import pytest

from schemadiff import postgres, scaffold
from schemadiff.spec import load_spec

from ..conftest import ROOT, run_cli, write_spec
from .common import SPEC_T, SPEC_T_EXTRA, TABLE_T_SQL, UNREACHABLE_URL, table_exists

MARKER = "<!-- schemadiff-plan -->"
GOLDEN = Path(__file__).parent / "golden" / "agentrade_diff.md"

# The old version of a spec: t, and a table `gone` that the new version (SPEC_T_EXTRA) drops.
SPEC_OLD = SPEC_T + """\
  gone:
    columns:
      id: {type: integer}
"""


def _env_without_database() -> dict[str, str]:
    """No database anywhere (run_cli also drops DATABASE_URL): diff must not need one."""
    assert not any(os.environ.get(v) for v in ("PGHOST", "PGDATABASE", "PGSERVICE"))
    return {"DATABASE_URL": ""}


# -- plan --format markdown --------------------------------------------------------------------


def test_plan_markdown_is_a_stable_pr_comment(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    db.execute(TABLE_T_SQL)
    db.execute("create table gone (id integer)")
    db.execute("insert into gone select generate_series(1, 3)")
    write_spec(tmp_path, SPEC_T_EXTRA.replace("    primary_key: [id]\n",
                                              "    primary_key: [id]\n    comment: the t\n"))
    first = run_cli("plan", "--database-url", db_url, "--format", "markdown", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    text = first.stdout
    lines = text.splitlines()
    assert lines[0] == MARKER
    assert lines[1] == "### ⚠️ schemadiff: 3 changes with hazards: data_loss"
    assert "| - | `public.gone` | table | dropped | data_loss |" in text
    assert "| + | `public.t.extra` | column | created |  |" in text
    assert "| ~ | `public.t` | comment on table | altered |  |" in text
    assert "- **data_loss** on `public.gone`: drops table `public.gone` and its rows " \
           "(rows at stake: **3**, 8192 bytes)" in text
    assert "`--allow-hazards data_loss`" in text
    assert "<details><summary>SQL (3 statements)</summary>" in text
    assert 'drop table "public"."gone";' in text
    assert "```mermaid\nerDiagram\n    t {" in text
    assert "gone {" not in text  # dropped: not in the new spec's diagram
    assert run_cli("plan", "--database-url", db_url, "--format", "markdown",
                   cwd=tmp_path).stdout == text  # same inputs, same bytes

    # In sync: the comment says so (a bot updates its comment to this).
    write_spec(tmp_path, SPEC_T)
    db.execute("drop table gone")
    same = run_cli("plan", "--database-url", db_url, "--format", "markdown", cwd=tmp_path)
    assert same.returncode == 0, same.stderr
    assert same.stdout.splitlines()[:2] == [MARKER, "### ✅ schemadiff: no changes"]
    assert "```" not in same.stdout


def test_drift_accepts_markdown(tmp_path: Path, db_url: str, db: psycopg.Connection[Any]) -> None:
    db.execute(TABLE_T_SQL)
    write_spec(tmp_path, SPEC_T_EXTRA)
    r = run_cli("drift", "--database-url", db_url, "--format", "markdown", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stdout.startswith(MARKER + "\n### 📝 schemadiff: 1 change\n")


# -- diff OLD NEW ------------------------------------------------------------------------------


def test_diff_of_two_specs_needs_no_database(tmp_path: Path) -> None:
    old = write_spec(tmp_path, SPEC_OLD, name="old.yaml")
    new = write_spec(tmp_path, SPEC_T_EXTRA, name="new.yaml")
    r = run_cli("diff", str(old), str(new), "--format", "json", env=_env_without_database(),
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["hazard_kinds"] == ["data_loss"]
    by_name = {(s["action"], s["kind"], s["name"]): s for s in plan["statements"]}
    drop = by_name[("drop", "table", '"public"."gone"')]
    hazard = drop["hazards"][0]
    assert (hazard["kind"], hazard["message"]) == (
        "data_loss", 'drops table "public"."gone" and its rows'
    )
    assert hazard["rows"] is None and hazard.get("size_bytes") is None  # unknown: no database
    assert ("create", "column", '"public"."t"."extra"') in by_name
    assert not (tmp_path / ".schemadiff").exists()  # no embedded database was started

    detailed = run_cli("diff", str(old), str(new), "--detailed-exitcode",
                       env=_env_without_database(), cwd=tmp_path)
    assert detailed.returncode == 2, detailed.stderr
    assert "- table \"public\".\"gone\"" in detailed.stdout
    same = run_cli("diff", str(new), str(new), "--detailed-exitcode",
                   env=_env_without_database(), cwd=tmp_path)
    assert same.returncode == 0, same.stderr
    assert same.stdout.startswith("No changes.")


def test_diff_of_two_git_revisions_reads_the_old_one_from_stdin(tmp_path: Path) -> None:
    # `git show origin/main:schema.yaml | schemadiff diff - schema.yaml --format markdown`
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=tmp_path, check=True, capture_output=True, text=True,
        ).stdout

    git("init", "-q")
    write_spec(tmp_path, SPEC_OLD)
    git("add", "schema.yaml")
    git("commit", "-q", "-m", "old")
    write_spec(tmp_path, SPEC_T_EXTRA)  # the working copy: the pull request's version
    old_text = git("show", "HEAD:schema.yaml")
    assert old_text == "version: 1\n" + SPEC_OLD
    r = run_cli("diff", "-", "--format", "markdown", input=old_text,
                env=_env_without_database(), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == MARKER
    assert "with hazards: data_loss" in r.stdout.splitlines()[1]
    assert "(stdin) -> schema.yaml" in r.stdout
    assert "rows at stake: **unknown**" in r.stdout

    bad = run_cli("diff", "-", "schema.yaml", input="version: 1\ntables: {t: {columns: 3}}\n",
                  env=_env_without_database(), cwd=tmp_path)
    assert bad.returncode == 1
    assert "(stdin):2:" in bad.stderr
    both = run_cli("diff", "-", "-", cwd=tmp_path, input="")
    assert both.returncode == 1
    assert "only one of OLD_SPEC and NEW_SPEC" in both.stderr


def _agentrade_changed() -> str:
    """The Agentrade spec as a pull request might change it."""
    text = (ROOT / "schema.yaml").read_text(encoding="utf-8")
    beta = "      beta_code: {type: text, comment: 内测码}\n"
    assert beta in text
    text = text.replace(beta, "")
    anchor = "  ai_models:\n"
    new_table = """\
  user_notes:
    comment: Notes a user keeps
    columns:
      id: {type: bigserial}
      user_id: {type: text, nullable: false}
      body: {type: text, nullable: false}
      created_at: {type: timestamptz, nullable: false, default: {sql: now()}}
    primary_key: [id]
    foreign_keys:
      - columns: [user_id]
        references: {table: users, columns: [id]}
        on_delete: cascade
    indexes:
      - columns: [user_id]

"""
    text = text.replace(anchor, new_table + anchor, 1)
    index = "      - {name: idx_ai_models_enabled, columns: [enabled]}\n"
    assert index in text
    added = "      - {name: idx_ai_models_provider, columns: [provider]}\n"
    return text.replace(index, index + added)


@pytest.mark.parametrize("major", sorted(i.major for i in postgres.discover()))
def test_agentrade_pr_comment_matches_the_golden_file(tmp_path: Path, major: int) -> None:
    """The markdown of a typical PR on the Agentrade schema, reviewed by hand in golden/."""
    new = tmp_path / "schema.yaml"
    new.write_text(_agentrade_changed(), encoding="utf-8")
    assert load_spec(new).table("user_notes") is not None
    old_text = (ROOT / "schema.yaml").read_text(encoding="utf-8")
    r = run_cli("diff", "-", "schema.yaml", "--format", "markdown", "--major", str(major),
                input=old_text, env=_env_without_database(), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    got = r.stdout.replace(f"(Postgres {major})", "(Postgres N)")
    if os.environ.get("SCHEMADIFF_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(got, encoding="utf-8")
    assert got == GOLDEN.read_text(encoding="utf-8")


# -- fmt ---------------------------------------------------------------------------------------

UNFORMATTED = """\
# yaml-language-server: $schema=./schema.json
tables:
  # the one table
  t:
    columns:   # in order
      id: {nullable: false, type: integer}  # the key
      name: text
    primary_key: [id]
    comment: a table  # said first once formatted
    indexes:
    - columns: [name]
      name: t_by_name
version: 1
"""

FORMATTED = """\
# yaml-language-server: $schema=./schema.json
version: 1
tables:
  # the one table
  t:
    comment: a table  # said first once formatted
    columns:   # in order
      id: {type: integer, nullable: false}  # the key
      name: text
    primary_key: [id]
    indexes:
      - name: t_by_name
        columns: [name]
"""


def test_fmt_check_then_fmt(tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(UNFORMATTED, encoding="utf-8")
    before = load_spec(path)
    check = run_cli("fmt", "--check", cwd=tmp_path)
    assert check.returncode == 1
    assert check.stdout.startswith("--- schema.yaml (as written)\n+++ schema.yaml (formatted)\n")
    assert "-version: 1\n" in check.stdout and "+version: 1\n" in check.stdout
    assert "not formatted; run `schemadiff fmt schema.yaml`" in check.stderr
    assert path.read_text(encoding="utf-8") == UNFORMATTED  # --check changes nothing

    done = run_cli("fmt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert path.read_text(encoding="utf-8") == FORMATTED  # comments kept, keys in order
    after = load_spec(path)
    assert [t.name for t in after.tables] == [t.name for t in before.tables]
    assert after.tables[0].columns == [
        c.__class__(**{**c.__dict__, "loc": a.loc}) for c, a in
        zip(before.tables[0].columns, after.tables[0].columns, strict=True)
    ]
    again = run_cli("fmt", "--check", "schema.yaml", cwd=tmp_path)
    assert again.returncode == 0, again.stdout
    assert again.stdout == ""
    stdin = run_cli("fmt", "-", input=UNFORMATTED, cwd=tmp_path)
    assert stdin.returncode == 0 and stdin.stdout == FORMATTED


def test_the_repository_spec_is_formatted() -> None:
    r = run_cli("fmt", "--check", str(ROOT / "schema.yaml"))
    assert r.returncode == 0, r.stdout


def test_fmt_round_trips_an_imported_pagila(db_url: str) -> None:
    """A real schema no one here wrote: imported, formatted once, formatted again unchanged."""
    from schemadiff import fmt
    from schemadiff.spec import parse_spec

    pagila = ROOT / "tests" / "realworld" / "pagila-schema.sql"
    from schemadiff.introspect import import_database

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(pagila.read_text(encoding="utf-8").encode())
    text = import_database(db_url).text
    once = fmt.format_text(text, "pagila.yaml")
    assert fmt.format_text(once, "pagila.yaml") == once
    assert fmt._meaning(once) == fmt._meaning(text)
    assert len(parse_spec(once, "pagila.yaml").tables) == 15


def test_fmt_reports_yaml_errors_with_position(tmp_path: Path) -> None:
    (tmp_path / "schema.yaml").write_text("version: 1\ntables:\n  t: [\n", encoding="utf-8")
    r = run_cli("fmt", "--check", cwd=tmp_path)
    assert r.returncode == 1
    assert "schema.yaml:4:1: YAML syntax error" in r.stderr


# -- project settings and --env ----------------------------------------------------------------


def test_env_selects_the_database_and_its_hazards(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    db.execute(TABLE_T_SQL)
    db.execute("create table gone (id integer)")
    (tmp_path / "db").mkdir()
    write_spec(tmp_path / "db", SPEC_T, name="app.yaml")
    (tmp_path / "schemadiff.toml").write_text(
        """\
spec = "db/app.yaml"

[environments.prod]
url_env = "PROD_DATABASE_URL"
allow_hazards = ["data_loss"]
lock_timeout = "2s"

[environments.staging]
url_env = "STAGING_DATABASE_URL"
""",
        encoding="utf-8",
    )
    env = {"PROD_DATABASE_URL": db_url, "DATABASE_URL": UNREACHABLE_URL}
    plan = run_cli("plan", "--env", "prod", "--format", "json", env=env, cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert "environment: prod (schemadiff.toml)" in plan.stderr
    assert json.loads(plan.stdout)["hazard_kinds"] == ["data_loss"]  # planned against prod

    # prod allows data_loss: apply needs no --allow-hazards there.
    applied = run_cli("apply", "--env", "prod", "--auto-approve", env=env, cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert not table_exists(db, "gone")
    drift = run_cli("drift", "--env", "prod", env=env, cwd=tmp_path)
    assert drift.returncode == 0, drift.stderr

    unset = run_cli("plan", "--env", "staging", env=env, cwd=tmp_path)
    assert unset.returncode == 1
    assert "STAGING_DATABASE_URL, which is not set" in unset.stderr
    typo = run_cli("plan", "--env", "prd", env=env, cwd=tmp_path)
    assert typo.returncode == 1
    assert "no environment 'prd' (did you mean 'prod'?)" in typo.stderr
    both = run_cli("plan", "--env", "prod", "--database-url", db_url, env=env, cwd=tmp_path)
    assert both.returncode == 1
    assert "not both" in both.stderr


def test_unknown_project_keys_are_errors_with_file_and_line(tmp_path: Path) -> None:
    write_spec(tmp_path, SPEC_T)
    (tmp_path / "pyproject.toml").write_text(
        """\
[project]
name = "app"

[tool.schemadiff]
spec = "schema.yaml"
seed = "seeds"

[tool.schemadiff.environments.prod]
url_env = "PROD_DATABASE_URL"
lock_timeout = "soon"
allow_hazards = ["data_los"]
""",
        encoding="utf-8",
    )
    r = run_cli("plan", "--env", "prod", cwd=tmp_path)
    assert r.returncode == 1
    assert "pyproject.toml:6:1: unknown key 'seed' in [tool.schemadiff] " \
           "(did you mean 'seeds'?)" in r.stderr
    assert "pyproject.toml:10:1: 'lock_timeout' must be a duration" in r.stderr
    assert "pyproject.toml:11:1: unknown hazard kind 'data_los'" in r.stderr
    assert "3 problems found." in r.stderr


# -- init --------------------------------------------------------------------------------------


def test_init_scaffolds_a_project_that_validates_and_plans(tmp_path: Path, db_url: str) -> None:
    r = run_cli("init", "app", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    app = tmp_path / "app"
    spec_text = (app / "schema.yaml").read_text(encoding="utf-8")
    assert spec_text.startswith("# yaml-language-server: $schema=./schema.json\n")
    packaged = resources.files("schemadiff").joinpath("spec.schema.json").read_text("utf-8")
    assert (app / "schema.json").read_text(encoding="utf-8") == packaged
    assert (app / "seeds").is_dir()
    assert "[environments.dev]" in (app / "schemadiff.toml").read_text(encoding="utf-8")

    assert run_cli("validate", cwd=app).returncode == 0
    assert run_cli("fmt", "--check", cwd=app).returncode == 0
    applied = run_cli("apply", "--auto-approve", "--database-url", db_url, cwd=app)
    assert applied.returncode == 0, applied.stderr
    assert run_cli("drift", "--env", "dev", env={"DATABASE_URL": db_url}, cwd=app).returncode == 0

    again = run_cli("init", "app", cwd=tmp_path)
    assert again.returncode == 1
    assert "--force" in again.stderr


def test_init_from_database_adopts_it(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    if scaffold.importer() is None:
        pytest.skip("schemadiff.introspect is not available")
    db.execute(TABLE_T_SQL)
    db.execute("create table notes (id bigserial primary key, t_id integer not null "
               "references t (id), body text not null default '', created_at timestamptz "
               "not null default now())")
    db.execute("create index notes_by_t on notes (t_id)")
    r = run_cli("init", "app", "--from-database", db_url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    app = tmp_path / "app"
    text = (app / "schema.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=./schema.json\n")
    assert "2 tables declared" in r.stderr
    assert run_cli("validate", cwd=app).returncode == 0
    check = run_cli("fmt", "--check", cwd=app)
    assert check.returncode == 0, check.stdout
    plan = run_cli("plan", "--database-url", db_url, "--detailed-exitcode", cwd=app)
    assert plan.returncode == 0, plan.stdout + plan.stderr  # the import round-trips


# -- HTML report -------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")


def _render_agentrade_html(tmp_path: Path) -> Path:
    out = tmp_path / "report.html"
    r = run_cli("render", "--spec", str(ROOT / "schema.yaml"), "--format", "html", "-o", str(out))
    assert r.returncode == 0, r.stderr
    return out


def test_html_report_is_self_contained_and_describes_every_table(tmp_path: Path) -> None:
    page = _render_agentrade_html(tmp_path).read_text(encoding="utf-8")
    spec = load_spec(ROOT / "schema.yaml")
    for t in spec.tables:
        assert f'<section class="table" id="table-{t.name}"' in page
        assert f'<g class="box" data-table="{t.name}"' in page  # in the diagram
    assert page.count("<svg") == 1 and page.count("<path class=\"edge\"") == sum(
        len(t.foreign_keys) for t in spec.tables
    )
    # columns with comments, indexes, constraints, triggers
    for text in ("用户ID", "idx_users_email", "users_invited_by_user_id_fkey",
                 "trg_users_updated_at", "set_updated_at()", '<input id="search"'):
        assert text in page
    # no network: nothing is loaded from anywhere
    for outside in ("<link", " src=", "@import", "url(http", 'href="http', "mermaid"):
        assert outside not in page
    again = _render_agentrade_html(tmp_path).read_text(encoding="utf-8")
    assert again == page


def test_plan_html(tmp_path: Path, db_url: str, db: psycopg.Connection[Any]) -> None:
    db.execute(TABLE_T_SQL)
    write_spec(tmp_path, SPEC_T_EXTRA)
    r = run_cli("plan", "--database-url", db_url, "--format", "html", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("<!DOCTYPE html>")
    assert "<h2>1 change</h2>" in r.stdout
    assert html.escape('alter table "public"."t" add column "extra" integer;') in r.stdout
    assert '<section class="table" id="table-t"' in r.stdout


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (Debian: chromium)")
def test_html_report_in_headless_chromium(tmp_path: Path) -> None:
    import subprocess

    page = _render_agentrade_html(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    base = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    env = {**os.environ, "HOME": str(home)}

    shot = tmp_path / "report.png"
    r = subprocess.run([*base, "--window-size=1400,1000", f"--screenshot={shot}",
                        page.as_uri()], capture_output=True, text=True, timeout=120, env=env)
    assert shot.exists() and shot.stat().st_size > 20_000, r.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    console = [line for line in r.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []  # no errors (nor anything else) on the console

    # The script ran (it writes the count), the diagram is in the page, and the search filters.
    dom = subprocess.run([*base, "--dump-dom", page.as_uri() + "#q=ai_models"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert '<svg width="' in dom.stdout
    assert 'id="count">1 of 26 tables<' in dom.stdout, dom.stderr[-2000:]
    assert [line for line in dom.stderr.splitlines() if ":CONSOLE" in line] == []
