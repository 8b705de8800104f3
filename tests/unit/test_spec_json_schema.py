"""The JSON Schema printed by `schemadiff schema-json` agrees with the spec loader.

Editors validate schema.yaml with the JSON Schema; `schemadiff validate` uses spec.py. Every
document below is checked by both, so a key or an enum value added to one and not the other
fails here.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from schemadiff import spec as spec_module
from schemadiff.errors import SpecError
from schemadiff.spec import parse_spec

ROOT = Path(__file__).resolve().parents[2]
DELETE = object()  # mutation value: remove the key

_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _EditorLoader(yaml.SafeLoader):
    """YAML as editors read it (YAML 1.2): only true/false are booleans, dates stay strings."""


_EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_EditorLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_EditorLoader)  # a SafeLoader subclass


@cache
def schema_text() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "schemadiff", "schema-json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    )
    return result.stdout


@cache
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_text()))


def schema_errors(doc: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator().iter_errors(doc)
    ]


def loader_errors(doc: Any) -> str | None:
    """What parse_spec says about the document dumped as YAML; None if it is accepted."""
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    try:
        parse_spec(text, "test.yaml")
    except SpecError as e:
        return str(e)
    return None


# A valid spec that uses every key the loader knows; the cases below change one thing each.
BASE: dict[str, Any] = {
    "version": 1,
    "schema": {"name": "app", "comment": "The application"},
    "extensions": ["pgcrypto", {"name": "pg_trgm", "version": "1.6", "schema": "app"}],
    "enums": {
        "order_status": {
            "values": ["pending", {"name": "paid", "renamed_from": "settled"}],
            "comment": "Order state",
        },
    },
    "domains": {
        "email": {
            "type": "text", "nullable": False, "default": "a@b",
            "checks": [{"name": "email_at", "expression": "VALUE ~ '@'"}], "collation": "C",
            "comment": "E-mail",
        },
    },
    "types": {"amount": {"attributes": {"value": "numeric(12,2)"}, "comment": "Money"}},
    "sequences": {
        "invoice_number": {
            "start": 10, "increment": 2, "min": 1, "max": 1000, "cache": 5, "cycle": True,
            "as": "integer", "owned_by": "orders.invoice", "comment": "Invoice numbers",
        },
    },
    "functions": {
        "set_updated_at": {
            "args": [],
            "returns": "trigger",
            "language": "plpgsql",
            "volatility": "volatile",
            "security": "invoker",
            "body": "BEGIN\n  NEW.updated_at = now();\n  RETURN NEW;\nEND;\n",
            "comment": "Keeps updated_at current",
        },
    },
    "tables": {
        "users": {
            "comment": "Users",
            "columns": {
                "id": {"type": "bigserial"},
                "email": {"type": "text", "nullable": False, "unique": True, "comment": ""},
                "attempts": {
                    "type": "integer", "nullable": False, "default": 0, "check": "attempts >= 0",
                },
                "updated_at": {
                    "type": "timestamptz", "nullable": False, "default": {"sql": "now()"},
                },
                "note": "text",
            },
            "primary_key": ["id"],
            "unique": [{"name": "users_note_uq", "columns": ["note"], "comment": "uq"}],
            "checks": [
                {"name": "users_email_not_blank", "expression": "email <> ''", "comment": "ck"},
            ],
            "indexes": [
                {"columns": ["updated_at"], "comment": "By update time"},
                {
                    "name": "idx_users_email_lower",
                    "columns": [{"expression": "lower(email)"}],
                    "unique": True,
                    "method": "btree",
                    "where": "attempts = 0",
                    "include": ["id"],
                },
                {
                    "columns": [
                        {"column": "note", "order": "desc", "nulls": "last",
                         "opclass": "text_pattern_ops"},
                    ],
                },
            ],
            "triggers": [
                {
                    "name": "trg_users_updated_at",
                    "function": "set_updated_at",
                    "timing": "before",
                    "events": ["update"],
                    "for_each": "row",
                    "when": "OLD.* IS DISTINCT FROM NEW.*",
                    "comment": "Keeps updated_at current",
                },
            ],
        },
        "orders": {
            "columns": {
                "id": "bigint",
                "user_id": {"type": "bigint", "nullable": False},
                "status": {"type": "order_status", "nullable": False, "default": "pending"},
                "invoice": {"type": "integer"},
                "line": {"type": "bigint", "identity": "by default"},
            },
            "primary_key": {"name": "orders_pk", "columns": ["id"], "comment": "The key"},
            "foreign_keys": [
                {
                    "columns": ["user_id"],
                    "references": {"table": "users", "columns": ["id"]},
                    "on_delete": "cascade",
                    "on_update": "no action",
                    "deferrable": True,
                    "initially_deferred": True,
                    "comment": "Whose order",
                },
            ],
        },
        "measures": {
            "columns": {"id": "integer", "at": "date", "kind": "text"},
            "partition_by": {"method": "range", "columns": ["at"]},
            "partitions": {
                "measures_2024": {"from": "2024-01-01", "to": ["2025-01-01"]},
                "measures_low": {"from": {"sql": "MINVALUE"}, "to": "2000-01-01"},
                "measures_rest": {"default": True},
            },
        },
        "by_kind": {
            "columns": {"kind": "text"},
            "partition_by": {"method": "list", "expression": "lower(kind)"},
            "partitions": {"by_kind_ab": {"in": ["a", "b", None]}},
        },
        "hashed": {
            "columns": {"id": "integer"},
            "partition_by": {"method": "hash", "columns": ["id"]},
            "partitions": {"hashed_0": {"modulus": 2, "remainder": 0}},
        },
        "system_config": {
            "unlogged": True,
            "columns": {"key": "text", "value": "text"},
            "primary_key": ["key"],
        },
        "bookings": {
            "with": {"fillfactor": 70, "autovacuum_enabled": False},
            "columns": {
                "id": {"type": "bigint", "identity": {"generated": "always", "start": 100,
                                                      "increment": 5, "cycle": True}},
                "room": {"type": "text", "collation": "C"},
                "during": "tsrange",
                "nights": {"type": "integer", "generated": "upper(during)::date - 1"},
                "label": {"type": "text", "generated": {"expression": "room", "stored": False}},
                "code": "text",
            },
            "primary_key": {"columns": ["id"], "deferrable": True, "initially_deferred": True},
            "unique": [{"columns": ["code"], "nulls_not_distinct": True, "deferrable": True}],
            "checks": [{"name": "bookings_room", "expression": "room <> ''", "no_inherit": True}],
            "indexes": [{"columns": ["code"], "unique": True, "nulls_not_distinct": True,
                         "with": {"fillfactor": 50}}],
            "foreign_keys": [{"columns": ["code"], "references": {"table": "bookings",
                                                                   "columns": ["code"]},
                              "match": "full"}],
            "excludes": [
                {
                    "name": "bookings_no_overlap",
                    "using": "gist",
                    "elements": [{"column": "during", "with": "&&"},
                                 {"expression": "lower(room)", "with": "<>"}],
                    "where": "id > 0",
                },
            ],
        },
    },
    "views": {
        "paid_orders": {
            "query": "SELECT id FROM orders", "check_option": "local", "security_barrier": True,
            "security_invoker": False, "comment": "Paid",
        },
    },
    "materialized_views": {
        "order_counts": {
            "query": "SELECT count(*) AS n FROM orders",
            "indexes": [{"columns": ["n"], "unique": True}],
            "with_data": False,
            "comment": "Counts",
        },
    },
    "config": {
        "table": "system_config",
        "key_column": "key",
        "value_column": "value",
        "keys": {
            "port": {"default": "8080", "description": "HTTP port"},
            "jwt_secret": {"secret": True, "value_from_env": "JWT_SECRET"},
            "mode": {"value": "live"},
        },
    },
}

USERS = ("tables", "users")
ORDERS = ("tables", "orders")
FK = (*ORDERS, "foreign_keys", 0)
EXPR_INDEX = (*USERS, "indexes", 1)
TRIGGER = (*USERS, "triggers", 0)
FUNCTION = ("functions", "set_updated_at")
CONFIG_KEYS = ("config", "keys")
SEQUENCE = ("sequences", "invoice_number")
VIEW = ("views", "paid_orders")

Path_ = tuple[str | int, ...]
Mutation = tuple[Path_, Any]


def mutate(*changes: Mutation) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    for path, value in changes:
        *parents, last = path
        node: Any = doc
        for key in parents:
            node = node[key]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return doc


# (id, change, a fragment of the loader's message)
INVALID: list[tuple[str, Mutation, str]] = [
    ("top-unknown-key", (("tabels",), {}), "unknown key 'tabels'"),
    ("version-2", (("version",), 2), "version must be 1"),
    ("version-string", (("version",), "1"), "version must be 1"),
    ("version-bool", (("version",), True), "version must be 1"),
    ("tables-missing", (("tables",), DELETE), "missing required key 'tables'"),
    ("tables-list", (("tables",), ["users"]), "tables must be a mapping"),
    ("schema-empty", (("schema",), ""), "schema must not be empty"),
    ("schema-too-long", (("schema",), "s" * 64), "is 64 bytes"),
    ("extensions-string", (("extensions",), "pgcrypto"), "extensions must be a list"),
    ("extension-version-number", (("extensions",), [{"name": "pg_trgm", "version": 1.6}]),
     "extension version must be a string"),
    ("extension-unknown-key", (("extensions",), [{"name": "pg_trgm", "versoin": "1.6"}]),
     "unknown key 'versoin'"),
    ("extension-name-missing", (("extensions",), [{"version": "1.6"}]),
     "missing required key 'name'"),
    ("schema-unknown-key", (("schema",), {"name": "app", "commnet": "x"}), "unknown key 'commnet'"),
    ("table-unlogged-string", (("tables", "system_config", "unlogged"), "yes"),
     "unlogged must be true or false"),
    ("index-comment-list", ((*USERS, "indexes", 0, "comment"), ["a"]), "comment must be a string"),
    ("partition-by-method", (("tables", "hashed", "partition_by", "method"), "interval"),
     "method must be one of"),
    ("partition-by-both", (("tables", "hashed", "partition_by", "expression"), "id + 1"),
     "exactly one of 'columns' or 'expression'"),
    ("partition-from-without-to", (("tables", "measures", "partitions", "measures_2024"),
                                   {"from": "2024-01-01"}), "'from' needs 'to'"),
    ("partition-remainder-negative",
     (("tables", "hashed", "partitions", "hashed_0"), {"modulus": 2, "remainder": -1}),
     "remainder must be an integer of at least 0"),
    ("partitions-without-partition-by", (("tables", "hashed", "partition_by"), DELETE),
     "partitions need partition_by"),
    ("enum-unknown-key", (("enums", "order_status", "labels"), ["a"]), "unknown key 'labels'"),
    ("enum-values-missing", (("enums", "order_status", "values"), DELETE),
     "missing required key 'values'"),
    ("enum-values-duplicate", (("enums", "order_status", "values"), ["pending", "pending"]),
     "duplicate values"),
    ("enum-value-unknown-key",
     (("enums", "order_status", "values"), ["a", {"name": "b", "was": "c"}]), "unknown key 'was'"),
    ("enum-value-name-missing", (("enums", "order_status", "values"), [{"renamed_from": "c"}]),
     "missing required key 'name'"),
    ("function-unknown-key", ((*FUNCTION, "window"), True), "unknown key 'window'"),
    ("function-strict-string", ((*FUNCTION, "strict"), "yes"), "strict must be true or false"),
    ("function-parallel", ((*FUNCTION, "parallel"), "maybe"), "parallel must be one of"),
    ("function-cost-zero", ((*FUNCTION, "cost"), 0), "cost must be a positive number"),
    ("function-set-list", ((*FUNCTION, "set"), ["search_path"]), "set must be a mapping"),
    ("function-overloads-unknown-key", (("functions", "add"), [{"returns": "integer",
     "language": "sql", "body": "SELECT 1", "strict": True, "windows": 1}]),
     "unknown key 'windows'"),
    ("procedure-returns", (("procedures",), {"p": {"language": "sql", "body": "SELECT 1",
                                                   "returns": "integer"}}),
     "unknown key 'returns'"),
    ("procedure-body-missing", (("procedures",), {"p": {"language": "sql"}}),
     "missing required key 'body'"),
    ("policy-command", ((*USERS, "policies"), {"p": {"command": "upsert"}}),
     "command must be one of"),
    ("policy-unknown-key", ((*USERS, "policies"), {"p": {"to": ["public"]}}),
     "unknown key 'to'"),
    ("policy-current-user", ((*USERS, "policies"), {"p": {"roles": ["current_user"]}}),
     "name the role instead"),
    ("rls-string", ((*USERS, "row_level_security"), "on"),
     "row_level_security must be true or false"),
    ("grants-privilege", (("grants",), {"app": {"tables": {"users": ["select", "read"]}}}),
     "'read' is not a privilege on tables"),
    ("grants-unknown-key", (("grants",), {"app": {"views": {}}}), "unknown key 'views'"),
    ("grants-current-user", (("grants",), {"current_user": {"schema": ["usage"]}}),
     "name the role instead"),
    ("trigger-enabled-string", ((*TRIGGER, "enabled"), "no"), "enabled must be true or false"),
    ("trigger-referencing-unknown", ((*TRIGGER, "referencing"), {"new": "x"}),
     "unknown key 'new'"),
    ("function-language", ((*FUNCTION, "language"), "python"), "language must be one of"),
    ("function-volatility", ((*FUNCTION, "volatility"), "pure"), "volatility must be one of"),
    ("function-security", ((*FUNCTION, "security"), "owner"), "security must be one of"),
    ("function-body-missing", ((*FUNCTION, "body"), DELETE), "missing required key 'body'"),
    ("trigger-function-args", ((*FUNCTION, "args"), ["x integer"]), "must take no args"),
    ("table-unknown-key", ((*USERS, "colums"), {}), "unknown key 'colums'"),
    ("table-name-too-long", (("tables", "t" * 64), {"columns": {"id": "text"}}), "is 64 bytes"),
    ("columns-missing", ((*ORDERS, "columns"), DELETE), "missing required key 'columns'"),
    ("columns-list", ((*ORDERS, "columns"), ["id", "user_id"]), "columns must be a mapping"),
    ("columns-empty", (("tables", "system_config", "columns"), {}), "has no columns"),
    ("column-unknown-key", ((*USERS, "columns", "note"), {"type": "text", "nulable": True}),
     "unknown key 'nulable'"),
    ("column-type-missing", ((*USERS, "columns", "note"), {"nullable": True}),
     "missing required key 'type'"),
    ("column-int", ((*USERS, "columns", "note"), 5), "must be a mapping"),
    ("column-null", ((*USERS, "columns", "note"), None), "must be a mapping"),
    ("column-type-blank", ((*USERS, "columns", "note"), " "), "type must not be empty"),
    ("column-name-too-long", ((*USERS, "columns", "c" * 64), "text"), "is 64 bytes"),
    ("nullable-string", ((*USERS, "columns", "email", "nullable"), "no"),
     "nullable must be true or false"),
    ("unique-string", ((*USERS, "columns", "email", "unique"), "yes"),
     "unique must be true or false"),
    ("check-blank", ((*USERS, "columns", "attempts", "check"), ""), "check must not be empty"),
    ("default-list", ((*USERS, "columns", "attempts", "default"), [1]),
     "default must be a literal"),
    ("default-sql-extra-key", ((*USERS, "columns", "updated_at", "default"), {"sql": 1, "x": 2}),
     "unknown key 'x'"),
    ("default-empty-mapping", ((*USERS, "columns", "updated_at", "default"), {}),
     "missing required key 'sql'"),
    ("default-sql-blank", ((*USERS, "columns", "updated_at", "default"), {"sql": ""}),
     "sql must not be empty"),
    ("default-null", ((*USERS, "columns", "attempts", "default"), None),
     "null is not a default"),
    ("primary-key-empty", ((*USERS, "primary_key"), []), "must not be empty"),
    ("primary-key-columns-missing", ((*ORDERS, "primary_key"), {"name": "orders_pk"}),
     "missing required key 'columns'"),
    ("primary-key-unknown-key", ((*ORDERS, "primary_key"), {"columns": ["id"], "using": "x"}),
     "unknown key 'using'"),
    ("primary-key-column-twice", ((*USERS, "primary_key"), ["id", "id"]), "listed twice"),
    ("primary-key-string", ((*USERS, "primary_key"), "id"), "must be a mapping"),
    ("unique-not-list", ((*USERS, "unique"), {"columns": ["note"]}), "unique must be a list"),
    ("unique-unknown-key", ((*USERS, "unique", 0, "include"), ["id"]),
     "unknown key 'include'"),
    ("unique-columns-missing", ((*USERS, "unique", 0, "columns"), DELETE),
     "missing required key 'columns'"),
    ("unique-columns-empty", ((*USERS, "unique", 0, "columns"), []), "must not be empty"),
    ("fk-on-delete", ((*FK, "on_delete"), "delete"), "on_delete must be one of"),
    ("fk-on-update", ((*FK, "on_update"), "nothing"), "on_update must be one of"),
    ("fk-unknown-key", ((*FK, "matching"), "full"), "unknown key 'matching'"),
    ("fk-match", ((*FK, "match"), "partial"), "match must be one of"),
    ("fk-references-missing", ((*FK, "references"), DELETE), "missing required key 'references'"),
    ("fk-references-list", ((*FK, "references"), ["users"]), "must be a mapping"),
    ("fk-references-unknown-key", ((*FK, "references"), {"table": "users", "cols": ["id"]}),
     "unknown key 'cols'"),
    ("fk-references-table-missing", ((*FK, "references"), {"columns": ["id"]}),
     "missing required key 'table'"),
    ("check-name-missing", ((*USERS, "checks", 0, "name"), DELETE),
     "missing required key 'name'"),
    ("check-expression-missing", ((*USERS, "checks", 0, "expression"), DELETE),
     "missing required key 'expression'"),
    ("check-unknown-key", ((*USERS, "checks", 0, "deferrable"), True),
     "unknown key 'deferrable'"),
    ("index-method", ((*EXPR_INDEX, "method"), "btre"), "method must be one of"),
    ("index-unknown-key", ((*EXPR_INDEX, "concurrently"), True), "unknown key 'concurrently'"),
    ("index-columns-missing", ((*EXPR_INDEX, "columns"), DELETE),
     "missing required key 'columns'"),
    ("index-columns-empty", ((*EXPR_INDEX, "columns"), []), "must be a non-empty list"),
    ("index-expression-needs-name", ((*EXPR_INDEX, "name"), DELETE),
     "needs an explicit 'name'"),
    ("index-element-both", ((*EXPR_INDEX, "columns", 0), {"column": "a", "expression": "b"}),
     "exactly one of"),
    ("index-element-neither", ((*EXPR_INDEX, "columns", 0), {"order": "desc"}),
     "exactly one of"),
    ("index-element-unknown-key", ((*EXPR_INDEX, "columns", 0, "collate"), "C"),
     "unknown key 'collate'"),
    ("index-element-order", ((*EXPR_INDEX, "columns", 0, "order"), "up"),
     "order must be one of"),
    ("index-element-nulls", ((*EXPR_INDEX, "columns", 0, "nulls"), "middle"),
     "nulls must be one of"),
    ("trigger-timing", ((*TRIGGER, "timing"), "during"), "timing must be one of"),
    ("trigger-event", ((*TRIGGER, "events"), ["upsert"]), "event must be one of"),
    ("trigger-events-empty", ((*TRIGGER, "events"), []), "events must not be empty"),
    ("trigger-for-each", ((*TRIGGER, "for_each"), "table"), "for_each must be one of"),
    ("trigger-unknown-key", ((*TRIGGER, "level"), "row"), "unknown key 'level'"),
    ("trigger-name-missing", ((*TRIGGER, "name"), DELETE), "missing required key 'name'"),
    ("trigger-function-missing", ((*TRIGGER, "function"), DELETE),
     "missing required key 'function'"),
    ("identity-value", ((*ORDERS, "columns", "line", "identity"), "sometimes"),
     "identity must be one of"),
    ("identity-with-default", ((*ORDERS, "columns", "line", "default"), 1),
     "identity column cannot have a default"),
    ("fk-deferred-not-deferrable", ((*FK, "deferrable"), False), "needs deferrable: true"),
    ("fk-deferrable-string", ((*FK, "deferrable"), "yes"), "deferrable must be true or false"),
    ("sequence-unknown-key", ((*SEQUENCE, "restart"), 1), "unknown key 'restart'"),
    ("sequence-increment-zero", ((*SEQUENCE, "increment"), 0), "increment must not be 0"),
    ("sequence-cache-zero", ((*SEQUENCE, "cache"), 0), "cache must be at least 1"),
    ("sequence-start-string", ((*SEQUENCE, "start"), "ten"), "start must be an integer"),
    ("sequence-as", ((*SEQUENCE, "as"), "numeric"), "as must be one of"),
    ("sequence-owned-by-form", ((*SEQUENCE, "owned_by"), "orders"), "table.column"),
    ("sequences-list", (("sequences",), ["invoice_number"]), "sequences must be a mapping"),
    ("view-query-missing", ((*VIEW, "query"), DELETE), "missing required key 'query'"),
    ("view-unknown-key", ((*VIEW, "materialized"), True), "unknown key 'materialized'"),
    ("view-check-option", ((*VIEW, "check_option"), "both"), "check_option must be one of"),
    ("view-security-barrier-string", ((*VIEW, "security_barrier"), "yes"),
     "security_barrier must be true or false"),
    ("domain-unknown-key", (("domains", "email", "check"), "x"), "unknown key 'check'"),
    ("domain-type-missing", (("domains", "email", "type"), DELETE),
     "missing required key 'type'"),
    ("domain-nullable-string", (("domains", "email", "nullable"), "no"),
     "nullable must be true or false"),
    ("domain-check-name-missing", (("domains", "email", "checks"), [{"expression": "x"}]),
     "missing required key 'name'"),
    ("type-attributes-missing", (("types", "amount", "attributes"), DELETE),
     "missing required key 'attributes'"),
    ("type-attributes-empty", (("types", "amount", "attributes"), {}), "has no attributes"),
    ("type-attribute-form", (("types", "amount", "attributes"), ["value"]),
     "must be written 'name type'"),
    ("matview-unknown-key", (("materialized_views", "order_counts", "refresh"), True),
     "unknown key 'refresh'"),
    ("matview-with-data-string", (("materialized_views", "order_counts", "with_data"), "no"),
     "with_data must be true or false"),
    ("matview-query-missing", (("materialized_views", "order_counts", "query"), DELETE),
     "missing required key 'query'"),
    ("config-unknown-key", (("config", "schema"), "app"), "unknown key 'schema'"),
    ("config-keys-missing", (("config", "keys"), DELETE), "missing required key 'keys'"),
    ("config-key-unknown-key", ((*CONFIG_KEYS, "port", "type"), "int"), "unknown key 'type'"),
    ("config-key-null", ((*CONFIG_KEYS, "port"), None), "must be a mapping"),
    ("config-key-default-list", ((*CONFIG_KEYS, "port", "default"), ["8080"]),
     "default must be a string"),
    ("config-secret-with-value", ((*CONFIG_KEYS, "jwt_secret", "value"), "s3cret"),
     "never write its value"),
    ("config-secret-string", ((*CONFIG_KEYS, "jwt_secret", "secret"), "yes"),
     "secret must be true or false"),
    ("config-env-name", ((*CONFIG_KEYS, "jwt_secret", "value_from_env"), "1BAD-NAME"),
     "must be a variable name"),
]

VALID: list[tuple[str, list[Mutation]]] = [
    ("base", []),
    ("version-float", [(("version",), 1.0)]),
    ("minimal", [(("schema",), DELETE), (("extensions",), DELETE), (("enums",), DELETE),
                 (("functions",), DELETE), (("config",), DELETE), (("tables",), {}),
                 (("sequences",), DELETE), (("views",), DELETE), (("domains",), DELETE),
                 (("types",), DELETE), (("materialized_views",), DELETE)]),
    ("types-forms", [
        (("types", "amount", "attributes"), ["value numeric(12,2)", "currency text"]),
        (("domains", "email", "default"), {"sql": "'a@b'::text"}),
    ]),
    ("literal-defaults", [
        ((*USERS, "columns", "attempts", "default"), 1.5),
        ((*USERS, "columns", "attempts", "type"), "numeric(18,8)"),
        ((*USERS, "columns", "email", "default"), ""),
        ((*USERS, "columns", "flag"), {"type": "boolean", "default": True}),
    ]),
    ("alternative-forms", [
        ((*FK, "references"), "users"),
        ((*FK, "on_delete"), "set null"),
        ((*FK, "on_update"), "set default"),
        ((*ORDERS, "primary_key"), {"columns": ["id"]}),
        ((*USERS, "comment"), ""),
        ((*EXPR_INDEX, "columns"), ["email", {"expression": "lower(note)", "order": "asc"}]),
        ((*EXPR_INDEX, "method"), "hash"),
        ((*TRIGGER, "events"), ["insert", "update", "delete"]),
        ((*TRIGGER, "timing"), "after"),
        ((*TRIGGER, "for_each"), "statement"),
        ((*FUNCTION, "volatility"), "stable"),
        ((*FUNCTION, "security"), "definer"),
        (("functions", "add"), {"args": ["a integer", "b integer"], "returns": "integer",
                                "language": "sql", "body": "SELECT a + b",
                                "volatility": "immutable"}),
    ]),
    ("routine-options-and-security", [
        (("functions", "add"), [
            {"args": ["a integer"], "returns": "integer", "language": "sql", "body": "SELECT a",
             "strict": True, "leakproof": True, "parallel": "safe", "cost": 5,
             "set": {"search_path": "public, pg_temp", "work_mem": "64MB"}},
            {"args": ["a text"], "returns": "setof text", "language": "sql", "body": "SELECT a",
             "rows": 10, "security": "definer"},
        ]),
        (("procedures",), {"archive": {"args": ["n integer"], "language": "plpgsql",
                                       "body": "BEGIN END;", "security": "definer",
                                       "set": {"search_path": "app"}}}),
        (("grants",), {
            "app_reader": {"schema": ["usage"], "tables": {"users": ["select"]},
                           "sequences": {"users_id_seq": ["usage", "select"]},
                           "functions": {"set_updated_at": ["execute"]}},
            "public": {"schema": ["usage"]},
        }),
        ((*USERS, "row_level_security"), True),
        ((*USERS, "force_row_level_security"), True),
        ((*USERS, "policies"), {
            "own_rows": {"command": "select", "roles": ["public"], "using": "id > 0"},
            "no_blank": {"command": "insert", "permissive": False, "with_check": "note <> ''"},
            "all_of_it": {},
        }),
        ((*TRIGGER, "events"), ["insert", "update"]),
        ((*TRIGGER, "update_of"), ["email", "note"]),
        ((*TRIGGER, "args"), ["a", 1]),
        ((*TRIGGER, "enabled"), False),
        ((*ORDERS, "triggers"), [
            {"name": "audit", "function": "set_updated_at", "timing": "after",
             "events": ["insert"], "for_each": "statement",
             "referencing": {"new_table": "inserted"}},
            {"name": "check_later", "function": "set_updated_at", "timing": "after",
             "events": ["insert"], "constraint": True, "deferrable": True,
             "initially_deferred": True},
        ]),
    ]),
    ("sequence-and-view-forms", [
        (SEQUENCE, {}),
        (VIEW, {"query": "SELECT 1 AS one"}),
        ((*ORDERS, "columns", "line", "identity"), "always"),
        ((*FK, "initially_deferred"), False),
    ]),
    ("config-scalars", [
        ((*CONFIG_KEYS, "port"), {"default": 8080, "description": 1}),
        ((*CONFIG_KEYS, "debug"), {"default": False, "secret": False, "value": True}),
        ((*CONFIG_KEYS, "empty"), {}),
        (("config", "key_column"), DELETE),
        (("config", "value_column"), DELETE),
    ]),
]


def test_schema_json_prints_a_draft_2020_12_schema() -> None:
    text = schema_text()
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://schemadiff.dev/spec.schema.json"
    assert schema["title"]
    # Pretty-printed, 2-space indent, trailing newline: regenerating it gives the same bytes.
    assert text == json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def test_schema_json_is_the_packaged_file() -> None:
    path = ROOT / "src" / "schemadiff" / "spec.schema.json"
    assert schema_text() == path.read_text(encoding="utf-8")


def test_enum_values_match_the_loader() -> None:
    defs = json.loads(schema_text())["$defs"]
    assert defs["fkAction"]["enum"] == list(spec_module.FK_ACTIONS)
    assert defs["index"]["properties"]["method"]["enum"] == list(spec_module.INDEX_METHODS)
    trigger = defs["trigger"]["properties"]
    assert trigger["timing"]["enum"] == list(spec_module.TRIGGER_TIMINGS)
    assert trigger["events"]["items"]["enum"] == list(spec_module.TRIGGER_EVENTS)
    function = defs["function"]["properties"]
    assert function["volatility"]["enum"] == list(spec_module.VOLATILITIES)
    assert function["language"]["enum"] == list(spec_module.LANGUAGES)


def test_docs_example_validates() -> None:
    text = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    assert blocks, "docs/spec.md has no yaml example"
    for block in blocks:
        assert schema_errors(load_yaml(block)) == []


def test_project_schema_yaml_validates() -> None:
    path = ROOT / "schema.yaml"
    assert path.is_file(), f"{path} is missing"
    assert schema_errors(load_yaml(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize(
    ("change", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_document_is_rejected_by_both(change: Mutation, message: str) -> None:
    doc = mutate(change)
    assert schema_errors(doc), "the JSON Schema accepts it"
    problems = loader_errors(doc)
    assert problems is not None, "parse_spec accepts it"
    assert message in problems


def test_invalid_cases_cover_enough() -> None:
    assert len(INVALID) >= 12
    assert len({c[0] for c in INVALID}) == len(INVALID)


@pytest.mark.parametrize("changes", [c[1] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_document_is_accepted_by_both(changes: list[Mutation]) -> None:
    doc = mutate(*changes)
    assert schema_errors(doc) == []
    assert loader_errors(doc) is None
