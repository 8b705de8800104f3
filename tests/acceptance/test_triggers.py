"""Acceptance cases: triggers beyond the basics (harness.py runs each case through the cycle):
UPDATE OF, arguments, transition tables, constraint triggers, disabled triggers, and INSTEAD OF
triggers on views."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from ..conftest import Server
from .harness import (
    Case,
    Conn,
    Plan,
    all_of,
    execute,
    params,
    run_case,
    sql_is,
    y,
)

# A trigger function that counts its calls (and its first argument) into log.
LOG_FN = """
        functions:
          note:
            returns: trigger
            language: plpgsql
            body: |
              BEGIN
                INSERT INTO log VALUES (coalesce(TG_ARGV[0], TG_OP));
                RETURN NULL;
              END;
"""
LOG_FN_SQL = (
    "create table log (what text);"
    "create function note() returns trigger language plpgsql as $$\n"
    "BEGIN\n  INSERT INTO log VALUES (coalesce(TG_ARGV[0], TG_OP));\n  RETURN NULL;\nEND;\n$$;"
)
TABLES = """
        tables:
          log:
            columns: {what: text}
          t:
            columns: {id: integer, a: integer, b: integer}
            primary_key: [id]
            triggers:
"""
T_SQL = LOG_FN_SQL + "create table t (id integer primary key, a integer, b integer);"


def spec(*triggers: str) -> str:
    return LOG_FN + TABLES + "".join(f"              - {tg}\n" for tg in triggers)


def logged(expected: list[str]) -> Callable[[Plan, Conn], None]:
    return sql_is("select coalesce(string_agg(what, ',' order by what), '') from log",
                  ",".join(expected))


def no_recreate(plan: Plan, conn: Conn) -> None:
    """An enabled/disabled switch is ALTER TABLE, never a drop and create."""
    assert [(c.action, c.kind) for c in plan.changes] == [("alter", "trigger")]
    assert " TRIGGER " in plan.changes[0].sql and plan.changes[0].sql.startswith("ALTER TABLE")


def deferred_until_commit(plan: Plan, conn: Conn) -> None:
    with conn.transaction():
        conn.execute("insert into t values (1, 1, 1)")
        assert conn.execute("select count(*) from log").fetchone() == (0,)
    assert conn.execute("select count(*) from log").fetchone() == (1,)


CASES: list[Case] = [
    Case(
        "trigger-update-of-columns-created",
        T_SQL + "insert into t values (1, 1, 1);",
        spec("{name: on_a, function: note, timing: after, events: [update], update_of: [a]}"),
        expected=(("create", "trigger"),),
        check=all_of(
            execute("update t set b = 2"),
            execute("update t set a = 2"),
            logged(["UPDATE"]),
        ),
    ),
    Case(
        "trigger-update-of-columns-changed",
        T_SQL + "create trigger on_a after update of a on t for each row execute function note();",
        spec("{name: on_a, function: note, timing: after, events: [update], update_of: [a, b]}"),
        expected=(("drop", "trigger"), ("alter", "trigger")),
        check=all_of(execute("insert into t values (1, 1, 1); update t set b = 2"),
                     logged(["UPDATE"])),
    ),
    Case(
        "trigger-with-arguments-created",
        T_SQL,
        spec("{name: tagged, function: note, timing: after, events: [insert], args: [hello]}"),
        expected=(("create", "trigger"),),
        check=all_of(execute("insert into t values (1, 1, 1)"), logged(["hello"])),
    ),
    Case(
        "trigger-arguments-changed",
        T_SQL + "create trigger tagged after insert on t for each row execute function"
        " note('old');",
        spec("{name: tagged, function: note, timing: after, events: [insert], args: [new, 2]}"),
        expected=(("drop", "trigger"), ("alter", "trigger")),
        check=all_of(execute("insert into t values (1, 1, 1)"), logged(["new"])),
    ),
    Case(
        "trigger-with-arguments-unchanged-plans-nothing",
        T_SQL + "create trigger tagged after insert or update of a, b on t for each row"
        " when (new.a > 0) execute function note('x', '1');",
        spec("{name: tagged, function: note, timing: after, events: [insert, update],"
             " update_of: [a, b], when: NEW.a > 0, args: [x, 1]}"),
    ),
    Case(
        "trigger-transition-table-statement-level",
        T_SQL.replace(
            "create table t", "create function count_new() returns trigger language plpgsql"
            " as $$ BEGIN RETURN NULL; END; $$; create table t"
        ),
        LOG_FN.replace("          note:", """          count_new:
            returns: trigger
            language: plpgsql
            body: |
              BEGIN
                INSERT INTO log SELECT 'rows:' || count(*) FROM inserted;
                RETURN NULL;
              END;
          note:""") + TABLES + "              - {name: batch, function: count_new, timing: after,"
        " events: [insert], for_each: statement, referencing: {new_table: inserted}}\n",
        expected=(("alter", "function"), ("create", "trigger")),
        check=all_of(execute("insert into t values (1, 1, 1), (2, 2, 2)"), logged(["rows:2"])),
    ),
    Case(
        "constraint-trigger-deferred-created",
        T_SQL,
        spec("{name: later, function: note, timing: after, events: [insert], constraint: true,"
             " deferrable: true, initially_deferred: true}"),
        expected=(("create", "trigger"),),
        check=deferred_until_commit,
    ),
    Case(
        "constraint-trigger-made-initially-deferred",
        T_SQL + "create constraint trigger later after insert on t deferrable"
        " for each row execute function note();",
        spec("{name: later, function: note, timing: after, events: [insert], constraint: true,"
             " deferrable: true, initially_deferred: true}"),
        expected=(("drop", "trigger"), ("alter", "trigger")),
        check=deferred_until_commit,
    ),
    Case(
        "trigger-disabled-in-place",
        T_SQL + "create trigger ins after insert on t for each row execute function note();",
        spec("{name: ins, function: note, timing: after, events: [insert], enabled: false}"),
        expected=(("alter", "trigger"),),
        check=all_of(no_recreate, execute("insert into t values (1, 1, 1)"), logged([])),
    ),
    Case(
        "trigger-enabled-again-in-place",
        T_SQL + "create trigger ins after insert on t for each row execute function note();"
        "alter table t disable trigger ins;",
        spec("{name: ins, function: note, timing: after, events: [insert]}"),
        expected=(("alter", "trigger"),),
        check=all_of(no_recreate, execute("insert into t values (1, 1, 1)"), logged(["INSERT"])),
    ),
    Case(
        "trigger-created-disabled",
        LOG_FN_SQL,
        spec("{name: ins, function: note, timing: after, events: [insert], enabled: false}"),
        expected=(("create", "table"), ("create", "trigger")),
        check=all_of(execute("insert into t values (1, 1, 1)"), logged([])),
    ),
    Case(
        "trigger-timing-and-level-changed",
        T_SQL + "create trigger ins before insert on t for each row execute function note();",
        spec("{name: ins, function: note, timing: after, events: [insert],"
             " for_each: statement}"),
        expected=(("drop", "trigger"), ("alter", "trigger")),
        check=all_of(execute("insert into t values (1, 1, 1), (2, 2, 2)"), logged(["INSERT"])),
    ),
    Case(
        "trigger-when-changed",
        T_SQL + "create trigger ins after insert on t for each row when (new.a > 0)"
        " execute function note();",
        spec("{name: ins, function: note, timing: after, events: [insert], when: NEW.a > 5}"),
        expected=(("drop", "trigger"), ("alter", "trigger")),
        check=all_of(execute("insert into t values (1, 3, 3), (2, 9, 9)"), logged(["INSERT"])),
    ),
]


# INSTEAD OF triggers on a view: writes through the view land in t with b = 7.
VIEW_FN = """
        functions:
          v_write:
            returns: trigger
            language: plpgsql
            body: |
              BEGIN
                INSERT INTO t VALUES (NEW.id, 0, 7);
                RETURN NEW;
              END;
        tables:
          t:
            columns: {id: integer, a: integer, b: integer}
            primary_key: [id]
"""
VIEW_FN_SQL = (
    "create table t (id integer primary key, a integer, b integer);"
    "create function v_write() returns trigger language plpgsql as $$\n"
    "BEGIN\n  INSERT INTO t VALUES (NEW.id, 0, 7);\n  RETURN NEW;\nEND;\n$$;"
)
V_INS = "{name: v_ins, function: v_write, timing: instead of, events: [insert]}"
V_INS_SQL = (
    "create trigger v_ins instead of insert on v for each row execute function v_write();"
)


def view_spec(query: str, *triggers: str) -> str:
    listed = "".join(f"              - {tg}\n" for tg in triggers)
    return VIEW_FN + f"""
        views:
          v:
            query: {query}
""" + ("            triggers:\n" + listed if triggers else "")


written_through_trigger = all_of(
    execute("insert into v (id) values (1)"), sql_is("select b from t where id = 1", 7)
)

CASES += [
    Case(
        "instead-of-trigger-on-view-created",
        VIEW_FN_SQL,
        view_spec("SELECT id, a FROM t", V_INS),
        expected=(("create", "view"), ("create", "trigger")),
        check=written_through_trigger,
    ),
    Case(
        "instead-of-trigger-unchanged-plans-nothing",
        VIEW_FN_SQL + "create view v as select id, a from t;" + V_INS_SQL,
        view_spec("SELECT id, a FROM t", V_INS),
    ),
    Case(
        # A view that loses a column is dropped and created: its trigger is created again.
        "instead-of-trigger-recreated-with-its-view",
        VIEW_FN_SQL + "create view v as select id, a from t;" + V_INS_SQL,
        view_spec("SELECT id FROM t", V_INS),
        expected=(("drop", "view"), ("alter", "view"), ("alter", "trigger")),
        check=written_through_trigger,
    ),
    Case(
        "instead-of-trigger-events-changed",
        VIEW_FN_SQL + "create view v as select id, a from t;" + V_INS_SQL,
        view_spec("SELECT id, a FROM t", V_INS.replace("[insert]", "[insert, update]")),
        expected=(("drop", "trigger"), ("alter", "trigger")),
        check=all_of(written_through_trigger, execute("update v set id = 2"),
                     sql_is("select count(*) from t where b = 7", 2)),
    ),
    Case(
        "instead-of-trigger-dropped",
        VIEW_FN_SQL + "create view v as select id, a from t;" + V_INS_SQL,
        view_spec("SELECT id, a FROM t"),
        expected=(("drop", "trigger"),),
        check=all_of(
            execute("insert into v (id) values (1)"), sql_is("select b from t where id = 1", None)
        ),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)


def test_update_of_an_unknown_column_is_a_spec_error() -> None:
    from schemadiff.errors import SpecError
    from schemadiff.spec import parse_spec

    with pytest.raises(SpecError) as e:
        parse_spec("version: 1\n" + spec(
            "{name: on_c, function: note, timing: after, events: [update], update_of: [c]}"
        ).replace("\n        ", "\n").lstrip("\n"))
    assert "trigger 'on_c' update_of: no column 'c'" in str(e.value)


def test_view_trigger_must_be_instead_of_for_each_row() -> None:
    from schemadiff.errors import SpecError
    from schemadiff.spec import parse_spec

    body = view_spec(
        "SELECT id, a FROM t", "{name: v_ins, function: v_write, timing: before, events: [insert]}"
    )
    with pytest.raises(SpecError) as e:
        parse_spec("version: 1\n" + y(body))
    assert "view 'v' trigger 'v_ins': a trigger on a view is `timing: instead of`" in str(e.value)


def test_statement_trigger_on_a_view_is_named_not_managed(server: Server, db_url: str) -> None:
    """BEFORE/AFTER ... FOR EACH STATEMENT on a view: Postgres has it, the spec cannot say it."""
    from schemadiff.plan import planner
    from schemadiff.spec import parse_spec

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            (VIEW_FN_SQL + "create view v as select id, a from t;"
             "create trigger v_stmt before insert on v for each statement"
             " execute function v_write();").encode()
        )
    spec = parse_spec("version: 1\n" + y(view_spec("SELECT id, a FROM t")), "view-stmt.yaml")
    with planner(spec, db_url, server.admin_url) as p:
        plan = p.plan()
    assert plan.empty, [c.sql for c in plan.changes]
    assert 'trigger "public"."v"."v_stmt" (before ... for each statement on a view)' in (
        plan.unmanaged
    ), plan.unmanaged


def test_instead_of_trigger_imported_and_round_trips(
    server: Server, db_url: str, tmp_path: Path
) -> None:
    from schemadiff.introspect import import_database
    from schemadiff.plan import planner
    from schemadiff.spec import load_spec

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute((VIEW_FN_SQL + "create view v as select id, a from t;" + V_INS_SQL).encode())
    imported = import_database(db_url)
    assert imported.problems == [], imported.problems
    path = tmp_path / "schema.yaml"
    path.write_text(imported.text, encoding="utf-8")
    spec = load_spec(path)
    [view] = spec.views
    assert [(tg.name, tg.timing, tg.events) for tg in view.triggers] == [
        ("v_ins", "instead of", ["insert"])
    ]
    with planner(spec, db_url, server.admin_url) as p:
        plan = p.plan()
    assert plan.empty, [c.sql for c in plan.changes]
    assert plan.unmanaged == []
