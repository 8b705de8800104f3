"""Units of the pull-request workflow: the markdown renderer, fmt, project settings, and the
CI files the repository ships (pre-commit hooks, the example GitHub workflow)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from schemadiff import fmt, project, render, scaffold
from schemadiff.differ import Change
from schemadiff.errors import SchemadiffError, SpecError
from schemadiff.hazards import Hazard, HazardKind
from schemadiff.plan import Plan
from schemadiff.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]


def _plan(*changes: Change) -> Plan:
    return Plan("postgresql://app:***@db/app", 16, "sha256:x", "sha256:y", list(changes))


SPEC = parse_spec(
    """\
version: 1
tables:
  users:
    columns:
      id: bigserial
      email: {type: text, nullable: false}
    primary_key: [id]
  posts:
    columns:
      id: bigserial
      user_id: {type: bigint, nullable: false}
    primary_key: [id]
    foreign_keys:
      - columns: [user_id]
        references: {table: users}
    indexes:
      - columns: [user_id]
  audit:
    columns:
      id: bigserial
""",
    "schema.yaml",
)


# -- markdown ----------------------------------------------------------------------------------


def test_markdown_of_an_empty_plan_is_the_marker_and_a_verdict() -> None:
    text = render.plan_markdown(_plan(), SPEC)
    assert text == (
        "<!-- schemadiff-plan -->\n### ✅ schemadiff: no changes\n\n"
        "Nothing to change: compared with `postgresql://app:***@db/app` (Postgres 16).\n"
    )


def test_markdown_lists_objects_by_action_with_hazards_and_touched_tables_only() -> None:
    drop = Change(
        "drop",
        "column",
        '"public"."users"."legacy_*name"',
        'alter table "public"."users" drop column "legacy_*name"',
        hazards=(
            Hazard(HazardKind.DATA_LOSS, 'drops column "public"."users"."legacy_*name"', 1234),
        ),
    )
    rename = Change(
        "rename", "table", '"public"."posts"', 'alter table "public"."post" rename to posts'
    )
    index = Change(
        "create",
        "index",
        '"public"."posts_user_id_idx"',
        "CREATE INDEX CONCURRENTLY posts_user_id_idx ON public.posts USING btree (user_id)",
        transactional=False,
        hazards=(Hazard(HazardKind.INDEX_BUILD, "builds it", None),),
    )
    text = render.plan_markdown(_plan(drop, rename, index), SPEC)
    lines = text.splitlines()
    assert lines[1] == "### ⚠️ schemadiff: 3 changes with hazards: data_loss, index_build"
    rows = [line for line in lines if line.startswith("| ") and "`" in line]
    assert rows == [
        "| + | `public.posts_user_id_idx` | index | created | index_build |",
        "| > | `public.posts` | table | renamed |  |",
        '| - | `public.users."legacy_*name"` | column | dropped | data_loss |',
    ]
    assert "1 created, 1 renamed, 1 dropped;" in text
    # Markdown in messages cannot break out: names become code, the rest is escaped.
    assert "drops column `public.users.\"legacy_*name\"` (rows at stake: **1,234**)" in text
    assert "builds it (rows at stake: **unknown**)" in text
    assert "```sql\nBEGIN;\n" in text
    assert "CREATE INDEX CONCURRENTLY posts_user_id_idx" in text
    diagram = text.split("```mermaid\n", 1)[1]
    assert "    users {" in diagram and "    posts {" in diagram
    assert "audit" not in diagram  # not touched
    assert render.plan_markdown(_plan(drop, rename, index), SPEC) == text


def test_markdown_without_a_spec_has_no_diagram_and_fences_survive_backticks() -> None:
    fn = Change("create", "function", '"public"."f"()', "create function f() ... $$ ``` $$")
    text = render.plan_markdown(_plan(fn))
    assert "```mermaid" not in text
    assert "````sql\n" in text and text.rstrip().endswith("</details>")


def test_the_parts_of_a_new_table_are_one_row() -> None:
    changes = [
        Change("create", "table", '"public"."audit"', 'create table "public"."audit" (id bigint)'),
        Change("create", "index", '"public"."audit_pkey"',
               "CREATE UNIQUE INDEX audit_pkey ON public.audit USING btree (id)"),
        Change("create", "constraint", '"public"."audit"."audit_pkey"', "alter table ..."),
        Change("alter", "sequence", '"public"."audit_id_seq"',
               'alter sequence "public"."audit_id_seq" owned by "public"."audit"."id"'),
        Change("alter", "comment", "TABLE public.audit", "COMMENT ON TABLE public.audit IS 'x'"),
    ]
    text = render.plan_markdown(_plan(*changes), SPEC)
    assert text.splitlines()[1] == "### 📝 schemadiff: 1 change"
    assert "| + | `public.audit` | table | created |  |" in text
    assert render.touched_tables(_plan(*changes), SPEC) == ["audit"]


# -- fmt ---------------------------------------------------------------------------------------


def _same_spec(a: str, b: str) -> bool:
    def plain(text: str) -> object:
        return fmt._strip(dataclasses.asdict(parse_spec(text, "x.yaml")))

    return plain(a) == plain(b)


def test_fmt_leaves_the_agentrade_spec_as_it_is() -> None:
    text = (ROOT / "schema.yaml").read_text(encoding="utf-8")
    assert fmt.format_text(text, "schema.yaml") == text


CASES = {
    "keys of a list item move, the dash stays first": (
        "version: 1\ntables:\n  t:\n    columns:\n      a: text\n    indexes:\n"
        "      - columns: [a]\n        # why\n        name: t_a\n",
        "version: 1\ntables:\n  t:\n    columns:\n      a: text\n    indexes:\n"
        "      # why\n      - name: t_a\n        columns: [a]\n",
    ),
    "nested flow mappings are ordered, quoting kept": (
        "version: 1\ntables:\n  t:\n    columns:\n"
        "      a: {default: {sql: now()}, type: 'timestamptz'}\n"
        "      b: {check: b > 0, type: \"numeric(12,2)\"}\n",
        "version: 1\ntables:\n  t:\n    columns:\n"
        "      a: {type: 'timestamptz', default: {sql: now()}}\n"
        "      b: {type: \"numeric(12,2)\", check: b > 0}\n",
    ),
    "a block scalar's lines are content, not comments": (
        "version: 1\nfunctions:\n  f:\n    body: |\n      # kept\n      SELECT 1;\n"
        "    language: sql\n    returns: integer\ntables: {}\n",
        "version: 1\nfunctions:\n  f:\n    returns: integer\n    language: sql\n"
        "    body: |\n      # kept\n      SELECT 1;\ntables: {}\n",
    ),
    "the file's header stays on top; blank lines stay between sections": (
        "# header\n\ntables:\n  t:\n    columns: {a: text}\n\nversion: 1\n",
        "# header\n\nversion: 1\n\ntables:\n  t:\n    columns: {a: text}\n",
    ),
    "indentation is normalized": (
        "version: 1\ntables:\n    t:\n        columns:\n            a: text\n"
        "        foreign_keys:\n        - columns: [a]\n          references: t\n"
        "        primary_key: [a]\n",
        "version: 1\ntables:\n  t:\n    columns:\n      a: text\n    primary_key: [a]\n"
        "    foreign_keys:\n      - columns: [a]\n        references: t\n",
    ),
}


@pytest.mark.parametrize("before,after", list(CASES.values()), ids=list(CASES))
def test_fmt_cases(before: str, after: str) -> None:
    got = fmt.format_text(before, "x.yaml")
    assert got == after
    assert fmt.format_text(got, "x.yaml") == got  # idempotent
    assert _same_spec(before, got)


def test_fmt_reports_syntax_errors_and_formats_invalid_specs() -> None:
    with pytest.raises(SpecError) as e:
        fmt.format_text("version: 1\ntables: [\n", "x.yaml")
    assert str(e.value.problems[0]).startswith("x.yaml:3:1: YAML syntax error")
    # A spec with a semantic problem is still formatted (validate reports the problem).
    got = fmt.format_text("tables:\n  t:\n    columns: {a: nosuchtype}\nversion: 1\n", "x.yaml")
    assert got.startswith("version: 1\ntables:")


def test_fmt_refuses_when_the_meaning_would_change(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fmt, "_reorder", lambda text, filename: text.replace("a: text", "b: text"))
    with pytest.raises(SchemadiffError, match="would change what the spec means"):
        fmt.format_text("version: 1\ntables:\n  t:\n    columns:\n      a: text\n", "x.yaml")


# -- project settings --------------------------------------------------------------------------


def test_project_settings_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.schemadiff]\nspec = "db/schema.yaml"\nseeds = "db/seeds"\n\n'
        '[tool.schemadiff.environments.prod]\nurl_env = "PROD_URL"\n'
        'allow_hazards = ["index_build"]\nlock_timeout = "3s"\nstatement_timeout = 0\n',
        encoding="utf-8",
    )
    sub = tmp_path / "db"
    sub.mkdir()
    found = project.load(sub)  # found from a subdirectory
    assert found.spec == tmp_path / "db" / "schema.yaml"
    assert found.seeds == tmp_path / "db" / "seeds"
    prod = found.environment("prod")
    assert prod == project.Environment(
        "prod", "PROD_URL", frozenset({HazardKind.INDEX_BUILD}), "3s", "0", None
    )


def test_schemadiff_toml_wins_and_a_pyproject_without_the_section_is_ignored(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    assert project.find(tmp_path) is None or project.find(tmp_path) != tmp_path / "pyproject.toml"
    (tmp_path / "schemadiff.toml").write_text('spec = "s.yaml"\n', encoding="utf-8")
    assert project.find(tmp_path) == tmp_path / "schemadiff.toml"


def test_project_errors_name_the_line(tmp_path: Path) -> None:
    text = (
        "# settings\n"
        'spec = "schema.yaml"\n'
        "\n"
        "[environments]\n"
        "dev.url_env = 'DEV_URL'\n"
        "dev.colour = 'blue'\n"
        'qa = {url_env = "QA_URL", lock_timout = "1s"}\n'
        "\n"
        '[environments."prod"]\n'
        "url_env = 'not a variable'\n"
    )
    with pytest.raises(SpecError) as e:
        project.parse(text, tmp_path / "schemadiff.toml")
    messages = [str(p).replace(str(tmp_path) + "/", "") for p in e.value.problems]
    assert messages == [
        "schemadiff.toml:6:1: unknown key 'colour' in [environments.dev]; known keys: url_env, "
        "allow_hazards, lock_timeout, statement_timeout, lock_wait, validate",
        "schemadiff.toml:7:1: unknown key 'lock_timout' in [environments.qa] (did you mean "
        "'lock_timeout'?); known keys: url_env, allow_hazards, lock_timeout, statement_timeout, "
        "lock_wait, validate",
        "schemadiff.toml:10:1: 'url_env' must name an environment variable",
    ]
    with pytest.raises(SpecError) as syntax:
        project.parse("spec = \n", tmp_path / "schemadiff.toml")
    assert str(syntax.value.problems[0]).endswith("schemadiff.toml:1:8: TOML syntax error: "
                                                  "Invalid value")


def test_an_unknown_environment_lists_the_known_ones(tmp_path: Path) -> None:
    settings = project.parse("[environments.prod]\n", tmp_path / "schemadiff.toml")
    with pytest.raises(SchemadiffError, match="no environment 'staging'; declared: prod"):
        settings.environment("staging")
    with pytest.raises(SchemadiffError, match="no project file found"):
        project.Project().environment("prod")


# -- init --------------------------------------------------------------------------------------


def test_init_without_import_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scaffold, "importer", lambda: None)
    with pytest.raises(SchemadiffError, match="import is not available yet"):
        scaffold.init(tmp_path, "postgresql://nowhere/db")
    assert list(tmp_path.iterdir()) == []


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "schema.yaml").write_text("version: 1\ntables: {}\n", encoding="utf-8")
    with pytest.raises(SchemadiffError, match="--force"):
        scaffold.init(tmp_path)
    written = scaffold.init(tmp_path, force=True)
    assert [w.path.name for w in written] == [
        "schema.yaml", "schema.json", "README.md", "schemadiff.toml"
    ]
    assert project.load(tmp_path).spec == tmp_path / "schema.yaml"


# -- files the repository ships for CI ---------------------------------------------------------


def test_pre_commit_hooks_run_schemadiff_validate_and_fmt_check() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["schemadiff-validate"]["entry"] == "schemadiff validate"
    assert hooks["schemadiff-fmt-check"]["entry"] == "schemadiff fmt --check"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert "schema" in hook["files"]


def test_example_workflow_comments_the_diff_and_checks_drift() -> None:
    flow = yaml.safe_load((ROOT / "examples" / "github" / "schemadiff.yml").read_text())
    triggers = flow[True]  # YAML 1.1 reads the key `on` as true
    assert "pull_request" in triggers and "schedule" in triggers
    pr = "\n".join(
        str(step.get("run", "")) + str(step.get("with", {}).get("script", ""))
        for step in flow["jobs"]["pull-request"]["steps"]
    )
    assert "schemadiff validate" in pr and "schemadiff fmt --check" in pr
    assert 'git show "origin/${{ github.base_ref }}:schema.yaml" > /tmp/base.yaml' in pr
    assert "schemadiff diff /tmp/base.yaml schema.yaml --format markdown" in pr
    assert f"const marker = '{render.MARKDOWN_MARKER}'" in pr
    assert "updateComment" in pr and "createComment" in pr
    drift = flow["jobs"]["drift"]["steps"][-2]
    assert "schemadiff drift" in drift["run"]
    assert drift["env"]["DATABASE_URL"] == "${{ secrets.DATABASE_URL }}"


def test_spec_loads_after_fmt_on_the_repository_spec() -> None:
    spec = load_spec(ROOT / "schema.yaml")
    assert len(spec.tables) == 26
