"""Turn a Spec (or a Plan) into text for people: SQL script, Mermaid ER diagram."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from schemadiff import spec as s
from schemadiff.model import render_sql

if TYPE_CHECKING:  # importing them at run time would load migra for `render --format sql`
    from schemadiff.differ import Change
    from schemadiff.plan import Plan

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
            keys = [
                k
                for k, on in (("PK", c.name in pk), ("FK", c.name in fk_cols), ("UK", c.name in uk))
                if on
            ]
            key = f" {','.join(keys)}" if keys else ""
            comment = f' "{_text(c.comment)}"' if c.comment else ""
            lines.append(f"        {_ident(_type(c.type))} {_ident(c.name)}{key}{comment}")
        lines.append("    }")
    for t in spec.tables:
        for fk in t.foreign_keys:
            # Child rows point at one parent row; a parent has zero or more children.
            optional = any((col := t.column(c)) is not None and col.nullable for c in fk.columns)
            left = "|o" if optional else "||"
            lines.append(f'    {_ident(fk.ref_table)} {left}--o{{ {_ident(t.name)} : "{fk.name}"')
    return "\n".join(lines) + "\n"


def _ident(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _type(type_: str) -> str:
    return type_.replace("[]", "_array").replace(" ", "_").replace(",", "_")


def _text(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")


_SYMBOL = {"create": "+", "alter": "~", "drop": "-", "rename": ">"}


def plan_summary(plan: Plan) -> list[str]:
    """One line per object: '+ table "public"."users"', worst action first per object."""
    actions: dict[tuple[str, str], set[str]] = {}
    hazards: dict[tuple[str, str], list[str]] = {}
    for c in plan.changes:
        if c.kind in ("setting", "comment") or not c.name:
            continue
        actions.setdefault((c.kind, c.name), set()).add(c.action)
        hazards.setdefault((c.kind, c.name), []).extend(h.describe() for h in c.hazards)
    seen = {key: _overall(acts) for key, acts in actions.items()}
    comments = sum(1 for c in plan.changes if c.kind == "comment")
    lines = []
    for (kind, name), action in seen.items():
        extra = f"   [{'; '.join(hazards[(kind, name)])}]" if hazards[(kind, name)] else ""
        lines.append(f"  {_SYMBOL.get(action, '?')} {kind} {name}{extra}")
    if comments:
        lines.append(f"  ~ {comments} comment{'s' if comments != 1 else ''}")
    return lines


def _overall(actions: set[str]) -> str:
    if {"drop", "create"} <= actions:
        return "alter"  # replaced: dropped and created again
    for action in ("drop", "create", "rename"):
        if action in actions:
            return action
    return "alter"


def plan_counts(plan: Plan) -> str:
    actions = [c.action for c in plan.changes if c.kind not in ("setting",)]
    return (
        f"{actions.count('create')} to create, {actions.count('alter')} to alter, "
        f"{actions.count('drop')} to drop"
    )


def plan_text(plan: Plan) -> str:
    """A readable plan: header, one line per object, hazards, then the SQL."""
    if plan.empty:
        return f"No changes. {plan.target} matches the spec.\n"
    lines = [
        f"Plan for {plan.target} (Postgres {plan.server_major}): {plan_counts(plan)}.",
        "",
        *plan_summary(plan),
        "",
    ]
    kinds = sorted(plan.hazard_kinds)
    if kinds:
        lines.append(
            f"Hazards: {', '.join(kinds)}. apply refuses unless --allow-hazards {','.join(kinds)}."
        )
        lines.append("")
    lines.append(plan_sql(plan))
    return "\n".join(lines)


def plan_json(plan: Plan) -> str:
    return plan.to_json()


def plan_sql(plan: Plan) -> str:
    """The statements as a script: the transaction, then what must run outside one."""
    inside = [c for c in plan.changes if c.transactional]
    outside = [c for c in plan.changes if not c.transactional]
    out: list[str] = []
    if inside:
        out.append("BEGIN;")
        out += [_statement(c) for c in inside]
        out.append("COMMIT;")
    if outside:
        out.append("-- outside the transaction (cannot run inside one):")
        out += [_statement(c) for c in outside]
    return "\n".join(out) + "\n"


def _statement(c: Change) -> str:
    marks = "".join(f"-- hazard {h.describe()}\n" for h in c.hazards)
    return f"{marks}{c.sql};"
