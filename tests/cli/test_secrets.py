"""Passwords in database URLs never reach stdout, stderr, plan files or apply_history."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from schemadiff.db import REDACTED, redact, redact_url, scrub

from ..conftest import Server, run_cli, write_spec
from .common import SPEC_T, history

SECRET = "S3cretPw_xyz"
ROLE = "u"


@pytest.fixture
def secret_url(server: Server, db_url: str) -> str:
    """db_url, but as role u with its password in the URL (socket auth may be trust: fine)."""
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (ROLE,)).fetchone()
        if not exists:
            conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{SECRET}' SUPERUSER")  # type: ignore[arg-type]
    head = "postgresql://postgres@"
    assert db_url.startswith(head) and "?host=" in db_url
    return f"postgresql://{ROLE}:{SECRET}@" + db_url[len(head):]


def _assert_clean(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text
        assert quote(SECRET) not in text


def test_password_never_printed(
    tmp_path: Path, secret_url: str, db: psycopg.Connection[Any]
) -> None:
    write_spec(tmp_path, SPEC_T)
    shown = f"{ROLE}:{REDACTED}@"
    outputs: list[str] = []

    def run(*args: str, expect: int, env_url: str | None = None) -> None:
        env = {"DATABASE_URL": env_url} if env_url else None
        r = run_cli(*args, cwd=tmp_path, env=env)
        assert r.returncode == expect, (args, r.stdout, r.stderr)
        outputs.extend([r.stdout, r.stderr])

    run("plan", "--database-url", secret_url, expect=0)
    assert shown in outputs[-2]  # the target is named, password masked
    run("plan", "--format", "json", "-o", "plan.json", expect=0, env_url=secret_url)
    assert f'"target": "postgresql://{shown}' in outputs[-2]
    plan_file = (tmp_path / "plan.json").read_text()
    run("plan", "--format", "sql", "--detailed-exitcode", "--database-url", secret_url, expect=2)
    run("apply", "--auto-approve", "--database-url", secret_url, expect=0)
    run("drift", "--database-url", secret_url, expect=0)
    assert shown in outputs[-1]  # "in sync: postgresql://u:***@/..."
    run("drift", expect=0, env_url=secret_url)
    db.execute("alter table t add column x int")
    run("drift", "--format", "json", expect=2, env_url=secret_url)
    run("apply", "--auto-approve", "--allow-hazards", "data_loss", expect=0, env_url=secret_url)

    # Failing: the database does not exist, so the connection error names the URL.
    dbname = secret_url.split("@/", 1)[1].split("?", 1)[0]
    wrong = secret_url.replace(f"@/{dbname}?", "@/no_such_db?")
    assert wrong != secret_url
    for args in (("plan",), ("plan", "--format", "json"), ("apply", "--auto-approve"),
                 ("drift",)):
        run(*args, "--database-url", wrong, expect=1)
        assert "no_such_db" in outputs[-1] and shown in outputs[-1]
        run(*args, expect=1, env_url=wrong)
        assert shown in outputs[-1]
    # The password as a query parameter, and percent-encoded with special characters.
    socket = secret_url.split("?", 1)[1]
    for url in (
        f"postgresql:///no_such_db?{socket}&user={ROLE}&password={SECRET}",
        f"postgresql://{ROLE}:{quote(SECRET + '@/:%? x', safe='')}@/no_such_db?{socket}",
    ):
        run("plan", "--database-url", url, expect=1)
        assert REDACTED in outputs[-1] and "no_such_db" in outputs[-1]
        run("apply", "--auto-approve", expect=1, env_url=url)

    _assert_clean(*outputs, plan_file)
    rows = history(db)
    assert [h[0] for h in rows] == ["applied", "applied"]
    _assert_clean(repr(rows))
    _assert_clean(*(str(r) for r in db.execute("select * from schemadiff.apply_history")))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgres://u:pw@[::1]:5432/db", "postgres://u:***@[::1]:5432/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://h/db", "postgresql://h/db"),
        ("postgresql://u:pw@/db?host=/tmp/sd-x&port=5432",
         "postgresql://u:***@/db?host=/tmp/sd-x&port=5432"),
        ("postgresql://u:p%40ss%2Fw%3Ard@h/db?sslmode=require",
         "postgresql://u:***@h/db?sslmode=require"),
        ("postgresql://:pw@h/db", "postgresql://:***@h/db"),
        ("postgresql://u:pw@h1:5432,h2:5433/db", "postgresql://u:***@h1:5432,h2:5433/db"),
        ("postgresql://h/db?password=pw&user=u", "postgresql://h/db?password=***&user=u"),
        ("postgresql://h/db?user=u&password=pw", "postgresql://h/db?user=u&password=***"),
        ("host=h user=u password=pw dbname=d", "host=h user=u password=*** dbname=d"),
        ("host=h password = 'p w\\'x' dbname=d", "host=h password = *** dbname=d"),
        ("host=h user=u dbname=d", "host=h user=u dbname=d"),
        ("", ""),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_in_text() -> None:
    text = (
        "cannot connect to postgresql://u:pw1@h/db (also tried host=h password=pw2 port=1 "
        "and postgresql://h/db?password=pw3&sslmode=require)"
    )
    out = redact(text)
    for pw in ("pw1", "pw2", "pw3"):
        assert pw not in out
    assert out == (
        "cannot connect to postgresql://u:***@h/db (also tried host=h password=*** port=1 "
        "and postgresql://h/db?password=***&sslmode=require)"
    )
    assert redact("no secrets here: user=u host=h") == "no secrets here: user=u host=h"


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("postgresql://u:S3cretPw_xyz@h/db", "S3cretPw_xyz"),
        # percent-encoded in the URL; libpq (and its messages) use the decoded form
        ("postgresql://u:p%40ss%2Fw%3Ard@h/db", "p@ss/w:rd"),
        ("postgresql://u:p%40ss%2Fw%3Ard@h/db", "p%40ss%2Fw%3Ard"),
        ("postgresql://h/db?user=u&password=S3cretPw_xyz", "S3cretPw_xyz"),
        ("host=h user=u password=S3cretPw_xyz", "S3cretPw_xyz"),
        ("host=h user=u password='S3cret Pw'", "S3cret Pw"),
    ],
)
def test_scrub_removes_the_password_out_of_context(url: str, password: str) -> None:
    message = f'FATAL: password authentication failed; got "{password}" for user "u"'
    out = scrub(message, url)
    assert password not in out
    assert out == 'FATAL: password authentication failed; got "***" for user "u"'


def test_scrub_without_password_changes_nothing() -> None:
    message = 'FATAL: database "db" does not exist'
    assert scrub(message, "postgresql://u@h/db") == message
    assert scrub(message, "host=h dbname=db") == message
    assert scrub(message, "") == message
