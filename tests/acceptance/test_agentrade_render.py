"""The Agentrade spec renders to DDL that builds exactly what the spec declares, on every major."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from schemadiff.model import render_sql
from schemadiff.seed import insert_missing, load_seeds
from schemadiff.spec import Spec, load_spec

from ..conftest import ROOT


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec(ROOT / "schema.yaml")


def _one(conn: psycopg.Connection[Any], sql: str) -> Any:
    row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def test_agentrade_ddl_builds_every_declared_object(
    spec: Spec, db: psycopg.Connection[Any]
) -> None:
    db.execute(render_sql(spec))  # type: ignore[arg-type]

    tables = _one(db, "select count(*) from pg_tables where schemaname = 'public'")
    columns = _one(
        db,
        "select count(*) from information_schema.columns where table_schema = 'public'",
    )
    explicit_indexes = _one(
        db,
        """select count(*) from pg_indexes i where schemaname = 'public' and not exists
           (select 1 from pg_constraint c where c.conname = i.indexname)""",
    )
    constraints = dict(
        db.execute(  # type: ignore[arg-type]
            """select contype::text, count(*) from pg_constraint c
               join pg_namespace n on n.oid = c.connamespace
               where n.nspname = 'public' and contype in ('p','u','f','c') group by 1"""
        ).fetchall()
    )
    triggers = _one(db, "select count(*) from pg_trigger where not tgisinternal")
    table_comments = _one(
        db,
        """select count(*) from pg_description d join pg_class c on c.oid = d.objoid
           where d.classoid = 'pg_class'::regclass and d.objsubid = 0 and c.relkind = 'r'""",
    )
    column_comments = _one(
        db, "select count(*) from pg_description where classoid = 'pg_class'::regclass "
        "and objsubid > 0"
    )
    config_rows = _one(db, "select count(*) from system_config")

    assert tables == len(spec.tables) == 26
    assert columns == sum(len(t.columns) for t in spec.tables)
    assert explicit_indexes == sum(len(t.indexes) for t in spec.tables) == 43
    assert constraints["p"] == sum(1 for t in spec.tables if t.primary_key) == 26
    assert constraints["u"] == sum(len(t.uniques) for t in spec.tables)
    assert constraints["f"] == sum(len(t.foreign_keys) for t in spec.tables)
    assert constraints["c"] == sum(len(t.checks) for t in spec.tables)
    assert triggers == sum(len(t.triggers) for t in spec.tables) == 12
    assert table_comments == sum(1 for t in spec.tables if t.comment)
    assert column_comments == sum(1 for t in spec.tables for c in t.columns if c.comment)
    assert spec.config is not None
    assert config_rows == len(spec.config.keys)


def test_chinese_comments_round_trip_exactly(spec: Spec, db: psycopg.Connection[Any]) -> None:
    db.execute(render_sql(spec))  # type: ignore[arg-type]
    users = spec.table("users")
    assert users is not None and users.comment
    assert _one(db, "select obj_description('public.users'::regclass, 'pg_class')") == (
        users.comment
    )
    for i, col in enumerate(users.columns, start=1):
        got = _one(db, f"select col_description('public.users'::regclass, {i})")
        assert got == col.comment


def test_composite_primary_keys_as_documented(spec: Spec, db: psycopg.Connection[Any]) -> None:
    db.execute(render_sql(spec))  # type: ignore[arg-type]
    for table in ("ai_models", "exchanges"):
        cols = _one(
            db,
            f"""select array_agg(a.attname order by a.attname) from pg_index i
                join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                where i.indrelid = 'public.{table}'::regclass and i.indisprimary""",
        )
        assert cols == ["id", "user_id"]


def test_updated_at_trigger_fires(spec: Spec, db: psycopg.Connection[Any]) -> None:
    db.execute(render_sql(spec))  # type: ignore[arg-type]
    db.execute(
        "insert into system_config (key, value, updated_at) values ('x', '1', '2000-01-01')"
    )
    db.execute("update system_config set value = '2' where key = 'x'")
    assert _one(db, "select updated_at > '2001-01-01' from system_config where key = 'x'")


def test_business_checks_reject_bad_rows(spec: Spec, db: psycopg.Connection[Any]) -> None:
    db.execute(render_sql(spec))  # type: ignore[arg-type]
    insert_missing(db, spec, load_seeds(ROOT / "seeds", spec))
    bad = [
        "insert into user_credits (id, user_id, available_credits, total_credits, used_credits)"
        " values ('c1', 'default', 5, 10, 1)",
        "insert into credit_transactions (id, user_id, type, amount, balance_before,"
        " balance_after, category) values ('t1', 'default', 'credit', 5, 10, 20, 'x')",
        "insert into web3_wallets (id, wallet_addr, wallet_type) values ('w1', '0x12', 'metamask')",
        "update traders set btc_eth_leverage = 0",
    ]
    db.execute(
        "insert into traders (id, user_id, name, ai_model_id, exchange_id, initial_balance)"
        " values ('tr1', 'default', 'T', 'deepseek', 'binance', 100)"
    )
    for sql in bad:
        with pytest.raises(psycopg.errors.CheckViolation):
            db.execute(sql)  # type: ignore[arg-type]
    db.execute(
        "insert into credit_transactions (id, user_id, type, amount, balance_before,"
        " balance_after, category) values ('t2', 'default', 'debit', 5, 10, 5, 'x')"
    )


def test_seeds_load_in_fk_order_and_twice_changes_nothing(
    spec: Spec, db: psycopg.Connection[Any]
) -> None:
    db.execute(render_sql(spec))  # type: ignore[arg-type]
    seeds = load_seeds(ROOT / "seeds", spec)
    assert [sd.table for sd in seeds].index("users") < [sd.table for sd in seeds].index(
        "ai_models"
    )
    first = insert_missing(db, spec, seeds)
    second = insert_missing(db, spec, seeds)
    assert first == sum(len(sd.rows) for sd in seeds) == 11
    assert second == 0
    assert _one(db, "select is_recommended from credit_packages where id = 'pkg_standard'")
    assert _one(db, "select count(*) from exchanges where not enabled") == 4
