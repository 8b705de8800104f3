"""Acceptance cases: extensions (harness.py runs each one through the whole cycle).

Only contrib extensions that both local installs ship (the system's 15 and the wheel's 18):
pg_trgm, hstore, citext, cube, seg.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from schemadiff.hazards import HazardKind
from schemadiff.plan import Plan

from ..conftest import Server
from .harness import (
    DATA_LOSS,
    NONE,
    Case,
    Conn,
    all_of,
    changes_of,
    params,
    run_case,
    sql_is,
)

DEPENDENTS = frozenset({HazardKind.DEPENDENT_OBJECTS})


def version_of(name: str, expected: str | None) -> Callable[[Plan, Conn], None]:
    return sql_is(f"select extversion from pg_extension where extname = '{name}'", expected)


def left_alone(plan: Plan, conn: Conn) -> None:
    assert "extension hstore" in plan.unmanaged, plan.unmanaged
    assert not [c for c in plan.changes if c.kind == "extension"]
    assert conn.execute("select 'a=>1'::hstore -> 'a'").fetchone() == ("1",)


def drop_names_the_view(plan: Plan, conn: Conn) -> None:
    (drop,) = changes_of(plan, "drop", "extension")
    assert drop.sql.endswith(" cascade")
    (hazard,) = drop.hazards
    assert hazard.kind == HazardKind.DEPENDENT_OBJECTS
    assert any("pairs" in o for o in hazard.objects), hazard.objects
    assert conn.execute("select to_regclass('public.pairs')").fetchone() == (None,)


def extension_drop_without_hazard(plan: Plan, conn: Conn) -> None:
    (drop,) = changes_of(plan, "drop", "extension")
    assert drop.hazards == ()
    assert "cascade" not in drop.sql
    kinds = [(c.action, c.kind) for c in plan.changes]
    assert kinds.index(("drop", "column")) < kinds.index(("drop", "extension"))


T = """
        tables:
          t:
            columns: {id: integer}
        """

CASES: list[Case] = [
    Case(
        "extension-created-before-the-table-using-its-type",
        "",
        """
        extensions: [citext]
        tables:
          users:
            columns: {id: integer, email: citext}
            unique:
              - columns: [email]
        """,
        expected=(("create", "extension"), ("create", "table")),
        check=all_of(
            sql_is("select 'A'::citext = 'a'::citext", True),
            sql_is("select count(*) from pg_extension where extname = 'citext'", 1),
        ),
    ),
    Case(
        "extension-pinned-version-is-updated",
        "create extension pg_trgm version '1.5';",
        """
        extensions: [{name: pg_trgm, version: "1.6"}]
        """ + T,
        expected=(("alter", "extension"), ("create", "table")),
        check=version_of("pg_trgm", "1.6"),
    ),
    Case(
        "extension-pinned-older-version-on-create",
        "",
        """
        extensions: [{name: pg_trgm, version: "1.5"}]
        """ + T,
        expected=(("create", "extension"), ("create", "table")),
        check=version_of("pg_trgm", "1.5"),
    ),
    Case(
        "extension-unpinned-keeps-the-live-version",
        "create extension pg_trgm version '1.5'; create table t (id integer);",
        """
        extensions: [pg_trgm]
        """ + T,
        check=version_of("pg_trgm", "1.5"),
    ),
    Case(
        "extension-pinned-version-already-there-plans-nothing",
        "create extension pg_trgm version '1.5'; create table t (id integer);",
        """
        extensions: [{name: pg_trgm, version: "1.5"}]
        """ + T,
    ),
    Case(
        "extension-with-schema",
        "",
        """
        extensions: [{name: seg, schema: public}]
        """ + T,
        expected=(("create", "extension"),),
        check=sql_is(
            "select n.nspname from pg_extension e join pg_namespace n"
            " on n.oid = e.extnamespace where e.extname = 'seg'",
            "public",
        ),
    ),
    Case(
        "extension-not-listed-is-dropped-when-extensions-is-declared",
        "create extension cube; create table t (id integer);",
        """
        extensions: []
        """ + T,
        NONE,
        (("drop", "extension"),),
        check=sql_is("select count(*) from pg_extension where extname = 'cube'", 0),
    ),
    Case(
        "extension-left-alone-without-extensions-key",
        "create extension hstore; create table t (id integer);",
        T,
        check=left_alone,
    ),
    Case(
        "extension-drop-cascades-to-an-unmanaged-view-as-a-hazard",
        "create extension hstore; create table t (id integer);"
        "create view pairs as select 'a=>1'::hstore as h;",
        """
        extensions: []
        """ + T,
        DEPENDENTS,
        (("drop", "extension"),),
        check=drop_names_the_view,
    ),
    Case(
        "extension-dropped-after-the-column-of-its-type",
        "create extension hstore; create table t (id integer, h hstore);"
        "insert into t values (1, 'a=>1');",
        """
        extensions: []
        """ + T,
        DATA_LOSS,
        (("drop", "column"), ("drop", "extension")),
        check=extension_drop_without_hazard,
    ),
    Case(
        "extension-index-opclass-from-an-extension",
        "create extension pg_trgm; create table t (id integer, name text);",
        """
        extensions: [pg_trgm]
        tables:
          t:
            columns: {id: integer, name: text}
            indexes:
              - {name: t_name_trgm, columns: [{column: name, opclass: gin_trgm_ops}],
                 method: gin}
        """,
        expected=(("create", "index"),),
        check=sql_is("select count(*) from pg_indexes where indexname = 't_name_trgm'", 1),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
