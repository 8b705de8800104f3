"""Progress messages on stderr (never stdout, which carries data)."""

from __future__ import annotations

import os
import sys


def progress(message: str) -> None:
    if os.environ.get("SCHEMADIFF_QUIET"):
        return
    print(f"schemadiff: {message}", file=sys.stderr, flush=True)
