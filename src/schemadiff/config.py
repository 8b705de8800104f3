"""Managed config keys (Agentrade's system_config): what to insert, pin and remove.

Missing keys get their default; keys the spec pins (`value:`) are set when they differ; keys
the database has but the spec does not are removed (a data_loss hazard, since an operator may
have set them). Values operators changed are otherwise kept. Secret values never enter SQL text
shown to anyone: they are written as *** in every rendering (see `masked_sql`).
"""

from __future__ import annotations

from schemadiff import spec as s
from schemadiff.differ import Change
from schemadiff.hazards import Hazard, HazardKind
from schemadiff.model import qualified, quote, string_literal


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
        wanted = None if key.secret else key.value
        if key.name not in live:
            value = wanted if wanted is not None else (key.default or "")
            out.append(
                Change(
                    "create",
                    "config",
                    key.name,
                    f"INSERT INTO {table} ({k}, {v}) VALUES ({string_literal(key.name)}, "
                    f"{string_literal(value)}) ON CONFLICT ({k}) DO NOTHING",
                )
            )
        elif wanted is not None and live[key.name] != wanted:
            out.append(
                Change(
                    "alter",
                    "config",
                    key.name,
                    f"UPDATE {table} SET {v} = {string_literal(wanted)} "
                    f"WHERE {k} = {string_literal(key.name)}",
                )
            )
    managed = {key.name for key in cfg.keys}
    for name in sorted(set(live) - managed):
        out.append(
            Change(
                "drop",
                "config",
                name,
                f"DELETE FROM {table} WHERE {k} = {string_literal(name)}",
                hazards=(Hazard(HazardKind.DATA_LOSS, f"removes config key {name}", 1),),
            )
        )
    return out


def fingerprint_lines(live: dict[str, str | None] | None) -> list[str]:
    """What a plan depends on in the config table: the keys present (values may change)."""
    return [f"config|{name}" for name in sorted(live or {})]
