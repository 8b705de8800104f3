"""Acceptance cases: `grants:` (harness.py runs each case through the whole cycle).

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
from .harness import Case, Conn, Plan, all_of, params, run_case, sql_is, y

READER, WRITER = "i8c_grant_reader", "i8c_grant_writer"
ROLES_SQL = "".join(
    f"do $$ begin create role {r}; exception when duplicate_object then null; end $$;"
    for r in (READER, WRITER)
)
T_SQL = ROLES_SQL + (
    "create table t (id serial primary key, n integer);"
    "create function f() returns integer language sql as $$\nSELECT 1\n$$;"
)
SPEC = """
        functions:
          f: {returns: integer, language: sql, body: SELECT 1}
        tables:
          t:
            columns: {id: serial, n: integer}
            primary_key: [id]
        grants:
"""


def grants(*lines: str) -> str:
    return SPEC + "".join(f"          {line}\n" for line in lines)


def can(role: str, privilege: str, on: str = "t") -> Callable[[Plan, Conn], None]:
    return sql_is(f"select has_table_privilege('{role}', '{on}', '{privilege}')", True)


def cannot(role: str, privilege: str, on: str = "t") -> Callable[[Plan, Conn], None]:
    return sql_is(f"select has_table_privilege('{role}', '{on}', '{privilege}')", False)


def statements_are(*prefixes: str) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        got = [c.sql for c in plan.changes]
        assert len(got) == len(prefixes), got
        for sql, prefix in zip(got, prefixes, strict=True):
            assert sql.startswith(prefix), got

    return check


CASES: list[Case] = [
    Case(
        "grants-created",
        T_SQL,
        grants(f"{READER}: {{schema: [usage], tables: {{t: [select]}},"
               " sequences: {t_id_seq: [usage]}, functions: {f: [execute]}}"),
        expected=(("create", "grant"),),
        check=all_of(
            can(READER, "select"),
            cannot(READER, "insert"),
            sql_is(f"select has_sequence_privilege('{READER}', 't_id_seq', 'usage')", True),
            sql_is(f"select has_schema_privilege('{READER}', 'public', 'usage')", True),
        ),
    ),
    Case(
        "grant-extended-by-one-privilege",
        T_SQL + f"grant select on t to {READER};",
        grants(f"{READER}: {{tables: {{t: [select, insert]}}}}"),
        expected=(("create", "grant"),),
        check=all_of(statements_are(f"GRANT INSERT ON TABLE public.t TO {READER}"),
                     can(READER, "insert")),
    ),
    Case(
        "grant-narrowed-by-revoke",
        T_SQL + f"grant select, insert, update on t to {READER};",
        grants(f"{READER}: {{tables: {{t: [select]}}}}"),
        expected=(("drop", "grant"),),
        check=all_of(statements_are(f"REVOKE INSERT, UPDATE ON TABLE public.t FROM {READER}"),
                     can(READER, "select"), cannot(READER, "update")),
    ),
    Case(
        "grants-of-a-listed-role-on-an-object-it-is-not-granted-are-revoked",
        T_SQL + f"grant select on t to {READER}; grant usage on schema public to {READER};",
        grants(f"{READER}: {{schema: [usage]}}"),
        expected=(("drop", "grant"),),
        check=cannot(READER, "select"),
    ),
    Case(
        "execute-revoked-from-public-and-granted-to-a-role",
        T_SQL,
        grants("public: {schema: [usage]}", f"{WRITER}: {{functions: {{f: [execute]}}}}"),
        expected=(("drop", "grant"), ("create", "grant")),
        check=all_of(
            sql_is("select has_function_privilege('public', 'f()', 'execute')", False),
            sql_is(f"select has_function_privilege('{WRITER}', 'f()', 'execute')", True),
        ),
    ),
    Case(
        "role-not-listed-is-left-alone",
        T_SQL + f"grant select on t to {WRITER}; grant select on t to {READER};",
        grants(f"{READER}: {{tables: {{t: [select]}}}}"),
        check=can(WRITER, "select"),
    ),
    Case(
        "grants-left-alone-without-the-key",
        T_SQL + f"grant select on t to {WRITER};",
        SPEC.replace("        grants:\n", ""),
        check=can(WRITER, "select"),
    ),
    Case(
        "grant-on-a-table-the-plan-creates",
        ROLES_SQL,
        grants(f"{WRITER}: {{tables: {{t: [insert, select]}}, sequences: {{t_id_seq: [usage]}}}}"),
        expected=(("create", "table"), ("create", "grant")),
        check=all_of(can(WRITER, "insert"), can(WRITER, "select")),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)


def test_a_role_the_database_lacks_is_a_plan_error_naming_it(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(T_SQL.encode())
    spec = parse_spec("version: 1\n" + y(grants("i8c_nobody: {tables: {t: [select]}}")),
                      "schema.yaml")
    with pytest.raises(SpecError) as e:
        make_plan(spec, db_url)
    assert "schema.yaml:9:3: role 'i8c_nobody' does not exist" in str(e.value)


def test_a_grant_on_an_undeclared_table_is_a_spec_error() -> None:
    with pytest.raises(SpecError) as e:
        parse_spec("version: 1\n" + y(grants(f"{READER}: {{tables: {{nope: [select]}}}}")))
    assert "table 'nope' is not declared" in str(e.value)
