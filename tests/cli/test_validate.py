"""`schemadiff plan --validate` on an Agentrade-like project: tables with rows, seed rows,
managed config keys with a secret; the copy gets the rows planning reads, never the secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from ..conftest import run_cli, write_spec
from .common import scalar

LIVE = """
create table users (id text primary key, email text not null);
create table orders (id integer primary key, user_ref text not null, amount numeric(12,2));
create table app_config (key text primary key, value text not null);
insert into users select 'u' || g, 'u' || g || '@example.com' from generate_series(1, 40) g;
insert into users values ('alice', 'changed@example.com');
insert into orders select g, 'u' || (1 + g % 40), g from generate_series(1, 80) g;
insert into app_config values ('api_port', '9090'), ('app_secret', 'old-secret');
analyze;
"""
SPEC = """\
tables:
  users:
    columns:
      id: text
      email: {type: text, nullable: false}
      active: {type: boolean, nullable: false, default: true}
    primary_key: [id]
    indexes:
      - columns: [email]
  orders:
    columns:
      id: integer
      user_id: {type: text, nullable: false, renamed_from: user_ref}
      amount: "numeric(12,2)"
    primary_key: [id]
    foreign_keys:
      - columns: [user_id]
        references: {table: users}
  app_config:
    columns: {key: text, value: {type: text, nullable: false}}
    primary_key: [key]
config:
  table: app_config
  key_column: key
  value_column: value
  keys:
    api_port: {default: "8080"}
    mode: {value: prod}
    app_secret: {secret: true, value_from_env: SD_VALIDATE_SECRET}
"""
USERS_SEED = """\
- {id: alice, email: alice@example.com}
- {id: bob, email: bob@example.com}
"""
SECRET = "n3w-Secret-value"


def test_plan_validate_converges_with_rows_seeds_and_config(
    tmp_path: Path, db_url: str, db: psycopg.Connection[Any]
) -> None:
    db.execute(LIVE)
    write_spec(tmp_path, SPEC)
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "users.yaml").write_text(USERS_SEED, encoding="utf-8")
    r = run_cli(
        "plan", "--validate", "--database-url", db_url, "-o", "plan.json", "--no-lint",
        cwd=tmp_path, env={"SD_VALIDATE_SECRET": SECRET},
    )
    assert r.returncode == 0, r.stderr
    # What the copy must reproduce for the second plan to be empty: bob is inserted, alice
    # (edited by an operator) and api_port=9090 kept, mode added, the secret updated.
    for expected in (
        "INSERT INTO public.users (id, email) VALUES ('bob', 'bob@example.com')",
        "INSERT INTO public.app_config (key, value) VALUES ('mode', 'prod')",
        "UPDATE public.app_config SET value = '***' WHERE key = 'app_secret'",
        'RENAME COLUMN "user_ref" TO "user_id"',
        "CREATE INDEX CONCURRENTLY users_email_idx",
    ):
        assert expected in r.stdout, r.stdout
    assert "alice" not in r.stdout and "api_port" not in r.stdout
    assert "copy of" in r.stderr and "(pg_dump " in r.stderr
    redacted = db_url  # no password in this URL: printed as it is
    assert f"validated: plan applied to a copy of {redacted} and converged" in r.stderr
    assert SECRET not in r.stdout + r.stderr + (tmp_path / "plan.json").read_text()
    # Only a copy was changed.
    assert scalar(db, "select count(*) from app_config") == 2
    assert scalar(db, "select value from app_config where key = 'app_secret'") == "old-secret"
    assert scalar(db, "select to_regclass('users_email_idx')") is None
    assert scalar(db, "select count(*) from users where id = 'bob'") == 0

    # Without the flag: no copy is made, unless the environment says `validate = true`.
    r = run_cli("plan", "--database-url", db_url, "--no-lint", cwd=tmp_path)
    assert r.returncode == 0 and "validated" not in r.stderr and "copy of" not in r.stderr
    (tmp_path / "schemadiff.toml").write_text(
        '[environments.prod]\nurl_env = "SD_PROD_URL"\nvalidate = true\n', encoding="utf-8"
    )
    r = run_cli("plan", "--env", "prod", "--no-lint", cwd=tmp_path,
                env={"SD_PROD_URL": db_url, "SD_VALIDATE_SECRET": SECRET})
    assert r.returncode == 0, r.stderr
    assert "and converged" in r.stderr
