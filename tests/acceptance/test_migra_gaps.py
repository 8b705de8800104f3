"""migra's known gaps, each shown wrong on plain migra and right here.

Each test builds the old database and a database straight from the new spec, asks plain migra
for the SQL between them (`migra_sql`) and shows what is wrong with it (it fails, or misses the
change); then the same case goes through schemadiff's whole cycle (harness.run_case).
"""

from __future__ import annotations

import warnings
from typing import Any

import psycopg
import pytest

from schemadiff._migra import get_inspector
from schemadiff.differ import _InspectorCursor
from schemadiff.model import render_sql
from schemadiff.spec import parse_spec

from ..conftest import Server, make_database
from .harness import INDEX_BUILD, SIGNATURE, VALIDATION, Case, all_of, execute, run_case, sql_is, y


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


def databases(server: Server, case: Case) -> tuple[str, str]:
    """(the old database, a database built straight from the new spec)."""
    live, target = make_database(server), make_database(server)
    spec = parse_spec("version: 1\n" + y(case.new_spec), f"{case.id}.yaml")
    with psycopg.connect(live, autocommit=True) as conn:
        conn.execute(case.old_sql.encode())
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute(render_sql(spec).encode())
    return live, target


FUNCTION_USED_ON_EXISTING_TABLE = Case(
    "gap-new-function-used-by-default-check-and-index",
    "create table t (id integer primary key, code text); insert into t values (1, 'a');",
    """
    functions:
      norm: {args: ["c text"], returns: text, language: sql, volatility: immutable,
             body: SELECT upper(c)}
      code_ok: {args: ["c text"], returns: boolean, language: sql, volatility: immutable,
                body: "SELECT c <> ''"}
    tables:
      t:
        columns:
          id: integer
          code: {type: text, default: {sql: "norm('x')"}, check: code_ok(code)}
        primary_key: [id]
        indexes:
          - {name: t_code_norm, columns: [{expression: norm(code)}]}
    """,
    INDEX_BUILD | VALIDATION,
    expected=(("create", "function"), ("create", "index"), ("create", "constraint")),
    check=all_of(execute("insert into t (id) values (2)"), sql_is("select code from t where id = 2",
                                                                  "X")),
)


def test_new_function_used_by_a_default_check_and_index_is_created_first(
    server: Server, db_url: str
) -> None:
    case = FUNCTION_USED_ON_EXISTING_TABLE
    live, target = databases(server, case)
    sql = migra_sql(live, target)
    creates = sql.find("CREATE OR REPLACE FUNCTION")
    users = [sql.find(s) for s in ("norm('x'::text)", "code_ok(code)", "norm(code)")]
    assert creates > 0 and all(0 <= u < creates for u in users), sql  # users come first
    with (
        psycopg.connect(live, autocommit=True) as conn,
        pytest.raises(psycopg.errors.UndefinedFunction),
    ):
        conn.execute(sql.encode())
    run_case(case, server, db_url)


FUNCTION_OPTIONS = Case(
    "gap-function-options-changed",
    "create table t (id integer primary key);"
    "create function f() returns integer language sql security definer as $$\nSELECT 1\n$$;",
    """
    functions:
      f:
        returns: integer
        language: sql
        security: definer
        parallel: safe
        leakproof: true
        cost: 10
        set: {search_path: "pg_catalog, pg_temp"}
        body: SELECT 1
    tables:
      t: {columns: {id: integer}, primary_key: [id]}
    """,
    expected=(("alter", "function"),),
    check=sql_is("select proconfig::text || proparallel::text || proleakproof::text || procost"
                 " from pg_proc where proname = 'f'", '{"search_path=pg_catalog, pg_temp"}strue10'),
)


def test_function_options_migra_ignores_are_changed(server: Server, db_url: str) -> None:
    """A SECURITY DEFINER function without a pinned search_path is a known hole; migra does
    not see SET, PARALLEL, LEAKPROOF or COST at all."""
    live, target = databases(server, FUNCTION_OPTIONS)
    assert "function" not in migra_sql(live, target).lower()
    run_case(FUNCTION_OPTIONS, server, db_url)


RETURN_TYPE = Case(
    "gap-function-return-type-changed",
    "create function f() returns integer language sql as $$ SELECT 1 $$;"
    "create table t (id integer primary key);",
    """
    functions:
      f: {returns: bigint, language: sql, body: SELECT 2}
    tables:
      t: {columns: {id: integer}, primary_key: [id]}
    """,
    SIGNATURE,
    expected=(("drop", "function"), ("alter", "function")),
    check=sql_is("select f()", 2),
)


def test_function_return_type_change_is_drop_and_create(server: Server, db_url: str) -> None:
    live, target = databases(server, RETURN_TYPE)
    sql = migra_sql(live, target)
    assert "drop function" not in sql.lower(), sql  # CREATE OR REPLACE alone, which fails
    with (
        psycopg.connect(live, autocommit=True) as conn,
        pytest.raises(psycopg.errors.InvalidFunctionDefinition),
    ):
        conn.execute(sql.encode())
    run_case(RETURN_TYPE, server, db_url)


FORCE_RLS = Case(
    "gap-force-row-level-security",
    "create table t (id integer primary key); alter table t enable row level security;",
    """
    tables:
      t:
        columns: {id: integer}
        primary_key: [id]
        row_level_security: true
        force_row_level_security: true
    """,
    expected=(("alter", "table"),),
    check=sql_is("select relforcerowsecurity from pg_class where oid = 't'::regclass", True),
)


def test_force_row_level_security_is_diffed(server: Server, db_url: str) -> None:
    live, target = databases(server, FORCE_RLS)
    assert "force" not in migra_sql(live, target).lower()
    run_case(FORCE_RLS, server, db_url)


DISABLED_TRIGGER = Case(
    "gap-trigger-disabled",
    "create table t (id integer primary key);"
    "create function tf() returns trigger language plpgsql as $$\nBEGIN\n  RETURN NEW;\nEND;\n$$;"
    "create trigger tg before insert on t for each row execute function tf();",
    """
    functions:
      tf:
        returns: trigger
        language: plpgsql
        body: |
          BEGIN
            RETURN NEW;
          END;
    tables:
      t:
        columns: {id: integer}
        primary_key: [id]
        triggers:
          - {name: tg, function: tf, timing: before, events: [insert], enabled: false}
    """,
    expected=(("alter", "trigger"),),
    check=sql_is("select tgenabled::text from pg_trigger where tgname = 'tg'", "D"),
)


def test_disabling_a_trigger_is_one_alter(server: Server, db_url: str) -> None:
    """migra drops and creates the trigger, with the ALTER in the same string as the CREATE."""
    live, target = databases(server, DISABLED_TRIGGER)
    sql = migra_sql(live, target).lower()
    assert "drop trigger" in sql and "create trigger" in sql, sql
    run_case(DISABLED_TRIGGER, server, db_url)


# --- columns and constraints (issue 8, helper i8a) ---------------------------------------


def _two_databases(server: Server, live_sql: str, target_sql: str) -> tuple[str, str]:
    urls = make_database(server), make_database(server)
    for url, sql in zip(urls, (live_sql, target_sql), strict=True):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.encode())
    return urls


def test_identity_options_ignored_by_migra(server: Server, db_url: str) -> None:
    live, target = _two_databases(
        server,
        "create table t (id integer generated always as identity primary key);",
        "create table t (id integer generated always as identity"
        " (start with 100 increment by 10) primary key);",
    )
    assert "100" not in migra_sql(live, target)  # migra: nothing to do
    run_case(
        Case(
            "identity-options",
            "create table t (id integer generated always as identity primary key);",
            """
            tables:
              t:
                columns:
                  id: {type: integer, identity: {generated: always, start: 100, increment: 10}}
                primary_key: [id]
            """,
            expected=(("alter", "column"),),
        ),
        server,
        db_url,
    )


def test_generated_expression_change_fails_on_migra(server: Server, db_url: str) -> None:
    old = "create table t (n integer, twice integer generated always as (n * 2) stored);"
    live, target = _two_databases(
        server, old, "create table t (n integer, twice integer generated always as (n * 3) stored);"
    )
    sql = migra_sql(live, target)
    # migra writes SET DEFAULT on a generated column, which Postgres rejects.
    assert "set default" in sql, sql
    with psycopg.connect(live, autocommit=True) as conn:
        try:
            conn.execute(sql.encode())
            raise AssertionError("migra's SQL ran")
        except psycopg.Error:
            pass
    run_case(
        Case(
            "generated-expression",
            old,
            """
            tables:
              t:
                columns:
                  n: integer
                  twice: {type: integer, generated: n * 3}
            """,
            expected=(("alter", "column"),) if server.major >= 17 else (("create", "column"),),
        ),
        server,
        db_url,
    )


def test_table_and_index_storage_parameters_ignored_by_migra(
    server: Server, db_url: str
) -> None:
    old = "create table t (id integer primary key, n integer); create index t_n_idx on t (n);"
    live, target = _two_databases(
        server,
        old,
        "create table t (id integer primary key, n integer) with (fillfactor = 70);"
        "create index t_n_idx on t (n) with (fillfactor = 50);",
    )
    assert "fillfactor" not in migra_sql(live, target)
    run_case(
        Case(
            "storage",
            old,
            """
            tables:
              t:
                with: {fillfactor: 70}
                columns: {id: integer, n: integer}
                primary_key: [id]
                indexes:
                  - {columns: [n], with: {fillfactor: 50}}
            """,
            expected=(("alter", "table"), ("alter", "index")),
        ),
        server,
        db_url,
    )


def test_collation_of_a_new_table_lost_by_migra(server: Server, db_url: str) -> None:
    live, target = _two_databases(
        server, "select 1;", 'create table t (id integer, name text collate "C");'
    )
    sql = migra_sql(live, target)
    assert "create table" in sql and "collate" not in sql.lower(), sql
    run_case(
        Case(
            "collation-on-create",
            "",
            """
            tables:
              t:
                columns:
                  id: integer
                  name: {type: text, collation: C}
            """,
            expected=(("create", "table"),),
        ),
        server,
        db_url,
    )


def test_unique_index_nulls_not_distinct_ignored_by_migra(server: Server, db_url: str) -> None:
    old = "create table t (id integer primary key, code text);"
    live, target = _two_databases(
        server,
        old + "create unique index t_code_idx on t (code);",
        old + "create unique index t_code_idx on t (code) nulls not distinct;",
    )
    assert "nulls not distinct" not in migra_sql(live, target).lower()
    run_case(
        Case(
            "index-nulls-not-distinct",
            old + "create unique index t_code_idx on t (code);",
            """
            tables:
              t:
                columns: {id: integer, code: text}
                primary_key: [id]
                indexes:
                  - {columns: [code], unique: true, nulls_not_distinct: true}
            """,
            expected=(("drop", "index"), ("create", "index")),
        ),
        server,
        db_url,
    )


def test_index_on_existing_partitioned_table_left_invalid_by_migra(
    server: Server, db_url: str
) -> None:
    """migra creates the index ON ONLY the partitioned table and never builds nor attaches
    the partitions' indexes: the index stays invalid (and unused) for good."""
    from .test_partitions import CASES

    case = next(c for c in CASES if c.id == "partition-index-on-existing-table-built-per-partition")
    sql, live = _migra_for(case, server)
    assert " ON ONLY " in sql, sql
    with psycopg.connect(live, autocommit=True) as conn:
        conn.execute(sql.encode())
        valid = conn.execute(
            "select indisvalid from pg_index where indexrelid = 'm_n_idx'::regclass"
        ).fetchone()
    assert valid == (False,)
    run_case(case, server, db_url)  # valid on every partition: see its check


def test_primary_key_on_partitioned_table_fails_on_migra(server: Server, db_url: str) -> None:
    """migra adds a primary key USING INDEX, which Postgres refuses on a partitioned table."""
    from .test_partitions import CASES

    case = next(c for c in CASES if c.id == "partition-primary-key-on-existing-table")
    sql, live = _migra_for(case, server)
    assert "using index" in sql.lower(), sql
    with psycopg.connect(live, autocommit=True) as conn, pytest.raises(psycopg.Error):
        conn.execute(sql.encode())
    run_case(case, server, db_url)


# --- cross-major view comparison -------------------------------------------------------------

CROSS_MAJOR_VIEWS = y(
    """
    tables:
      t:
        columns:
          id: integer
          name: varchar(10)
        primary_key: [id]
    views:
      named_t:
        query: SELECT id, name FROM t WHERE id > 1
    """
)


def test_view_compared_across_majors_is_replaced_by_migra_not_here(
    server: Server, db_url: str
) -> None:
    """Postgres 16 stopped qualifying columns in view definitions (`t.id` became `id`), so
    migra between a live database and a target of another major replaces every view. The
    shadow is always the live server's major: the same view plans nothing here."""
    from schemadiff import postgres
    from schemadiff.plan import planner

    others = [i for i in postgres.discover() if (i.major >= 16) != (server.major >= 16)]
    if not others:
        pytest.skip("needs a local major on the other side of Postgres 16")
    spec = parse_spec("version: 1\n" + CROSS_MAJOR_VIEWS, "cross-major.yaml")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(render_sql(spec).encode())
    with postgres.ephemeral_cluster(others[0].major) as other:
        with psycopg.connect(other.url(), autocommit=True) as conn:
            conn.execute(render_sql(spec).encode())
        assert "create or replace view" in migra_sql(db_url, other.url()).lower()
    with planner(spec, db_url) as p:
        assert p.plan().empty
