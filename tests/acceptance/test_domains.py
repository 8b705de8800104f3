"""Acceptance cases: domains (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import psycopg
import pytest

from schemadiff.hazards import HazardKind
from schemadiff.plan import Plan

from ..conftest import Server
from .harness import (
    DATA_LOSS,
    NOT_NULL,
    REWRITE,
    VALIDATION,
    Case,
    Check,
    Conn,
    all_of,
    params,
    run_case,
    sql_is,
)

T_SQL = "create table t (id integer primary key, e text); insert into t values (1, 'a@b');"
EMAIL_SQL = (
    "create domain email as text constraint email_at check (value ~ '@');"
    "create table t (id integer primary key, e email); insert into t values (1, 'a@b');"
)


def spec(domain: str, column_type: str = "email") -> str:
    return f"""
        domains:
          email: {domain}
        tables:
          t:
            columns: {{id: integer, e: {column_type}}}
            primary_key: [id]
    """


EMAIL = "{type: text, checks: [{name: email_at, expression: \"VALUE ~ '@'\"}]}"


def domain_is(column: str, expected: object) -> Check:
    return sql_is(f"select {column} from pg_type where typname = 'email'", expected)


def function_then_domain(plan: Plan, conn: Conn) -> None:
    kinds = [c.kind for c in plan.changes]
    assert kinds.index("function") < kinds.index("domain"), kinds


def rejects_no_at(plan: Plan, conn: Conn) -> None:
    conn.execute("insert into t (id, e) values (7, 'p@q')")
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("insert into t (id, e) values (8, 'pq')")


CASES: list[Case] = [
    Case(
        "domain-created-with-column-using-it",
        "create table t (id integer primary key);",
        """
        domains:
          email:
            type: text
            nullable: false
            default: x@y
            checks: [{name: email_at, expression: "VALUE ~ '@'"}]
            comment: An e-mail address
        tables:
          t:
            columns: {id: integer, e: email}
            primary_key: [id]
        """,
        expected=(("create", "domain"), ("create", "column")),
        check=all_of(
            domain_is("typnotnull", True),
            sql_is("select obj_description('email'::regtype, 'pg_type')", "An e-mail address"),
        ),
    ),
    Case(
        "domain-table-with-domain-column-is-managed",
        EMAIL_SQL,
        spec(EMAIL),
    ),
    Case(
        "domain-check-added-to-domain-in-use-validated-after",
        "create domain email as text;"
        "create table t (id integer primary key, e email); insert into t values (1, 'a@b');",
        spec(EMAIL),
        VALIDATION,
        (("alter", "domain"),),
        check=sql_is("select bool_and(convalidated) from pg_constraint"
                     " where contypid = 'email'::regtype", True),
    ),
    Case(
        "domain-check-added-to-unused-domain",
        "create domain email as text;",
        spec(EMAIL, "text"),
        expected=(("alter", "domain"), ("create", "table")),
    ),
    Case(
        "domain-check-changed",
        EMAIL_SQL,
        spec("{type: text, checks: [{name: email_at, expression: \"VALUE ~ '^.+@.+$'\"}]}"),
        VALIDATION,
        (("alter", "domain"),),
    ),
    Case(
        "domain-check-dropped",
        EMAIL_SQL,
        spec("{type: text}"),
        expected=(("alter", "domain"),),
        check=sql_is("select count(*) from pg_constraint where contypid = 'email'::regtype", 0),
    ),
    Case(
        "domain-default-set-and-changed",
        EMAIL_SQL.replace("as text", "as text default 'old@x'"),
        spec(EMAIL.replace("type: text,", "type: text, default: new@x,")),
        expected=(("alter", "domain"),),
        check=domain_is("typdefault", "'new@x'::text"),
    ),
    Case(
        "domain-default-dropped",
        EMAIL_SQL.replace("as text", "as text default 'old@x'"),
        spec(EMAIL),
        expected=(("alter", "domain"),),
        check=domain_is("typdefault", None),
    ),
    Case(
        "domain-not-null-set-on-domain-in-use",
        EMAIL_SQL,
        spec(EMAIL.replace("type: text,", "type: text, nullable: false,")),
        NOT_NULL,
        (("alter", "domain"),),
        check=domain_is("typnotnull", True),
    ),
    Case(
        "domain-not-null-dropped",
        EMAIL_SQL.replace("as text", "as text not null"),
        spec(EMAIL),
        expected=(("alter", "domain"),),
        check=domain_is("typnotnull", False),
    ),
    Case(
        "domain-base-type-changed-while-unused",
        "create domain email as varchar(50); create table t (id integer primary key, e text);",
        spec("{type: text}", "text"),
        expected=(("drop", "domain"), ("alter", "domain")),
        check=domain_is("format_type(typbasetype, typtypmod)", "text"),
    ),
    Case(
        "domain-dropped-with-its-column",
        EMAIL_SQL,
        """
        domains: {}
        tables:
          t:
            columns: {id: integer}
            primary_key: [id]
        """,
        DATA_LOSS,
        (("drop", "domain"), ("drop", "column")),
        check=sql_is("select to_regtype('email')", None),
    ),
    Case(
        "domain-column-type-changed-to-domain",
        T_SQL,
        spec(EMAIL),
        DATA_LOSS | REWRITE,
        (("create", "domain"), ("alter", "column")),
    ),
    Case(
        "domain-comment-changed",
        EMAIL_SQL + "comment on domain email is 'old';",
        spec("{type: text, checks: [{name: email_at, expression: \"VALUE ~ '@'\"}],"
             " comment: new}"),
        expected=(("alter", "comment"),),
        check=sql_is("select obj_description('email'::regtype, 'pg_type')", "new"),
    ),
    Case(
        "domain-check-calling-a-spec-function-created-after-it",
        "create table t (id integer primary key);",
        """
        functions:
          has_at:
            args: ["s text"]
            returns: boolean
            language: sql
            volatility: immutable
            body: SELECT position('@' in s) > 0
        domains:
          email:
            type: text
            default: {sql: "'x' || '@y'"}
            checks: [{name: email_at, expression: has_at(VALUE)}]
        tables:
          t:
            columns: {id: integer, e: email}
            primary_key: [id]
        """,
        expected=(("create", "function"), ("create", "domain"), ("create", "column")),
        check=all_of(function_then_domain, rejects_no_at),
    ),
    Case(
        "domain-check-calling-a-new-spec-function-added-after-it",
        EMAIL_SQL,
        """
        functions:
          has_at:
            args: ["s text"]
            returns: boolean
            language: sql
            volatility: immutable
            body: SELECT position('@' in s) > 0
        domains:
          email:
            type: text
            checks:
              - {name: email_at, expression: "VALUE ~ '@'"}
              - {name: email_has_at, expression: has_at(VALUE)}
        tables:
          t:
            columns: {id: integer, e: email}
            primary_key: [id]
        """,
        VALIDATION,
        (("create", "function"), ("alter", "domain")),
        check=all_of(function_then_domain, rejects_no_at),
    ),
    Case(
        "domain-dropped-with-the-spec-function-its-check-calls",
        "create function has_at(s text) returns boolean language sql immutable as"
        " $$SELECT position('@' in s) > 0$$;"
        "create domain email as text constraint email_has_at check (has_at(value));",
        """
        domains: {}
        tables: {}
        """,
        frozenset({HazardKind.DEPENDENT_OBJECTS}),  # the check goes with the function (CASCADE)
        (("drop", "domain"), ("drop", "function")),
        check=sql_is("select to_regtype('email')", None),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
