"""Acceptance cases: views (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import pytest

from ..conftest import Server
from .harness import (
    DATA_LOSS,
    REWRITE,
    Case,
    Check,
    all_of,
    params,
    run_case,
    sql_is,
)

T_SQL = "create table t (id integer primary key, name text); insert into t values (1, 'a');"
T = """
        tables:
          t:
            columns: {id: integer, name: text}
            primary_key: [id]
"""


def views(body: str, table: str = T) -> str:
    return table + "        views:\n" + body


def reloptions(view: str, expected: list[str] | None) -> Check:
    return sql_is(f"select reloptions::text[] from pg_class where oid = '{view}'::regclass",
                  expected)


CASES: list[Case] = [
    Case(
        "view-created-with-comment",
        T_SQL,
        views("""
          v:
            query: SELECT id, name FROM t
            comment: All rows
        """),
        expected=(("create", "view"), ("alter", "comment")),
        check=sql_is("select obj_description('v'::regclass, 'pg_class')", "All rows"),
    ),
    Case(
        "view-query-changed-same-columns",
        T_SQL + "create view v as select id, name from t;",
        views("""
          v:
            query: SELECT id, upper(name) AS name FROM t
        """),
        expected=(("alter", "view"),),
        check=sql_is("select name from v", "A"),
    ),
    Case(
        "view-column-removed-is-recreated",
        T_SQL + "create view v as select id, name from t;",
        views("""
          v:
            query: SELECT id FROM t
        """),
        expected=(("drop", "view"), ("alter", "view")),
        check=sql_is("select count(*) from information_schema.columns"
                     " where table_name = 'v'", 1),
    ),
    Case(
        "view-dropped",
        T_SQL + "create view v as select id from t;",
        views("          {}\n"),
        expected=(("drop", "view"),),
        check=sql_is("select to_regclass('public.v')", None),
    ),
    Case(
        "view-unchanged-written-differently-plans-nothing",
        T_SQL + "CREATE VIEW v AS SELECT t.id,t.name FROM t WHERE t.id>0;",
        views("""
          v:
            query: select id, name from t where id > 0
        """),
    ),
    Case(
        "view-unchanged-with-join-and-cast-plans-nothing",
        T_SQL + "create table u (id integer primary key, t_id integer);"
        "create view v as select u.id, t.name::varchar(10) as n, count(*) over () as c"
        " from u join t on t.id = u.t_id where t.name in ('a', 'b');",
        views("""
          v:
            query: |
              SELECT u.id, t.name::varchar(10) AS n, count(*) OVER () AS c
              FROM u JOIN t ON t.id = u.t_id WHERE t.name IN ('a', 'b')
        """, T + """
          u:
            columns: {id: integer, t_id: integer}
            primary_key: [id]
"""),
    ),
    Case(
        "views-reading-views-created-in-order",
        T_SQL,
        views("""
          base:
            query: SELECT id, name FROM t WHERE id > 0
          top:
            query: SELECT name FROM base
        """),
        expected=(("create", "view"),),
        check=sql_is("select name from top", "a"),
    ),
    Case(
        "column-type-change-beneath-a-view",
        T_SQL + "create view v as select id, name from t;",
        views("""
          v:
            query: SELECT id, name FROM t
        """, T.replace("{id: integer, name: text}", "{id: bigint, name: text}")),
        REWRITE,
        (("drop", "view"), ("alter", "column"), ("alter", "view")),
        check=sql_is("select format_type(atttypid, atttypmod) from pg_attribute"
                     " where attrelid = 'v'::regclass and attname = 'id'", "bigint"),
    ),
    Case(
        "column-type-change-beneath-views-on-views",
        T_SQL + "create view base as select id, name from t;"
        "create view top as select id from base; comment on view top is 'kept';",
        views("""
          base:
            query: SELECT id, name FROM t
          top:
            query: SELECT id FROM base
            comment: kept
        """, T.replace("{id: integer, name: text}", "{id: integer, name: varchar(20)}")),
        DATA_LOSS | REWRITE,
        (("drop", "view"), ("alter", "column"), ("alter", "view")),
        check=all_of(
            sql_is("select count(*) from top", 1),
            sql_is("select obj_description('top'::regclass, 'pg_class')", "kept"),
        ),
    ),
    Case(
        "column-dropped-beneath-a-view-that-stops-reading-it",
        T_SQL + "create view v as select id, name from t;",
        views("""
          v:
            query: SELECT id FROM t
        """, T.replace("{id: integer, name: text}", "{id: integer}")),
        DATA_LOSS,
        (("drop", "view"), ("drop", "column"), ("alter", "view")),
    ),
    Case(
        "view-comment-changed",
        T_SQL + "create view v as select id from t; comment on view v is 'old';",
        views("""
          v:
            query: SELECT id FROM t
            comment: new
        """),
        expected=(("alter", "comment"),),
        check=sql_is("select obj_description('v'::regclass, 'pg_class')", "new"),
    ),
    Case(
        "view-created-with-check-option",
        T_SQL,
        views("""
          v:
            query: SELECT id, name FROM t WHERE id > 0
            check_option: local
        """),
        expected=(("create", "view"),),
        check=reloptions("v", ["check_option=local"]),
    ),
    Case(
        "view-check-option-changed",
        T_SQL + "create view v as select id, name from t where id > 0 with local check option;",
        views("""
          v:
            query: SELECT id, name FROM t WHERE id > 0
            check_option: cascaded
        """),
        expected=(("alter", "view"),),
        check=reloptions("v", ["check_option=cascaded"]),
    ),
    Case(
        "view-check-option-removed",
        T_SQL + "create view v as select id, name from t where id > 0 with check option;",
        views("""
          v:
            query: SELECT id, name FROM t WHERE id > 0
        """),
        expected=(("alter", "view"),),
        check=reloptions("v", None),
    ),
    Case(
        "view-security-barrier-set",
        T_SQL + "create view v as select id, name from t;",
        views("""
          v:
            query: SELECT id, name FROM t
            security_barrier: true
        """),
        expected=(("alter", "view"),),
        check=reloptions("v", ["security_barrier=true"]),
    ),
    Case(
        "view-security-invoker-set-and-barrier-removed",
        T_SQL + "create view v with (security_barrier) as select id, name from t;",
        views("""
          v:
            query: SELECT id, name FROM t
            security_invoker: true
        """),
        expected=(("alter", "view"),),
        check=reloptions("v", ["security_invoker=true"]),
    ),
    Case(
        "view-options-kept-when-query-replaced",
        T_SQL + "create view v with (security_barrier) as select id, name from t;",
        views("""
          v:
            query: SELECT id, lower(name) AS name FROM t
            security_barrier: true
        """),
        expected=(("alter", "view"),),
        check=reloptions("v", ["security_barrier=true"]),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
