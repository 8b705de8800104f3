"""render: deterministic, dependency-ordered DDL and an ER diagram of the whole spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemadiff import render
from schemadiff.apply import duration
from schemadiff.errors import SchemadiffError
from schemadiff.hazards import HazardKind, parse_kinds
from schemadiff.model import render_statements
from schemadiff.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]


def test_render_is_deterministic() -> None:
    spec = load_spec(ROOT / "schema.yaml")
    assert render.render_sql(spec) == render.render_sql(load_spec(ROOT / "schema.yaml"))


def test_functions_come_before_tables_and_foreign_keys_after_all_tables() -> None:
    kinds = [st.kind for st in render_statements(load_spec(ROOT / "schema.yaml"))]
    assert kinds.index("function") < kinds.index("table")
    last_table = max(i for i, k in enumerate(kinds) if k == "table")
    assert min(i for i, k in enumerate(kinds) if k == "foreign_key") > last_table
    assert min(i for i, k in enumerate(kinds) if k == "trigger") > last_table


def test_literal_and_sql_defaults_render_differently() -> None:
    spec = parse_spec(
        "version: 1\ntables:\n  t:\n    columns:\n"
        "      a: {type: text, default: now()}\n"
        "      b: {type: timestamptz, default: {sql: now()}}\n"
        "      c: {type: text, default: \"it's\"}\n",
        "t.yaml",
    )
    sql = render.render_sql(spec)
    assert "a text DEFAULT 'now()'" in sql
    assert "b timestamptz DEFAULT now()" in sql
    assert "c text DEFAULT 'it''s'" in sql


def test_mermaid_has_every_table_and_one_edge_per_foreign_key() -> None:
    spec = load_spec(ROOT / "schema.yaml")
    text = render.mermaid(spec)
    assert text.startswith("erDiagram\n")
    for t in spec.tables:
        assert f"    {t.name} {{" in text
    edges = [line for line in text.splitlines() if "--o{" in line]
    assert len(edges) == sum(len(t.foreign_keys) for t in spec.tables) == 17


@pytest.mark.parametrize(
    ("text", "expected"), [("5s", "5s"), ("2m", "2min"), ("500ms", "500ms"), ("0", "0ms")]
)
def test_durations(text: str, expected: str) -> None:
    assert duration(text, "--lock-timeout") == expected


def test_bad_duration_says_what_to_write() -> None:
    with pytest.raises(SchemadiffError, match="500ms, 5s"):
        duration("five", "--lock-timeout")


def test_hazard_kinds_parse_and_unknown_ones_are_listed() -> None:
    assert parse_kinds("data_loss, index_build") == {HazardKind.DATA_LOSS, HazardKind.INDEX_BUILD}
    with pytest.raises(ValueError, match="valid kinds: data_loss"):
        parse_kinds("data_los")
