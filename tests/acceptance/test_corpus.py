"""The acceptance corpus as a whole: one file per object kind, ids unique across files."""

from __future__ import annotations

import importlib
import pkgutil

from . import __name__ as package
from .harness import Case


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        module = importlib.import_module(f"{package}.{info.name}")
        cases.extend(getattr(module, "CASES", []))
    return cases


def test_corpus_ids_are_unique_across_files() -> None:
    cases = all_cases()
    assert len(cases) >= 45
    ids = [c.id for c in cases]
    assert len(set(ids)) == len(ids), sorted({i for i in ids if ids.count(i) > 1})
