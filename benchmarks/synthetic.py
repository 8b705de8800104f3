"""Synthetic specs of N tables in realistic proportions, for the scale benchmarks.

Per table: 8 columns (bigserial key, text, numeric with a CHECK, status with a default and an
IN-list CHECK, jsonb, two timestamps), a foreign key to an earlier table on two tables in three,
two secondary indexes (one partial), a table comment and two column comments, and an updated_at
trigger on every other table, all sharing one trigger function.
"""

from __future__ import annotations

import sys


def synthetic_spec(n_tables: int) -> str:
    lines = [
        "version: 1",
        "functions:",
        "  touch_updated_at:",
        "    returns: trigger",
        "    language: plpgsql",
        "    body: |",
        "      BEGIN NEW.updated_at = now(); RETURN NEW; END;",
        "tables:",
    ]
    for i in range(n_tables):
        t = f"t{i:05d}"
        lines += [
            f"  {t}:",
            f"    comment: synthetic table {i}",
            "    columns:",
            "      id: {type: bigserial, comment: primary key}",
            "      name: {type: text, nullable: false, comment: display name}",
            "      amount: {type: \"numeric(12,2)\", nullable: false, default: 0,"
            " check: amount >= 0}",
            "      status: {type: text, nullable: false, default: new}",
            "      parent_id: bigint",
            "      data: {type: jsonb, nullable: false, default: {sql: \"'{}'::jsonb\"}}",
            "      created_at: {type: timestamptz, nullable: false, default: {sql: now()}}",
            "      updated_at: {type: timestamptz, nullable: false, default: {sql: now()}}",
            "    primary_key: [id]",
            "    checks:",
            f"      - name: {t}_status_valid",
            "        expression: status IN ('new', 'active', 'closed')",
            "    indexes:",
            "      - columns: [name]",
            "      - columns: [created_at]",
            "        where: status <> 'closed'",
        ]
        if i > 0 and i % 3 != 0:
            lines += [
                "    foreign_keys:",
                "      - columns: [parent_id]",
                f"        references: t{(i - 1):05d}",
                "        on_delete: cascade",
            ]
        if i % 2 == 0:
            lines += [
                "    triggers:",
                f"      - name: {t}_touch",
                "        function: touch_updated_at",
                "        timing: before",
                "        events: [update]",
            ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(synthetic_spec(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
