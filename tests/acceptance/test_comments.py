"""Acceptance cases: comments (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import pytest

from ..conftest import Server
from .harness import (
    Case,
    all_of,
    column_comment_is,
    params,
    run_case,
    sql_is,
    table_comment_is,
)

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


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
