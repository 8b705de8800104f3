"""migra's known gaps, each shown wrong on plain migra and right here.

Each test builds the old database and a database straight from the new spec, asks plain migra
for the SQL between them (`migra_sql`) and shows what is wrong with it (it fails, or misses the
change); then the same case goes through schemadiff's whole cycle (harness.run_case).
"""

from __future__ import annotations

import warnings
from typing import Any

import psycopg

from schemadiff._migra import get_inspector
from schemadiff.differ import _InspectorCursor
from schemadiff.model import render_sql
from schemadiff.spec import parse_spec

from ..conftest import Server, make_database
from .harness import Case, run_case, y


def migra_sql(live_url: str, target_url: str, schema: str = "public") -> str:
    """What plain migra (every change it knows, in its order) says turns live into target."""
    from migra import Migration

    inspectors: list[Any] = []
    for url in (live_url, target_url):
        with psycopg.connect(url, autocommit=True) as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inspectors.append(get_inspector(_InspectorCursor(conn), schema=schema))
    m = Migration(inspectors[0], inspectors[1], schema=schema)
    m.set_safety(False)
    m.add_all_changes()
    return str(m.sql)


def _migra_for(case: Case, server: Server) -> tuple[str, str]:
    """Plain migra's SQL for a case (live from its old SQL, target from its spec), and the
    live database's URL (so a test can run migra's SQL there)."""
    spec = parse_spec("version: 1\n" + y(case.new_spec), f"{case.id}.yaml")
    live, target = make_database(server), make_database(server)
    with psycopg.connect(live, autocommit=True) as conn:
        if case.old_sql:
            conn.execute(case.old_sql.encode())
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute(render_sql(spec).encode())
    return migra_sql(live, target), live


# --- comments, partitions, extensions (issue 8, helper i8d) --------------------------------


def test_comments_on_every_kind_not_diffed_by_migra(server: Server, db_url: str) -> None:
    """migra writes no COMMENT at all: not on tables, keys, indexes, triggers or sequences."""
    from .test_comments import CASES

    for case_id in (
        "comment-on-keys-added",
        "comment-on-existing-index-added-and-changed",
        "comment-on-trigger-added",
    ):
        case = next(c for c in CASES if c.id == case_id)
        sql, _ = _migra_for(case, server)
        assert "comment" not in sql.lower(), sql
    run_case(next(c for c in CASES if c.id == "comment-on-keys-added"), server, db_url)


def test_unpinned_extension_version_changed_by_migra(server: Server, db_url: str) -> None:
    """migra moves an extension to the version the target happens to have; an unpinned one
    keeps the live version here."""
    from .test_extensions import CASES

    case = next(c for c in CASES if c.id == "extension-unpinned-keeps-the-live-version")
    sql, _ = _migra_for(case, server)
    assert "alter extension \"pg_trgm\" update to '1.6'" in sql, sql
    run_case(case, server, db_url)


def test_extension_dropped_by_migra_though_not_declared(server: Server, db_url: str) -> None:
    """migra drops every extension the target lacks; without `extensions:` they are left
    alone here, and named."""
    from .test_extensions import CASES

    case = next(c for c in CASES if c.id == "extension-left-alone-without-extensions-key")
    sql, _ = _migra_for(case, server)
    assert 'drop extension if exists "hstore"' in sql, sql
    run_case(case, server, db_url)


# --- types, sequences and views (issue 8, helper i8b) ---------------------------------------


def _gap(case: Case, server: Server) -> str:
    """Plain migra's SQL for the case; then the case through schemadiff on a fresh database."""
    sql, _ = _migra_for(case, server)
    run_case(case, server, make_database(server))
    return sql


# sequences -----------------------------------------------------------------------------------


def test_serial_sequence_keeps_as_integer(server: Server) -> None:
    """migra creates a serial column's sequence as bigint (no AS integer)."""
    from .test_sequences import CASES

    case = next(c for c in CASES if c.id == "serial-column-sequence-as-integer")
    sql = _gap(case, server)
    assert 'create sequence "public"."t_id_seq"' in sql
    assert "as integer" not in sql.lower()


def test_sequence_options_changed(server: Server) -> None:
    """migra ignores every option of an existing sequence."""
    from .test_sequences import CASES

    case = next(c for c in CASES if c.id == "sequence-increment-changed")
    sql = _gap(case, server)
    assert "increment" not in sql.lower()


# views ---------------------------------------------------------------------------------------


def test_view_options_are_diffed(server: Server) -> None:
    """migra ignores view reloptions: security_barrier set on an existing view plans nothing."""
    from .test_views import CASES

    case = next(c for c in CASES if c.id == "view-security-barrier-set")
    sql = _gap(case, server)
    assert "security_barrier" not in sql


def test_view_replaced_by_migra_loses_its_options(server: Server) -> None:
    """migra's CREATE OR REPLACE VIEW has no WITH (...): the view's options are reset."""
    from .test_views import CASES

    case = next(c for c in CASES if c.id == "view-options-kept-when-query-replaced")
    sql = _gap(case, server)
    assert "create or replace view" in sql
    assert "security_barrier" not in sql


# domains, composite types, materialized views ------------------------------------------


def test_domains_are_diffed(server: Server) -> None:
    """migra never diffs domains: a check added to a domain in use plans nothing."""
    from .test_domains import CASES

    case = next(c for c in CASES if c.id == "domain-check-added-to-domain-in-use-validated-after")
    sql = _gap(case, server)
    assert "domain" not in sql.lower()


def test_new_domain_is_created(server: Server) -> None:
    """migra does not create a new domain, so the column using it cannot be added."""
    from .test_domains import CASES

    case = next(c for c in CASES if c.id == "domain-created-with-column-using-it")
    sql = _gap(case, server)
    assert "create domain" not in sql.lower()
    assert "email" in sql  # the column is added with a type nothing created


def test_composite_type_attribute_added_in_place(server: Server) -> None:
    """migra drops and creates a changed composite type, which Postgres refuses while a
    column uses it; schemadiff adds the attribute in place."""
    from .test_composite_types import CASES

    case = next(c for c in CASES if c.id == "composite-type-attribute-added")
    sql = _gap(case, server)
    assert 'drop type "public"."amount"' in sql
    assert "add attribute" not in sql


def test_materialized_view_index_recreated_around_a_type_change(server: Server) -> None:
    """migra replaces the materialized view around the column type change but loses its index
    and creates it WITH DATA only as the query; schemadiff creates the index again."""
    from .test_materialized_views import CASES

    case = next(
        c for c in CASES if c.id == "matview-around-a-column-type-change-keeps-its-index"
    )
    sql = _gap(case, server)
    assert "create materialized view" in sql
    assert "create unique index" not in sql.lower()
