"""plan --validate on every local major: the plan applied to a copy of the target's schema,
then planned again there; the copy built from pg_dump, or from import without one."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path
from typing import Any

import psycopg
import pytest

from schemadiff.differ import Change
from schemadiff.errors import EXIT_ERROR, NotConvergedError, SchemadiffError
from schemadiff.plan import planner
from schemadiff.spec import Spec, parse_spec
from schemadiff.validate import validate_plan

Conn = psycopg.Connection[Any]

OLD = """
create table customers (id integer primary key, email text not null);
create table orders (id integer primary key, customer integer not null, total numeric(12,2));
insert into customers select g, 'c' || g from generate_series(1, 30) g;
insert into orders select g, 1 + g % 30, g from generate_series(1, 60) g;
analyze;
"""

NEW = """
tables:
  customers:
    columns: {id: integer, email: {type: text, nullable: false}}
    primary_key: [id]
    indexes:
      - columns: [email]
  orders:
    columns:
      id: integer
      customer_id: {type: integer, nullable: false, renamed_from: customer}
      total: "numeric(12,2)"
      status: {type: text, nullable: false, default: placed}
      note: text
    primary_key: [id]
    foreign_keys:
      - columns: [customer_id]
        references: {table: customers}
    checks:
      - name: orders_total_positive
        expression: total > 0
"""


def spec_of(body: str, tmp: Path) -> Spec:
    return parse_spec("version: 1\n" + textwrap.dedent(body).lstrip("\n"), str(tmp / "s.yaml"))


def columns(db: Conn) -> list[str]:
    rows = db.execute(
        "select attname from pg_attribute where attrelid = 'orders'::regclass and attnum > 0 "
        "and not attisdropped order by attnum"
    ).fetchall()
    return [r[0] for r in rows]


def test_validated_plan_converges_on_a_copy_from_pg_dump_and_from_import(
    db_url: str, db: Conn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db.execute(OLD)
    before = columns(db)
    with planner(spec_of(NEW, tmp_path), db_url) as p:
        plan = p.plan()
        kinds = {(c.action, c.kind) for c in plan.changes}
        assert {("rename", "column"), ("create", "index"), ("create", "constraint")} <= kinds
        message = validate_plan(plan, p, db_url)
        assert message == f"validated: plan applied to a copy of {plan.target} and converged"
        assert "(pg_dump " in capsys.readouterr().err
        validate_plan(plan, p, db_url, dump=False)
        assert "the copy is built from `schemadiff import`" in capsys.readouterr().err
    assert columns(db) == before  # the target itself is never touched


def test_a_plan_that_does_not_converge_names_what_is_left(
    db_url: str, db: Conn, tmp_path: Path
) -> None:
    db.execute(OLD)
    with planner(spec_of(NEW, tmp_path), db_url) as p:
        plan = p.plan()
        note = '"public"."orders"."note"'
        # A plan that leaves a difference behind, as a differ bug would.
        short = dataclasses.replace(plan, changes=[c for c in plan.changes if c.name != note])
        with pytest.raises(NotConvergedError) as e:
            validate_plan(short, p, db_url)
        assert e.value.exit_code == EXIT_ERROR
        text = str(e.value)
        assert "does not converge" in text and f"+ column {note}" in text, text
        assert 'ADD COLUMN "note"'.lower() in text.lower(), text
        assert "status" not in text  # what the plan did is not reported as left

        broken = Change("create", "column", note, "alter table orders add column note nosuchtype")
        failing = dataclasses.replace(short, changes=[*short.changes, broken])
        with pytest.raises(SchemadiffError) as e2:
            validate_plan(failing, p, db_url)
        assert "the plan fails on a copy of" in str(e2.value)
        assert 'type "nosuchtype" does not exist' in str(e2.value)
    assert "note" not in columns(db)
