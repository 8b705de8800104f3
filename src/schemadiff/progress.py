"""Progress on stderr (never stdout, which carries data): one reporter, passed explicitly.

Levels: QUIET (only what a caller prints as a warning), NORMAL (what is happening, one line
per phase), VERBOSE (also details: timings per phase, each statement's SQL, the binaries
chosen). A counter (`applying statement 12/85`) redraws one line with \\r when stderr is a
terminal, and prints nothing when it is not (a log would get 85 near-identical lines); at
VERBOSE it prints each step as a line instead.

The CLI makes one reporter per run from --quiet/--verbose; library callers that pass none get
`Progress()`, whose level comes from SCHEMADIFF_QUIET (set: QUIET).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

QUIET, NORMAL, VERBOSE = 0, 1, 2
PREFIX = "schemadiff: "
# A terminal gets at most this many redraws a second; the last step is always drawn.
_REDRAW_EVERY_S = 0.05
_ERASE_LINE = "\r\x1b[K"


class Progress:
    """Messages and counters on stderr at one level of detail."""

    def __init__(
        self, level: int | None = None, stream: TextIO | None = None, tty: bool | None = None
    ) -> None:
        """`level` None: QUIET when SCHEMADIFF_QUIET is set, else NORMAL. `stream` None:
        sys.stderr at the time of each write (tests swap it). `tty` None: ask the stream."""
        if level is None:
            level = QUIET if os.environ.get("SCHEMADIFF_QUIET") else NORMAL
        self.level = level
        self._stream = stream
        self._tty = tty
        self._line = ""  # the counter line on screen, redrawn after a message

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    @property
    def tty(self) -> bool:
        if self._tty is None:
            self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        return self._tty

    def info(self, message: str) -> None:
        """What is happening (NORMAL and VERBOSE)."""
        if self.level >= NORMAL:
            self._print(PREFIX + message)

    def say(self, message: str) -> None:
        """A status message of a command, shown as written (NORMAL and VERBOSE)."""
        if self.level >= NORMAL:
            self._print(message)

    def detail(self, message: str) -> None:
        """What only --verbose shows: timings, SQL, choices made."""
        if self.level >= VERBOSE:
            self._print(PREFIX + message)

    def block(self, text: str) -> None:
        """Text (SQL) indented under the line before it, VERBOSE only."""
        if self.level >= VERBOSE:
            self._print("\n".join("    " + line for line in text.strip().splitlines()))

    def warn(self, message: str) -> None:
        """Printed at every level, --quiet included (nothing may be skipped silently)."""
        self._print(message)

    @contextmanager
    def phase(self, text: str) -> Iterator[None]:
        """A step of the work: on a terminal `text` shows while it runs (a counter inside
        replaces it); VERBOSE prints `text took 0.12s` when it ends (not when it fails)."""
        started = time.monotonic()
        if self.tty and self.level >= NORMAL:
            self._draw(PREFIX + text)
        try:
            yield
        finally:
            self._erase()
        self.detail(f"{text} took {time.monotonic() - started:.2f}s")

    @contextmanager
    def counter(self, what: str, total: int, start: int = 0) -> Iterator[Counter]:
        """A counter over `total` steps, `start` of them done already; the line is erased
        when the block ends."""
        c = Counter(self, what, total, start)
        try:
            yield c
        finally:
            self._erase()

    def _erase(self) -> None:
        if self._line:
            self._write(_ERASE_LINE)
            self._line = ""

    def _print(self, text: str) -> None:
        line = self._line
        if line:
            self._write(_ERASE_LINE)
        self._write(text + "\n")
        if line:
            self._write(line)

    def _draw(self, text: str) -> None:
        width = _columns(self.stream) - 1
        if len(text) > width:  # a wrapped line cannot be redrawn in place
            text = text[: max(width - 3, 0)] + "..."
        self._line = _ERASE_LINE + text
        self._write(self._line)

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


class Counter:
    """Steps of a long loop: `what i/total: label`."""

    def __init__(self, progress: Progress, what: str, total: int, start: int = 0) -> None:
        self.progress = progress
        self.what = what
        self.total = total
        self.done = start
        self._first = start + 1
        self._drawn_at = 0.0
        self._text = ""

    def step(self, label: str = "") -> None:
        """One more step, about to start (or done) now."""
        self.done += 1
        text = f"{PREFIX}{self.what} {self.done}/{self.total}" + (f": {label}" if label else "")
        self._text = text
        p = self.progress
        if p.tty and p.level >= NORMAL:
            now = time.monotonic()
            if self.done in (self._first, self.total) or now - self._drawn_at >= _REDRAW_EVERY_S:
                self._drawn_at = now
                p._draw(text)
        elif p.level >= VERBOSE:
            p._print(text)

    def show(self) -> None:
        """Draw the latest step now (steps counted in a burst may have skipped the redraw)."""
        p = self.progress
        if self._text and p.tty and p.level >= NORMAL and p._line != _ERASE_LINE + self._text:
            self._drawn_at = time.monotonic()
            p._draw(self._text)


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return shutil.get_terminal_size().columns
