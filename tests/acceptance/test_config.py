"""Acceptance cases: config (harness.py runs each one through the whole cycle)."""

from __future__ import annotations

import pytest

from ..conftest import Server
from .harness import (
    CONFIG_SPEC_TABLE,
    CONFIG_TABLE,
    DATA_LOSS,
    Case,
    params,
    rows_are,
    run_case,
)

CASES: list[Case] = [
    Case(
        "config-table-and-keys-created",
        "",
        CONFIG_SPEC_TABLE + """
        config:
          table: system_config
          key_column: key
          value_column: value
          keys:
            api_port: {default: "8080"}
            mode: {value: prod}
        """,
        expected=(("create", "table"), ("create", "config")),
        check=rows_are("select key, value from system_config order by key",
                       [("api_port", "8080"), ("mode", "prod")]),
    ),
    Case(
        "config-missing-key-inserted-pinned-updated-operator-value-kept",
        CONFIG_TABLE + "insert into system_config (key, value) values ('api_port', '9090'),"
        " ('mode', 'dev');",
        CONFIG_SPEC_TABLE + """
        config:
          table: system_config
          key_column: key
          value_column: value
          keys:
            api_port: {default: "8080"}
            host: {default: localhost}
            mode: {value: prod}
        """,
        expected=(("create", "config"), ("alter", "config")),
        check=rows_are("select key, value from system_config order by key",
                       [("api_port", "9090"), ("host", "localhost"), ("mode", "prod")]),
    ),
    Case(
        "config-extra-key-deleted-is-data-loss",
        CONFIG_TABLE + "insert into system_config (key, value) values ('api_port', '8080'),"
        " ('legacy_flag', 'on');",
        CONFIG_SPEC_TABLE + """
        config:
          table: system_config
          key_column: key
          value_column: value
          keys:
            api_port: {default: "8080"}
        """,
        DATA_LOSS,
        (("drop", "config"),),
        check=rows_are("select key from system_config", [("api_port",)]),
    ),
]


@pytest.mark.parametrize("case", params(CASES))
def test_case(case: Case, server: Server, db_url: str) -> None:
    run_case(case, server, db_url)
