"""`schemadiff import`: a live database -> schema.yaml, on every local Postgres major.

The round trip is the contract: import, then plan against the same database with the written
spec, is empty. Checked two ways: `make_plan` as `schemadiff plan` runs it, and the differ with
the kinds an imported spec declares (views, sequences) under management, against a database
built from the spec. What the spec cannot express is named as not managed, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest
from pglast import ast

from schemadiff import db, differ, shadow
from schemadiff import spec as s
from schemadiff.introspect import Imported, import_database
from schemadiff.model import render_sql
from schemadiff.plan import make_plan
from schemadiff.spec import load_spec
from schemadiff.types import is_serial

from ..conftest import ROOT, Server, make_database, run_cli, write_spec

# A verbatim copy of ../shared/realworld/ (MIT, see tests/realworld/), so a clean clone has it.
PAGILA = ROOT / "tests" / "realworld" / "pagila-schema.sql"


def run_sql(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.encode())


def imported_spec(imported: Imported, directory: Path) -> s.Spec:
    """The written spec, saved as directory/schema.yaml (a project of its own) and loaded."""
    assert imported.problems == [], "\n".join(imported.problems)
    path = directory / "schema.yaml"
    path.write_text(imported.text, encoding="utf-8")
    return load_spec(path)


def managed_changes(server: Server, url: str, spec: s.Spec) -> list[differ.Change]:
    """The differ's changes from `url` to the spec, with the kinds the spec declares managed.

    `schemadiff plan` passes the same kinds once plan.py hands Spec.manages to the differ.
    """
    reference = make_database(server)
    shadow.build(spec, reference)
    equivalent = shadow.canonicalize_checks(reference, spec.schema)
    for key, form in shadow.spec_check_forms(spec).items():
        equivalent.setdefault(key, set()).add(form)

    def snap(target: str) -> differ.Snapshot:
        with db.connection(target) as conn:
            comments = db.comments(conn, spec.schema)
            others = db.other_schemas(conn, spec.schema)
            return differ.snapshot(
                conn,
                spec.schema,
                comments,
                db.TableRows(target, {}),
                others,
                manages=spec.manages,
            )

    live, target = snap(url), snap(reference)
    differ.accept_equivalent_checks(live, target, equivalent)
    return differ.diff(live, target).changes


def assert_round_trip(server: Server, url: str, spec: s.Spec) -> None:
    plan = make_plan(spec, url)
    assert plan.empty, [c.sql for c in plan.changes]
    changes = managed_changes(server, url, spec)
    assert changes == [], [c.sql for c in changes]


# --- the corpus: one focused database each ----------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    sql: str
    contains: tuple[str, ...] = ()  # lines (stripped) the written YAML must hold
    unmanaged: tuple[str, ...] = ()  # exact "not managed" items (without the reason)
    check: Callable[[s.Spec], None] | None = None
    schema: str = "public"


def column(spec: s.Spec, table: str, name: str) -> s.Column:
    t = spec.table(table)
    assert t is not None
    c = t.column(name)
    assert c is not None
    return c


def table_of(spec: s.Spec, name: str) -> s.Table:
    t = spec.table(name)
    assert t is not None
    return t


def check_partitions(spec: s.Spec) -> None:
    m = table_of(spec, "m")
    assert [p.name for p in m.partitions] == ["m_2024", "m_low", "m_rest"]
    assert spec.table("m_2024") is None  # written inside its partitioned table
    assert [ix.name for ix in m.indexes] == ["m_at_idx"]


def check_comments_everywhere(spec: s.Spec) -> None:
    child = table_of(spec, "child")
    assert [fk.comment for fk in child.foreign_keys] == ["fk"]
    assert [tg.comment for tg in child.triggers] == ["tg"]
    assert table_of(spec, "notes").unlogged
    assert not child.unlogged
    # A commented serial sequence is written as a sequence of its own, with its comment.
    assert column(spec, "numbered", "id").type == "integer"
    assert [(q.name, q.comment) for q in spec.sequences] == [
        ("counter", "sq"), ("numbered_id_seq", "serial, commented"),
    ]


def check_routines_and_security(spec: s.Spec) -> None:
    overloads = [f for f in spec.functions if f.name == "area"]
    assert [(f.strict, f.parallel, f.cost, f.security) for f in overloads] == [
        (True, "safe", 5.0, "invoker"), (False, "unsafe", None, "definer"),
    ]
    assert [p.name for p in spec.procedures] == ["touch"]
    t = table_of(spec, "t")
    triggers = {tg.name: tg for tg in t.triggers}
    assert triggers["on_a"].update_of == ["a"] and triggers["on_a"].args == ["x", "1"]
    assert triggers["batch"].new_table == "added" and not triggers["batch"].enabled
    assert triggers["later"].constraint and triggers["later"].initially_deferred
    assert t.row_level_security and t.force_row_level_security
    assert {p.name: (p.command, p.permissive, p.roles) for p in t.policies} == {
        "own": ("select", True, ["i8c_import_reader"]), "ins": ("insert", False, ["public"]),
    }


def check_identity(spec: s.Spec) -> None:
    assert column(spec, "t", "a").identity == "always"
    assert column(spec, "t", "b").identity == "by default"
    assert column(spec, "t", "c").identity is None


def check_serials(spec: s.Spec) -> None:
    assert column(spec, "s", "id").type == "serial"
    assert column(spec, "s", "big").type == "bigserial"
    assert column(spec, "s", "small").type == "smallserial"
    plain = column(spec, "p", "id")
    assert plain.type == "integer"
    assert plain.default == s.Default(sql="nextval('free_seq'::regclass)")
    renamed = column(spec, "r", "id")  # owned sequence, but not the name serial would give
    assert renamed.type == "integer"
    assert {q.name: q.owned_by for q in spec.sequences} == {
        "free_seq": None,
        "r_custom_seq": "r.id",
    }


def check_literals(spec: s.Spec) -> None:
    def default(name: str) -> Any:
        d = column(spec, "t", name).default
        assert d is not None
        return d.literal if d.literal is not None else {"sql": d.sql}

    assert default("i") == -1
    assert default("z") == 0
    assert default("big") == 3000000000
    assert default("n") == -1.5
    assert default("r") == 0.0
    assert default("exact") == {"sql": "19.990"}  # 19.99 would be written back as 19.99
    assert default("yes_") is True
    assert default("no_") is False
    assert default("quote") == "it's"
    assert default("vc") == "x"
    assert default("empty") == ""
    assert default("port") == "8080"
    assert default("word") == "yes"
    assert default("day") == "2024-01-01"
    assert default("js") == "{}"
    assert default("span") == "1 day"
    assert default("mood") == "ok"
    assert default("ch") == {"sql": "'ab'::bpchar"}


def check_sql_defaults(spec: s.Spec) -> None:
    sqls = {c.name: c.default.sql for c in table_of(spec, "t").columns if c.default}
    assert sqls == {
        "a": "now()",
        "b": "CURRENT_TIMESTAMP",
        "c": "CURRENT_DATE",
        "d": "lower('X'::text)",
        "e": "(1 + 2)",
        "g": "gen_random_uuid()",
    }


def check_arrays(spec: s.Spec) -> None:
    assert column(spec, "t", "tags").type == "text[]"
    assert column(spec, "t", "tags").default == s.Default(literal="{}")
    assert column(spec, "t", "nums").default == s.Default(literal="{1,2}")
    assert column(spec, "t", "built").default == s.Default(sql="ARRAY['a'::text, 'b'::text]")
    assert column(spec, "t", "grid").type == "integer[]"


def check_indexes(spec: s.Spec) -> None:
    ix = {i.name: i for i in table_of(spec, "t").indexes}
    assert ix["t_a_idx"].elements == [s.IndexElement(column="a")]
    assert ix["ix_partial"].where == "a > 0"
    assert ix["ix_expr"].elements == [s.IndexElement(expression="lower(b)")]
    assert ix["ix_sum"].elements == [s.IndexElement(expression="a + c")]
    assert ix["ix_desc"].elements == [
        s.IndexElement(column="a", order="desc", nulls="last"),
        s.IndexElement(column="c", nulls="first"),
    ]
    assert ix["ix_include"].include == ["b"] and ix["ix_include"].unique
    assert ix["ix_ops"].elements == [s.IndexElement(column="b", opclass="text_pattern_ops")]
    assert ix["ix_hash"].method == "hash"
    assert ix["ix_gin"].method == "gin"


def check_foreign_keys(spec: s.Spec) -> None:
    fks = {f.name: f for f in table_of(spec, "child").foreign_keys}
    assert (fks["child_p_fkey"].on_delete, fks["child_p_fkey"].on_update) == ("cascade", "cascade")
    assert fks["child_q_fkey"].on_delete == "set null"
    assert fks["child_r_fkey"].on_delete == "set default"
    assert fks["child_s_fkey"].on_delete == "restrict"
    assert fks["to_code"].ref_columns == ["code"]
    assert fks["pair"].columns == ["p", "code"] and fks["pair"].ref_columns == ["id", "code"]


def check_deferrable(spec: s.Spec) -> None:
    fks = {f.name: f for f in table_of(spec, "child").foreign_keys}
    assert (fks["late"].deferrable, fks["late"].initially_deferred) == (True, True)
    assert (fks["can_wait"].deferrable, fks["can_wait"].initially_deferred) == (True, False)
    assert (fks["now_"].deferrable, fks["now_"].initially_deferred) == (False, False)


def check_enum(spec: s.Spec) -> None:
    (e,) = spec.enums
    assert (e.name, e.values, e.comment) == ("mood", ["sad", "ok", "happy", "on"], "How one feels")
    assert column(spec, "t", "m").type == "mood"
    assert column(spec, "t", "ms").type == "mood[]"


def check_views(spec: s.Spec) -> None:
    # By name, except that a view comes after the views it reads.
    assert [v.name for v in spec.views] == ["m_solo", "z_base", "a_top"]
    assert {v.name: v.comment for v in spec.views}["z_base"] == "基础视图"


def check_sequences(spec: s.Spec) -> None:
    seqs = {q.name: q for q in spec.sequences}
    up = seqs["up"]
    assert (up.as_type, up.start, up.increment, up.min, up.max, up.cache, up.cycle) == (
        "integer", 100, 5, 10, 1000, 20, True
    )
    down = seqs["down"]
    assert (down.increment, down.start, down.min, down.max) == (-1, None, None, None)
    assert seqs["plain"] == s.Sequence(
        "plain", None, None, None, None, None, False, None, None, seqs["plain"].loc
    )
    assert seqs["owned"].owned_by == "t.n"


def check_triggers(spec: s.Spec) -> None:
    tg = {t.name: t for t in table_of(spec, "t").triggers}
    assert tg["tg_when"].when == "old.* IS DISTINCT FROM new.*"
    assert tg["tg_when"].events == ["update"]
    assert tg["tg_stmt"].for_each == "statement"
    assert tg["tg_stmt"].events == ["insert", "delete", "truncate"]
    assert tg["tg_after"].timing == "after"


def check_functions(spec: s.Spec) -> None:
    f = {x.name: x for x in spec.functions}
    assert f["owner_only"].security == "definer"
    assert f["owner_only"].volatility == "stable"
    assert f["owner_only"].language == "sql"
    assert f["with_defaults"].args == [
        "a integer",
        "b numeric DEFAULT 1.5",  # Postgres keeps no type modifiers on arguments
        "c text DEFAULT 'x,y'::text",
        "OUT total numeric",
    ]
    assert f["with_defaults"].comment == "加法"
    assert f["pure"].volatility == "immutable"
    assert f["pure"].body == "  SELECT $1 * 2   \n"  # line breaks around it dropped


def check_comments(spec: s.Spec) -> None:
    t = table_of(spec, "用户")
    assert t.comment == "用户表（含“引号”与 emoji 🚀）"
    assert column(spec, "用户", "名字").comment == "昵称，最长 32 个字符；可为空\n第二行"
    assert spec.functions[0].comment == "中文注释"
    assert spec.enums[0].comment == "状态"


def check_checks(spec: s.Spec) -> None:
    t = table_of(spec, "t")
    names = {c.name for c in t.checks}
    assert names == {"t_a_check", "t_b_check", "a_below_b", "t_kind_check"}


def check_uniques(spec: s.Spec) -> None:
    t = table_of(spec, "t")
    assert {(u.name, tuple(u.columns)) for u in t.uniques} == {
        ("t_a_key", ("a",)),
        ("t_a_b_key", ("a", "b")),
        ("named_unique", ("b",)),
    }


def check_quoted_names(spec: s.Spec) -> None:
    t = table_of(spec, "Order")
    assert [c.name for c in t.columns] == ["select", "on", "yes", "zip code", "8080"]


def check_types(spec: s.Spec) -> None:
    (email, short) = spec.domains
    assert (email.name, email.type, email.nullable, email.comment) == (
        "email", "text", False, "E-mail"
    )
    assert [(c.name, c.expression) for c in email.checks] == [("at", "(VALUE ~ '@'::text)")]
    assert (short.type, short.collation) == ("character varying(10)", "C")
    assert [(t.name, t.attributes) for t in spec.types] == [
        ("amount", [("value", "numeric(12,2)"), ("currency", "text")])
    ]
    mv = {m.name: m for m in spec.materialized_views}
    assert [ix.name for ix in mv["totals"].indexes] == ["totals_n_idx"]
    assert (mv["totals"].comment, mv["later"].with_data) == ("Counts", False)


def check_config(spec: s.Spec) -> None:
    assert spec.config is not None
    keys = {k.name: k.default for k in spec.config.keys}
    assert keys == {"port": "8080", "debug": "false", "jwt_secret": "", "note": None}


CASES = [
    Case(
        "identity",
        "create table t (a bigint generated always as identity primary key,"
        " b integer generated by default as identity, c integer not null);",
        contains=("a: {type: bigint, identity: always}",),
        check=check_identity,
    ),
    Case(
        "serial-vs-int-with-unowned-sequence",
        "create table s (id serial primary key, big bigserial, small smallserial);"
        "create sequence free_seq;"
        "create table p (id integer not null default nextval('free_seq'));"
        "create sequence r_custom_seq as integer;"
        "create table r (id integer not null default nextval('r_custom_seq'));"
        "alter sequence r_custom_seq owned by r.id;",
        contains=("id: serial", "free_seq: {}", "r_custom_seq: {as: integer, owned_by: r.id}"),
        check=check_serials,
    ),
    Case(
        "literal-defaults",
        "create type mood as enum ('sad', 'ok');"
        "create table t (i integer default -1, z integer default 0, big bigint default 3000000000,"
        " n numeric default -1.5, r real default 0.0, exact numeric(5,3) default 19.990,"
        " yes_ boolean default true, no_ boolean default false, quote text default 'it''s',"
        " vc varchar(10) default 'x', empty text default '', port text default '8080',"
        " word text default 'yes', day date default '2024-01-01', js jsonb default '{}',"
        " span interval default '1 day', mood mood default 'ok', ch char(2) default 'ab');",
        contains=('port: {type: text, default: "8080"}', 'word: {type: text, default: "yes"}'),
        check=check_literals,
    ),
    Case(
        "sql-defaults",
        "create table t (a timestamptz default now(), b timestamptz default CURRENT_TIMESTAMP,"
        " c date default CURRENT_DATE, d text default lower('X'), e integer default 1 + 2,"
        " f text default null, g uuid default gen_random_uuid());",
        contains=("a: {type: timestamp with time zone, default: {sql: now()}}",),
        check=check_sql_defaults,
    ),
    Case(
        "arrays",
        "create table t (tags text[] default '{}', nums integer[] default '{1,2}',"
        " built text[] default array['a', 'b'], grid integer[][]);",
        check=check_arrays,
    ),
    Case(
        "indexes",
        "create table t (a integer, b text, c integer, d jsonb);"
        "create index on t (a);"
        "create index ix_partial on t (b) where a > 0;"
        "create index ix_expr on t (lower(b));"
        "create index ix_sum on t ((a + c));"
        "create index ix_desc on t (a desc nulls last, c nulls first);"
        "create unique index ix_include on t (a) include (b);"
        "create index ix_ops on t (b text_pattern_ops);"
        "create index ix_hash on t using hash (b);"
        "create index ix_gin on t using gin (d);",
        contains=("- {name: ix_partial, columns: [b], where: a > 0}", "- {columns: [a]}"),
        check=check_indexes,
    ),
    Case(
        "foreign-key-actions",
        "create table parent (id integer primary key, code text not null unique,"
        " unique (id, code));"
        "create table child (p integer references parent on delete cascade on update cascade,"
        " q integer default 1 references parent on delete set null,"
        " r integer default 1 references parent on delete set default,"
        " s integer references parent on delete restrict,"
        " code text constraint to_code references parent (code),"
        " constraint pair foreign key (p, code) references parent (id, code));",
        check=check_foreign_keys,
    ),
    Case(
        "deferrable-foreign-keys",
        "create table parent (id integer primary key);"
        "create table child (a integer, b integer, c integer,"
        " constraint late foreign key (a) references parent deferrable initially deferred,"
        " constraint can_wait foreign key (b) references parent deferrable,"
        " constraint now_ foreign key (c) references parent);",
        contains=("initially_deferred: true",),
        check=check_deferrable,
    ),
    Case(
        "enum",
        "create type mood as enum ('sad', 'ok', 'happy', 'on');"
        "comment on type mood is 'How one feels';"
        "create table t (m mood not null default 'sad', ms mood[]);",
        contains=('mood: {values: [sad, ok, happy, "on"], comment: How one feels}',),
        check=check_enum,
    ),
    Case(
        "views-in-dependency-order",
        "create table t (id integer primary key, name text);"
        "create view z_base as select id, name from t where id > 0;"
        "comment on view z_base is '基础视图';"
        "create view a_top as select name from z_base;"
        "create view m_solo as select count(*) as n from t;",
        check=check_views,
    ),
    Case(
        "sequence-options",
        "create sequence up as integer start 100 increment 5 minvalue 10 maxvalue 1000"
        " cache 20 cycle;"
        "create sequence down increment -1;"
        "create sequence plain;"
        "create table t (n bigint);"
        "create sequence owned owned by t.n;",
        contains=(
            "up: {as: integer, increment: 5, min: 10, max: 1000, start: 100, cache: 20, "
            "cycle: true}",
            "down: {increment: -1}",
        ),
        check=check_sequences,
    ),
    Case(
        "triggers",
        "create table t (id integer, v text);"
        "create function touch() returns trigger language plpgsql as $$"
        " begin return new; end $$;"
        "create function note() returns trigger language plpgsql as $$"
        " begin return null; end $$;"
        "create trigger tg_when before update on t for each row"
        " when (old.* is distinct from new.*) execute function touch();"
        "create trigger tg_stmt after insert or delete or truncate on t"
        " for each statement execute function note();"
        "create trigger tg_after after insert on t for each row execute function note();",
        check=check_triggers,
    ),
    Case(
        "functions",
        "create table t (id integer);"
        "create function owner_only() returns bigint language sql stable security definer"
        " as 'select count(*) from t';"
        "create function with_defaults(a integer, b numeric(12,2) default 1.5,"
        " c text default 'x,y', out total numeric) language sql"
        " as $$ select a + b $$;"
        "comment on function with_defaults(integer, numeric, text) is '加法';"
        "create function pure(integer) returns integer language sql immutable"
        " as $body$\n\n  SELECT $1 * 2   \n$body$;",
        contains=("security: definer",),
        check=check_functions,
    ),
    Case(
        "chinese-comments",
        'create type "状态" as enum (\'开\', \'关\'); comment on type "状态" is \'状态\';'
        'create table "用户" ("编号" integer primary key, "名字" text);'
        "comment on table \"用户\" is '用户表（含“引号”与 emoji 🚀）';"
        "comment on column \"用户\".\"名字\" is '昵称，最长 32 个字符；可为空\n第二行';"
        "create function f() returns integer language sql as 'select 1';"
        "comment on function f() is '中文注释';",
        contains=("comment: 用户表（含“引号”与 emoji 🚀）",),
        check=check_comments,
    ),
    Case(
        "checks",
        "create table t (a integer check (a > 0), b integer check (b < 100),"
        " kind varchar(10) check (kind in ('x', 'y')), c integer,"
        " constraint a_below_b check (a < b));"
        "alter table t add constraint late_check check (c <> 0) not valid;",
        contains=("a: {type: integer, check: (a > 0)}",),
        unmanaged=('constraint "public"."t"."late_check"',),  # NOT VALID
        check=check_checks,
    ),
    Case(
        "unique-constraints",
        "create table t (a integer unique, b integer, unique (a, b),"
        " constraint named_unique unique (b));",
        contains=("a: {type: integer, unique: true}",),
        check=check_uniques,
    ),
    Case(
        "extension-types",
        "create extension citext;"
        "create table t (email citext not null unique, tags citext[]);",
        contains=("extensions: [citext]", "email: {type: citext, nullable: false, unique: true}"),
        check=lambda spec: None,
    ),
    Case(
        "comments-on-keys-indexes-triggers-sequences-and-unlogged",
        "create unlogged table notes (id integer);"
        "create table scratch (id integer primary key, code text unique,"
        " n integer constraint scratch_n_check check (n > 0));"
        "comment on constraint scratch_pkey on scratch is 'pk';"
        "comment on constraint scratch_code_key on scratch is 'uq';"
        "comment on constraint scratch_n_check on scratch is 'ck';"
        "create table child (id integer primary key, s integer references scratch);"
        "comment on constraint child_s_fkey on child is 'fk';"
        "create index child_s_idx on child (s); comment on index child_s_idx is 'ix';"
        "create function touch() returns trigger language plpgsql as"
        " $$ begin return new; end $$;"
        "create trigger child_touch before update on child for each row"
        " execute function touch();"
        "comment on trigger child_touch on child is 'tg';"
        "create sequence counter; comment on sequence counter is 'sq';"
        "create table numbered (id serial primary key);"
        "comment on sequence numbered_id_seq is 'serial, commented';",
        contains=(
            "unlogged: true",
            "primary_key: {columns: [id], comment: pk}",
            "- {columns: [code], comment: uq}",
            "- {name: scratch_n_check, expression: (n > 0), comment: ck}",
            "- {columns: [s], comment: ix}",
            "counter: {comment: sq}",
        ),
        check=check_comments_everywhere,
    ),
    Case(
        "partitioned-tables",
        "create table m (id integer not null, at timestamptz not null, primary key (id, at))"
        " partition by range (at);"
        "create table m_2024 partition of m for values from ('2024-01-01 00:00:00+00')"
        " to ('2025-01-01 00:00:00+00');"
        "create table m_low partition of m for values from (minvalue) to ('2024-01-01+00');"
        "create table m_rest partition of m default;"
        "create index m_at_idx on m (at);"
        "create table l (code text, n integer) partition by list (lower(code));"
        "create table l_ab partition of l for values in ('a', 'b', null);"
        "create table h (id integer) partition by hash (id);"
        "create table h_0 partition of h for values with (modulus 2, remainder 0);"
        "create table h_1 partition of h for values with (modulus 2, remainder 1);"
        "create table own (id integer) partition by list (id);"
        "create table own_1 partition of own for values in (1);"
        "create index own_1_id on own_1 (id);",
        contains=(
            "partition_by: {method: range, columns: [at]}",
            "m_low: {from: [{sql: MINVALUE}], to: [\"2024-01-01 00:00:00+00\"]}",
            "m_rest: {default: true}",
            "partition_by: {method: list, expression: lower(code)}",
            'l_ab: {in: [a, b, null]}',
            "h_1: {modulus: 2, remainder: 1}",
        ),
        unmanaged=('index "public"."own_1_id"',),
        check=check_partitions,
    ),
    Case(
        "schema-comment",
        "create schema app; comment on schema app is 'the app';"
        "create table app.t (id integer primary key);",
        schema="app",
        contains=("schema: {name: app, comment: the app}",),
        unmanaged=("schema public",),
        check=lambda spec: None,
    ),
    Case(
        "names-that-need-quotes",
        'create table "Order" ("select" integer, "on" text, yes text, "zip code" text,'
        ' "8080" text);',
        contains=('"on": text', '"yes": text', '"8080": text', "zip code: text"),
        check=check_quoted_names,
    ),
    Case(
        "not-managed-is-named-and-left-alone",
        "create domain positive as integer check (value > 0);"
        "create table uses_domain (id integer primary key, n positive);"
        "create table keeper (id integer primary key, d integer,"
        " g integer generated always as (d * 2) stored);"
        "create table plain (id integer primary key, other integer references uses_domain,"
        " r int4range, constraint no_overlap exclude using gist (r with &&));"
        "create function strict_one(integer) returns integer language sql strict"
        " as 'select $1';"
        "create function with_args() returns trigger language plpgsql as $$"
        " begin return new; end $$;"
        "create trigger tg_args before insert on plain for each row"
        " execute function with_args('x');"
        "create unlogged table scratch (id integer);"
        "create table rls (id integer); alter table rls enable row level security;"
        "create policy p on rls using (true);"
        "create materialized view mv as select 1 as one;"
        "create table parted (at date) partition by range (at);"
        "create table parted_2024 partition of parted for values from ('2024-01-01')"
        " to ('2025-01-01');"
        "create view reads_domain as select n from uses_domain;"
        "create aggregate total(integer) (sfunc = int4pl, stype = integer);"
        "create type pair as (a integer, b integer);"
        "create schema other;",
        unmanaged=(
            'aggregate "public"."total"(integer)',
            "schema other",
        ),
        check=lambda spec: None,
    ),
    Case(
        "domains-types-materialized-views",
        "create domain email as text not null default 'a@b' constraint at check (value ~ '@');"
        "comment on domain email is 'E-mail';"
        "create domain short as varchar(10) collate \"C\";"
        "create type amount as (value numeric(12,2), currency text);"
        "comment on type amount is 'Money';"
        "create table t (id integer primary key, e email, a amount, s short);"
        "create view v with (security_barrier, check_option = local) as"
        " select id from t where id > 0;"
        "create materialized view totals as select count(*) as n from t;"
        "create unique index totals_n_idx on totals (n);"
        "comment on materialized view totals is 'Counts';"
        "create materialized view later as select id from t with no data;",
        contains=(
            'amount: {attributes: {value: "numeric(12,2)", currency: text}, comment: Money}',
            "check_option: local",
            "security_barrier: true",
            "with_data: false",
        ),
        check=check_types,
    ),
    Case(
        "columns-and-constraints-of-issue-8",
        'create table t (id bigint generated always as identity (start with 100 increment by 5'
        ' cycle) primary key deferrable initially deferred, room text collate "C",'
        " during tsrange, code text, n integer,"
        " twice integer generated always as (n * 2) stored,"
        " constraint t_code_key unique nulls not distinct (code) deferrable,"
        " constraint t_n_positive check (n > 0) no inherit,"
        " constraint t_no_overlap exclude using gist (during with &&) where (n > 0))"
        " with (fillfactor = 70, autovacuum_enabled = off);"
        "create unique index t_room_idx on t (room) nulls not distinct with (fillfactor = 50);"
        "alter table t add constraint t_room_key unique (room);"
        "create table c (id integer primary key, code text,"
        " foreign key (code) references t (room) match full on delete set null);",
        contains=(
            "with: {fillfactor: 70, autovacuum_enabled: false}",
            "id: {type: bigint, identity: {generated: always, start: 100, increment: 5,"
            " cycle: true}}",
            "room: {type: text, collation: C, unique: true}",
            "twice: {type: integer, generated: n * 2}",
            "primary_key: {columns: [id], deferrable: true, initially_deferred: true}",
            "- {columns: [code], deferrable: true, nulls_not_distinct: true}",
            "- {name: t_n_positive, expression: (n > 0), no_inherit: true}",
            "- {columns: [room], unique: true, nulls_not_distinct: true, with: {fillfactor: 50}}",
            '- {name: t_no_overlap, elements: [{column: during, with: "&&"}], where: n > 0}',
            "- {columns: [code], references: {table: t, columns: [room]}, on_delete: set null,"
            " match: full}",
        ),
        check=lambda spec: None,
    ),
    Case(
        "other-schema",
        "create schema app; create schema elsewhere;"
        "create type app.mood as enum ('a', 'b');"
        "create sequence app.counter start 7;"
        "create table app.t (id integer primary key default nextval('app.counter'),"
        " m app.mood default 'a');"
        "create view app.v as select id, m from app.t;"
        "create table public.ignored (id integer);",
        schema="app",
        contains=("schema: app", "m: {type: mood, default: a}"),
        unmanaged=("schema elsewhere", "schema public"),
        check=lambda spec: None,
    ),
    Case(
        "routines-triggers-and-row-security",
        "do $$ begin create role i8c_import_reader; exception when duplicate_object then null;"
        " end $$;"
        "create table t (id integer primary key, a integer, owner text);"
        "create function area(r double precision) returns double precision language sql"
        " immutable strict parallel safe cost 5 as $$ SELECT pi() * r * r $$;"
        "create function area(w integer, h integer) returns integer language sql"
        " security definer set search_path = public, pg_temp as $$ SELECT w * h $$;"
        "create function ids() returns table(id integer) language sql rows 5"
        " as $$ SELECT id FROM t $$;"
        "create function note() returns trigger language plpgsql as $$ BEGIN RETURN NULL; END $$;"
        "create procedure touch(n integer) language sql as $$ UPDATE t SET a = n $$;"
        "create trigger on_a after update of a on t for each row when (new.a > 0)"
        " execute function note('x', '1');"
        "create trigger batch after insert on t referencing new table as added"
        " for each statement execute function note();"
        "create constraint trigger later after insert on t deferrable initially deferred"
        " for each row execute function note();"
        "alter table t disable trigger batch;"
        "alter table t enable row level security; alter table t force row level security;"
        "create policy own on t for select to i8c_import_reader using (owner = 'me');"
        "create policy ins on t as restrictive for insert with check (a > 0);",
        contains=(
            "strict: true",
            "parallel: safe",
            "set: {search_path: \"public, pg_temp\"}",
            "row_level_security: true",
            "force_row_level_security: true",
        ),
        check=check_routines_and_security,
    ),
]


def _unmanaged_names(items: list[str]) -> list[str]:
    """'kind name (why)' -> 'kind name'."""
    return sorted(re.sub(r" \(.*\)$", "", item) for item in items)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_import_round_trip(case: Case, server: Server, db_url: str, tmp_path: Path) -> None:
    run_sql(db_url, case.sql)
    imported = import_database(db_url, case.schema)
    spec = imported_spec(imported, tmp_path)
    lines = {line.strip() for line in imported.text.splitlines()}
    for expected in case.contains:
        assert expected in lines, f"{expected!r} not in:\n{imported.text}"
    assert _unmanaged_names(imported.unmanaged) == sorted(case.unmanaged)
    if case.check:
        case.check(spec)
    assert_round_trip(server, db_url, spec)


def test_cases_cover_enough() -> None:
    assert len(CASES) >= 20
    assert len({c.id for c in CASES}) == len(CASES)


def test_config_table_rows_become_keys(server: Server, db_url: str, tmp_path: Path) -> None:
    run_sql(
        db_url,
        "create table settings (key text primary key, value text);"
        "insert into settings values ('port', '8080'), ('debug', 'false'),"
        " ('jwt_secret', 's3cr3t-value'), ('note', null);",
    )
    imported = import_database(db_url, config_table="settings")
    spec = imported_spec(imported, tmp_path)
    check_config(spec)
    assert "s3cr3t-value" not in imported.text
    assert any("jwt_secret" in n for n in imported.notes)
    assert_round_trip(server, db_url, spec)


def test_import_is_deterministic(db_url: str) -> None:
    run_sql(db_url, CASES[2].sql + CASES[5].sql.replace("create table t", "create table t2")
            .replace(" on t ", " on t2 ").replace("ix_", "ix2_"))
    assert import_database(db_url).text == import_database(db_url).text


def test_declared_objects_are_compared_though_the_spec_cannot_write_them(
    db_url: str, tmp_path: Path
) -> None:
    """What the spec declares is changed to the spec's form, not created a second time."""
    run_sql(
        db_url,
        "create unlogged table t (id integer primary key);"
        "create table u (a integer);"
        "alter table u add constraint u_a_check check (a > 0) not valid;",
    )
    spec = load_spec(
        write_spec(
            tmp_path,
            """
            tables:
              t: {columns: {id: integer}, primary_key: [id]}
              u: {columns: {a: {type: integer, check: a > 0}}}
            """,
        )
    )
    plan = make_plan(spec, db_url)
    sqls = [c.sql for c in plan.changes]
    assert 'alter table "public"."t" set logged' in sqls
    assert not any(sql.lower().startswith("create table") for sql in sqls)
    assert any("validate constraint" in sql for sql in sqls)
    assert plan.unmanaged == []


# --- the Agentrade database ---------------------------------------------------------------------

_ALIASES = {
    "timestamptz": "timestamp with time zone",
    "varchar": "character varying",
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "bool": "boolean",
    "decimal": "numeric",
}


def _type(t: str) -> str:
    t = t.strip().lower()
    for alias, name in _ALIASES.items():
        t = re.sub(rf"^{alias}\b", name, t)
    return t


def _default(c: s.Column) -> str | None:
    """A default as Postgres prints it: `'{}'` and `{sql: "'{}'::jsonb"}` are the same."""
    if c.default is None:
        return None
    value = c.default.literal
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'::" + _type(c.type)
    return str(value).lower() if value is not None else c.default.sql


def _columns(t: s.Table) -> list[tuple[Any, ...]]:
    pk = set(t.primary_key.columns) if t.primary_key else set()
    return [
        (
            c.name,
            _type(c.type),
            c.nullable and c.name not in pk and not is_serial(c.type),
            _default(c),
            c.comment,
        )
        for c in t.columns
    ]


def _table(t: s.Table) -> dict[str, Any]:
    return {
        "comment": t.comment,
        "columns": _columns(t),
        "primary_key": (t.primary_key.name, t.primary_key.columns) if t.primary_key else None,
        "unique": sorted((u.name, tuple(u.columns)) for u in t.uniques),
        "foreign_keys": sorted(
            (f.name, tuple(f.columns), f.ref_table, tuple(f.ref_columns), f.on_delete,
             f.on_update, f.deferrable)
            for f in t.foreign_keys
        ),
        "checks": sorted(c.name for c in t.checks),
        "indexes": sorted(
            (i.name, repr(i.elements), i.unique, i.method, i.where, tuple(i.include))
            for i in t.indexes
        ),
        "triggers": sorted(
            (g.name, g.function, g.timing, tuple(g.events), g.for_each, g.when)
            for g in t.triggers
        ),
    }


def test_agentrade_database_imports_as_its_spec(
    server: Server, db_url: str, tmp_path: Path
) -> None:
    original = load_spec(ROOT / "schema.yaml")
    run_sql(db_url, render_sql(original))
    imported = import_database(db_url, config_table="system_config")
    spec = imported_spec(imported, tmp_path)
    assert imported.unmanaged == []
    assert [t.name for t in spec.tables] == sorted(t.name for t in original.tables)
    for t in original.tables:
        got = spec.table(t.name)
        assert got is not None
        assert _table(got) == _table(t), t.name
    functions = {
        f.name: (f.args, f.returns, f.language, f.volatility, f.security, f.body.strip(), f.comment)
        for f in original.functions
    }
    assert {
        f.name: (f.args, f.returns, f.language, f.volatility, f.security, f.body.strip(), f.comment)
        for f in spec.functions
    } == functions
    assert [(e.name, e.values, e.comment) for e in spec.enums] == [
        (e.name, e.values, e.comment) for e in sorted(original.enums, key=lambda e: e.name)
    ]
    assert original.config is not None and spec.config is not None
    assert sorted(k.name for k in spec.config.keys) == sorted(k.name for k in original.config.keys)
    assert_round_trip(server, db_url, spec)


# --- pagila, a real schema no one here wrote ---------------------------------------------------

PAGILA_UNMANAGED = [
    'aggregate "public"."group_concat"(text)',
    'trigger "public"."film"."film_fulltext_trigger"',
    'view "public"."film_list"',
    'view "public"."nicer_but_slower_film_list"',
]


def _pagila_partition_objects() -> list[str]:
    """The indexes and keys pagila declares on single partitions of payment (the spec declares
    them on the partitioned table only), as `not managed` names them."""
    out = []
    for raw in pglast.parse_sql(PAGILA.read_text(encoding="utf-8")):
        stmt = raw.stmt
        if isinstance(stmt, ast.IndexStmt) and stmt.relation.relname.startswith("payment_p"):
            out.append(f'index "public"."{stmt.idxname}"')
        elif isinstance(stmt, ast.AlterTableStmt) and stmt.relation.relname.startswith(
            "payment_p"
        ):
            table = stmt.relation.relname
            for cmd in stmt.cmds or ():
                if isinstance(cmd.def_, ast.Constraint):
                    out.append(f'constraint "public"."{table}"."{cmd.def_.conname}"')
    return out


def test_pagila_imports_and_round_trips(server: Server, db_url: str, tmp_path: Path) -> None:
    # The file sets owners to `postgres`: that role must exist (it does on local servers).
    run_sql(
        db_url,
        "do $$ begin if not exists (select from pg_roles where rolname = 'postgres') then"
        " create role postgres; end if; end $$",
    )
    run_sql(db_url, PAGILA.read_text(encoding="utf-8"))  # as it is, SET lines and all
    imported = import_database(db_url)
    spec = imported_spec(imported, tmp_path)
    partition_objects = _pagila_partition_objects()
    assert len(partition_objects) == 36
    assert _unmanaged_names(imported.unmanaged) == sorted(PAGILA_UNMANAGED + partition_objects)
    assert len(spec.tables) == 15  # film (a domain column) and the partitioned payment too
    payment = table_of(spec, "payment")
    assert payment.partition_by is not None and payment.partition_by.columns == ["payment_date"]
    assert len(payment.partitions) == 55
    assert [d.name for d in spec.domains] == ["bıgınt", "year"]
    assert [v.name for v in spec.views] == [
        "actor_info", "customer_list", "sales_by_film_category", "sales_by_store", "staff_list",
    ]
    assert [v.name for v in spec.materialized_views] == ["rental_by_category"]
    assert len(spec.sequences) == 13
    assert {f.name for f in spec.functions} == {
        "_group_concat", "film_in_stock", "film_not_in_stock", "get_customer_balance",
        "inventory_held_by_customer", "inventory_in_stock", "last_day", "last_updated",
        "rewards_report",
    }
    assert spec.function("last_day") is not None and spec.function("last_day").strict
    assert sum(len(t.triggers) for t in spec.tables) == 14
    assert_round_trip(server, db_url, spec)
    # plan names each partition's own index and key and leaves it alone (an empty plan).
    named = _unmanaged_names(make_plan(spec, db_url).unmanaged)
    assert set(partition_objects) <= set(named)

    # The written spec also builds the database from nothing (views and sequences included).
    empty = make_database(server)
    with psycopg.connect(empty, autocommit=True) as conn, conn.transaction():
        for change in managed_changes(server, empty, spec):  # all transactional: no rows yet
            conn.execute(change.sql.encode())
    assert managed_changes(server, empty, spec) == []

    # So does `schemadiff render`'s script, and that database imports as the same spec.
    rendered = make_database(server)
    run_sql(rendered, render_sql(spec))
    assert_round_trip(server, rendered, spec)
    again = import_database(rendered)
    assert again.unmanaged == []
    assert again.text == imported.text


# --- the command line ---------------------------------------------------------------------------


def test_cli_writes_stdout_or_a_file_and_names_what_is_not_managed(
    db_url: str, tmp_path: Path
) -> None:
    run_sql(
        db_url,
        "create type r as range (subtype = integer);"
        "create table t (id integer primary key, v r);"
        "create table kept (id integer primary key, note text);",
    )
    to_stdout = run_cli("import", "--database-url", db_url)
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert to_stdout.stdout.startswith("# Written by `schemadiff import`")
    assert "version: 1\n" in to_stdout.stdout
    assert "  kept:\n" in to_stdout.stdout
    assert 'not managed: range type "public"."r"' in to_stdout.stderr
    assert 'not managed: table "public"."t" (column v has type r' in to_stdout.stderr
    assert "not managed" not in to_stdout.stdout

    out = tmp_path / "schema.yaml"
    written = run_cli("import", "--database-url", db_url, "-o", str(out))
    assert written.returncode == 0, written.stderr
    assert out.read_text(encoding="utf-8") == to_stdout.stdout
    assert written.stdout == ""

    plan = run_cli("plan", "--spec", str(out), "--database-url", db_url, "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_cli_refuses_to_overwrite_without_force(db_url: str, tmp_path: Path) -> None:
    run_sql(db_url, "create table t (id integer);")
    out = tmp_path / "schema.yaml"
    out.write_text("mine\n", encoding="utf-8")
    refused = run_cli("import", "--database-url", db_url, "-o", str(out))
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    assert out.read_text(encoding="utf-8") == "mine\n"
    forced = run_cli("import", "--database-url", db_url, "-o", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "  t:\n" in out.read_text(encoding="utf-8")


def test_cli_unknown_schema_is_an_error(db_url: str) -> None:
    result = run_cli("import", "--database-url", db_url, "--schema", "nope")
    assert result.returncode == 1
    assert "no schema 'nope'" in result.stderr
    assert result.stdout == ""

