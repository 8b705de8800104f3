"""The HTML report: one self-contained page (no network) describing a spec, or a plan.

The ER diagram is inline SVG laid out here (a grid of table boxes, one line per foreign key),
so the page needs no script from anywhere else; a few lines of inline JavaScript filter the
tables by a search box.
"""

from __future__ import annotations

import dataclasses
import html
import math
from typing import TYPE_CHECKING

from schemadiff import spec as s
from schemadiff.hazards import HELP, HazardKind

if TYPE_CHECKING:
    from schemadiff.plan import Plan

CHAR_W = 7.2  # px per character of the 12px monospace font
ROW_H = 18
HEAD_H = 24
PAD = 8
GAP_X = 60
GAP_Y = 40
MAX_KEY_ROWS = 12  # columns shown in a diagram box; the rest are counted

_CSS = """
:root { --fg:#1f2328; --muted:#656d76; --line:#d0d7de; --bg:#f6f8fa; --accent:#0969da;
        --add:#1a7f37; --del:#cf222e; --chg:#9a6700; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg);
       margin: 0; }
header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--line);
         padding: 10px 24px; display: flex; gap: 16px; align-items: center; z-index: 1; }
header h1 { font-size: 18px; margin: 0; flex: 1; }
#search { font: inherit; padding: 6px 10px; width: 320px; border: 1px solid var(--line);
          border-radius: 6px; }
main { padding: 16px 24px; }
h2 { font-size: 16px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 4px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
                   font-size: 12px; }
pre { background: var(--bg); padding: 12px; overflow: auto; border-radius: 6px; }
table.grid { border-collapse: collapse; margin: 6px 0 12px; }
table.grid th, table.grid td { border: 1px solid var(--line); padding: 3px 8px;
                               text-align: left; vertical-align: top; }
table.grid th { background: var(--bg); font-weight: 600; }
section.table { border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px;
                margin: 12px 0; }
section.table.hidden { display: none; }
.comment { color: var(--muted); }
.badge { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 10px;
         border: 1px solid var(--line); margin-right: 4px; }
.k-PK { background: #fff8c5; } .k-FK { background: #ddf4ff; } .k-UK { background: #f0f0ff; }
.diagram { overflow: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff;
           max-height: 80vh; }
svg .box rect.frame { fill: #fff; stroke: #57606a; }
svg .box rect.head { fill: #ddf4ff; stroke: #57606a; }
svg .box.dim { opacity: 0.15; }
svg text { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; fill: #1f2328; }
svg text.title { font-weight: bold; }
svg text.more { fill: #656d76; }
svg .edge { stroke: #8c959f; fill: none; stroke-width: 1.2; }
.act-create { color: var(--add); } .act-drop { color: var(--del); }
.act-alter, .act-rename { color: var(--chg); }
#count { color: var(--muted); }
"""

_JS = """
(function () {
  var input = document.getElementById('search');
  var sections = Array.prototype.slice.call(document.querySelectorAll('section.table'));
  var boxes = Array.prototype.slice.call(document.querySelectorAll('svg .box'));
  var count = document.getElementById('count');
  function apply() {
    var q = input.value.trim().toLowerCase();
    var shown = 0;
    sections.forEach(function (sec) {
      var hit = !q || sec.getAttribute('data-search').indexOf(q) !== -1;
      sec.classList.toggle('hidden', !hit);
      if (hit) { shown += 1; }
    });
    boxes.forEach(function (box) {
      var hit = !q || box.getAttribute('data-search').indexOf(q) !== -1;
      box.classList.toggle('dim', !hit);
    });
    count.textContent = shown + ' of ' + sections.length + ' tables';
  }
  input.addEventListener('input', apply);
  // report.html#q=users opens the page filtered.
  if (location.hash.indexOf('#q=') === 0) {
    input.value = decodeURIComponent(location.hash.slice(3));
  }
  apply();
})();
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def spec_html(spec: s.Spec, title: str | None = None) -> str:
    """The whole spec: diagram, then every table with its columns, keys, indexes, triggers."""
    name = title or f"{spec.path.rsplit('/', 1)[-1]}: {len(spec.tables)} tables"
    body = [
        "<h2>Diagram</h2>",
        f'<div class="diagram">{er_svg(spec)}</div>',
        *_extras(spec),
        "<h2>Tables</h2>",
        *(_table_section(spec, t) for t in spec.tables),
    ]
    return _page(name, body)


def plan_html(plan: Plan, spec: s.Spec | None = None) -> str:
    """A plan: verdict, objects, hazards, SQL; with the spec, the tables it touches."""
    from schemadiff import render

    kinds = sorted(plan.hazard_kinds)
    objects = render._plan_objects(plan, spec)
    if plan.empty:
        verdict = "No changes"
    else:
        n = len(objects)
        verdict = f"{n} change{'s' if n != 1 else ''}"
        if kinds:
            verdict += f" with hazards: {', '.join(kinds)}"
    body = [
        f"<h2>{_e(verdict)}</h2>",
        f"<p>Compared with <code>{_e(plan.target)}</code> (Postgres {plan.server_major}).</p>",
    ]
    if objects:
        rows = "".join(
            f'<tr><td class="act-{_e(o.action)}">{_e(o.action)}</td><td>{_e(o.kind)}</td>'
            f"<td><code>{_e(o.display)}</code></td><td>{_e(', '.join(o.hazards))}</td></tr>"
            for o in objects
        )
        body.append(
            '<table class="grid"><tr><th>change</th><th>kind</th><th>object</th>'
            f"<th>hazards</th></tr>{rows}</table>"
        )
    if kinds:
        body.append("<h2>Hazards</h2><ul>")
        for c in plan.changes:
            for h in c.hazards:
                body.append(
                    f"<li><b>{_e(h.kind)}</b>: {_e(h.message)} ({_e(render._stake(h, ''))})</li>"
                )
        body.append("</ul>")
        for kind in kinds:
            body.append(f"<p><b>{_e(kind)}</b>: {_e(HELP.get(HazardKind(kind), ''))}</p>")
    if not plan.empty:
        body.append(f"<h2>SQL</h2><pre>{_e(render.plan_sql(plan))}</pre>")
    if spec is not None and not plan.empty:
        touched = render.touched_tables(plan, spec)
        if touched:
            sub = dataclasses.replace(spec, tables=[t for t in spec.tables if t.name in touched])
            body += [
                "<h2>Tables touched</h2>",
                f'<div class="diagram">{er_svg(sub)}</div>',
                *(_table_section(sub, t) for t in sub.tables),
            ]
    return _page(f"schemadiff plan: {verdict}", body)


def _page(title: str, body: list[str]) -> str:
    n_tables = sum(1 for part in body if part.startswith('<section class="table"'))
    search = (
        '<input id="search" type="search" placeholder="Filter tables, columns, comments..." '
        f'autocomplete="off"><span id="count">{n_tables} tables</span>'
        if n_tables
        else '<input id="search" type="hidden"><span id="count"></span>'
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{_e(title)}</h1>{search}</header>\n<main>\n"
        + "\n".join(body)
        + f"\n</main>\n<script>{_JS}</script>\n</body>\n</html>\n"
    )


def _extras(spec: s.Spec) -> list[str]:
    out: list[str] = []
    if spec.enums:
        rows = "".join(
            f"<tr><td><code>{_e(e.name)}</code></td><td>{_e(', '.join(e.values))}</td>"
            f'<td class="comment">{_e(e.comment or "")}</td></tr>'
            for e in spec.enums
        )
        out.append(f'<h2>Enums</h2><table class="grid">{rows}</table>')
    if spec.functions:
        out.append("<h2>Functions</h2>")
        for f in spec.functions:
            out.append(
                f"<h3><code>{_e(f.name)}({_e(', '.join(f.args))}) returns {_e(f.returns)}"
                f"</code></h3>"
                + (f'<p class="comment">{_e(f.comment)}</p>' if f.comment else "")
                + f"<pre>{_e(f.body)}</pre>"
            )
    if spec.config:
        cfg = spec.config
        rows = "".join(
            f"<tr><td><code>{_e(k.name)}</code></td>"
            f"<td>{'***' if k.secret else _e(k.value or k.default or '')}</td>"
            f'<td class="comment">{_e(k.description or "")}</td></tr>'
            for k in cfg.keys
        )
        out.append(
            f"<h2>Config keys ({len(cfg.keys)}, in <code>{_e(cfg.table)}</code>)</h2>"
            f'<table class="grid"><tr><th>key</th><th>default</th><th>description</th></tr>'
            f"{rows}</table>"
        )
    return out


def _keys(t: s.Table) -> dict[str, list[str]]:
    pk = set(t.primary_key.columns) if t.primary_key else set()
    fk = {c for f in t.foreign_keys for c in f.columns}
    uk = {c for u in t.uniques for c in u.columns if len(u.columns) == 1}
    return {
        c.name: [k for k, on in (("PK", c.name in pk), ("FK", c.name in fk), ("UK", c.name in uk))
                 if on]
        for c in t.columns
    }


def _search_text(t: s.Table) -> str:
    words = [t.name, t.comment or ""]
    for c in t.columns:
        words += [c.name, c.type, c.comment or ""]
    return " ".join(words).lower()


def _default(c: s.Column) -> str:
    if c.default is None:
        return ""
    if c.default.sql is not None:
        return c.default.sql
    literal = c.default.literal
    if isinstance(literal, bool):
        return "true" if literal else "false"
    if isinstance(literal, str):
        return "'" + literal.replace("'", "''") + "'"
    return str(literal)


def _table_section(spec: s.Spec, t: s.Table) -> str:
    keys = _keys(t)
    parts = [
        f'<section class="table" id="table-{_e(t.name)}" data-search="{_e(_search_text(t))}">',
        f"<h3><code>{_e(spec.schema)}.{_e(t.name)}</code></h3>",
    ]
    if t.comment:
        parts.append(f'<p class="comment">{_e(t.comment)}</p>')
    rows = "".join(
        f"<tr><td><code>{_e(c.name)}</code> "
        + "".join(f'<span class="badge k-{k}">{k}</span>' for k in keys[c.name])
        + f"</td><td><code>{_e(c.type)}</code></td><td>{'' if c.nullable else 'NOT NULL'}</td>"
        f"<td><code>{_e(_default(c))}</code></td><td class=\"comment\">{_e(c.comment or '')}</td>"
        "</tr>"
        for c in t.columns
    )
    parts.append(
        '<table class="grid"><tr><th>column</th><th>type</th><th>null</th><th>default</th>'
        f"<th>comment</th></tr>{rows}</table>"
    )
    constraints: list[tuple[str, str, str]] = []
    if t.primary_key:
        constraints.append(("primary key", t.primary_key.name, ", ".join(t.primary_key.columns)))
    for u in t.uniques:
        constraints.append(("unique", u.name, ", ".join(u.columns)))
    for f in t.foreign_keys:
        constraints.append(
            (
                "foreign key",
                f.name,
                f"({', '.join(f.columns)}) → {f.ref_table}({', '.join(f.ref_columns)}) "
                f"on delete {f.on_delete}, on update {f.on_update}",
            )
        )
    for ck in t.checks:
        constraints.append(("check", ck.name, ck.expression))
    if constraints:
        rows = "".join(
            f"<tr><td>{_e(kind)}</td><td><code>{_e(name)}</code></td><td><code>{_e(what)}</code>"
            "</td></tr>"
            for kind, name, what in constraints
        )
        parts.append(f'<b>Constraints</b><table class="grid">{rows}</table>')
    if t.indexes:
        rows = "".join(
            f"<tr><td><code>{_e(ix.name)}</code></td><td><code>"
            + _e(", ".join(_element(el) for el in ix.elements))
            + f"</code></td><td>{'unique ' if ix.unique else ''}{_e(ix.method)}"
            + (f" where <code>{_e(ix.where)}</code>" if ix.where else "")
            + (f" include ({_e(', '.join(ix.include))})" if ix.include else "")
            + "</td></tr>"
            for ix in t.indexes
        )
        parts.append(f'<b>Indexes</b><table class="grid">{rows}</table>')
    if t.triggers:
        rows = "".join(
            f"<tr><td><code>{_e(tg.name)}</code></td><td>{_e(tg.timing)} "
            f"{_e(' or '.join(tg.events))} for each {_e(tg.for_each)}"
            + (f" when <code>{_e(tg.when)}</code>" if tg.when else "")
            + f"</td><td><code>{_e(tg.function)}()</code></td></tr>"
            for tg in t.triggers
        )
        parts.append(f'<b>Triggers</b><table class="grid">{rows}</table>')
    parts.append("</section>")
    return "\n".join(parts)


def _element(el: s.IndexElement) -> str:
    text = el.column or f"({el.expression})"
    for extra in (el.opclass, el.order, f"nulls {el.nulls}" if el.nulls else None):
        if extra:
            text += f" {extra}"
    return text


# -- the diagram -------------------------------------------------------------------------------


def er_svg(spec: s.Spec) -> str:
    """Every table as a box (keys first), one line per foreign key; a deterministic grid."""
    if not spec.tables:
        return '<svg width="1" height="1"></svg>'
    boxes = []
    for t in spec.tables:
        keys = _keys(t)
        shown = [c for c in t.columns if keys[c.name]]
        shown += [c for c in t.columns if not keys[c.name]]
        more = max(0, len(shown) - MAX_KEY_ROWS)
        shown = shown[:MAX_KEY_ROWS]
        lines = [
            (f"{c.name} {c.type}" + (f"  {','.join(keys[c.name])}" if keys[c.name] else ""))
            for c in shown
        ]
        if more:
            lines.append(f"… {more} more column{'s' if more != 1 else ''}")
        width = PAD * 2 + CHAR_W * max(len(t.name), *(len(x) for x in lines))
        height = HEAD_H + ROW_H * len(lines) + PAD
        boxes.append((t, lines, bool(more), width, height))
    per_row = max(1, math.ceil(math.sqrt(len(boxes) * 1.6)))
    col_w = [0.0] * per_row
    for i, (_, _, _, w, _) in enumerate(boxes):
        col_w[i % per_row] = max(col_w[i % per_row], w)
    row_h: list[float] = []
    for i, (_, _, _, _, h) in enumerate(boxes):
        if i % per_row == 0:
            row_h.append(0.0)
        row_h[-1] = max(row_h[-1], h)
    pos: dict[str, tuple[float, float, float, float]] = {}
    for i, (t, _, _, w, h) in enumerate(boxes):
        col, row = i % per_row, i // per_row
        x = GAP_X / 2 + sum(col_w[:col]) + GAP_X * col
        y = GAP_Y / 2 + sum(row_h[:row]) + GAP_Y * row
        pos[t.name] = (x, y, w, h)
    total_w = GAP_X / 2 + sum(col_w) + GAP_X * (per_row - 1) + GAP_X / 2
    total_h = GAP_Y / 2 + sum(row_h) + GAP_Y * (len(row_h) - 1) + GAP_Y / 2
    out = [
        f'<svg width="{total_w:.0f}" height="{total_h:.0f}" '
        f'viewBox="0 0 {total_w:.0f} {total_h:.0f}" role="img" aria-label="ER diagram">',
        '<defs><marker id="one" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10" '
        'fill="none" stroke="#8c959f"/></marker></defs>',
    ]
    for t in spec.tables:
        for fk in t.foreign_keys:
            if fk.ref_table not in pos:
                continue
            out.append(_edge(pos[t.name], pos[fk.ref_table], fk.name))
    for t, lines, has_more, w, h in boxes:
        x, y, _, _ = pos[t.name]
        out.append(
            f'<g class="box" data-table="{_e(t.name)}" data-search="{_e(_search_text(t))}">'
            f'<a href="#table-{_e(t.name)}">'
            f'<rect class="frame" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
            'rx="4"/>'
            f'<rect class="head" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{HEAD_H}" '
            'rx="4"/>'
            f'<text class="title" x="{x + PAD:.1f}" y="{y + 16:.1f}">{_e(t.name)}</text>'
        )
        for i, line in enumerate(lines):
            cls = ' class="more"' if has_more and i == len(lines) - 1 else ""
            out.append(
                f'<text{cls} x="{x + PAD:.1f}" y="{y + HEAD_H + ROW_H * i + 13:.1f}">'
                f"{_e(line)}</text>"
            )
        out.append("</a></g>")
    out.append("</svg>")
    return "".join(out)


def _edge(
    child: tuple[float, float, float, float], parent: tuple[float, float, float, float], name: str
) -> str:
    cx, cy, cw, ch = child
    px, py, pw, ph = parent
    if child == parent:  # a table that references itself: a loop on its right side
        x, y = cx + cw, cy + HEAD_H / 2
        return (
            f'<path class="edge" d="M{x:.1f},{y:.1f} c30,0 30,24 0,24" '
            f'marker-end="url(#one)"><title>{_e(name)}</title></path>'
        )
    c_mid, p_mid = (cx + cw / 2, cy + ch / 2), (px + pw / 2, py + ph / 2)
    if abs(c_mid[0] - p_mid[0]) > (cw + pw) / 2:  # side by side: leave from the facing sides
        x1 = cx + cw if p_mid[0] > c_mid[0] else cx
        x2 = px if p_mid[0] > c_mid[0] else px + pw
        y1, y2 = cy + HEAD_H / 2, py + HEAD_H / 2
        mid = (x1 + x2) / 2
        d = f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    else:  # one above the other
        y1 = cy if p_mid[1] < c_mid[1] else cy + ch
        y2 = py + ph if p_mid[1] < c_mid[1] else py
        x1, x2 = c_mid[0], p_mid[0]
        mid = (y1 + y2) / 2
        d = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{mid:.1f} {x2:.1f},{mid:.1f} {x2:.1f},{y2:.1f}"
    return f'<path class="edge" d="{d}" marker-end="url(#one)"><title>{_e(name)}</title></path>'
