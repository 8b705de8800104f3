"""Grants (`grants:`): the privileges of the roles the spec names, on the spec's objects.

Managed only when the spec has `grants:`. For each role listed there, its privileges on the
spec's schema and on the tables, views, sequences, functions and procedures the spec declares
are made exactly what the spec says: missing ones are granted, others revoked. Roles the spec
does not list, and objects it does not declare, are left alone. Roles are never created or
dropped (plan fails, naming a role the database lacks).

Privileges are compared with the live catalog (aclexplode), not through the shadow database:
a GRANT is the same statement whatever else the plan does, and runs after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from schemadiff import spec as s
from schemadiff import sqlread
from schemadiff.differ import Change
from schemadiff.sqltext import qualified, quote

# (kind, object, role) -> privileges; kind as GRANT spells it: SCHEMA, TABLE, SEQUENCE, ROUTINE.
Privileges = dict[tuple[str, str, str], set[str]]

_LIVE_SQL = """
with objects(kind, name, target, acl) as (
  select case when c.relkind = 'S' then 'SEQUENCE' else 'TABLE' end, c.relname,
         format('%%I.%%I', n.nspname, c.relname), c.relacl
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = %(schema)s and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
  union all
  select 'ROUTINE', p.proname,
         format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
         coalesce(p.proacl, acldefault('f', p.proowner))
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname = %(schema)s and p.prokind in ('f', 'p')
  union all
  select 'SCHEMA', n.nspname, format('%%I', n.nspname),
         coalesce(n.nspacl, acldefault('n', n.nspowner))
    from pg_namespace n where n.nspname = %(schema)s
)
select o.kind, o.name, o.target,
       case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end,
       lower(a.privilege_type)
  from objects o, aclexplode(o.acl) a
 order by 1, 3, 4, 5
"""


def _wanted(spec: s.Spec, targets: dict[tuple[str, str], list[str]]) -> Privileges:
    """What the spec grants, per (kind, target, role): every object of each listed role."""
    out: Privileges = {}
    for g in spec.grants:
        out[("SCHEMA", quote(spec.schema), g.role)] = set(g.schema)
        for kind, objects in (("TABLE", g.tables), ("SEQUENCE", g.sequences)):
            for name, privileges in objects.items():
                out[(kind, qualified(spec.schema, name), g.role)] = set(privileges)
        for (kind, routine), target_list in targets.items():
            for target in target_list:
                out[(kind, target, g.role)] = set(g.functions.get(routine, []))
    return out


def _routines(
    spec: s.Spec, live: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str], list[str]]:
    """('ROUTINE', name) -> the targets GRANT names: the live overloads, else the spec's
    signatures (routines this plan creates)."""
    found: dict[tuple[str, str], list[str]] = {}
    for kind, name, target in live:
        if kind == "ROUTINE":
            found.setdefault((kind, name), []).append(target)
    declared = {f.name for f in [*spec.functions, *spec.procedures]}
    found = {k: v for k, v in found.items() if k[1] in declared}
    for f in [*spec.functions, *spec.procedures]:
        if ("ROUTINE", f.name) not in found or not found[("ROUTINE", f.name)]:
            found.setdefault(("ROUTINE", f.name), []).append(routine_signature(spec.schema, f))
    return found


def routine_signature(schema: str, f: s.Function) -> str:
    """`schema.name(type, ...)`: how GRANT names a routine of the spec."""
    types = sqlread.argument_types(f.args)
    return f"{qualified(schema, f.name)}({', '.join(f.args if types is None else types)})"


def read(conn: psycopg.Connection[Any], schema: str) -> list[tuple[str, str, str, str, str]]:
    """Every privilege on the schema and its objects: (kind, name, target, role, privilege)."""
    rows = conn.execute(_LIVE_SQL, {"schema": schema}).fetchall()
    return [(str(a), str(b), str(c), str(d), str(e)) for a, b, c, d, e in rows]


def changes(spec: s.Spec, live_rows: list[tuple[str, str, str, str, str]]) -> list[Change]:
    """GRANT and REVOKE statements that make the listed roles' privileges the spec's."""
    if "grants" not in spec.manages:
        return []
    roles = {g.role for g in spec.grants}
    live_targets = {(k, n, t) for k, n, t, _, _ in live_rows}
    want = _wanted(spec, _routines(spec, live_targets))
    declared_tables = {
        qualified(spec.schema, n)
        for n in [t.name for t in spec.tables] + [v.name for v in spec.views]
    }
    have: Privileges = {}
    for kind, _name, target, role, privilege in live_rows:
        if role not in roles:
            continue
        if kind in ("TABLE", "SEQUENCE") and (kind, target, role) not in want:
            # An object the spec declares but grants the role nothing on: revoke what it has.
            if kind == "TABLE" and target not in declared_tables:
                continue
            if kind == "SEQUENCE" and not _declared_sequence(spec, target):
                continue
        if kind == "ROUTINE" and (kind, target, role) not in want:
            continue  # a routine the spec does not declare
        have.setdefault((kind, target, role), set()).add(privilege)
    out: list[Change] = []
    for key in sorted(set(want) | set(have)):
        kind, target, role = key
        grantee = "PUBLIC" if role == "public" else quote(role)
        gone = sorted(have.get(key, set()) - want.get(key, set()))
        new = sorted(want.get(key, set()) - have.get(key, set()))
        name = f"{kind.lower()} {target} to {role}"
        if gone:
            sql = f"REVOKE {', '.join(p.upper() for p in gone)} ON {kind} {target} FROM {grantee}"
            out.append(Change("drop", "grant", name, sql))
        if new:
            sql = f"GRANT {', '.join(p.upper() for p in new)} ON {kind} {target} TO {grantee}"
            out.append(Change("create", "grant", name, sql))
    return out


def _declared_sequence(spec: s.Spec, target: str) -> bool:
    names = {sq.name for sq in spec.sequences} | {
        f"{t.name}_{c.name}_seq" for t in spec.tables for c in t.columns
    }
    return any(target == qualified(spec.schema, n) for n in names)


def render(spec: s.Spec) -> list[str]:
    """GRANT (and, for PUBLIC, REVOKE of Postgres' defaults) for an empty database."""
    if "grants" not in spec.manages:
        return []
    return [c.sql for c in changes(spec, _defaults(spec))]


def _defaults(spec: s.Spec) -> list[tuple[str, str, str, str, str]]:
    """The privileges a fresh database gives PUBLIC on the spec's objects: EXECUTE on every
    routine, and USAGE on the schema `public` (Postgres 15+)."""
    rows = [
        ("ROUTINE", f.name, routine_signature(spec.schema, f), "public", "execute")
        for f in [*spec.functions, *spec.procedures]
    ]
    if spec.schema == "public":
        rows.append(("SCHEMA", "public", "public", "public", "usage"))
    return rows
