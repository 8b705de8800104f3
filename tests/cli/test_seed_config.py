"""Agentrade's tools: `schemadiff seed` (insert/upsert/sync), seed rows in plan/apply, and the
managed config keys (`config list|get|set`, pinned values, secrets from the environment)."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from schemadiff.config import SecretChange
from schemadiff.differ import Change
from schemadiff.hazards import HELP, HazardKind
from schemadiff.plan import Plan
from schemadiff.seed import changes, insert_missing, load_seeds
from schemadiff.spec import load_spec

from ..conftest import ROOT, run_cli, write_spec
from .common import history, scalar

# users is referenced by orders: orders.yaml sorts first, so loading must follow the keys.
SPEC = """\
tables:
  users:
    columns:
      id: {type: text}
      email: {type: text, nullable: false}
      active: {type: boolean, nullable: false, default: true}
      note: text
    primary_key: [id]
  orders:
    columns:
      id: {type: integer}
      user_id: {type: text, nullable: false}
      amount: {type: "numeric(12,2)", nullable: false}
      tags: {type: "text[]"}
      meta: {type: jsonb}
      paid: {type: boolean, nullable: false, default: false}
    primary_key: [id]
    foreign_keys:
      - columns: [user_id]
        references: {table: users}
        on_delete: cascade
"""
USERS_YAML = """\
- {id: alice, email: alice@example.com}
- {id: bob, email: bob@example.com, active: false}
"""
ORDERS_YAML = """\
- {id: 1, user_id: alice, amount: 5.00, tags: [a, "b c"], meta: {plan: pro, seats: 3}}
- {id: 2, user_id: bob, amount: 0.10, paid: true, meta: null}
"""
TABLES_SQL = """
create table users (id text primary key, email text not null,
                    active boolean not null default true, note text);
create table orders (id integer primary key,
                     user_id text not null references users on delete cascade,
                     amount numeric(12,2) not null, tags text[], meta jsonb,
                     paid boolean not null default false);
"""


def _project(tmp_path: Path, spec: str = SPEC, **seeds: str) -> Path:
    write_spec(tmp_path, spec)
    d = tmp_path / "seeds"
    d.mkdir(exist_ok=True)
    for table, body in (seeds or {"users": USERS_YAML, "orders": ORDERS_YAML}).items():
        (d / f"{table}.yaml").write_text(body, encoding="utf-8")
    return tmp_path


def _cli(
    tmp_path: Path, *args: str, expect: int = 0, **kw: Any
) -> subprocess.CompletedProcess[str]:
    r = run_cli(*args, cwd=tmp_path, **kw)
    assert r.returncode == expect, (args, r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    return r


def _rows(conn: psycopg.Connection[Any], sql: str) -> list[tuple[Any, ...]]:
    return conn.execute(sql.encode()).fetchall()


# -- seed --------------------------------------------------------------------------------------


def test_seed_modes_are_idempotent_and_sync_deletes_only_when_confirmed(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    _project(tmp_path)
    url = ("--database-url", db_url)

    # The tables do not exist yet: seed says to apply first.
    r = _cli(tmp_path, "seed", *url, expect=1)
    assert "run `schemadiff apply` first" in r.stderr

    db.execute(TABLES_SQL.encode())
    r = _cli(tmp_path, "seed", *url)
    assert r.stdout == ""
    assert "seed (insert): users: 2 inserted, 0 updated, 0 deleted" in r.stderr
    assert "seed (insert): orders: 2 inserted, 0 updated, 0 deleted" in r.stderr
    assert r.stderr.index("users:") < r.stderr.index("orders:")  # foreign-key order
    # Values typed by YAML: booleans, exact decimals, arrays, JSON, NULL; defaults fill the rest.
    assert _rows(db, "select id, email, active, note from users order by id") == [
        ("alice", "alice@example.com", True, None),
        ("bob", "bob@example.com", False, None),
    ]
    assert _rows(db, "select id, user_id, amount, tags, meta, paid from orders order by id") == [
        (1, "alice", Decimal("5.00"), ["a", "b c"], {"plan": "pro", "seats": 3}, False),
        (2, "bob", Decimal("0.10"), None, None, True),
    ]
    for mode in ("insert", "upsert", "sync"):
        r = _cli(tmp_path, "seed", "--mode", mode, *url)
        assert f"seed ({mode}): nothing to change" in r.stderr, r.stderr

    # Operators edit rows: a seeded column, a column the seed does not list, an extra row,
    # and a deleted seed row.
    db.execute(
        """update users set email = 'changed@example.com', note = 'kept' where id = 'alice';
           update orders set amount = 7 where id = 1;
           insert into users (id, email) values ('carol', 'carol@example.com');
           insert into orders (id, user_id, amount) values (3, 'carol', 1);
           delete from orders where id = 2;"""
    )

    # insert: only the missing row comes back; edited values are kept.
    r = _cli(tmp_path, "seed", *url)
    assert "orders: 1 inserted, 0 updated, 0 deleted" in r.stderr
    assert scalar(db, "select email from users where id = 'alice'") == "changed@example.com"
    assert scalar(db, "select count(*) from orders where id = 2") == 1
    _cli(tmp_path, "seed", *url)  # twice: nothing

    # upsert, dry run first: the SQL on stdout, nothing changed.
    r = _cli(tmp_path, "seed", "--mode", "upsert", "--dry-run", *url)
    assert r.stdout.startswith("BEGIN;\n") and r.stdout.endswith("COMMIT;\n")
    assert "UPDATE public.users SET email = 'alice@example.com' WHERE id = 'alice';" in r.stdout
    assert "UPDATE public.orders SET amount = 5.00 WHERE id = 1;" in r.stdout
    assert "DELETE" not in r.stdout
    assert "seed_rows_deleted" not in r.stdout  # the near miss: upsert deletes nothing
    assert "seed (upsert, dry run): users: 0 to insert, 1 to update, 0 to delete" in r.stderr
    assert scalar(db, "select email from users where id = 'alice'") == "changed@example.com"
    r = _cli(tmp_path, "seed", "--mode", "upsert", *url)
    assert "users: 0 inserted, 1 updated, 0 deleted" in r.stderr
    assert "orders: 0 inserted, 1 updated, 0 deleted" in r.stderr
    assert _rows(db, "select email, note from users where id = 'alice'") == [
        ("alice@example.com", "kept")  # only the columns the seed lists are updated
    ]
    assert scalar(db, "select amount from orders where id = 1") == Decimal("5.00")
    r = _cli(tmp_path, "seed", "--mode", "upsert", *url)
    assert "nothing to change" in r.stderr

    # sync: carol and her order are not in the seeds. No terminal and no --yes: exit 1.
    r = _cli(tmp_path, "seed", "--mode", "sync", *url, expect=1)
    assert "would delete 2 rows" in r.stderr and "--yes" in r.stderr
    assert "users carol" in r.stderr and "orders 3" in r.stderr
    assert scalar(db, "select count(*) from users where id = 'carol'") == 1
    r = _cli(tmp_path, "seed", "--mode", "sync", "--dry-run", *url)
    assert "-- hazard seed_rows_deleted:" in r.stdout
    # Children first, then parents.
    assert r.stdout.index("DELETE FROM public.orders WHERE id = '3';") < r.stdout.index(
        "DELETE FROM public.users WHERE id = 'carol';"
    )
    assert scalar(db, "select count(*) from users where id = 'carol'") == 1
    # Answering y on stdin is no confirmation: only a terminal is asked.
    r = _cli(tmp_path, "seed", "--mode", "sync", *url, input="y\n", expect=1)
    assert scalar(db, "select count(*) from users where id = 'carol'") == 1
    r = _cli(tmp_path, "seed", "--mode", "sync", "--yes", *url)
    assert "users: 0 inserted, 0 updated, 1 deleted" in r.stderr
    assert "orders: 0 inserted, 0 updated, 1 deleted" in r.stderr
    assert _rows(db, "select id from users order by id") == [("alice",), ("bob",)]
    assert _rows(db, "select id from orders order by id") == [(1,), (2,)]
    r = _cli(tmp_path, "seed", "--mode", "sync", *url)
    assert "nothing to change" in r.stderr
    # Each seed run went through the one executor: recorded in apply_history.
    assert [h[0] for h in history(db)] == ["applied"] * 4


def test_seed_file_errors_name_file_line_col(tmp_path: Path, db_url: str) -> None:
    _project(
        tmp_path,
        users="- {id: alice, email: 5}\n- {id: bob, emial: b@x}\n- {email: c@x}\n",
        orders="- {id: 1.5, user_id: alice, amount: ten, paid: 'yes'}\n"
        "- {id: 2, user_id: alice, amount: 1}\n"
        "- {id: 3, user_id: alice, amount: 1, tags: x}\n"
        "- {id: 2, user_id: alice, amount: 2}\n",
    )
    r = _cli(tmp_path, "seed", "--database-url", db_url, expect=1)
    assert r.stdout == ""
    for expected in (
        "seeds/orders.yaml:1:8: orders.id: 1.5 is not an integer (the column is integer)",
        "seeds/orders.yaml:1:37: orders.amount: 'ten' is not a number",
        "seeds/orders.yaml:1:48: orders.paid: 'yes' is not a boolean",
        "seeds/orders.yaml:3:44: orders.tags: the column is text[]; write a list",
        "seeds/orders.yaml:4:3: row of 'orders': duplicate key 2 (first at line 2)",
        "seeds/users.yaml:1:22: users.email: 5 is not a string (the column is text); quote it",
        "seeds/users.yaml:2:13: row of 'users': unknown key 'emial' (did you mean 'email'?)",
        "seeds/users.yaml:3:3: row of 'users' lacks key id",
        "8 problems found.",
    ):
        assert expected in r.stderr, r.stderr
    # plan reads the same seeds/ and reports the same problems.
    r = _cli(tmp_path, "plan", "--database-url", db_url, expect=1)
    assert "seeds/users.yaml:3:3: row of 'users' lacks key id" in r.stderr
    r = _cli(tmp_path, "seed", "--seeds", str(tmp_path / "nope"), "--database-url", db_url,
             expect=1)
    assert "no seed directory" in r.stderr


def test_plan_and_apply_insert_missing_seed_rows_and_converge(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    _project(tmp_path)
    url = ("--database-url", db_url)
    r = _cli(tmp_path, "plan", *url)
    assert "+ seed users alice" in r.stdout and "+ seed orders 2" in r.stdout
    # Created by this plan: every seed row is inserted, after the tables, parents first.
    assert r.stdout.index('create table "public"."orders"') < r.stdout.index(
        "INSERT INTO public.users"
    ) < r.stdout.index("INSERT INTO public.orders")
    _cli(tmp_path, "apply", "--auto-approve", *url)
    assert scalar(db, "select count(*) from users") == 2
    assert scalar(db, "select count(*) from orders") == 2
    _cli(tmp_path, "plan", "--detailed-exitcode", *url)  # converged: exit 0

    # apply only inserts missing rows: edited values and extra rows are left alone.
    db.execute(
        """update users set email = 'x@example.com' where id = 'bob';
           insert into users (id, email) values ('carol', 'c@example.com');
           delete from orders where id = 1;"""
    )
    r = _cli(tmp_path, "plan", "--detailed-exitcode", *url, expect=2)
    assert "+ seed orders 1" in r.stdout
    assert "users" not in r.stdout.split("\n\n")[1]  # the summary names only orders 1
    r = _cli(tmp_path, "drift", *url, expect=2)
    _cli(tmp_path, "apply", "--auto-approve", *url)
    assert scalar(db, "select count(*) from orders where id = 1") == 1
    assert scalar(db, "select email from users where id = 'bob'") == "x@example.com"
    assert scalar(db, "select count(*) from users where id = 'carol'") == 1
    _cli(tmp_path, "drift", *url)

    # A plan file with seed rows is not stale after the rows change: its inserts are
    # ON CONFLICT DO NOTHING, and seed rows are not part of the live fingerprint.
    db.execute("delete from orders where id = 2")
    _cli(tmp_path, "plan", "-o", "plan.json", *url)
    db.execute("insert into orders (id, user_id, amount) values (2, 'bob', 9)")
    _cli(tmp_path, "apply", "plan.json", *url)
    assert scalar(db, "select amount from orders where id = 2") == Decimal("9.00")


def test_seeds_come_from_the_directory_the_project_file_names(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    write_spec(tmp_path, SPEC)
    db.execute(TABLES_SQL.encode())
    (tmp_path / "schemadiff.toml").write_text('spec = "schema.yaml"\nseeds = "db/rows"\n')
    rows = tmp_path / "db" / "rows"
    rows.mkdir(parents=True)
    (rows / "users.yaml").write_text(USERS_YAML, encoding="utf-8")
    # seeds/ next to the spec is not the configured directory: it must be ignored
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "users.yaml").write_text("- {id: decoy, email: d@example.com}\n")
    url = ("--database-url", db_url)
    r = _cli(tmp_path, "plan", *url)
    assert "+ seed users alice" in r.stdout and "+ seed users bob" in r.stdout
    assert "decoy" not in r.stdout
    r = _cli(tmp_path, "verify", *url, expect=2)
    assert "missing seed row users id=alice" in r.stdout and "decoy" not in r.stdout
    assert "2 seed rows)" in _cli(tmp_path, "validate").stderr
    (rows / "users.yaml").write_text("- {id: carol, email: 5}\n")
    r = _cli(tmp_path, "validate", expect=1)
    assert "db/rows/users.yaml:1:22: users.email: 5 is not a string" in r.stderr


# -- managed config keys -----------------------------------------------------------------------

CONFIG_SPEC = """\
tables:
  app_config:
    columns:
      key: text
      value: {type: text, nullable: false, check: "value NOT LIKE 'forbidden%'"}
    primary_key: [key]
config:
  table: app_config
  key_column: key
  value_column: value
  keys:
    api_port: {default: "8080", description: HTTP port}
    mode: {value: prod, description: Pinned by the spec}
    legacy_flag: {default: "off"}
    app_secret: {secret: true, value_from_env: SD_TEST_APP_SECRET, description: Signing key}
"""


def test_config_keys_kept_pinned_and_removed(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    write_spec(tmp_path, CONFIG_SPEC)
    url = ("--database-url", db_url)
    _cli(tmp_path, "apply", "--auto-approve", *url)
    assert _rows(db, "select key, value from app_config order by key") == [
        ("api_port", "8080"), ("app_secret", ""), ("legacy_flag", "off"), ("mode", "prod")
    ]

    # Operators change values with `config set`: kept by apply, unless the spec pins them.
    r = _cli(tmp_path, "config", "set", "api_port", "9090", *url)
    assert r.stdout == "" and "api_port set" in r.stderr
    r = _cli(tmp_path, "config", "set", "mode", "dev", *url)
    assert "the spec pins mode" in r.stderr
    assert _cli(tmp_path, "config", "get", "mode", *url).stdout == "dev\n"
    r = _cli(tmp_path, "plan", "--detailed-exitcode", *url, expect=2)
    assert "~ config mode" in r.stdout and "api_port" not in r.stdout
    _cli(tmp_path, "apply", "--auto-approve", *url)
    assert _cli(tmp_path, "config", "get", "mode", *url).stdout == "prod\n"
    assert _cli(tmp_path, "config", "get", "api_port", *url).stdout == "9090\n"
    _cli(tmp_path, "plan", "--detailed-exitcode", *url)

    # Unknown keys: refused with a suggestion, exit 1, nothing written.
    r = _cli(tmp_path, "config", "set", "api_prot", "1", *url, expect=1)
    assert "unknown config key 'api_prot' (did you mean 'api_port'?)" in r.stderr
    r = _cli(tmp_path, "config", "get", "mdoe", *url, expect=1)
    assert "did you mean 'mode'?" in r.stderr
    assert scalar(db, "select count(*) from app_config") == 4

    r = _cli(tmp_path, "config", "list", *url)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["KEY", "VALUE", "DESCRIPTION"]
    assert lines[1].split() == ["api_port", "9090", "HTTP", "port"]
    listed = json.loads(_cli(tmp_path, "config", "list", "--format", "json", *url).stdout)
    assert [e["key"] for e in listed] == ["api_port", "mode", "legacy_flag", "app_secret"]

    # A key removed from the spec: the plan drops it, a data_loss hazard.
    write_spec(tmp_path, CONFIG_SPEC.replace('    legacy_flag: {default: "off"}\n', ""))
    r = _cli(tmp_path, "plan", "--detailed-exitcode", *url, expect=2)
    assert "- config legacy_flag   [data_loss: removes config key legacy_flag (1 rows)]" in (
        r.stdout
    )
    assert "DELETE FROM public.app_config WHERE key = 'legacy_flag';" in r.stdout
    r = _cli(tmp_path, "config", "list", *url)
    assert "(not in the spec: apply deletes it)" in r.stdout
    _cli(tmp_path, "apply", "--auto-approve", *url, expect=3)
    assert scalar(db, "select count(*) from app_config where key = 'legacy_flag'") == 1
    _cli(tmp_path, "apply", "--auto-approve", "--allow-hazards", "data_loss", *url)
    assert scalar(db, "select count(*) from app_config where key = 'legacy_flag'") == 0


def test_secret_from_env_never_printed(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    write_spec(tmp_path, CONFIG_SPEC)
    url = ("--database-url", db_url)
    first, second = "s3cr3t-From-Env-1", "s3cr3t-From-Env-2"
    outputs: list[str] = []

    def run(*args: str, expect: int = 0, secret: str | None = None) -> str:
        env = {"SD_TEST_APP_SECRET": secret or ""}
        r = _cli(tmp_path, *args, *url, expect=expect, env=env)
        outputs.extend([r.stdout, r.stderr])
        return r.stdout + r.stderr

    # Planned without the variable, applied with it: the value is read at apply time.
    out = run("plan", "-o", "plan.json")
    assert "INSERT INTO public.app_config (key, value) VALUES ('app_secret', '***')" in out
    plan_files = [(tmp_path / "plan.json").read_text()]
    run("apply", "plan.json", secret=first)
    assert scalar(db, "select value from app_config where key = 'app_secret'") == first
    run("plan", "--detailed-exitcode", secret=first)  # converged

    # The variable changes: the plan updates the key, showing ***; every format.
    for fmt in ("text", "sql", "json"):
        out = run("plan", "--format", fmt, "--detailed-exitcode", expect=2, secret=second)
        assert "'***'" in out
    out = run("plan", "-o", "plan2.json", secret=second)
    assert "UPDATE public.app_config SET value = '***' WHERE key = 'app_secret'" in out
    plan_files.append((tmp_path / "plan2.json").read_text())
    run("apply", "--auto-approve", secret=second)
    assert scalar(db, "select value from app_config where key = 'app_secret'") == second
    run("drift", "--format", "json", secret=second)

    # Without the variable the value operators (or the last apply) set is kept.
    run("plan", "--detailed-exitcode")
    run("apply", "--auto-approve")
    assert scalar(db, "select value from app_config where key = 'app_secret'") == second

    # config get masks; --show-secrets reveals; list masks.
    assert run("config", "get", "app_secret").startswith("***\n")
    assert run("config", "get", "app_secret", "--show-secrets").startswith(f"{second}\n")
    revealed = outputs.pop(-2)  # the one output that must show it
    assert revealed == f"{second}\n"
    out = run("config", "list")
    assert "app_secret" in out and "***" in out
    out = run("config", "list", "--format", "json")
    assert '"value": "***"' in out

    # A failing statement names the key, never the value (Postgres' DETAIL quotes the row).
    bad = "forbidden-" + first
    out = run("apply", "--auto-approve", expect=1, secret=bad)
    assert "statement 1 failed (alter config app_secret)" in out and "***" in out

    # Missing key, variable not set: inserted with its default and a warning; no failure.
    db.execute("delete from app_config where key = 'app_secret'")
    out = run("apply", "--auto-approve")
    assert "warning: environment variable SD_TEST_APP_SECRET is not set" in out
    assert scalar(db, "select value from app_config where key = 'app_secret'") == ""

    assert [h[0] for h in history(db)] == ["applied", "applied", "failed", "applied"]
    rows = [str(r) for r in db.execute("select * from schemadiff.apply_history")]
    for text in [*outputs, *plan_files, *rows]:
        for secret in (first, second, bad):
            assert secret not in text


def test_secret_change_survives_the_plan_file() -> None:
    change = SecretChange(
        "create", "config", "k", "INSERT INTO t VALUES ('k', '***')",
        template="INSERT INTO t VALUES ('k', %s) -- 100%%", from_env="X", fallback="",
    )
    plan = Plan("t", 15, "h", "f", [Change("create", "table", "t", "CREATE TABLE t ()"), change])
    again = Plan.from_json(plan.to_json(), "plan.json")
    assert again.changes == plan.changes
    assert isinstance(again.changes[1], SecretChange)
    assert not isinstance(again.changes[0], SecretChange)


# -- the Agentrade database ---------------------------------------------------------------------

AGENTRADE_SECRET = "jwt-Agentrade-0123456789abcdef"


def test_agentrade_apply_creates_default_rows_and_config_keys(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    shutil.copy(ROOT / "schema.yaml", tmp_path / "schema.yaml")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    env = {"JWT_SECRET": AGENTRADE_SECRET}
    env.update({v: "" for v in ("MLION_API_KEY", "MEM0_API_KEY", "GEMINI_API_KEY")})
    url = ("--database-url", db_url)
    outputs = []
    for args in (("plan", "-o", "plan.json"), ("plan", "--format", "json"),
                 ("apply", "--auto-approve"), ("plan", "--detailed-exitcode"),
                 ("config", "list"), ("config", "get", "jwt_secret"), ("seed", "--mode", "sync")):
        r = _cli(tmp_path, *args, *url, env=env)
        outputs += [r.stdout, r.stderr]
    assert "+ seed users default" in outputs[0]
    assert outputs[10] == "***\n"  # config get masks
    counts = {
        t: scalar(db, f"select count(*) from {t}")
        for t in ("users", "ai_models", "exchanges", "credit_packages")
    }
    assert counts == {"users": 1, "ai_models": 2, "exchanges": 4, "credit_packages": 4}
    assert sum(counts.values()) == 11
    assert scalar(db, "select count(*) from system_config") == 85
    assert scalar(db, "select value from system_config where key = 'jwt_secret'") == (
        AGENTRADE_SECRET
    )
    shown = _cli(tmp_path, "config", "get", "jwt_secret", "--show-secrets", *url, env=env)
    assert shown.stdout == AGENTRADE_SECRET + "\n"
    rows = [str(r) for r in db.execute("select * from schemadiff.apply_history")]
    for text in [*outputs, (tmp_path / "plan.json").read_text(), *rows]:
        assert AGENTRADE_SECRET not in text


def test_docs_list_the_seed_hazard() -> None:
    assert HazardKind("seed_rows_deleted") in HELP
    assert "| `seed_rows_deleted` |" in (ROOT / "docs" / "hazards.md").read_text(encoding="utf-8")


def test_seeded_serial_keys_move_their_sequence(
    tmp_path: Path, db: psycopg.Connection[Any]
) -> None:
    spec_path = write_spec(
        tmp_path, "tables:\n  tags:\n    columns: {id: serial, name: text}\n    primary_key: [id]\n"
    )
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "tags.yaml").write_text("- {id: 1, name: a}\n- {id: 5, name: b}\n")
    spec = load_spec(spec_path)
    seeds = load_seeds(tmp_path / "seeds", spec)
    db.execute("create table tags (id serial primary key, name text)")
    assert insert_missing(db, spec, seeds) == 2
    assert insert_missing(db, spec, seeds) == 0
    assert scalar(db, "insert into tags (name) values ('c') returning id") == 6
    db.execute("delete from tags where id = 5")
    with db.transaction():
        found = changes(db, spec, seeds, "insert")
        assert [(c.action, c.kind, c.name) for c in found] == [
            ("create", "seed", "tags 5"), ("alter", "seed", "tags id sequence")
        ]
        for c in found:
            db.execute(c.sql.encode())
    # Never backwards: the sequence had handed out 6 already.
    assert scalar(db, "insert into tags (name) values ('d') returning id") == 7
