"""Acceptance cases: comments (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from schemadiff.plan import Plan

from ..conftest import Server
from .harness import (
    INDEX_BUILD,
    UNIQUE_BUILD,
    Case,
    Conn,
    all_of,
    column_comment_is,
    params,
    run_case,
    sql_is,
    table_comment_is,
)


def constraint_comment_is(table: str, name: str, expected: str | None) -> Callable[..., None]:
    def check(plan: Plan, conn: Conn) -> None:
        row = conn.execute(
            "select obj_description(oid, 'pg_constraint') from pg_constraint"
            " where conrelid = %s::regclass and conname = %s",
            (f"public.{table}", name),
        ).fetchone()
        assert row is not None and row[0] == expected, row

    return check


def relation_comment_is(name: str, expected: str | None) -> Callable[..., None]:
    return sql_is(f"select obj_description('{name}'::regclass, 'pg_class')", expected)


def comment_after_the_build(plan: Plan, conn: Conn) -> None:
    """The comment on an index built CONCURRENTLY runs after the build, outside the
    transaction (the index does not exist before)."""
    kinds = [(c.kind, c.transactional) for c in plan.changes]
    build = kinds.index(("index", False))
    comment = next(n for n, c in enumerate(plan.changes) if c.kind == "comment")
    assert comment > build
    assert not plan.changes[comment].transactional


def only_comments(plan: Plan, conn: Conn) -> None:
    assert {c.kind for c in plan.changes} == {"comment"}, [c.sql for c in plan.changes]

CASES: list[Case] = [
    Case(
        "comment-added-on-table-column-function",
        "create table t (id integer primary key, note text);"
        "create function answer() returns integer language sql immutable as $$\nSELECT 42\n$$;",
        """
        functions:
          answer:
            returns: integer
            language: sql
            volatility: immutable
            body: SELECT 42
            comment: The answer
        tables:
          t:
            comment: Things
            columns:
              id: {type: integer, comment: "the thing's id"}
              note: {type: text, comment: "line one\\nline two"}
            primary_key: [id]
        """,
        expected=(("alter", "comment"),),
        check=all_of(
            table_comment_is("t", "Things"),
            column_comment_is("t", "id", "the thing's id"),
            column_comment_is("t", "note", "line one\nline two"),
            sql_is("select obj_description('answer'::regproc, 'pg_proc')", "The answer"),
        ),
    ),
    Case(
        "comment-changed-and-removed",
        "create type st as enum ('a'); comment on type st is 'old';"
        "create table t (id integer primary key, n integer); comment on table t is 'old';"
        "comment on column t.id is 'old id'; comment on column t.n is 'gone';"
        "create function answer() returns integer language sql as $$ SELECT 42 $$;"
        "comment on function answer() is 'old';",
        """
        enums:
          st:
            values: [a]
            comment: new
        functions:
          answer:
            returns: integer
            language: sql
            body: SELECT 42
        tables:
          t:
            comment: new
            columns:
              id: {type: integer, comment: new id}
              n: integer
            primary_key: [id]
        """,
        expected=(("alter", "comment"),),
        check=all_of(
            table_comment_is("t", "new"),
            column_comment_is("t", "id", "new id"),
            column_comment_is("t", "n", None),
            sql_is("select obj_description('answer'::regproc, 'pg_proc')", None),
            sql_is("select obj_description('st'::regtype, 'pg_type')", "new"),
        ),
    ),
    Case(
        "comment-chinese-utf8-round-trip",
        "create table users (id text primary key, nickname text);"
        "comment on table users is '旧的';",
        """
        tables:
          users:
            comment: 用户表（含“引号”与 emoji 🚀）
            columns:
              id: {type: text, comment: 用户ID}
              nickname: {type: text, comment: "昵称，最长 32 个字符；可为空"}
            primary_key: [id]
        """,
        expected=(("alter", "comment"),),
        check=all_of(
            table_comment_is("users", "用户表（含“引号”与 emoji 🚀）"),
            column_comment_is("users", "id", "用户ID"),
            column_comment_is("users", "nickname", "昵称，最长 32 个字符；可为空"),
        ),
    ),
]

KEYS_SQL = (
    "create table p (id integer primary key, code text unique);"
    "create table c (id integer primary key, p_id integer references p,"
    " n integer constraint c_n_positive check (n > 0));"
)
KEYS_SPEC = """
        tables:
          p:
            columns: {id: integer, code: text}
            primary_key: {columns: [id], comment: %(pk)s}
            unique:
              - {columns: [code], comment: %(uq)s}
          c:
            columns: {id: integer, p_id: integer, n: integer}
            primary_key: [id]
            foreign_keys:
              - {columns: [p_id], references: p, comment: %(fk)s}
            checks:
              - {name: c_n_positive, expression: n > 0, comment: %(ck)s}
        """
KEYS_SPEC_BARE = """
        tables:
          p:
            columns: {id: integer, code: text}
            primary_key: [id]
            unique:
              - columns: [code]
          c:
            columns: {id: integer, p_id: integer, n: integer}
            primary_key: [id]
            foreign_keys:
              - {columns: [p_id], references: p}
            checks:
              - {name: c_n_positive, expression: n > 0}
        """
INDEX_SQL = "create table t (id integer primary key, n integer); create index t_n_idx on t (n);"
TRIGGER_SQL = (
    "create table t (id integer primary key, updated_at timestamptz);"
    "create function touch() returns trigger language plpgsql as $$\nBEGIN\n"
    "  NEW.updated_at = now();\n  RETURN NEW;\nEND;\n$$;"
    "create trigger t_touch before update on t for each row execute function touch();"
)
TRIGGER_COMMENT = (
    "select obj_description(oid, 'pg_trigger') from pg_trigger where tgname = 't_touch'"
)
TRIGGER_SPEC = """
        functions:
          touch:
            returns: trigger
            language: plpgsql
            body: |
              BEGIN
                NEW.updated_at = now();
                RETURN NEW;
              END;
        tables:
          t:
            columns: {id: integer, updated_at: timestamptz}
            primary_key: [id]
            triggers:
              - {name: t_touch, function: touch, timing: before, events: [update]%(comment)s}
        """

CASES += [
    Case(
        "comment-on-keys-added",
        KEYS_SQL,
        KEYS_SPEC % {"pk": "the key", "uq": "one per code", "fk": "whose child", "ck": "positive"},
        expected=(("alter", "comment"),),
        check=all_of(
            only_comments,
            constraint_comment_is("p", "p_pkey", "the key"),
            constraint_comment_is("p", "p_code_key", "one per code"),
            constraint_comment_is("c", "c_p_id_fkey", "whose child"),
            constraint_comment_is("c", "c_n_positive", "positive"),
        ),
    ),
    Case(
        "comment-on-keys-changed-with-quotes",
        KEYS_SQL + "comment on constraint p_pkey on p is 'old';"
        "comment on constraint c_n_positive on c is 'old';",
        KEYS_SPEC % {"pk": "\"it's new\"", "uq": "u", "fk": "f", "ck": "\"a\\nb\""},
        expected=(("alter", "comment"),),
        check=all_of(
            constraint_comment_is("p", "p_pkey", "it's new"),
            constraint_comment_is("c", "c_n_positive", "a\nb"),
        ),
    ),
    Case(
        "comment-on-keys-removed-when-the-spec-drops-it",
        KEYS_SQL + "comment on constraint p_pkey on p is 'old';"
        "comment on constraint p_code_key on p is 'old';"
        "comment on constraint c_p_id_fkey on c is 'old';",
        KEYS_SPEC_BARE,
        expected=(("alter", "comment"),),
        check=all_of(
            only_comments,
            constraint_comment_is("p", "p_pkey", None),
            constraint_comment_is("p", "p_code_key", None),
            constraint_comment_is("c", "c_p_id_fkey", None),
        ),
    ),
    Case(
        "comment-on-keys-unchanged-plans-nothing",
        KEYS_SQL + "comment on constraint p_pkey on p is 'same';"
        "comment on constraint p_code_key on p is 'u';"
        "comment on constraint c_p_id_fkey on c is 'f';"
        "comment on constraint c_n_positive on c is 'c';",
        KEYS_SPEC % {"pk": "same", "uq": "u", "fk": "f", "ck": "c"},
    ),
    Case(
        "comment-on-existing-index-added-and-changed",
        INDEX_SQL + "create index t_id_n_idx on t (id, n); comment on index t_id_n_idx is 'old';",
        """
        tables:
          t:
            columns: {id: integer, n: integer}
            primary_key: [id]
            indexes:
              - {columns: [n], comment: by n}
              - {columns: [id, n], comment: new}
        """,
        expected=(("alter", "comment"),),
        check=all_of(
            only_comments,
            relation_comment_is("t_n_idx", "by n"),
            relation_comment_is("t_id_n_idx", "new"),
        ),
    ),
    Case(
        "comment-on-index-removed",
        INDEX_SQL + "comment on index t_n_idx is 'old';",
        """
        tables:
          t:
            columns: {id: integer, n: integer}
            primary_key: [id]
            indexes:
              - columns: [n]
        """,
        expected=(("alter", "comment"),),
        check=relation_comment_is("t_n_idx", None),
    ),
    Case(
        "comment-on-index-built-concurrently-comes-after-the-build",
        "create table t (id integer primary key, n integer); insert into t values (1, 1);",
        """
        tables:
          t:
            columns: {id: integer, n: integer}
            primary_key: [id]
            indexes:
              - {columns: [n], comment: built online}
        """,
        INDEX_BUILD,
        (("create", "index"), ("alter", "comment")),
        check=all_of(comment_after_the_build, relation_comment_is("t_n_idx", "built online")),
    ),
    Case(
        "comment-on-unique-key-attached-after-the-transaction",
        "create table t (id integer primary key, code text); insert into t values (1, 'a');",
        """
        tables:
          t:
            columns: {id: integer, code: text}
            primary_key: [id]
            unique:
              - {columns: [code], comment: one per code}
        """,
        UNIQUE_BUILD,
        (("create", "index"), ("alter", "comment")),
        check=all_of(
            comment_after_the_build, constraint_comment_is("t", "t_code_key", "one per code")
        ),
    ),
    Case(
        "comment-on-trigger-added",
        TRIGGER_SQL,
        TRIGGER_SPEC % {"comment": ", comment: keeps updated_at"},
        expected=(("alter", "comment"),),
        check=all_of(
            only_comments,
            sql_is(TRIGGER_COMMENT, "keeps updated_at"),
        ),
    ),
    Case(
        "comment-on-trigger-removed",
        TRIGGER_SQL + "comment on trigger t_touch on t is 'old';",
        TRIGGER_SPEC % {"comment": ""},
        expected=(("alter", "comment"),),
        check=sql_is(TRIGGER_COMMENT, None),
    ),
    Case(
        "comment-on-new-table-keys-index-and-trigger",
        "",
        (TRIGGER_SPEC % {"comment": ", comment: tg"}).replace(
            "primary_key: [id]",
            "primary_key: {columns: [id], comment: pk}\n"
            "            indexes:\n"
            "              - {columns: [updated_at], comment: ix}",
        ),
        expected=(("create", "table"), ("alter", "comment")),
        check=all_of(
            constraint_comment_is("t", "t_pkey", "pk"),
            relation_comment_is("t_updated_at_idx", "ix"),
        ),
    ),
    Case(
        "comment-on-sequence",
        "create sequence invoice_no start 100; comment on sequence invoice_no is 'old';"
        "create sequence other_no;",
        """
        sequences:
          invoice_no: {start: 100, comment: Invoice numbers}
          other_no: {comment: "其他编号"}
        tables:
          t:
            columns: {id: integer}
        """,
        expected=(("create", "table"), ("alter", "comment")),
        check=all_of(
            relation_comment_is("invoice_no", "Invoice numbers"),
            relation_comment_is("other_no", "其他编号"),
        ),
    ),
    Case(
        "comment-on-the-managed-schema",
        "create schema app; comment on schema app is 'old';"
        "create table app.t (id integer primary key);",
        """
        schema: {name: app, comment: The application's tables}
        tables:
          t:
            columns: {id: integer}
            primary_key: [id]
        """,
        expected=(("alter", "comment"),),
        check=sql_is(
            "select obj_description('app'::regnamespace, 'pg_namespace')",
            "The application's tables",
        ),
    ),
    Case(
        "comment-on-the-managed-schema-removed",
        "create schema app; comment on schema app is 'old';"
        "create table app.t (id integer primary key);",
        """
        schema: app
        tables:
          t:
            columns: {id: integer}
            primary_key: [id]
        """,
        expected=(("alter", "comment"),),
        check=sql_is("select obj_description('app'::regnamespace, 'pg_namespace')", None),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
