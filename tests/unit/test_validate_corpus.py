"""A corpus of bad specs: each must be rejected with a problem at the right file:line.

Every case is a small YAML text plus the line and a piece of the message of one problem that
must be among the reported ones. Line numbers are 1-based, as `schemadiff validate` prints them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from schemadiff.errors import Problem, SpecError
from schemadiff.spec import parse_spec

FILENAME = "specs/corpus.yaml"
DOCS_SPEC = Path(__file__).resolve().parents[2] / "docs" / "spec.md"


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    line: int
    message: str  # a substring of the expected problem's message


def y(text: str) -> str:
    """Dedent a YAML literal written as an indented triple-quoted string."""
    return textwrap.dedent(text).lstrip("\n")


CASES: list[Case] = [
    # --- the file itself ------------------------------------------------------------------
    Case(
        "yaml-unclosed-bracket",
        y("""
            version: 1
            tables:
              users:
                columns: [id, name
                primary_key: [id]
            """),
        5,
        "YAML syntax error: expected ',' or ']'",
    ),
    Case(
        "yaml-unclosed-brace",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer
                primary_key: [id]
            """),
        5,
        "YAML syntax error: expected ',' or '}'",
    ),
    Case(
        "yaml-bad-indentation",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                 name: text
            """),
        6,
        "YAML syntax error",
    ),
    Case(
        "yaml-tab-indentation",
        "version: 1\ntables:\n  users:\n    columns:\n\tid: integer\n",
        5,
        "indent with spaces, not tabs",
    ),
    Case(
        "yaml-control-character",
        "version: 1\ntables:\n  users:\n    columns: {id: \x07integer}\n",
        4,
        "character #x0007 is not allowed",
    ),
    Case("empty-file", "", 1, "the file is empty"),
    Case("whitespace-only", "\n   \n\n", 1, "the file is empty"),
    Case(
        "only-comments",
        y("""
            # schema.yaml
            # nothing here yet
            """),
        1,
        "the file is empty",
    ),
    Case(
        "top-level-list",
        y("""
            - version: 1
            - tables: {}
            """),
        1,
        "the spec must be a mapping (key: value), not a list",
    ),
    # --- top level ------------------------------------------------------------------------
    Case(
        "missing-version",
        y("""
            # no version
            tables:
              users:
                columns: {id: integer}
            """),
        2,
        "missing required key 'version'",
    ),
    Case(
        "wrong-version",
        y("""
            # header
            version: 2
            tables:
              users:
                columns: {id: integer}
            """),
        2,
        "version must be 1",
    ),
    Case(
        "version-impossible-date",
        y("""
            tables: {}
            version: 2024-02-30
            """),
        2,
        "cannot read '2024-02-30'",
    ),
    Case(
        "missing-tables",
        y("""
            version: 1
            schema: public
            """),
        1,
        "missing required key 'tables'",
    ),
    Case(
        "unknown-top-level-key",
        y("""
            version: 1
            tabels:
              users:
                columns: {id: integer}
            """),
        2,
        "unknown key 'tabels' (did you mean 'tables'?)",
    ),
    # --- columns --------------------------------------------------------------------------
    Case(
        "unknown-column-key",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  email: {type: text, nulable: false}
            """),
        6,
        "unknown key 'nulable' (did you mean 'nullable'?)",
    ),
    Case(
        "unknown-type",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  email: strng
            """),
        6,
        "column 'users.email': unknown type 'strng'",
    ),
    Case(
        "serial-array",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  ids: {type: "serial[]"}
            """),
        6,
        "serial types cannot be arrays",
    ),
    Case(
        "modifier-on-integer",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer(4)
            """),
        5,
        "type 'integer(4)' takes no (size) modifier",
    ),
    Case(
        "modifier-on-boolean",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  active: boolean(1)
            """),
        6,
        "type 'boolean(1)' takes no (size) modifier",
    ),
    Case(
        "bad-integer-default",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  attempts: {type: integer, default: many}
            """),
        6,
        "column 'users.attempts' default: 'many' is not an integer",
    ),
    Case(
        "float-default-for-integer",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  attempts: {type: bigint, default: 1.5}
            """),
        6,
        "'1.5' is not an integer",
    ),
    Case(
        "bad-boolean-default",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  active: {type: boolean, default: 1}
            """),
        6,
        "column 'users.active' default: '1' is not a boolean",
    ),
    Case(
        "bad-numeric-default",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  balance: {type: "numeric(18,8)", default: lots}
            """),
        6,
        "'lots' is not a number",
    ),
    Case(
        "default-null",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  note:
                    type: text
                    default: null
            """),
        8,
        "default: null is not a default; leave the key out",
    ),
    Case(
        "default-list",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  tags:
                    type: text[]
                    default: [a, b]
            """),
        8,
        "column 'users.tags' default must be a literal",
    ),
    Case(
        "default-empty-sql",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  created_at:
                    type: timestamptz
                    default: {sql: }
            """),
        8,
        "default sql must be a string, not empty",
    ),
    Case(
        "default-impossible-date",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  born: {type: date, default: 2024-02-30}
            """),
        6,
        "cannot read '2024-02-30': day is out of range for month",
    ),
    Case(
        "default-unknown-tag",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  note: {type: text, default: !custom x}
            """),
        6,
        "could not determine a constructor for the tag '!custom'",
    ),
    Case(
        "duplicate-column",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  email: text
                  email: {type: text, nullable: false}
            """),
        7,
        "duplicate key 'email' (first at line 6)",
    ),
    Case(
        "duplicate-table",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer}
              orders:
                columns: {id: integer}
              users:
                columns: {id: bigint}
            """),
        7,
        "duplicate key 'users' (first at line 3)",
    ),
    # --- foreign keys ---------------------------------------------------------------------
    Case(
        "fk-dangling-table",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer}
                primary_key: [id]
              orders:
                columns: {id: integer, user_id: integer}
                foreign_keys:
                  - columns: [user_id]
                    references: {table: user}
            """),
        9,
        "references table 'user', which is not declared (did you mean 'users'?)",
    ),
    Case(
        "fk-dangling-referenced-column",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer}
                primary_key: [id]
              orders:
                columns: {id: integer, user_id: integer}
                foreign_keys:
                  - columns: [user_id]
                    references: {table: users, columns: [uid]}
            """),
        9,
        "table 'users' (referenced by 'orders_user_id_fkey'): no column 'uid'",
    ),
    Case(
        "fk-dangling-local-column",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer}
                primary_key: [id]
              orders:
                columns: {id: integer, user_id: integer}
                foreign_keys:
                  - columns: [usr_id]
                    references: users
            """),
        9,
        "table 'orders' foreign key: no column 'usr_id'",
    ),
    Case(
        "fk-to-non-unique-columns",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer, email: text}
                primary_key: [id]
              orders:
                columns: {id: integer, user_email: text}
                foreign_keys:
                  - columns: [user_email]
                    references: {table: users, columns: [email]}
            """),
        9,
        "users(email) is not a primary key or unique constraint",
    ),
    Case(
        "fk-column-count-mismatch",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer}
                primary_key: [id]
              orders:
                columns: {id: integer, user_id: integer, user_id2: integer}
                foreign_keys:
                  - columns: [user_id, user_id2]
                    references: {table: users}
            """),
        9,
        "foreign key 'orders_user_id_user_id2_fkey' has 2 column(s) but references 1",
    ),
    Case(
        "fk-target-without-pk",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer}
              orders:
                columns: {id: integer, user_id: integer}
                foreign_keys:
                  - columns: [user_id]
                    references: users
            """),
        8,
        "table 'users' has no primary key; list the referenced columns",
    ),
    Case(
        "fk-bad-on-delete",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer}
                primary_key: [id]
              orders:
                columns: {id: integer, user_id: integer}
                foreign_keys:
                  - columns: [user_id]
                    references: users
                    on_delete: nullify
            """),
        11,
        "on_delete must be one of: no action, restrict, cascade, set null, set default",
    ),
    # --- names and namespaces -------------------------------------------------------------
    Case(
        "duplicate-index-name-across-tables",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer, created_at: timestamptz}
                indexes:
                  - {name: idx_created, columns: [created_at]}
              orders:
                columns: {id: integer, created_at: timestamptz}
                indexes:
                  - {name: idx_created, columns: [created_at]}
            """),
        10,
        "index name 'idx_created' is already used at line 6",
    ),
    Case(
        "index-name-is-a-table-name",
        y("""
            version: 1
            tables:
              orders:
                columns: {id: integer}
              users:
                columns: {id: integer}
                indexes:
                  - name: orders
                    columns: [id]
            """),
        8,
        "index name 'orders' is already used at line 3",
    ),
    Case(
        "duplicate-constraint-name",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer, age: integer}
                checks:
                  - name: users_age_ok
                    expression: age > 0
                  - name: users_age_ok
                    expression: age < 200
            """),
        8,
        "table 'users': constraint name 'users_age_ok' is already used at line 6",
    ),
    Case(
        "unique-column-and-constraint-same-name",
        y("""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  email: {type: text, unique: true}
                unique:
                  - columns: [email]
            """),
        8,
        "constraint name 'users_email_key' is already used at line 6",
    ),
    Case(
        "long-explicit-index-name",
        y(f"""
            version: 1
            tables:
              users:
                columns: {{id: integer}}
                indexes:
                  - columns: [id]
                    name: {"idx_" + "x" * 66}
            """),
        7,
        "index name 'idx_xxx",
    ),
    Case(
        "long-derived-fk-name",
        # each column name is fine; orders_<col>_<col>_fkey is 66 bytes
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer, tenant: integer}
                primary_key: [id, tenant]
              orders:
                columns:
                  id: integer
                  referenced_user_identifier: integer
                  referenced_user_tenant_code: integer
                foreign_keys:
                  - columns: [referenced_user_identifier, referenced_user_tenant_code]
                    references: users
            """),
        12,
        "derived foreign key name (give an explicit 'name') "
        "'orders_referenced_user_identifier_referenced_user_tenant_code_fkey' is 66 bytes",
    ),
    Case(
        "long-table-name",
        y(f"""
            version: 1
            tables:
              {"t" * 64}:
                columns: {{id: integer}}
            """),
        3,
        "table name '" + "t" * 64 + "' is 64 bytes",
    ),
    Case(
        "long-multibyte-column-name",
        # 22 characters, 66 bytes in UTF-8: short to the eye, too long for Postgres.
        y(f"""
            version: 1
            tables:
              users:
                columns:
                  id: integer
                  {"用户" * 11}: text
            """),
        6,
        "column name '" + "用户" * 11 + "' is 66 bytes",
    ),
    # --- indexes and keys -----------------------------------------------------------------
    Case(
        "index-missing-column",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer, email: text}
                indexes:
                  - columns: [emial]
            """),
        6,
        "table 'users' index 'users_emial_idx': no column 'emial' (did you mean 'email'?)",
    ),
    Case(
        "index-include-missing-column",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer, email: text}
                indexes:
                  - columns: [email]
                    include: [name]
            """),
        6,
        "index 'users_email_idx' include: no column 'name'",
    ),
    Case(
        "expression-index-without-name",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer, email: text}
                indexes:
                  - columns: [id]
                  - columns: [{expression: lower(email)}]
            """),
        7,
        "index needs an explicit 'name'",
    ),
    Case(
        "index-element-column-and-expression",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer, email: text}
                indexes:
                  - name: idx_email
                    columns:
                      - {column: email, expression: lower(email)}
            """),
        8,
        "give exactly one of 'column' or 'expression'",
    ),
    Case(
        "bad-index-method",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer, email: text}
                indexes:
                  - columns: [email]
                    method: bree
            """),
        7,
        "index method must be one of: btree, hash, gin, gist, brin, spgist (got 'bree')",
    ),
    Case(
        "primary-key-missing-column",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer}
                primary_key: [uid]
            """),
        5,
        "table 'users' primary key: no column 'uid'",
    ),
    Case(
        "primary-key-empty",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer}
                primary_key: []
            """),
        5,
        "table 'users' primary_key must not be empty",
    ),
    Case(
        "check-without-name",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer, age: integer}
                checks:
                  - expression: age > 0
            """),
        6,
        "check constraint needs an explicit 'name'",
    ),
    # --- functions and triggers -----------------------------------------------------------
    Case(
        "trigger-missing-function",
        y("""
            version: 1
            functions:
              set_updated_at:
                returns: trigger
                language: plpgsql
                body: BEGIN RETURN NEW; END;
            tables:
              users:
                columns: {id: integer}
                triggers:
                  - name: trg_users_updated_at
                    function: set_updated
                    timing: before
                    events: [update]
            """),
        11,
        "calls function 'set_updated', which is not declared under functions: "
        "(did you mean 'set_updated_at'?)",
    ),
    Case(
        "trigger-function-not-returning-trigger",
        y("""
            version: 1
            functions:
              add_one:
                args: [a integer]
                returns: integer
                language: sql
                body: SELECT a + 1
            tables:
              users:
                columns: {id: integer}
                triggers:
                  - name: trg_users_add
                    function: add_one
                    timing: after
                    events: [insert]
            """),
        12,
        "trigger 'trg_users_add': function 'add_one' must return trigger",
    ),
    Case(
        "trigger-missing-name",
        y("""
            version: 1
            functions:
              f: {returns: trigger, language: plpgsql, body: BEGIN RETURN NEW; END;}
            tables:
              users:
                columns: {id: integer}
                triggers:
                  - function: f
                    timing: before
                    events: [update]
            """),
        8,
        "trigger needs an explicit 'name'",
    ),
    Case(
        "trigger-bad-event",
        y("""
            version: 1
            functions:
              f: {returns: trigger, language: plpgsql, body: BEGIN RETURN NEW; END;}
            tables:
              users:
                columns: {id: integer}
                triggers:
                  - name: trg
                    function: f
                    timing: before
                    events:
                      - insert
                      - upsert
            """),
        13,
        "trigger event must be one of: insert, update, delete, truncate",
    ),
    Case(
        "trigger-bad-event-after-null",
        # the null item is reported where it is, and the bad one where *it* is (not shifted)
        y("""
            version: 1
            functions:
              f: {returns: trigger, language: plpgsql, body: BEGIN RETURN NEW; END;}
            tables:
              users:
                columns: {id: integer}
                triggers:
                  - name: trg
                    function: f
                    timing: before
                    events:
                      - ~
                      - upsert
            """),
        13,
        "trigger event must be one of",
    ),
    Case(
        "trigger-bad-timing",
        y("""
            version: 1
            functions:
              f: {returns: trigger, language: plpgsql, body: BEGIN RETURN NEW; END;}
            tables:
              users:
                columns: {id: integer}
                triggers:
                  - name: trg
                    function: f
                    timing: around
                    events: [update]
            """),
        10,
        "trigger timing must be one of: before, after, instead of (got 'around')",
    ),
    # --- config ---------------------------------------------------------------------------
    Case(
        "config-table-not-declared",
        y("""
            version: 1
            tables:
              users:
                columns: {id: integer}
            config:
              table: system_config
              keys:
                port: {default: "8080"}
            """),
        6,
        "config table 'system_config' is not declared in tables:",
    ),
    Case(
        "config-key-column-not-pk",
        y("""
            version: 1
            tables:
              system_config:
                columns: {id: integer, key: text, value: text}
                primary_key: [id]
            config:
              table: system_config
              keys:
                port: {default: "8080"}
            """),
        7,
        "config: 'key' must be the primary key of 'system_config'",
    ),
    Case(
        "config-secret-with-value",
        y("""
            version: 1
            tables:
              system_config:
                columns: {key: text, value: text}
                primary_key: [key]
            config:
              table: system_config
              keys:
                jwt_secret:
                  secret: true
                  value: hunter2
            """),
        11,
        "config key 'jwt_secret' is secret: never write its value in the spec",
    ),
    Case(
        "config-bad-value-from-env",
        y("""
            version: 1
            tables:
              system_config:
                columns: {key: text, value: text}
                primary_key: [key]
            config:
              table: system_config
              keys:
                jwt_secret: {secret: true, value_from_env: JWT-SECRET}
            """),
        9,
        "config key 'jwt_secret' value_from_env must be a variable name",
    ),
    # --- enums ----------------------------------------------------------------------------
    Case(
        "enum-default-not-a-label",
        y("""
            version: 1
            enums:
              order_status:
                values: [pending, paid, failed]
            tables:
              orders:
                columns:
                  id: integer
                  status: {type: order_status, default: archived}
            """),
        9,
        "'archived' is not a label of enum order_status: pending, paid, failed",
    ),
    Case(
        "enum-duplicate-values",
        y("""
            version: 1
            enums:
              order_status:
                values: [pending, paid, pending]
            tables:
              orders:
                columns: {id: integer, status: order_status}
            """),
        4,
        "enum 'order_status' has duplicate values",
    ),
]


def _problems(text: str) -> list[Problem]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, FILENAME)
    problems = info.value.problems
    assert problems, "SpecError raised without any problem"
    return problems


def _render(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


def test_corpus_is_large_and_ids_unique() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_spec_is_rejected_at_the_right_line(case: Case) -> None:
    problems = _problems(case.text)
    for p in problems:
        assert p.location.file == FILENAME, _render(problems)
        assert p.location.line >= 1 and p.location.col >= 1, _render(problems)
    matching = [p for p in problems if case.message in p.message]
    assert matching, f"no problem mentions {case.message!r}:\n{_render(problems)}"
    assert any(p.location.line == case.line for p in matching), (
        f"{case.message!r} expected at line {case.line}:\n{_render(problems)}"
    )


def test_problems_are_sorted_by_position() -> None:
    for case in CASES:
        problems = _problems(case.text)
        positions = [(p.location.line, p.location.col) for p in problems]
        assert positions == sorted(positions), f"{case.id}:\n{_render(problems)}"


def test_three_independent_errors_are_all_reported() -> None:
    text = y("""
        version: 1
        tables:
          users:
            columns:
              id: integer
              email: strng
            primary_key: [id]
          orders:
            columns: {id: integer, user_id: integer}
            foreign_keys:
              - columns: [user_id]
                references: users
                on_delete: nullify
        config:
          table: settings
          keys:
            port: {default: "8080"}
        """)
    problems = _problems(text)
    found = {(p.location.line, p.message) for p in problems}
    expected = [
        (6, "unknown type 'strng'"),
        (13, "on_delete must be one of"),
        (15, "config table 'settings' is not declared"),
    ]
    for line, fragment in expected:
        assert any(ln == line and fragment in msg for ln, msg in found), (
            f"missing {fragment!r} at line {line}:\n{_render(problems)}"
        )
    assert len(problems) == 3, _render(problems)


def _run_validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "schemadiff", "validate", "--spec", str(path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


# Runs `schemadiff validate --spec PATH` for each path given, in this one process, exactly as
# `python -m schemadiff` does (cli.main, its exit code, its stdout and stderr apart), and
# prints the results as JSON: one interpreter start for the whole corpus instead of one per
# case, which was a minute of CPU on two cores.
_VALIDATE_EACH = """
import contextlib, io, json, sys, traceback
from schemadiff.cli import main
results = []
for path in sys.argv[1:]:
    out, err = io.StringIO(), io.StringIO()
    sys.argv = ["schemadiff", "validate", "--spec", path]
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = -1
    results.append([code, out.getvalue(), err.getvalue()])
sys.__stdout__.write(json.dumps(results))
"""


def _run_validate_each(paths: list[Path]) -> list[subprocess.CompletedProcess[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _VALIDATE_EACH, *map(str, paths)],
        capture_output=True, text=True, encoding="utf-8", timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    return [
        subprocess.CompletedProcess(["schemadiff", "validate", "--spec", str(path)],
                                    code, stdout, stderr)
        for path, (code, stdout, stderr) in zip(paths, json.loads(done.stdout), strict=True)
    ]


def test_cli_reports_every_corpus_case(tmp_path: Path) -> None:
    paths = []
    for i, case in enumerate(CASES):
        path = tmp_path / f"{i:02d}-{case.id}.yaml"
        path.write_text(case.text, encoding="utf-8")
        paths.append(path)
    results = _run_validate_each(paths)
    # The in-process runs answer as `python -m schemadiff` does: one case checked both ways.
    alone = _run_validate(paths[0])
    assert (alone.returncode, alone.stdout, alone.stderr) == (
        results[0].returncode, results[0].stdout, results[0].stderr
    )
    failures = []
    for case, path, result in zip(CASES, paths, results, strict=True):
        where = f"{path}:{case.line}:"
        lines = result.stderr.splitlines()
        ok = (
            result.returncode == 1
            and result.stdout == ""
            and "Traceback" not in result.stderr
            and any(ln.startswith(where) and case.message in ln for ln in lines)
            and re.search(r"^\d+ problems? found\.$", result.stderr, re.M) is not None
        )
        if not ok:
            failures.append(
                f"{case.id}: rc={result.returncode}\nstdout={result.stdout!r}\n{result.stderr}"
            )
    assert not failures, "\n\n".join(failures)


def test_cli_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    result = _run_validate(path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert f"{path}:1:1: file not found" in result.stderr


def _docs_example() -> str:
    match = re.search(r"```yaml\n(.*?)```", DOCS_SPEC.read_text(encoding="utf-8"), re.S)
    assert match, "docs/spec.md has no ```yaml block"
    return match.group(1)


def test_docs_example_validates() -> None:
    spec = parse_spec(_docs_example(), "docs/spec.md")
    assert spec.table("users") is not None


