"""sqltext.quote quotes exactly as SQLAlchemy's PostgreSQL dialect does (names print the same)."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql

from schemadiff.sqltext import qualified, quote, string_literal

NAMES = [
    "users", "user", "order", "Users", "on", "select", "1abc", "$x", "a b", 'say"hi', "bıgınt",
    "year", "snake_case_9", "_lead", "table", "analyse", "é", "a$b", "", "limit", "current_user",
]


@pytest.mark.parametrize("name", NAMES)
def test_quote_matches_sqlalchemy(name: str) -> None:
    preparer = postgresql.dialect().identifier_preparer  # type: ignore[no-untyped-call]
    assert quote(name) == preparer.quote(name)


def test_qualified_and_literals() -> None:
    assert qualified("public", "order") == 'public."order"'
    assert string_literal("it's") == "'it''s'"
