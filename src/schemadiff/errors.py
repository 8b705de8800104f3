"""Exception types a user can cause, and the exit codes they map to (the one place for both)."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2  # plan --detailed-exitcode, drift, verify: the database differs
EXIT_REFUSED = 3  # hazards not allowed, or a stale plan


@dataclass(frozen=True)
class Location:
    """A place in a file, 1-based, as editors and compilers print it."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One validation problem, tied to where it was found."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class SchemadiffError(Exception):
    """Base of every error a user can cause; the CLI prints it and exits with `exit_code`."""

    exit_code = EXIT_ERROR


class SpecError(SchemadiffError):
    """The spec (or a seed file) is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class DatabaseError(SchemadiffError):
    """A database could not be reached or a statement failed; the message is already redacted."""


class LocalPostgresError(SchemadiffError):
    """No usable local Postgres binaries, or the local cluster failed to start."""


class RefusedError(SchemadiffError):
    """apply refused: hazards not allowed, stale plan, or no confirmation."""

    exit_code = EXIT_REFUSED


class NotConvergedError(SchemadiffError):
    """apply ran, but planning again still finds changes."""
