"""Connections, URL redaction and catalog reads: the one module that opens connections."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from schemadiff.errors import DatabaseError

REDACTED = "***"
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?=@)", re.I)
_KV_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.I)


def redact(text: str) -> str:
    """Replace every password in URLs and key=value conninfo strings within `text` by ***."""
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + REDACTED, text)
    return _KV_PASSWORD.sub(lambda m: m.group("head") + REDACTED, text)


def redact_url(url: str) -> str:
    """A URL safe to print: the password (if any) replaced by ***; query kept."""
    if "://" not in url:
        return redact(url)
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}:{REDACTED}@{netloc[1]}"))


def scrub(message: str, url: str) -> str:
    """An error message safe to print: any password of `url` removed, even out of context."""
    message = redact(message)
    if "://" in url:
        password = urlsplit(url).password
        if password:
            message = message.replace(password, REDACTED)
    return message


def connect(url: str, autocommit: bool = True, **kwargs: Any) -> psycopg.Connection[Any]:
    """Open a connection; no server-side prepared statements, so poolers work."""
    try:
        conn = psycopg.connect(url, autocommit=autocommit, prepare_threshold=None, **kwargs)
    except psycopg.Error as e:
        raise DatabaseError(
            f"cannot connect to {redact_url(url) or 'the database (libpq PG* settings)'}: "
            f"{scrub(str(e).strip(), url)}"
        ) from None
    return conn


@contextmanager
def connection(url: str, autocommit: bool = True) -> Iterator[psycopg.Connection[Any]]:
    conn = connect(url, autocommit=autocommit)
    try:
        yield conn
    finally:
        conn.close()


def server_major(conn: psycopg.Connection[Any]) -> int:
    return int(conn.info.server_version) // 10000


def database_url(base_url: str, dbname: str) -> str:
    """The same server as `base_url`, another database."""
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path="/" + dbname))
