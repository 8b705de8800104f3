"""Turn a Spec (or a Plan) into text for people: SQL script, Mermaid ER diagram."""

from __future__ import annotations

import re

from schemadiff import spec as s
from schemadiff.model import render_sql

__all__ = ["mermaid", "render_sql"]


def mermaid(spec: s.Spec) -> str:
    """A Mermaid erDiagram: every table with its columns and keys, one edge per foreign key."""
    lines = ["erDiagram"]
    for t in spec.tables:
        pk = set(t.primary_key.columns) if t.primary_key else set()
        fk_cols = {c for fk in t.foreign_keys for c in fk.columns}
        uk = {c for u in t.uniques for c in u.columns if len(u.columns) == 1}
        lines.append(f"    {_ident(t.name)} {{")
        for c in t.columns:
            keys = [k for k, on in (("PK", c.name in pk), ("FK", c.name in fk_cols),
                                    ("UK", c.name in uk)) if on]
            key = f" {','.join(keys)}" if keys else ""
            comment = f' "{_text(c.comment)}"' if c.comment else ""
            lines.append(f"        {_ident(_type(c.type))} {_ident(c.name)}{key}{comment}")
        lines.append("    }")
    for t in spec.tables:
        for fk in t.foreign_keys:
            # Child rows point at one parent row; a parent has zero or more children.
            optional = any((col := t.column(c)) is not None and col.nullable for c in fk.columns)
            left = "|o" if optional else "||"
            lines.append(
                f"    {_ident(fk.ref_table)} {left}--o{{ {_ident(t.name)} : \"{fk.name}\""
            )
    return "\n".join(lines) + "\n"


def _ident(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _type(type_: str) -> str:
    return type_.replace("[]", "_array").replace(" ", "_").replace(",", "_")


def _text(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")
