"""Acceptance cases: triggers beyond the basics (harness.py runs each case through the cycle):
UPDATE OF, arguments, transition tables, constraint triggers, disabled triggers."""

from __future__ import annotations

from collections.abc import Callable

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
