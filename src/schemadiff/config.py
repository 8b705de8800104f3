"""Managed config keys (Agentrade's system_config): what to insert, pin and remove.

Missing keys get their default; keys the spec pins (`value:`) are set when they differ; keys
the database has but the spec does not are removed (a data_loss hazard, since an operator may
have set them). Values operators changed are otherwise kept.

`value_from_env: NAME` takes the value from an environment variable. For a non-secret key it
acts as a pin while the variable is set. Secret keys (`secret: true`) never enter SQL text that
anyone sees: their statements are SecretChanges, whose `sql` shows '***' (plan text, JSON, plan
files, apply_history) and whose `template` holds a %s placeholder that apply binds to the
variable's value, read when the statement runs. A secret key is inserted when missing (with its
default when the variable is not set: a warning, not a failure) and updated when the variable
is set, at plan time, to a different value than the database holds.
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from schemadiff import db
from schemadiff import spec as s
from schemadiff.differ import Change
from schemadiff.errors import DatabaseError, SchemadiffError
from schemadiff.hazards import Hazard, HazardKind
from schemadiff.sqltext import qualified, quote, string_literal

MASK = "***"


@dataclass(frozen=True)
class SecretChange(Change):
    """A statement whose one value is bound at apply time: from `from_env`, else `fallback`.

    `sql` is what is shown (the value written as '***'); `template` is what runs, with a
    single %s placeholder (other percent signs doubled, psycopg style). `fallback` None: the
    statement is skipped when the variable is not set (an update has nothing to set).
    """

    template: str = ""
    from_env: str = ""
    fallback: str | None = None

    def value(self) -> str | None:
        """The value to bind now; warns on stderr when the variable is not set."""
        if self.from_env:
            found = os.environ.get(self.from_env)
            if found:
                return found
            what = (
                "inserted with its default"
                if self.fallback is not None
                else "left as it is in the database"
            )
            print(
                f"schemadiff: warning: environment variable {self.from_env} is not set; "
                f"config key {self.name} {what}",
                file=sys.stderr,
                flush=True,
            )
        return self.fallback


def _pct(text: str) -> str:
    return text.replace("%", "%%")


def _secret(action: str, name: str, before: str, after: str, **kw: Any) -> SecretChange:
    """A SecretChange from the SQL around the value: shown with '***', run with %s."""
    return SecretChange(
        action,
        "config",
        name,
        f"{before}{string_literal(MASK)}{after}",
        template=f"{_pct(before)}%s{_pct(after)}",
        **kw,
    )


def env_value(key: s.ConfigKey) -> str | None:
    """The value of the key's environment variable, when it names one that is set."""
    if not key.value_from_env:
        return None
    return os.environ.get(key.value_from_env) or None


def changes(spec: s.Spec, live: dict[str, str | None] | None) -> list[Change]:
    """Config changes against the live rows (None: the table is created by this plan)."""
    cfg = spec.config
    if cfg is None:
        return []
    live = live or {}
    table = qualified(spec.schema, cfg.table)
    k, v = quote(cfg.key_column), quote(cfg.value_column)
    out: list[Change] = []
    for key in cfg.keys:
        from_env = env_value(key)
        name = string_literal(key.name)
        if key.secret:
            if key.name not in live:
                out.append(
                    _secret(
                        "create",
                        key.name,
                        f"INSERT INTO {table} ({k}, {v}) VALUES ({name}, ",
                        f") ON CONFLICT ({k}) DO NOTHING",
                        from_env=key.value_from_env or "",
                        fallback=key.default or "",
                    )
                )
            elif from_env is not None and live[key.name] != from_env:
                out.append(
                    _secret(
                        "alter",
                        key.name,
                        f"UPDATE {table} SET {v} = ",
                        f" WHERE {k} = {name}",
                        from_env=key.value_from_env or "",
                    )
                )
            continue
        wanted = from_env if from_env is not None else key.value
        if key.name not in live:
            value = wanted if wanted is not None else (key.default or "")
            out.append(
                Change(
                    "create",
                    "config",
                    key.name,
                    f"INSERT INTO {table} ({k}, {v}) VALUES ({name}, "
                    f"{string_literal(value)}) ON CONFLICT ({k}) DO NOTHING",
                )
            )
        elif wanted is not None and live[key.name] != wanted:
            out.append(
                Change(
                    "alter",
                    "config",
                    key.name,
                    f"UPDATE {table} SET {v} = {string_literal(wanted)} WHERE {k} = {name}",
                )
            )
    managed = {key.name for key in cfg.keys}
    for extra in sorted(set(live) - managed):
        out.append(
            Change(
                "drop",
                "config",
                extra,
                f"DELETE FROM {table} WHERE {k} = {string_literal(extra)}",
                hazards=(Hazard(HazardKind.DATA_LOSS, f"removes config key {extra}", 1),),
            )
        )
    return out


def fingerprint_lines(live: dict[str, str | None] | None) -> list[str]:
    """What a plan depends on in the config table: the keys present (values may change)."""
    return [f"config|{name}" for name in sorted(live or {})]


# -- config list / get / set -------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One key as `config list` shows it."""

    key: str
    value: str | None  # None: not in the database
    description: str
    secret: bool
    in_spec: bool

    def shown(self, show_secrets: bool = False) -> str | None:
        """The value as printed: a non-empty secret is *** unless asked for."""
        if self.secret and self.value and not show_secrets:
            return MASK
        return self.value


def _config(spec: s.Spec) -> s.Config:
    if spec.config is None:
        raise SchemadiffError(
            f"{spec.path} declares no config: section (managed keys); see docs/spec.md"
        )
    return spec.config


def read(spec: s.Spec, url: str) -> dict[str, str | None]:
    """The live rows of the config table; an error when the table does not exist yet."""
    cfg = _config(spec)
    try:
        with db.connection(url) as conn:
            rows = db.config_rows(conn, spec.schema, cfg.table, cfg.key_column, cfg.value_column)
    except psycopg.Error as e:
        raise DatabaseError(
            f"cannot read {cfg.table} in {db.redact_url(url)}: {db.scrub(str(e).strip(), url)}"
        ) from None
    if rows is None:
        raise SchemadiffError(
            f"table {cfg.table} does not exist in {db.redact_url(url) or 'the database'}; "
            "run `schemadiff apply` first"
        )
    return rows


def entries(spec: s.Spec, live: dict[str, str | None]) -> list[Entry]:
    """The spec's keys in spec order, then keys only the database has (sorted)."""
    cfg = _config(spec)
    out = [
        Entry(k.name, live.get(k.name), k.description or "", k.secret, True) for k in cfg.keys
    ]
    declared = {k.name for k in cfg.keys}
    out += [Entry(name, live[name], "", False, False) for name in sorted(set(live) - declared)]
    return out


def _unknown(name: str, known: list[str], spec: s.Spec) -> SchemadiffError:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return SchemadiffError(
        f"unknown config key '{name}'{hint}; the keys are declared under config.keys in "
        f"{spec.path} (`schemadiff config list` shows them)"
    )


def get(spec: s.Spec, live: dict[str, str | None], name: str) -> Entry:
    found = next((e for e in entries(spec, live) if e.key == name), None)
    if found is None:
        raise _unknown(name, [e.key for e in entries(spec, live)], spec)
    if found.value is None:
        raise SchemadiffError(
            f"config key '{name}' is declared but not in the database yet; "
            "`schemadiff apply` inserts it"
        )
    return found


def set_value(spec: s.Spec, url: str, name: str, value: str) -> list[str]:
    """Write one declared key (inserted if missing); returns warnings to print."""
    cfg = _config(spec)
    key = next((k for k in cfg.keys if k.name == name), None)
    if key is None:
        raise _unknown(name, [k.name for k in cfg.keys], spec)
    read(spec, url)  # the table exists
    warnings = []
    if key.value is not None and key.value != value and not key.secret:
        warnings.append(
            f"the spec pins {name} (value: {key.value!r}); the next `schemadiff apply` sets it "
            "back. Change the spec to keep the new value"
        )
    if env_value(key) is not None:
        warnings.append(
            f"{name} takes its value from ${key.value_from_env}, which is set here: an apply "
            "run with it set writes that value back"
        )
    query = sql.SQL(
        "INSERT INTO {t} ({k}, {v}) VALUES (%s, %s) "
        "ON CONFLICT ({k}) DO UPDATE SET {v} = EXCLUDED.{v}"
    ).format(
        t=sql.Identifier(spec.schema, cfg.table),
        k=sql.Identifier(cfg.key_column),
        v=sql.Identifier(cfg.value_column),
    )
    try:
        with db.connection(url) as conn:
            conn.execute(query, (name, value))
    except psycopg.Error as e:
        message = db.scrub(str(e).strip(), url)
        if key.secret and value:
            message = message.replace(value, MASK)
        raise DatabaseError(f"cannot set config key {name}: {message}") from None
    return warnings
