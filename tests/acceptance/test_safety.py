"""Safe changes on a busy database (issue 7), on every local Postgres major.

- every hazard kind raised by a change that needs it, and not by its near miss;
- what is at stake shown (rows, table size, dependent objects by name);
- declared renames keep every row, plan "rename" and nothing else, and stay no-ops once done;
- online DDL: statement shapes and order (NOT VALID then VALIDATE, CONCURRENTLY and USING
  INDEX after the transaction, SET NOT NULL through a validated CHECK), per-statement
  timeouts, retry after a lock timeout, and a failed concurrent build leaving no INVALID index.
"""

from __future__ import annotations

import json
import shutil
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from schemadiff.apply import Options, apply_plan
from schemadiff.differ import Change
from schemadiff.errors import DatabaseError, SpecError
from schemadiff.hazards import HazardKind as K
from schemadiff.hazards import pretty_size
from schemadiff.plan import Plan, planner
from schemadiff.spec import Spec, parse_spec

from ..conftest import Server, run_cli, write_spec

Conn = psycopg.Connection[Any]


def spec_of(body: str, tmp: Path) -> Spec:
    # A spec file of its own directory: no seeds/ next to it.
    return parse_spec("version: 1\n" + textwrap.dedent(body).lstrip("\n"), str(tmp / "s.yaml"))


def run(conn: Conn, sql: str) -> None:
    conn.execute(sql.encode())


def one(conn: Conn, sql: str) -> Any:
    row = conn.execute(sql.encode()).fetchone()
    assert row is not None
    return row[0]


def describe(plan: Plan) -> str:
    return "\n".join(
        f"{c.action} {c.kind} {c.name} tx={c.transactional} "
        f"[{'; '.join(h.describe() for h in c.hazards)}]: {c.sql}"
        for c in plan.changes
    )


def apply_all(plan: Plan, url: str) -> None:
    apply_plan(plan, url, Options(allowed_hazards=frozenset(plan.hazard_kinds)))


# --- every hazard kind, raised and not raised ----------------------------------------------


@dataclass(frozen=True)
class HazardCase:
    id: str
    old_sql: str
    new_spec: str
    raises: frozenset[K]  # must be in the plan
    absent: frozenset[K] = frozenset()  # must not be (the near miss)
    check: Callable[[Plan, Conn], None] | None = None  # after apply


ROWS = "insert into t (id) select g from generate_series(1, 40) g;"


def rewritten(expected: bool) -> Callable[[Plan, Conn], None]:
    """The table's relfilenode changed exactly when a table_rewrite was announced."""

    def check(plan: Plan, conn: Conn) -> None:
        before = plan_notes[id(plan)]
        assert (one(conn, "select pg_relation_filenode('t')") != before) is expected

    return check


plan_notes: dict[int, Any] = {}


def dependents_named(*names: str) -> Callable[[Plan, Conn], None]:
    def check(plan: Plan, conn: Conn) -> None:
        objects = [o for c in plan.changes for h in c.hazards for o in h.objects]
        for name in names:
            assert any(name in o for o in objects), objects

    return check


T_INT = "create table t (id integer primary key, n integer, v varchar(10));" + ROWS

CASES = [
    HazardCase(
        "data-loss-drop-column",
        T_INT,
        """
        tables:
          t:
            columns: {id: integer, v: varchar(10)}
            primary_key: [id]
        """,
        frozenset({K.DATA_LOSS}),
    ),
    HazardCase(
        "data-loss-near-miss-add-column",
        T_INT,
        """
        tables:
          t:
            columns: {id: integer, n: integer, v: varchar(10), extra: text}
            primary_key: [id]
        """,
        frozenset(),
        frozenset({K.DATA_LOSS, K.TABLE_REWRITE}),
    ),
    HazardCase(
        "data-loss-sequence-a-column-uses",
        "create table t (id integer primary key, n serial);" + ROWS,
        """
        tables:
          t:
            columns: {id: integer, n: {type: integer, nullable: false}}
            primary_key: [id]
        """,
        frozenset({K.DATA_LOSS}),
    ),
    HazardCase(
        "table-rewrite-integer-to-bigint",
        T_INT,
        """
        tables:
          t:
            columns: {id: integer, n: bigint, v: varchar(10)}
            primary_key: [id]
        """,
        frozenset({K.TABLE_REWRITE}),
        check=rewritten(True),
    ),
    HazardCase(
        "table-rewrite-near-miss-varchar-widened-and-to-text",
        "create table t (id integer primary key, n integer, v varchar(10), w varchar(5));" + ROWS,
        """
        tables:
          t:
            columns: {id: integer, n: integer, v: varchar(20), w: text}
            primary_key: [id]
        """,
        frozenset(),
        frozenset({K.TABLE_REWRITE, K.DATA_LOSS}),
        check=rewritten(False),
    ),
    HazardCase(
        "table-rewrite-volatile-default",
        T_INT,
        """
        tables:
          t:
            columns:
              id: integer
              n: integer
              v: varchar(10)
              r: {type: "double precision", default: {sql: random()}}
            primary_key: [id]
        """,
        frozenset({K.TABLE_REWRITE}),
        check=rewritten(True),
    ),
    HazardCase(
        "table-rewrite-near-miss-stable-default",
        T_INT,
        """
        tables:
          t:
            columns:
              id: integer
              n: integer
              v: varchar(10)
              at: {type: timestamptz, nullable: false, default: {sql: now()}}
            primary_key: [id]
        """,
        frozenset(),
        frozenset({K.TABLE_REWRITE}),
        check=rewritten(False),
    ),
    HazardCase(
        "blocking-lock-primary-key-on-table-with-rows",
        "create table t (id integer not null, n integer);" + ROWS,
        """
        tables:
          t:
            columns: {id: integer, n: integer}
            primary_key: [id]
        """,
        frozenset({K.BLOCKING_LOCK}),
    ),
    HazardCase(
        "blocking-lock-near-miss-primary-key-on-empty-table",
        "create table t (id integer not null, n integer);",
        """
        tables:
          t:
            columns: {id: integer, n: integer}
            primary_key: [id]
        """,
        frozenset(),
        frozenset({K.BLOCKING_LOCK}),
    ),
    HazardCase(
        "index-build-and-near-miss-on-empty-table",
        T_INT + "create table e (id integer primary key, n integer);",
        """
        tables:
          t:
            columns: {id: integer, n: integer, v: varchar(10)}
            primary_key: [id]
            indexes: [{columns: [n]}]
          e:
            columns: {id: integer, n: integer}
            primary_key: [id]
            indexes: [{columns: [n]}]
        """,
        frozenset({K.INDEX_BUILD}),
        check=lambda plan, conn: _hazards_only_on(plan, K.INDEX_BUILD, '"public"."t_n_idx"'),
    ),
    HazardCase(
        "constraint-validation-fk-and-check",
        "create table p (id integer primary key); insert into p values (1);"
        "create table t (id integer primary key, p_id integer, n integer);"
        "insert into t select g, 1, g from generate_series(1, 40) g;",
        """
        tables:
          p:
            columns: {id: integer}
            primary_key: [id]
          t:
            columns: {id: integer, p_id: integer, n: {type: integer, check: n > 0}}
            primary_key: [id]
            foreign_keys: [{columns: [p_id], references: {table: p}}]
        """,
        frozenset({K.CONSTRAINT_VALIDATION}),
    ),
    HazardCase(
        "constraint-validation-near-miss-empty-table",
        "create table p (id integer primary key);"
        "create table t (id integer primary key, p_id integer, n integer);",
        """
        tables:
          p:
            columns: {id: integer}
            primary_key: [id]
          t:
            columns: {id: integer, p_id: integer, n: {type: integer, check: n > 0}}
            primary_key: [id]
            foreign_keys: [{columns: [p_id], references: {table: p}}]
        """,
        frozenset(),
        frozenset({K.CONSTRAINT_VALIDATION}),
    ),
    HazardCase(
        "not-null-on-existing-rows",
        "create table t (id integer primary key, n integer); insert into t values (1, 1);",
        """
        tables:
          t:
            columns: {id: integer, n: {type: integer, nullable: false}}
            primary_key: [id]
        """,
        frozenset({K.NOT_NULL_ON_EXISTING_ROWS}),
    ),
    HazardCase(
        "not-null-near-miss-empty-table",
        "create table t (id integer primary key, n integer);",
        """
        tables:
          t:
            columns: {id: integer, n: {type: integer, nullable: false}}
            primary_key: [id]
        """,
        frozenset(),
        frozenset({K.NOT_NULL_ON_EXISTING_ROWS}),
    ),
    HazardCase(
        "unique-on-existing-rows",
        T_INT,
        """
        tables:
          t:
            columns: {id: integer, n: {type: integer, unique: true}, v: varchar(10)}
            primary_key: [id]
        """,
        frozenset({K.UNIQUE_ON_EXISTING_ROWS, K.INDEX_BUILD}),
    ),
    HazardCase(
        "unique-near-miss-empty-table",
        "create table t (id integer primary key, n integer);",
        """
        tables:
          t:
            columns: {id: integer, n: {type: integer, unique: true}}
            primary_key: [id]
        """,
        frozenset(),
        frozenset({K.UNIQUE_ON_EXISTING_ROWS, K.INDEX_BUILD}),
    ),
    HazardCase(
        "enum-value-removed-and-near-miss-added",
        "create type a as enum ('x', 'y', 'z'); create type b as enum ('x');"
        "create table t (id integer primary key, a a, b b);",
        """
        enums:
          a: {values: [x, y]}
          b: {values: [x, w]}
        tables:
          t:
            columns: {id: integer, a: a, b: b}
            primary_key: [id]
        """,
        frozenset({K.ENUM_VALUE_REMOVED}),
        check=lambda plan, conn: _hazard_messages_mention(plan, K.ENUM_VALUE_REMOVED, "loses z"),
    ),
    HazardCase(
        "enum-near-miss-value-added",
        "create type b as enum ('x'); create table t (id integer primary key, b b);"
        "insert into t values (1, 'x');",
        """
        enums:
          b: {values: [x, w]}
        tables:
          t:
            columns: {id: integer, b: b}
            primary_key: [id]
        """,
        frozenset(),
        frozenset({K.ENUM_VALUE_REMOVED, K.TABLE_REWRITE}),
    ),
    HazardCase(
        "dependent-objects-view-on-dropped-column",
        T_INT + "create view t_n as select id, n from t;",
        """
        tables:
          t:
            columns: {id: integer, v: varchar(10)}
            primary_key: [id]
        """,
        frozenset({K.DEPENDENT_OBJECTS, K.DATA_LOSS}),
        check=dependents_named("view t_n"),
    ),
    HazardCase(
        "dependent-objects-near-miss-column-no-view-reads",
        T_INT + "create view t_v as select id, v from t;",
        """
        tables:
          t:
            columns: {id: integer, v: varchar(10)}
            primary_key: [id]
        """,
        frozenset({K.DATA_LOSS}),
        frozenset({K.DEPENDENT_OBJECTS}),
    ),
    HazardCase(
        "function-signature-changed-callers-named",
        "create function f(a integer) returns integer language sql as $$ select a + 1 $$;"
        "create function g() returns integer language plpgsql as $$ begin return f(1); end $$;",
        """
        functions:
          f:
            args: ["a integer", "b integer"]
            returns: integer
            language: sql
            body: select a + b
          g:
            returns: integer
            language: plpgsql
            body: begin return f(1, 2); end
        tables:
          t:
            columns: {id: integer}
            primary_key: [id]
        """,
        frozenset({K.FUNCTION_SIGNATURE_CHANGED}),
        check=dependents_named('function "public"."g"()'),
    ),
    HazardCase(
        "function-signature-near-miss-body-changed",
        "create function f(a integer) returns integer language sql as $$ select a + 1 $$;",
        """
        functions:
          f:
            args: ["a integer"]
            returns: integer
            language: sql
            body: select a + 2
        tables:
          t:
            columns: {id: integer}
            primary_key: [id]
        """,
        frozenset(),
        frozenset({K.FUNCTION_SIGNATURE_CHANGED, K.DEPENDENT_OBJECTS}),
    ),
]


def _hazards_only_on(plan: Plan, kind: K, name: str) -> None:
    assert [c.name for c in plan.changes if any(h.kind == kind for h in c.hazards)] == [name]


def _hazard_messages_mention(plan: Plan, kind: K, text: str) -> None:
    messages = [h.message for c in plan.changes for h in c.hazards if h.kind == kind]
    assert messages and all(text in m for m in messages), messages


def test_every_hazard_kind_is_exercised() -> None:
    raised = {k for c in CASES for k in c.raises} | {K.SEED_ROWS_DELETED}  # seed: tests/cli
    assert raised == set(K)
    for kind in set(K) - {K.SEED_ROWS_DELETED}:
        assert any(kind in c.absent for c in CASES), f"no near miss for {kind}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hazard(case: HazardCase, db_url: str, db: Conn, tmp_path: Path) -> None:
    run(db, case.old_sql)
    run(db, "analyze")
    spec = spec_of(case.new_spec, tmp_path)
    with planner(spec, db_url) as p:
        plan = p.plan()
        shown = describe(plan)
        assert case.raises <= plan.hazard_kinds, shown
        assert not (case.absent & plan.hazard_kinds), shown
        for c in plan.changes:
            for h in c.hazards:
                # What is at stake, shown: rows and size of the table, or objects by name.
                table_bound = h.kind not in (
                    K.ENUM_VALUE_REMOVED,
                    K.FUNCTION_SIGNATURE_CHANGED,
                    K.DEPENDENT_OBJECTS,
                )
                if table_bound and not h.objects:
                    assert h.rows is not None and h.rows > 0, h
                    assert h.size_bytes is not None and h.size_bytes > 0, h
                    assert f"{h.rows} rows, {pretty_size(h.size_bytes)})" in h.describe()
                if h.kind == K.DEPENDENT_OBJECTS or h.objects:
                    assert h.objects and "dependents: " in h.describe()
        if db.execute("select to_regclass('t')").fetchone() not in (None, (None,)):
            plan_notes[id(plan)] = one(db, "select pg_relation_filenode('t')")
        apply_all(plan, db_url)
        again = p.plan()
        assert again.empty, describe(again)
    if case.check is not None:
        case.check(plan, db)
    plan_notes.pop(id(plan), None)


# --- renames ---------------------------------------------------------------------------------

RENAME_OLD = """
create type st as enum ('a', 'b');
create table users (id serial primary key, email text constraint users_email_key unique,
                     s st not null default 'a', n integer constraint users_n_check check (n > 0));
create index users_email_idx on users (lower(email));
create index users_n_idx on users (n) where n > 10;
create table orders (id integer primary key,
                     user_id integer constraint orders_user_id_fkey references users (id),
                     total numeric(12, 2) constraint orders_total_check check (total >= 0));
create function f(a integer) returns integer language sql as $$ select a + 1 $$;
create function touch() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger orders_touch before update on orders for each row
  when (old.user_id is distinct from new.user_id) execute function touch();
insert into users (email, s, n) select 'u' || g, 'b', g from generate_series(1, 50) g;
insert into orders select g, g, g * 1.5 from generate_series(1, 30) g;
"""

RENAME_SPEC = """
enums:
  state: {renamed_from: st, values: [a, b]}
functions:
  plus_one:
    renamed_from: f
    args: ["a integer"]
    returns: integer
    language: sql
    body: " select a + 1 "
  on_touch:
    renamed_from: touch
    returns: trigger
    language: plpgsql
    body: " begin return new; end "
tables:
  accounts:
    renamed_from: users
    columns:
      id: serial
      mail: {type: text, renamed_from: email, unique: true}
      s: {type: state, nullable: false, default: a}
      n: {type: integer, check: n > 0}
    primary_key: [id]
    indexes:
      - name: accounts_mail_lower_idx
        renamed_from: users_email_idx
        columns: [{expression: lower(mail)}]
      - columns: [n]
        where: n > 10
  orders:
    columns:
      id: integer
      account_id: {type: integer, renamed_from: user_id}
      total: "numeric(12,2)"
    primary_key: [id]
    foreign_keys:
      - columns: [account_id]
        references: {table: accounts}
    checks:
      - name: orders_total_nonnegative
        renamed_from: orders_total_check
        expression: total >= 0
    triggers:
      - name: orders_touch
        function: on_touch
        timing: before
        events: [update]
        when: OLD.account_id IS DISTINCT FROM NEW.account_id
"""

CHECKSUM = (
    "select count(*), md5(string_agg(a::text, ',' order by a::text)) from "
    "(select id, {cols} from {table}) a"
)


def test_renames_of_every_kind_keep_rows_and_replan_empty(
    db_url: str, db: Conn, tmp_path: Path
) -> None:
    run(db, RENAME_OLD)
    before = (
        db.execute(CHECKSUM.format(cols="email, s, n", table="users").encode()).fetchone(),
        db.execute(CHECKSUM.format(cols="user_id, total", table="orders").encode()).fetchone(),
    )
    spec = spec_of(RENAME_SPEC, tmp_path)
    with planner(spec, db_url) as p:
        plan = p.plan()
        shown = describe(plan)
        assert not plan.hazard_kinds, shown
        assert not [c for c in plan.changes if c.action == "drop"], shown
        renamed = {(c.kind, c.name) for c in plan.changes if c.action == "rename"}
        assert {
            ("table", '"public"."accounts"'),
            ("column", '"public"."accounts"."mail"'),
            ("column", '"public"."orders"."account_id"'),
            ("enum", '"public"."state"'),
            ("function", '"public"."plus_one"(a integer)'),
            ("function", '"public"."on_touch"()'),
            ("index", '"public"."accounts_mail_lower_idx"'),
            ("constraint", '"public"."orders"."orders_total_nonnegative"'),
            # Derived names follow the table and the column.
            ("constraint", '"public"."accounts"."accounts_pkey"'),
            ("constraint", '"public"."accounts"."accounts_mail_key"'),
            ("constraint", '"public"."accounts"."accounts_n_check"'),
            ("constraint", '"public"."orders"."orders_account_id_fkey"'),
            ("index", '"public"."accounts_n_idx"'),
            ("sequence", '"public"."accounts_id_seq"'),
        } <= renamed, shown
        renames = [c for c in plan.changes if c.action == "rename"]
        assert plan.changes[: len(renames)] == renames  # first, in the transaction
        assert all(c.transactional and c.lock_timeout for c in renames)
        assert [c for c in plan.changes if c.action != "rename"] == [], shown
        apply_all(plan, db_url)
        again = p.plan()
        assert again.empty, describe(again)  # renamed_from kept in the spec: a no-op now
    after = (
        db.execute(CHECKSUM.format(cols="mail, s, n", table="accounts").encode()).fetchone(),
        db.execute(CHECKSUM.format(cols="account_id, total", table="orders").encode()).fetchone(),
    )
    assert after == before
    run(db, "insert into accounts (mail, n) values ('new', 5)")  # the sequence goes on
    assert one(db, "select max(id) from accounts") == 51


def test_rename_whose_old_and_new_names_both_exist_is_an_error_at_the_spec_line(
    db_url: str, db: Conn, tmp_path: Path
) -> None:
    run(db, "create table a (id integer primary key); create table b (id integer primary key);")
    spec = spec_of(
        """
        tables:
          b:
            renamed_from: a
            columns: {id: integer}
            primary_key: [id]
        """,
        tmp_path,
    )
    with planner(spec, db_url) as p, pytest.raises(SpecError) as e:
        p.plan()
    assert str(e.value).startswith(f"{tmp_path / 's.yaml'}:3:3: renamed_from: both table")


def test_two_renames_claiming_one_old_name_is_a_validate_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as e:
        spec_of(
            """
            tables:
              b:
                renamed_from: a
                columns: {id: integer}
              c:
                renamed_from: a
                columns: {id: integer}
            """,
            tmp_path,
        )
    assert ":6:3: renamed_from: table 'a' is already claimed at line 3" in str(e.value)


# --- online DDL ------------------------------------------------------------------------------


def test_online_statements_shapes_order_and_timeouts(
    db_url: str, db: Conn, tmp_path: Path
) -> None:
    run(
        db,
        "create table p (id integer primary key, code text); insert into p values (1, 'a');"
        "create table t (id integer primary key, p_id integer, code text, n integer);"
        "insert into t select g, 1, 'a', g from generate_series(1, 40) g;",
    )
    spec = spec_of(
        """
        tables:
          p:
            columns: {id: integer, code: {type: text, unique: true}}
            primary_key: [id]
          t:
            columns:
              id: integer
              p_id: integer
              code: text
              n: {type: integer, nullable: false, check: n > 0}
            primary_key: [id]
            foreign_keys:
              - columns: [p_id]
                references: {table: p}
              - columns: [code]
                references: {table: p, columns: [code]}
            indexes: [{columns: [n]}]
        """,
        tmp_path,
    )
    with planner(spec, db_url) as p:
        plan = p.plan()
        shown = describe(plan)
        sql = [c.sql for c in plan.changes]

        def at(fragment: str) -> int:
            found = [i for i, s in enumerate(sql) if fragment in s]
            assert len(found) == 1, (fragment, shown)
            return found[0]

        def change(fragment: str) -> Change:
            return plan.changes[at(fragment)]

        first_outside = next(i for i, c in enumerate(plan.changes) if not c.transactional)
        assert all(not c.transactional for c in plan.changes[first_outside:]), shown
        # Foreign key and check: NOT VALID inside the transaction, VALIDATE after it.
        fk = at('"t_p_id_fkey" FOREIGN KEY (p_id) REFERENCES p(id) not valid')
        assert plan.changes[fk].transactional and fk < first_outside
        check = at('"t_n_check" CHECK ((n > 0)) not valid')
        assert check < first_outside
        for name in ("t_p_id_fkey", "t_n_check"):
            v = change(f'validate constraint "{name}"')
            assert not v.transactional
            assert v.lock_timeout == v.statement_timeout == "6h"
            assert [h.kind for h in v.hazards] == [K.CONSTRAINT_VALIDATION]
        # Unique: concurrent unique index, then USING INDEX, then the foreign key into it.
        build = at("CREATE UNIQUE INDEX CONCURRENTLY p_code_key ON public.p")
        attach = at('add constraint "p_code_key" UNIQUE using index "p_code_key"')
        fk_code = at('"t_code_fkey" FOREIGN KEY (code) REFERENCES p(code) not valid')
        assert first_outside <= build < attach < fk_code < at('validate constraint "t_code_fkey"')
        assert change("CONCURRENTLY p_code_key").statement_timeout == "6h"
        assert change("using index").lock_timeout == "3s"
        assert at("CREATE INDEX CONCURRENTLY t_n_idx") > first_outside
        # SET NOT NULL: helper check NOT VALID, VALIDATE, SET NOT NULL, helper dropped.
        helper = next(s.split()[5] for s in sql if "is not null) not valid" in s)
        steps = [
            at(f"add constraint {helper} check (\"n\" is not null) not valid"),
            at(f"validate constraint {helper}"),
            at('alter column "n" set not null'),
            at(f"drop constraint {helper}"),
        ]
        assert steps == sorted(steps) and steps[0] < first_outside <= steps[1], shown
        # The plan file keeps the timeouts.
        again = Plan.from_json(plan.to_json(), "plan.json")
        assert [(c.lock_timeout, c.statement_timeout) for c in again.changes] == [
            (c.lock_timeout, c.statement_timeout) for c in plan.changes
        ]
        apply_all(plan, db_url)
        assert p.plan().empty
    assert one(db, "select count(*) from pg_constraint where conname like 'schemadiff_%'") == 0
    assert one(db, "select attnotnull from pg_attribute where attrelid = 't'::regclass "
                   "and attname = 'n'")
    assert one(db, "select bool_and(convalidated) from pg_constraint "
                   "where conrelid = 't'::regclass")


def _hold_lock(url: str, table: str, seconds: float) -> threading.Thread:
    """Another session holds ACCESS EXCLUSIVE on `table` for `seconds`."""
    ready = threading.Event()

    def hold() -> None:
        with psycopg.connect(url) as conn:
            conn.execute(f"lock table {table} in access exclusive mode".encode())
            ready.set()
            time.sleep(seconds)
            conn.rollback()

    thread = threading.Thread(target=hold)
    thread.start()
    assert ready.wait(10)
    return thread


@pytest.mark.parametrize("transactional", [True, False], ids=["transaction", "outside"])
def test_lock_timeout_is_retried(
    transactional: bool, db_url: str, db: Conn, server: Server
) -> None:
    run(db, "create table t (id integer primary key)")
    change = Change(
        "create",
        "column",
        '"public"."t"."x"',
        "alter table t add column x integer",
        transactional=transactional,
        lock_timeout="300ms",
    )
    plan = Plan(db_url, server.major, "sha256:x", "sha256:y", [change])
    holder = _hold_lock(db_url, "t", 1.2)
    started = time.monotonic()
    try:
        apply_plan(plan, db_url, Options(lock_timeout="300ms"))
    finally:
        holder.join()
    assert time.monotonic() - started > 1.0  # it did wait for the lock to go
    assert one(db, "select count(*) from pg_attribute where attrelid = 't'::regclass "
                   "and attname = 'x'") == 1


def test_lock_timeout_gives_up_after_bounded_retries(db_url: str, db: Conn, server: Server) -> None:
    run(db, "create table t (id integer primary key)")
    change = Change("create", "column", "t.x", "alter table t add column x integer")
    plan = Plan(db_url, server.major, "sha256:x", "sha256:y", [change])
    holder = _hold_lock(db_url, "t", 6)
    try:
        with pytest.raises(DatabaseError, match="lock timeout"):
            apply_plan(plan, db_url, Options(lock_timeout="100ms"))
    finally:
        holder.join()
    assert one(db, "select count(*) from schemadiff.apply_history where outcome = 'failed'") == 1


def test_failed_concurrent_unique_build_leaves_no_invalid_index(
    db_url: str, db: Conn, tmp_path: Path
) -> None:
    run(
        db,
        "create table t (id integer primary key, email text);"
        "insert into t select g, 'same' from generate_series(1, 20) g;",
    )
    spec = spec_of(
        """
        tables:
          t:
            columns: {id: integer, email: {type: text, unique: true}}
            primary_key: [id]
        """,
        tmp_path,
    )
    with planner(spec, db_url) as p:
        plan = p.plan()
        assert {K.UNIQUE_ON_EXISTING_ROWS, K.INDEX_BUILD} <= plan.hazard_kinds
        with pytest.raises(DatabaseError) as e:
            apply_all(plan, db_url)
    message = str(e.value)
    assert "could not create unique index" in message
    assert 'the INVALID index "public"."t_email_key"' in message and "was dropped" in message
    assert one(db, "select count(*) from pg_index where not indisvalid") == 0
    assert one(db, "select to_regclass('t_email_key')") is None


def test_concurrent_index_build_lets_inserts_through_while_a_long_select_runs(
    db_url: str, db: Conn, tmp_path: Path
) -> None:
    """The build waits for the reader's snapshot; inserts meanwhile never wait as long as the
    lock timeout given to apply (a bound from the configured timeout, not a speed figure)."""
    run(
        db,
        "create table t (id bigserial primary key, n integer);"
        "insert into t (n) select g from generate_series(1, 2000) g; analyze t;",
    )
    spec = spec_of(
        """
        tables:
          t:
            columns: {id: bigserial, n: integer}
            primary_key: [id]
            indexes:
              - columns: [n]
        """,
        tmp_path,
    )
    lock_timeout_s = 1.0
    stop = threading.Event()
    latencies: list[float] = []
    reader_done: list[bool] = []

    def insert_loop() -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            while not stop.is_set():
                started = time.monotonic()
                conn.execute("insert into t (n) values (-1)")
                latencies.append(time.monotonic() - started)
                time.sleep(0.01)

    def long_select() -> None:
        with psycopg.connect(db_url) as conn:  # an open transaction, holding its snapshot
            conn.execute("select pg_sleep(2) from t limit 1").fetchall()
            conn.commit()
            reader_done.append(True)

    with planner(spec, db_url) as p:
        plan = p.plan()
        assert plan.hazard_kinds == {K.INDEX_BUILD}, describe(plan)
        assert [c.sql.startswith("CREATE INDEX CONCURRENTLY") for c in plan.changes] == [True]
        writer = threading.Thread(target=insert_loop)
        reader = threading.Thread(target=long_select)
        writer.start()
        reader.start()
        errors: list[BaseException] = []

        def build() -> None:
            try:
                apply_plan(plan, db_url, Options(lock_timeout=f"{lock_timeout_s:g}s",
                                                 allowed_hazards=frozenset({K.INDEX_BUILD})))
            except BaseException as e:  # asserted on in the test's thread
                errors.append(e)

        waiting = (
            "select count(*) from pg_stat_activity where application_name = 'schemadiff apply' "
            "and query like 'CREATE INDEX CONCURRENTLY%' and wait_event_type = 'Lock'"
        )
        builder = threading.Thread(target=build)
        try:
            deadline = time.monotonic() + 10
            while one(db, "select count(*) from pg_stat_activity where query like "
                          "'select pg_sleep(2)%' and state = 'active'") == 0:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            builder.start()
            while one(db, waiting) == 0:  # the build waits for the reader's snapshot ...
                assert time.monotonic() < deadline and builder.is_alive(), errors
                time.sleep(0.02)
            inserted = len(latencies)
            time.sleep(0.3)
            assert one(db, waiting) == 1
            assert len(latencies) > inserted  # ... while inserts go on
            builder.join(30)
        finally:
            stop.set()
            writer.join()
            reader.join()
    assert not errors, errors
    assert reader_done == [True]  # the long SELECT was not cancelled
    assert latencies and max(latencies) < lock_timeout_s, max(latencies)
    assert one(db, "select indisvalid from pg_index where indexrelid = 't_n_idx'::regclass")
    assert one(db, "select count(*) from t where n = -1") == len(latencies)


# --- lint ------------------------------------------------------------------------------------


def test_lint_findings_with_the_plan_or_a_clear_error(
    db_url: str, db: Conn, tmp_path: Path
) -> None:
    run(db, "create table t (id integer primary key, n integer)")
    spec_path = write_spec(
        tmp_path,
        """
        tables:
          t:
            columns: {id: integer, n: integer, extra: integer}
            primary_key: [id]
        """,
    )
    args = ("plan", "--spec", str(spec_path), "--database-url", db_url, "--format", "json")
    missing = run_cli(*args, "--lint", env={"PATH": str(tmp_path / "nothing-here")})
    assert missing.returncode == 1
    assert "--lint needs squawk, which is not installed" in missing.stderr
    assert missing.stdout == ""
    if shutil.which("squawk") is None:
        quiet = run_cli(*args)  # without the flag: skipped silently
        assert quiet.returncode == 0 and "lint" not in json.loads(quiet.stdout)
        return
    linted = run_cli(*args, "--lint")
    assert linted.returncode == 0, linted.stderr
    data = json.loads(linted.stdout)
    assert data["lint"], data  # squawk prefers bigint to a new integer column
    assert {"statement", "rule", "level", "message", "help"} <= set(data["lint"][0])
    assert all(1 <= f["statement"] <= len(data["statements"]) for f in data["lint"])
    assert not any(f["rule"] == "require-lock-timeout" for f in data["lint"])  # apply sets it
    text = run_cli(*args[:-2])
    assert "lint (squawk): statement 1:" in text.stderr
    assert "lint" not in json.loads(run_cli(*args, "--no-lint").stdout)


# --- one transaction, few round trips: a failure still names its statement -----------------


def test_failed_statement_in_a_batch_is_named_and_nothing_changes(
    db_url: str, db: Conn, tmp_path: Path
) -> None:
    run(db, "create table t (id integer primary key, v text); insert into t values (1, 'abc');")
    spec = spec_of(
        """
        tables:
          first_new: {columns: {id: integer}, comment: created before the failing statement}
          t:
            comment: altered after it
            columns:
              id: integer
              v: integer
            primary_key: [id]
          z_new: {columns: {id: integer}}
        """,
        tmp_path,
    )
    with planner(spec, db_url) as p:
        plan = p.plan()
    failing = [i for i, c in enumerate(plan.changes, 1) if c.kind == "column" and "v" in c.name]
    assert failing and 1 < failing[0] < len(plan.changes), describe(plan)
    with pytest.raises(DatabaseError) as e:
        apply_all(plan, db_url)
    assert f"statement {failing[0]} failed" in str(e.value), str(e.value)
    assert "invalid input syntax for type integer" in str(e.value)
    assert "nothing changed" in str(e.value)
    assert one(db, "select to_regclass('public.first_new')") is None
    assert one(db, "select to_regclass('public.z_new')") is None
    assert one(db, "select obj_description('t'::regclass, 'pg_class')") is None
    assert one(db, "select v from t") == "abc"
