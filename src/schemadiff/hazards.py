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
    SEED_ROWS_DELETED = "seed_rows_deleted"
    TABLE_REWRITE = "table_rewrite"
    BLOCKING_LOCK = "blocking_lock"
    CONSTRAINT_VALIDATION = "constraint_validation"
    UNIQUE_ON_EXISTING_ROWS = "unique_on_existing_rows"
    DEPENDENT_OBJECTS = "dependent_objects"
    FUNCTION_SIGNATURE_CHANGED = "function_signature_changed"


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
    HazardKind.SEED_ROWS_DELETED: (
        "`schemadiff seed --mode sync` deletes rows of a seeded table that its seed file does "
        "not list (rows of other tables that reference them with ON DELETE CASCADE go too). "
        "Check the rows named, add those you want to keep to seeds/<table>.yaml, then confirm "
        "(--yes, or answer y)."
    ),
    HazardKind.TABLE_REWRITE: (
        "Postgres rewrites the whole table (and its indexes) under an ACCESS EXCLUSIVE lock: "
        "reads and writes wait until it is done, for a time in proportion to the table size "
        "shown. Triggered by a column type change that is not binary-coercible (e.g. integer "
        "-> bigint; varchar(n) -> text or a longer varchar is not), a new column with a "
        "volatile default (nextval, random(), clock_timestamp()), and SET LOGGED/UNLOGGED. "
        "On a big, busy table use expand/contract instead: add a new column of the new type "
        "(no default, or a non-volatile one), keep both in step with a trigger, backfill in "
        "batches, switch readers and writers, then drop the old column and rename the new "
        "one (renamed_from:) in a later apply. Otherwise pass --allow-hazards table_rewrite "
        "in a quiet hour."
    ),
    HazardKind.BLOCKING_LOCK: (
        "The statement takes an ACCESS EXCLUSIVE or SHARE lock on a table with rows for "
        "longer than a catalog change (e.g. a primary key added to an existing table builds "
        "its index while writes wait). Run it in a quiet hour, or create the unique index "
        "CONCURRENTLY by hand first; then pass --allow-hazards blocking_lock."
    ),
    HazardKind.CONSTRAINT_VALIDATION: (
        "A foreign key or CHECK is added to a table with rows: schemadiff adds it NOT VALID "
        "inside the transaction (new rows are checked at once) and validates the existing "
        "rows in a separate step after it, which scans the table without blocking writes. "
        "If a row violates it the validation fails, apply reports it and the constraint "
        "stays NOT VALID: fix the rows and apply again. Pass --allow-hazards "
        "constraint_validation."
    ),
    HazardKind.UNIQUE_ON_EXISTING_ROWS: (
        "A unique constraint or unique index is added to a table with rows: the index is "
        "built CONCURRENTLY and fails if two rows hold the same value (apply drops the "
        "invalid index and reports it). Find duplicates first (SELECT cols, count(*) ... "
        "GROUP BY cols HAVING count(*) > 1), then pass --allow-hazards "
        "unique_on_existing_rows."
    ),
    HazardKind.DEPENDENT_OBJECTS: (
        "A dropped object has dependents the spec does not drop itself (views, triggers, "
        "column defaults, constraints of other tables, functions with SQL-standard bodies), "
        "named in the hazard. The statement drops them too (CASCADE); objects the spec does "
        "not manage are not recreated. Move or drop them yourself first, or pass "
        "--allow-hazards dependent_objects."
    ),
    HazardKind.FUNCTION_SIGNATURE_CHANGED: (
        "A function's arguments or return type change, so it is dropped and created again: "
        "callers of the old signature (other functions, triggers, defaults, application "
        "queries, named in the hazard where schemadiff can see them) fail until they are "
        "updated. To change it without a gap, add the new function under a new name, move "
        "callers, then drop the old one; or pass --allow-hazards function_signature_changed."
    ),
}


@dataclass(frozen=True)
class Hazard:
    """One hazard of one statement, with what is at stake: rows, table size, dependents."""

    kind: HazardKind
    message: str
    rows: int | None = None
    size_bytes: int | None = None  # pg_total_relation_size of the table, when known
    objects: tuple[str, ...] = ()  # dependent objects by name (dependent_objects, ...)

    def describe(self) -> str:
        stakes = []
        if self.rows is not None:
            stakes.append(f"{self.rows} rows")
        if self.size_bytes is not None:
            stakes.append(pretty_size(self.size_bytes))
        at_stake = f" ({', '.join(stakes)})" if stakes else ""
        named = f"; dependents: {', '.join(self.objects)}" if self.objects else ""
        return f"{self.kind}: {self.message}{at_stake}{named}"


def pretty_size(size: int) -> str:
    """Bytes as pg_size_pretty writes them: 8192 -> '8192 bytes', 16384 -> '16 kB'."""
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(value) < 10 * 1024 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.0f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


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
