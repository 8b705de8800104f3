"""Project settings: `schemadiff.toml`, or `[tool.schemadiff]` in `pyproject.toml`.

    spec = "schema.yaml"               # the spec, relative to the file
    seeds = "seeds"                    # the seed directory, relative to the file

    [environments.prod]
    url_env = "PROD_DATABASE_URL"      # the variable that holds the database URL
    allow_hazards = ["index_build"]    # accepted by apply without --allow-hazards
    lock_timeout = "3s"                # apply's defaults in this environment
    statement_timeout = "5min"

`--env prod` (or SCHEMADIFF_ENV=prod) on plan, apply and drift selects an environment. The
file is looked up in the current directory, then its parents; `schemadiff.toml` wins over
`pyproject.toml`. Unknown keys and wrong types are errors that name the file and line.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemadiff.errors import Location, Problem, SchemadiffError, SpecError
from schemadiff.hazards import HazardKind

CONFIG_FILE = "schemadiff.toml"
PYPROJECT = "pyproject.toml"
TOP_KEYS = ("spec", "seeds", "environments")
ENV_KEYS = (
    "url_env", "allow_hazards", "lock_timeout", "statement_timeout", "lock_wait", "validate"
)
_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|min|m|h)?\s*$")
_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Environment:
    name: str
    url_env: str | None = None
    allow_hazards: frozenset[HazardKind] = frozenset()
    lock_timeout: str | None = None
    statement_timeout: str | None = None
    lock_wait: str | None = None
    validate: bool = False  # plan --validate by default in this environment


@dataclass
class Project:
    """The settings found (all None/empty when there is no file)."""

    file: Path | None = None
    spec: Path | None = None
    seeds: Path | None = None
    environments: dict[str, Environment] = field(default_factory=dict)

    def environment(self, name: str) -> Environment:
        if name in self.environments:
            return self.environments[name]
        if self.file is None:
            raise SchemadiffError(
                f"--env {name}: no project file found (schemadiff.toml, or [tool.schemadiff] in "
                "pyproject.toml) in this directory or its parents; `schemadiff init` writes one"
            )
        known = ", ".join(sorted(self.environments)) or "none"
        close = difflib.get_close_matches(name, list(self.environments), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise SchemadiffError(
            f"--env {name}: {self.file} declares no environment '{name}'{hint}; "
            f"declared: {known}"
        )


def find(start: Path | None = None) -> Path | None:
    """schemadiff.toml, or a pyproject.toml with [tool.schemadiff], here or in a parent."""
    here = (start or Path.cwd()).resolve()
    for directory in [here, *here.parents]:
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and _has_tool_section(pyproject):
            return pyproject
    return None


def _has_tool_section(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return isinstance(data.get("tool"), dict) and "schemadiff" in data["tool"]


def load(start: Path | None = None) -> Project:
    """The project settings that apply to `start` (default: the current directory)."""
    path = find(start)
    if path is None:
        return Project()
    with contextlib.suppress(ValueError):  # shown relative to the current directory
        path = path.relative_to(Path.cwd().resolve())
    return load_file(path)


def load_file(path: Path) -> Project:
    """Read one file; raise SpecError listing every problem with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SchemadiffError(f"{path}: cannot read it ({e})") from None
    return parse(text, path)


def parse(text: str, path: Path) -> Project:
    name = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        problem = Problem(Location(name, line, col), f"TOML syntax error: {message}")
        raise SpecError([problem]) from None
    prefix: tuple[str, ...] = ()
    if path.name == PYPROJECT:
        prefix = ("tool", "schemadiff")
        data = data.get("tool", {}).get("schemadiff", {})
    reader = _Reader(name, text, prefix)
    project = reader.project(data, path)
    if reader.problems:
        raise SpecError(sorted(reader.problems, key=lambda p: (p.location.line, p.location.col)))
    return project


class _Reader:
    def __init__(self, filename: str, text: str, prefix: tuple[str, ...]) -> None:
        self.filename = filename
        self.lines = text.splitlines()
        self.prefix = prefix
        self.problems: list[Problem] = []

    def error(self, table: tuple[str, ...], key: str | None, message: str) -> None:
        line = key_line(self.lines, (*self.prefix, *table), key)
        self.problems.append(Problem(Location(self.filename, line, 1), message))

    def where(self, table: tuple[str, ...]) -> str:
        full = ".".join((*self.prefix, *table))
        return f"[{full}]" if full else "the top level"

    def project(self, data: dict[str, Any], path: Path) -> Project:
        root = path.parent
        project = Project(file=path)
        self.unknown(data, (), TOP_KEYS)
        for key in ("spec", "seeds"):
            if key in data:
                value = data[key]
                if not isinstance(value, str) or not value.strip():
                    self.error((), key, f"'{key}' must be a path (a string)")
                else:
                    setattr(project, key, root / value)
        envs = data.get("environments", {})
        if not isinstance(envs, dict):
            self.error((), "environments", "'environments' must be a table of environments")
            return project
        for env_name, body in envs.items():
            table = ("environments", env_name)
            if not isinstance(body, dict):
                self.error(("environments",), env_name, f"environment '{env_name}' must be a table")
                continue
            env = self.environment(env_name, body, table)
            if env is not None:
                project.environments[env_name] = env
        return project

    def environment(
        self, name: str, body: dict[str, Any], table: tuple[str, ...]
    ) -> Environment | None:
        self.unknown(body, table, ENV_KEYS)
        ok = True
        url_env = body.get("url_env")
        if url_env is not None and not (isinstance(url_env, str) and _ENV_VAR.fullmatch(url_env)):
            self.error(table, "url_env", "'url_env' must name an environment variable")
            ok = False
        kinds: set[HazardKind] = set()
        hazards = body.get("allow_hazards", [])
        if not isinstance(hazards, list):
            self.error(table, "allow_hazards", "'allow_hazards' must be a list of hazard kinds")
            ok = False
        else:
            for item in hazards:
                try:
                    kinds.add(HazardKind(item))
                except ValueError:
                    valid = ", ".join(k.value for k in HazardKind)
                    self.error(
                        table,
                        "allow_hazards",
                        f"unknown hazard kind '{item}' in allow_hazards; valid kinds: {valid}",
                    )
                    ok = False
        timeouts: dict[str, str | None] = {}
        for key in ("lock_timeout", "statement_timeout", "lock_wait"):
            value = body.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if value is not None and not (isinstance(value, str) and _DURATION.match(value)):
                self.error(table, key, f"'{key}' must be a duration, e.g. \"5s\", \"2min\", \"0\"")
                ok = False
                value = None
            timeouts[key] = value
        validate = body.get("validate", False)
        if not isinstance(validate, bool):
            self.error(table, "validate", "'validate' must be true or false")
            ok = False
        if not ok:
            return None
        return Environment(
            name,
            url_env,
            frozenset(kinds),
            timeouts["lock_timeout"],
            timeouts["statement_timeout"],
            timeouts["lock_wait"],
            validate,
        )

    def unknown(
        self, data: dict[str, Any], table: tuple[str, ...], allowed: tuple[str, ...]
    ) -> None:
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(key, list(allowed), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.error(
                    table,
                    key,
                    f"unknown key '{key}' in {self.where(table)}{hint}; "
                    f"known keys: {', '.join(allowed)}",
                )


# -- where a key is written (tomllib gives no positions) -------------------------------------

_HEADER = re.compile(r"^\s*\[\[?\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_BARE_OR_QUOTED = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_-]+))\s*')


def _split_key(text: str) -> list[str] | None:
    """'a."b.c".d' -> ['a', 'b.c', 'd']; None when it is not a key."""
    parts, pos = [], 0
    while True:
        m = _BARE_OR_QUOTED.match(text, pos)
        if not m or m.end() == pos:
            return None
        parts.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
        if pos == len(text):
            return parts
        if text[pos] != ".":
            return None
        pos += 1


def _assignment(line: str) -> list[str] | None:
    """The dotted key assigned on a `key = value` line."""
    stripped = line.strip()
    if not stripped or stripped.startswith(("#", "[")):
        return None
    depth, quote = 0, ""
    for i, ch in enumerate(stripped):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "=" and depth == 0:
            return _split_key(stripped[:i])
    return None


def key_line(lines: list[str], table: tuple[str, ...], key: str | None) -> int:
    """1-based line where `key` of `table` is written (its table's header when key is None).

    Handles [a.b] headers, dotted keys (`b.key = 1` under [a]) and inline tables
    (`b = {key = 1}`); falls back to the table's header, then to line 1.
    """
    current: list[str] = []
    header_line = 0
    want = [*table, key] if key is not None else list(table)
    for number, line in enumerate(lines, start=1):
        m = _HEADER.match(line)
        if m:
            current = _split_key(m.group(1)) or []
            if current == list(table):
                header_line = number
                if key is None:
                    return number
            if current == want:  # the key is itself a table: [environments.prod]
                return number
            continue
        assigned = _assignment(line)
        if assigned is None:
            continue
        full = current + assigned
        if full == want:
            return number
        # An inline table that holds the key: `prod = {url_env = "X", bogus = 1}`.
        if key is not None and full == list(table) and re.search(
            rf"[{{,]\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*=", line
        ):
            return number
    return header_line or 1
