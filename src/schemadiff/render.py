"""Turn a Spec (or a Plan) into text for people: SQL script, Mermaid ER diagram."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from schemadiff import spec as s
from schemadiff.hazards import HELP, Hazard, HazardKind, pretty_size

if TYPE_CHECKING:  # importing them at run time would load migra for `render --format sql`
    from schemadiff.differ import Change
    from schemadiff.plan import Plan

__all__ = ["mermaid", "plan_markdown", "render_sql"]


def render_sql(spec: s.Spec) -> str:
    """DDL for an empty database (model.render_sql; SQLAlchemy is imported only here)."""
    from schemadiff import model

    return model.render_sql(spec)


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
    renames = actions.count("rename")
    return (
        f"{actions.count('create')} to create, {actions.count('alter')} to alter, "
        f"{actions.count('drop')} to drop" + (f", {renames} to rename" if renames else "")
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


# -- markdown: the plan as a pull-request comment ----------------------------------------------

MARKDOWN_MARKER = "<!-- schemadiff-plan -->"
_ACTION_WORDS = {"create": "created", "alter": "altered", "drop": "dropped", "rename": "renamed"}
_ACTION_ORDER = ("create", "alter", "rename", "drop")
_NAME_PART = re.compile(r'"((?:[^"]|"")*)"|([^."]+)')
_SIMPLE_IDENT = re.compile(r"[a-z_][a-z0-9_$]*")


def plan_markdown(plan: Plan, spec: s.Spec | None = None) -> str:
    """The plan as a pull-request comment (GitHub-flavoured markdown), deterministic.

    Line 1 is a hidden marker (MARKDOWN_MARKER) a bot searches for to update its comment
    instead of adding one; then a one-line verdict, a table of the objects created, altered,
    dropped (and renamed), every hazard with the rows at stake, the SQL in a collapsed block,
    and, given the spec, a Mermaid ER diagram of the tables the plan touches.
    """
    objects = _plan_objects(plan, spec)
    kinds = sorted(plan.hazard_kinds)
    lines = [MARKDOWN_MARKER]
    n = len(objects)
    changes = f"{n} change{'s' if n != 1 else ''}"
    if plan.empty:
        lines.append("### ✅ schemadiff: no changes")
    elif kinds:
        lines.append(f"### ⚠️ schemadiff: {changes} with hazards: {', '.join(kinds)}")
    else:
        lines.append(f"### 📝 schemadiff: {changes}")
    lines.append("")
    where = f"`{_md_code(plan.target)}` (Postgres {plan.server_major})"
    if plan.empty:
        lines.append(f"Nothing to change: compared with {where}.")
    else:
        counts = [
            f"{sum(1 for o in objects if o.action == a)} {_ACTION_WORDS[a]}"
            for a in _ACTION_ORDER
            if any(o.action == a for o in objects)
        ]
        lines.append(f"{', '.join(counts)}; compared with {where}.")
        lines += ["", "| | object | kind | change | hazards |", "|---|---|---|---|---|"]
        for o in objects:
            lines.append(
                f"| {_SYMBOL.get(o.action, '?')} | `{_md_code(o.display)}` | {o.kind} | "
                f"{_ACTION_WORDS.get(o.action, o.action)} | {', '.join(o.hazards)} |"
            )
    if kinds:
        lines += ["", "#### Hazards", ""]
        for c in plan.changes:
            for h in c.hazards:
                lines.append(
                    f"- **{h.kind}** on `{_md_code(_display(c.name) or c.kind)}`: "
                    f"{_md_message(h.message)} ({_stake(h, '**')})"
                )
        lines += [
            "",
            f"`schemadiff apply` refuses this plan unless run with "
            f"`--allow-hazards {','.join(kinds)}`.",
            "",
        ]
        for kind in kinds:
            lines.append(f"> **{kind}**: {_md_text(HELP.get(HazardKind(kind), ''))}")
            lines.append(">")
        lines.pop()
    if plan.unmanaged:
        lines += ["", "Not managed by the spec (left alone):", ""]
        lines += [f"- `{_md_code(name)}`" for name in plan.unmanaged]
    if not plan.empty:
        sql = plan_sql(plan)
        fence = "```"
        while fence in sql:
            fence += "`"
        n_st = sum(1 for c in plan.changes if c.kind != "setting")
        lines += [
            "",
            "<details><summary>SQL "
            f"({n_st} statement{'s' if n_st != 1 else ''})</summary>",
            "",
            f"{fence}sql",
            sql.rstrip("\n"),
            fence,
            "",
            "</details>",
        ]
        touched = touched_tables(plan, spec) if spec is not None else []
        if spec is not None and touched:
            sub = dataclasses.replace(spec, tables=[t for t in spec.tables if t.name in touched])
            lines += [
                "",
                f"#### Tables touched ({len(touched)})",
                "",
                "```mermaid",
                mermaid(sub).rstrip("\n"),
                "```",
            ]
    return "\n".join(lines) + "\n"


@dataclasses.dataclass
class _Object:
    action: str
    kind: str
    display: str
    hazards: list[str]


def _plan_objects(plan: Plan, spec: s.Spec | None) -> list[_Object]:
    """One row per object the plan touches, created first, dropped last.

    Settings and unnamed statements are left out; the keys, indexes, sequences and comments
    of a table the plan creates are part of that table's row (the SQL lists them all).
    """
    index_table = _index_tables(spec)
    created = {
        _name_parts(c.name)[-1]: (c.kind, c.name)
        for c in plan.changes
        if c.kind == "table" and c.action == "create" and c.name
    }
    actions: dict[tuple[str, str], set[str]] = {}
    hazards: dict[tuple[str, str], list[str]] = {}
    for c in plan.changes:
        if c.kind == "setting" or not c.name:
            continue
        key, action = (c.kind, c.name), c.action
        if c.kind != "table" and c.action != "drop":
            table = _table_of(c, index_table)
            if table is not None and table in created:
                key, action = created[table], "create"  # part of the new table's row
        actions.setdefault(key, set()).add(action)
        for h in c.hazards:
            if h.kind not in hazards.setdefault(key, []):
                hazards[key].append(h.kind)
        hazards.setdefault(key, [])
    objects = []
    for (kind, name), acts in actions.items():
        shown, what = _display(name), kind
        if kind == "comment":
            target_kind, _, target = name.partition(" ")
            shown, what = _display(target) if target else name, f"comment on {target_kind.lower()}"
        objects.append(_Object(_overall(acts), what, shown, hazards[(kind, name)]))
    return sorted(objects, key=lambda o: _ACTION_ORDER.index(o.action))


def _display(name: str) -> str:
    """'"public"."users"' -> 'public.users' (quotes kept where a name needs them)."""
    if not name.startswith('"'):
        return name
    parts = []
    for m in _NAME_PART.finditer(name):
        part = m.group(1).replace('""', '"') if m.group(1) is not None else m.group(2)
        parts.append(part if _SIMPLE_IDENT.fullmatch(part) else '"' + part.replace('"', '""') + '"')
    return ".".join(parts)


def _name_parts(name: str) -> list[str]:
    return [
        m.group(1).replace('""', '"') if m.group(1) is not None else m.group(2)
        for m in _NAME_PART.finditer(name)
    ]


_ON_TABLE = re.compile(r"\bON\s+(?:ONLY\s+)?((?:\"(?:[^\"]|\"\")*\"|[^\s.(\"]+)"
                       r"(?:\.(?:\"(?:[^\"]|\"\")*\"|[^\s.(\"]+))?)", re.I)


def touched_tables(plan: Plan, spec: s.Spec) -> list[str]:
    """The spec's tables the plan changes (their columns, keys, indexes, ...), in spec order."""
    index_table = _index_tables(spec)
    found = {_table_of(c, index_table) for c in plan.changes}
    if spec.config is not None and any(c.kind == "config" for c in plan.changes):
        found.add(spec.config.table)
    return [t.name for t in spec.tables if t.name in found]


def _index_tables(spec: s.Spec | None) -> dict[str, str]:
    """Index name -> table name, for the indexes the spec declares (and those of its keys)."""
    out: dict[str, str] = {}
    for t in spec.tables if spec is not None else []:
        for named in (*t.indexes, t.primary_key, *t.uniques):
            if named is not None:
                out[named.name] = t.name
    return out


_OWNED_BY = re.compile(r"\bowned by\s+(.+)$", re.I)


def _table_of(c: Change, index_table: dict[str, str]) -> str | None:
    """The name of the table a change is about, when it is about one."""
    parts = _name_parts(c.name)
    if not parts:
        return None
    if c.kind == "table":
        return parts[-1]
    if c.kind in ("column", "constraint", "trigger", "policy"):
        return parts[-2] if len(parts) >= 2 else None
    if c.kind == "index":
        if parts[-1] in index_table:
            return index_table[parts[-1]]
        m = _ON_TABLE.search(c.sql)
        return _name_parts(m.group(1))[-1] if m else None
    if c.kind == "sequence":
        m = _OWNED_BY.search(c.sql)
        owner = _name_parts(m.group(1)) if m else []
        return owner[-2] if len(owner) >= 2 else None
    if c.kind == "comment":
        what, _, target = c.name.partition(" ")
        if what in ("TABLE", "COLUMN"):
            ps = _name_parts(target)
            return ps[1] if len(ps) >= 2 else ps[0]
        m = _ON_TABLE.search(c.name)
        return _name_parts(m.group(1))[-1] if m else None
    if c.kind == "seed":
        return c.name.split(" ", 1)[0]
    return None


def _stake(h: Hazard, strong: str) -> str:
    """'rows at stake: **1,234**, 16 MB; dependents: ...' (rows 'unknown' when not known)."""
    text = f"rows at stake: {strong}{'unknown' if h.rows is None else f'{h.rows:,}'}{strong}"
    size = getattr(h, "size_bytes", None)
    if size is not None:
        text += f", {pretty_size(size)}"
    objects = getattr(h, "objects", ())
    if objects:
        text += f"; dependents: {', '.join(objects)}"
    return text


def _md_code(text: str) -> str:
    """Text inside `code` in a table cell: no backticks or pipes to break out of it."""
    return text.replace("`", "'").replace("|", "\\|").replace("\n", " ")


_QUOTED_NAME = re.compile(r'"(?:[^"]|"")*"(?:\."(?:[^"]|"")*")*')


def _md_message(text: str) -> str:
    """A hazard message: quoted names as `code`, the rest escaped."""
    out, pos = [], 0
    for m in _QUOTED_NAME.finditer(text):
        out.append(_md_text(text[pos : m.start()]))
        out.append(f"`{_md_code(_display(m.group(0)))}`")
        pos = m.end()
    out.append(_md_text(text[pos:]))
    return "".join(out)


def _md_text(text: str) -> str:
    """Free text: markdown's special characters escaped."""
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", text).replace("\n", " ")
