"""Acceptance cases: row-level security and policies (harness.py runs each case).

Roles are cluster-wide and never created by schemadiff: the cases create theirs (if missing)
in their old SQL; the cluster is thrown away after the session.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from schemadiff.errors import SpecError
from schemadiff.plan import make_plan
from schemadiff.spec import parse_spec

from ..conftest import Server
from .harness import (
    DATA_LOSS,
    Case,
    Conn,
    Plan,
    all_of,
    params,
    run_case,
    sql_is,
    y,
)

READER, WRITER = "i8c_reader", "i8c_writer"
ROLES_SQL = "".join(
    f"do $$ begin create role {r}; exception when duplicate_object then null; end $$;"
    for r in (READER, WRITER)
)
T_SQL = ROLES_SQL + "create table t (id integer primary key, owner text, n integer);"
T_RLS_SQL = T_SQL + "alter table t enable row level security;"


def table(*extra: str) -> str:
    lines = "".join(f"            {line}\n" for line in extra)
    return """
        tables:
          t:
            columns: {id: integer, owner: text, n: integer}
            primary_key: [id]
""" + lines


def policy_sql_starts(prefix: str) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        policies = [c for c in plan.changes if c.kind == "policy" and c.action != "drop"]
        assert policies and all(c.sql.startswith(prefix) for c in policies), plan.changes

    return check


def rls(enabled: bool, forced: bool) -> Callable[[Plan, Conn], None]:
    return sql_is(
        "select array[relrowsecurity, relforcerowsecurity]::text from pg_class"
        " where oid = 't'::regclass",
        "{" + ("t" if enabled else "f") + "," + ("t" if forced else "f") + "}",
    )


def policy_is(column: str, expected: object) -> Callable[[Plan, Conn], None]:
    return sql_is(f"select {column} from pg_policies where tablename = 't'", expected)


def no_policy_changes(plan: Plan, conn: Conn) -> None:
    assert not [c for c in plan.changes if c.kind == "policy"], plan.changes


CASES: list[Case] = [
    Case(
        "rls-enabled-on-existing-table",
        T_SQL,
        table("row_level_security: true"),
        expected=(("alter", "table"),),
        check=rls(True, False),
    ),
    Case(
        "rls-disabled",
        T_RLS_SQL,
        table(),
        expected=(("alter", "table"),),
        check=rls(False, False),
    ),
    Case(
        "rls-forced-then-kept-enabled",
        T_RLS_SQL,
        table("row_level_security: true", "force_row_level_security: true"),
        expected=(("alter", "table"),),
        check=rls(True, True),
    ),
    Case(
        "rls-no-longer-forced",
        T_RLS_SQL + "alter table t force row level security;",
        table("row_level_security: true"),
        expected=(("alter", "table"),),
        check=rls(True, False),
    ),
    Case(
        "policy-created-on-existing-table",
        T_RLS_SQL,
        table(
            "row_level_security: true",
            "policies:",
            f"  own_rows: {{command: select, roles: [{READER}], using: owner = current_user}}",
        ),
        expected=(("create", "policy"),),
        check=all_of(policy_is("cmd", "SELECT"), policy_is("roles::text", f"{{{READER}}}")),
    ),
    Case(
        "policy-using-changed-is-altered",
        T_RLS_SQL + "create policy p on t for select using (n > 0);",
        table("row_level_security: true", "policies:",
              "  p: {command: select, using: n > 10}"),
        expected=(("alter", "policy"),),
        check=all_of(policy_sql_starts("alter policy"), policy_is("qual", "(n > 10)")),
    ),
    Case(
        "policy-roles-changed-is-altered",
        T_RLS_SQL + f"create policy p on t to {READER} using (true);",
        table("row_level_security: true", "policies:",
              f"  p: {{roles: [{WRITER}, {READER}], using: 'true'}}"),
        expected=(("alter", "policy"),),
        check=all_of(
            policy_sql_starts("alter policy"),
            policy_is("array(select unnest(roles) order by 1)::text",
                      f"{{{READER},{WRITER}}}"),
        ),
    ),
    Case(
        "policy-roles-in-another-order-plan-nothing",
        T_RLS_SQL + f"create policy p on t to {WRITER}, {READER} using (true);",
        table("row_level_security: true", "policies:",
              f"  p: {{roles: [{READER}, {WRITER}], using: 'true'}}"),
    ),
    Case(
        "policy-command-changed-is-recreated",
        T_RLS_SQL + "create policy p on t for select using (n > 0);",
        table("row_level_security: true", "policies:",
              "  p: {command: update, using: n > 0, with_check: n > 0}"),
        expected=(("drop", "policy"), ("alter", "policy")),
        check=all_of(policy_sql_starts("create policy"), policy_is("cmd", "UPDATE")),
    ),
    Case(
        "policy-made-restrictive-is-recreated",
        T_RLS_SQL + "create policy p on t using (n > 0);",
        table("row_level_security: true", "policies:",
              "  p: {permissive: false, using: n > 0}"),
        expected=(("drop", "policy"), ("alter", "policy")),
        check=policy_is("permissive", "RESTRICTIVE"),
    ),
    Case(
        "policy-with-check-removed-is-recreated",
        T_RLS_SQL + "create policy p on t using (n > 0) with check (n > 1);",
        table("row_level_security: true", "policies:", "  p: {using: n > 0}"),
        expected=(("drop", "policy"), ("alter", "policy")),
        check=policy_is("with_check", None),
    ),
    Case(
        "policy-dropped",
        T_RLS_SQL + "create policy p on t using (true); create policy q on t using (false);",
        table("row_level_security: true", "policies:", "  q: {using: 'false'}"),
        expected=(("drop", "policy"),),
        check=policy_is("policyname", "q"),
    ),
    Case(
        "policy-on-new-table-with-new-function",
        ROLES_SQL,
        """
        functions:
          visible:
            args: ["n integer"]
            returns: boolean
            language: sql
            volatility: stable
            body: SELECT n >= 0
""" + table("row_level_security: true", "force_row_level_security: true", "policies:",
            "  p: {roles: [public], using: visible(n), with_check: visible(n)}"),
        expected=(("create", "function"), ("create", "table"), ("create", "policy")),
        check=all_of(rls(True, True), policy_is("qual", "visible(n)")),
    ),
    Case(
        "policy-and-the-column-it-reads-dropped",
        T_RLS_SQL + "create policy p on t using (n > 0);",
        """
        tables:
          t:
            columns: {id: integer, owner: text}
            primary_key: [id]
            row_level_security: true
        """,
        DATA_LOSS,
        expected=(("drop", "policy"), ("drop", "column")),
        check=policy_is("count(*)", 0),
    ),
    Case(
        "table-with-policies-dropped-drops-them-along",
        T_RLS_SQL + "create policy p on t using (true);"
        "create table keep (id integer primary key);",
        """
        tables:
          keep:
            columns: {id: integer}
            primary_key: [id]
        """,
        DATA_LOSS,
        expected=(("drop", "table"),),
        check=no_policy_changes,
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)


def test_a_role_the_database_lacks_is_a_plan_error_naming_it(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(T_SQL.encode())
    spec = parse_spec(
        "version: 1\n" + y(table("row_level_security: true", "policies:",
                                 "  p: {roles: [i8c_nobody_has_this], using: 'true'}")),
        "schema.yaml",
    )
    with pytest.raises(SpecError) as e:
        make_plan(spec, db_url)
    assert "schema.yaml:8:7: role 'i8c_nobody_has_this' does not exist" in str(e.value)
