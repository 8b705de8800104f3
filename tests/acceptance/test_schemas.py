"""Multiple schemas: one spec manages one schema (`schema:`); a database with several schemas
is managed by one spec per schema. Each spec's plan leaves the other schemas alone and names
them `not managed`; cross-schema references are not expressible (docs/support.md)."""

from __future__ import annotations

import psycopg

from schemadiff.apply import Options, apply_plan
from schemadiff.hazards import HazardKind
from schemadiff.plan import planner
from schemadiff.spec import parse_spec

from ..conftest import Server
from .harness import y

APP = """
    schema: app
    enums:
      state: {values: [new, done]}
    tables:
      orders:
        columns:
          id: {type: bigint, identity: always}
          state: {type: state, default: new}
        primary_key: [id]
        indexes:
          - {name: orders_state_idx, columns: [state]}
"""
AUDIT = """
    schema: audit
    functions:
      note:
        args: ["what text"]
        returns: void
        language: sql
        body: INSERT INTO audit.events (what) VALUES (what)
    tables:
      events:
        columns:
          id: {type: bigint, identity: always}
          what: {type: text, nullable: false}
        primary_key: [id]
"""
# The same table name in a second schema: neither spec may mistake the other's for its own.
AUDIT_CHANGED = AUDIT.replace(
    "what: {type: text, nullable: false}\n",
    "what: {type: text, nullable: false}\n          at: timestamptz\n",
) + """
      orders:
        columns:
          id: bigint
        primary_key: [id]
"""


def _apply(source: str, name: str, server: Server, db_url: str) -> list[str]:
    """Plan and apply one schema's spec; the plan of it afterwards, which must be empty."""
    spec = parse_spec("version: 1\n" + y(source), name)
    with planner(spec, db_url, server.admin_url) as p:
        plan = p.plan()
        assert not plan.empty
        apply_plan(plan, db_url, Options(allowed_hazards=frozenset(HazardKind)))
        again = p.plan()
        assert again.empty, [c.sql for c in again.changes]
        return list(again.unmanaged)


def test_two_schemas_each_managed_by_its_own_spec(server: Server, db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("create schema scratch; create table scratch.t (id integer)")
    unmanaged_app = _apply(APP, "app.yaml", server, db_url)
    unmanaged_audit = _apply(AUDIT, "audit.yaml", server, db_url)
    # Each names the schemas it leaves alone, the other spec's among them.
    assert any("audit" in u for u in _apply(APP.replace("done]", "done, gone]"), "app.yaml",
                                            server, db_url))
    assert any("scratch" in u for u in unmanaged_app)
    assert any("app" in u for u in unmanaged_audit)
    # A change to one schema's spec touches nothing of the other's, even with a table of
    # the same name in both.
    _apply(AUDIT_CHANGED, "audit.yaml", server, db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("insert into app.orders default values")
        conn.execute("select audit.note('x')")
        tables = conn.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('app', 'audit', 'scratch') order by 1"
        ).fetchall()
        labels = conn.execute(
            "select string_agg(enumlabel, ',' order by enumsortorder) from pg_enum "
            "where enumtypid = 'app.state'::regtype"
        ).fetchone()
        at = conn.execute(
            "select data_type from information_schema.columns "
            "where table_schema = 'audit' and table_name = 'events' and column_name = 'at'"
        ).fetchone()
    assert at == ("timestamp with time zone",)
    assert [t[0] for t in tables] == [
        "app.orders", "audit.events", "audit.orders", "scratch.t"
    ]
    assert labels == ("new,done,gone",)
