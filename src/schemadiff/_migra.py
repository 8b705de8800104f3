"""Import migra and schemainspect quickly.

At import, schemainspect reads 17 SQL files; for each it finds its own module name with
`inspect.stack()`, which reads the source of every frame (1-4 s per command, measured with
cProfile), and opens the file through `pkg_resources`, whose import scans every installed
distribution. While schemainspect is imported, `inspect.stack` is replaced by a frame walk that
gives the same module names, and a minimal stand-in for pkg_resources (the one function used)
is installed; both are put back right after, so nothing else sees them. If the real
pkg_resources is already imported, it is used as it is.
"""

from __future__ import annotations

import inspect
import os
import sys
import types
import warnings
from typing import IO, Any


def _resource_stream(module: str, name: str) -> IO[bytes]:
    # Like pkg_resources: `module` may be a plain module; the file sits in its directory.
    origin = sys.modules[module].__file__
    assert origin is not None
    return open(os.path.join(os.path.dirname(origin), name), "rb")


def _fast_stack(context: int = 1) -> list[tuple[types.ModuleType]]:
    # schemainspect only asks inspect.getmodule() of each entry's first item, and getmodule()
    # returns a module object unchanged: hand it the modules of the calling frames directly.
    out = []
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        out.append((sys.modules.get(name) or types.ModuleType(name),))
        frame = frame.f_back  # type: ignore[assignment]
    return out


def _import() -> dict[str, Any]:
    original_stack = inspect.stack
    inspect.stack = _fast_stack  # type: ignore[assignment]
    shim = None
    if "pkg_resources" not in sys.modules:
        shim = types.ModuleType("pkg_resources")
        shim.resource_stream = _resource_stream  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = shim
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pkg_resources' own deprecation warning
            import migra.changes
            import migra.util
            import schemainspect
            import schemainspect.pg.obj
    finally:
        inspect.stack = original_stack
        if shim is not None and sys.modules.get("pkg_resources") is shim:
            del sys.modules["pkg_resources"]
    return {
        "Changes": migra.changes.Changes,
        "get_enum_modifications": migra.changes.get_enum_modifications,
        "get_selectable_differences": migra.changes.get_selectable_differences,
        "statements_from_differences": migra.changes.statements_from_differences,
        "differences": migra.util.differences,
        "get_inspector": schemainspect.get_inspector,
        "InspectedFunction": schemainspect.pg.obj.InspectedFunction,
    }


_m = _import()
Changes = _m["Changes"]
get_enum_modifications = _m["get_enum_modifications"]
get_selectable_differences = _m["get_selectable_differences"]
statements_from_differences = _m["statements_from_differences"]
differences = _m["differences"]
get_inspector = _m["get_inspector"]
InspectedFunction = _m["InspectedFunction"]
