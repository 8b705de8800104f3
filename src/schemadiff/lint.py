"""Lint a plan's SQL with squawk (the optional extra `lint`), shown beside the plan.

squawk is a migration linter with its own rules; its findings are advice printed with the
plan. schemadiff's hazards stay the source of truth: apply never consults lint. Rules about
settings apply already takes care of (a lock_timeout and statement_timeout before each
statement) are left out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemadiff.errors import SchemadiffError

# apply sets both timeouts before every statement (plan.json's lock_timeout/statement_timeout).
EXCLUDED_RULES = ("require-lock-timeout", "require-statement-timeout", "require-timeout-settings")
INSTALL_HINT = "pip install 'schemadiff[lint]' (the squawk-cli wheel)"


@dataclass(frozen=True)
class Finding:
    """One squawk finding on one statement of the plan (1-based, as apply counts them)."""

    statement: int
    rule: str
    level: str
    message: str
    help: str

    def describe(self) -> str:
        advice = f" ({self.help})" if self.help else ""
        return f"statement {self.statement}: {self.rule}: {self.message}{advice}"

    def to_json(self) -> dict[str, object]:
        return {
            "statement": self.statement,
            "rule": self.rule,
            "level": self.level,
            "message": self.message,
            "help": self.help,
        }


def available() -> bool:
    """True when the squawk command is installed."""
    return shutil.which("squawk") is not None


def lint(plan: Any) -> list[Finding]:
    """squawk's findings on the plan's statements, in the order apply runs them."""
    squawk = shutil.which("squawk")
    if squawk is None:
        raise SchemadiffError(f"--lint needs squawk, which is not installed: {INSTALL_HINT}")
    changes = [c for c in plan.changes if c.transactional] + [
        c for c in plan.changes if not c.transactional
    ]
    lines: list[str] = []
    starts: list[int] = []  # 0-based first line of each statement, as squawk counts lines
    for i, c in enumerate(changes):
        if i == 0 and c.transactional:
            lines.append("BEGIN;")
        if i and not c.transactional and changes[i - 1].transactional:
            lines.append("COMMIT;")
        starts.append(len(lines))
        lines.extend(f"{c.sql};".splitlines())
    if changes and changes[-1].transactional:
        lines.append("COMMIT;")
    if not changes:
        return []
    with tempfile.TemporaryDirectory(prefix="schemadiff-lint-") as tmp:
        path = Path(tmp) / "plan.sql"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            done = subprocess.run(
                [
                    squawk,
                    "--reporter",
                    "json",
                    f"--exclude={','.join(EXCLUDED_RULES[:2])}",
                    f"--pg-version={plan.server_major}.0",
                    str(path),
                ],
                capture_output=True,
                text=True,
                timeout=120,
            )
            found = json.loads(done.stdout or "[]")
        except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
            detail = (locals().get("done") and done.stderr.strip()) or str(e)
            raise SchemadiffError(f"squawk failed on the plan's SQL: {detail}") from None
    index = {id(c): n for n, c in enumerate(plan.changes, start=1)}
    out = []
    for f in found:
        at = bisect_right(starts, int(f.get("line", 0))) - 1
        if at < 0:
            continue
        out.append(
            Finding(
                index[id(changes[at])],
                str(f.get("rule_name", "")),
                str(f.get("level", "")).lower(),
                str(f.get("message", "")),
                str(f.get("help") or ""),
            )
        )
    return sorted(out, key=lambda f: (f.statement, f.rule))
