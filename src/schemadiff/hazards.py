"""The closed list of hazard kinds: stable codes, what triggers each, and how to proceed.

A hazard is attached by the code that generates a statement, from what that code knows (a
table being dropped, a column type being narrowed); it is never guessed later from SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class HazardKind(StrEnum):
    DATA_LOSS = "data_loss"
    NOT_NULL_ON_EXISTING_ROWS = "not_null_on_existing_rows"
    ENUM_VALUE_REMOVED = "enum_value_removed"
    INDEX_BUILD = "index_build"


HELP: dict[HazardKind, str] = {
    HazardKind.DATA_LOSS: (
        "A table or column is dropped, a config key deleted, or a column type changed in a "
        "way that can lose or reject data. If the object was renamed, declare it instead of "
        "dropping it; otherwise back up what you need and pass --allow-hazards data_loss."
    ),
    HazardKind.NOT_NULL_ON_EXISTING_ROWS: (
        "SET NOT NULL on a table that has rows: Postgres scans the table under an ACCESS "
        "EXCLUSIVE lock and the apply fails if a NULL is found. Backfill first, then pass "
        "--allow-hazards not_null_on_existing_rows."
    ),
    HazardKind.ENUM_VALUE_REMOVED: (
        "A label is removed from an enum: columns using it are rewritten and rows holding the "
        "label make the apply fail. Update those rows first, then pass --allow-hazards "
        "enum_value_removed."
    ),
    HazardKind.INDEX_BUILD: (
        "An index is built on a table that already has rows. schemadiff builds it with CREATE "
        "INDEX CONCURRENTLY outside the transaction (writes continue); it takes time in "
        "proportion to the table and, if it fails, the invalid index is dropped again. Pass "
        "--allow-hazards index_build."
    ),
}


@dataclass(frozen=True)
class Hazard:
    """One hazard of one statement, with what is at stake (rows, when known)."""

    kind: HazardKind
    message: str
    rows: int | None = None

    def describe(self) -> str:
        at_stake = f" ({self.rows} rows)" if self.rows is not None else ""
        return f"{self.kind}: {self.message}{at_stake}"


def parse_kinds(text: str) -> set[HazardKind]:
    """'data_loss,index_build' -> kinds; unknown codes are an error that lists the valid ones."""
    kinds: set[HazardKind] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            kinds.add(HazardKind(part))
        except ValueError:
            valid = ", ".join(k.value for k in HazardKind)
            raise ValueError(f"unknown hazard kind '{part}'; valid kinds: {valid}") from None
    return kinds
