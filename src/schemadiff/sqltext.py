"""SQL text helpers with no dependencies: identifier quoting and string literals.

Kept apart from model.py (which needs SQLAlchemy) so the commands that only read catalogs and
write SQL text (plan with a cached shadow, drift, seed, config, verify) never import
SQLAlchemy. Quoting follows SQLAlchemy's PostgreSQL rules exactly (same reserved words), so
names print the same whichever module renders them; tests/unit/test_sqltext.py checks that.
"""

from __future__ import annotations

import re

# sqlalchemy.dialects.postgresql.base.RESERVED_WORDS
RESERVED_WORDS = frozenset({
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization",
    "between", "binary", "both", "case", "cast", "check", "collate", "column", "constraint",
    "create", "cross", "current_catalog", "current_date", "current_role", "current_schema",
    "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc",
    "distinct", "do", "else", "end", "except", "false", "fetch", "for", "foreign", "freeze",
    "from", "full", "grant", "group", "having", "ilike", "in", "initially", "inner", "intersect",
    "into", "is", "isnull", "join", "leading", "left", "like", "limit", "localtime",
    "localtimestamp", "natural", "new", "not", "notnull", "null", "of", "off", "offset", "old",
    "on", "only", "or", "order", "outer", "over", "overlaps", "placing", "primary", "references",
    "returning", "right", "select", "session_user", "similar", "some", "symmetric", "table",
    "then", "to", "trailing", "true", "union", "unique", "user", "using", "variadic", "verbose",
    "when", "where", "window", "with",
})
_LEGAL = re.compile(r"^[A-Z0-9_$]+$", re.IGNORECASE)
_ILLEGAL_INITIAL = frozenset("0123456789$")


def quote(name: str) -> str:
    """Quote an identifier only when Postgres needs it."""
    lowered = name.lower()
    if (
        not name
        or lowered in RESERVED_WORDS
        or name[0] in _ILLEGAL_INITIAL
        or not _LEGAL.match(name)
        or lowered != name
    ):
        return '"' + name.replace('"', '""') + '"'
    return name


def qualified(schema: str, name: str) -> str:
    return f"{quote(schema)}.{quote(name)}"


def string_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
