"""A small YAML writer for specs: deterministic, in the style of docs/spec.md.

PyYAML's dumper cannot mix styles per node the way a hand-written schema.yaml does (one-line
`{...}` column definitions, block mappings around them, `|` blocks for function bodies), so
specs are written here. A string is written plain only when YAML reads it back as the same
string (checked by parsing it, in the context it appears in); otherwise it is double-quoted,
so `on`, `yes`, `8080`, `2024-01-01` and `numeric(12,2)` stay strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Characters YAML may hold unescaped (PyYAML's reader refuses the others).
_PRINTABLE = re.compile("[\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}
INDENT = "  "


class Flow:
    """A mapping or list written on one line: `{a: 1, b: [x, y]}`."""

    def __init__(self, value: Mapping[str, Any] | Sequence[Any]) -> None:
        self.value = value


def dump(document: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """The document as YAML text: block mappings, Flow values on one line, `|` for text blocks."""
    lines = [f"# {line}" if line else "#" for line in header]
    lines += _block_mapping(document, 0)
    return "\n".join(lines) + "\n"


def _block_mapping(mapping: Mapping[str, Any], depth: int) -> list[str]:
    pad = INDENT * depth
    out: list[str] = []
    for key, value in mapping.items():
        head = f"{pad}{_key(key)}:"
        out += _block_value(head, value, depth)
    return out


def _block_value(head: str, value: Any, depth: int) -> list[str]:
    """Lines for `head` (a `key:` or `-`) followed by `value`, nested at `depth`."""
    if isinstance(value, Flow):
        return [f"{head} {_flow(value.value)}"]
    if isinstance(value, Mapping):
        if not value:
            return [f"{head} {{}}"]
        return [head, *_block_mapping(value, depth + 1)]
    if isinstance(value, list | tuple):
        if not value:
            return [f"{head} []"]
        if all(_is_inline_scalar(v) for v in value):
            return [f"{head} {_flow(value)}"]
        out = [head]
        for item in value:
            out += _list_item(item, depth)
        return out
    if isinstance(value, str) and "\n" in value.rstrip("\n") and _literal_ok(value):
        return [f"{head} {_literal_header(value)}", *_literal_lines(value, depth + 1)]
    return [f"{head} {_scalar(value, flow=False)}"]


def _list_item(item: Any, depth: int) -> list[str]:
    """An item of a list whose key sits at `depth`: "- " one level in, its keys aligned."""
    prefix = INDENT * (depth + 1) + "- "
    if isinstance(item, Mapping) and item and not isinstance(item, Flow):
        inner = _block_mapping(item, depth + 2)
        return [prefix + inner[0][len(INDENT * (depth + 2)) :], *inner[1:]]
    return _block_value(prefix.rstrip(), item, depth + 1)


def _flow(value: Any) -> str:
    if isinstance(value, Flow):
        value = value.value
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value, flow=True)


def _is_inline_scalar(value: Any) -> bool:
    return not isinstance(value, Mapping | list | tuple | Flow)


def fits_on_one_line(value: Any) -> bool:
    """True when `value` can be a Flow (no text block inside)."""
    if isinstance(value, Flow):
        value = value.value
    if isinstance(value, Mapping):
        return all(fits_on_one_line(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(fits_on_one_line(v) for v in value)
    return True


def flow_width(value: Any) -> int:
    return len(_flow(value))


def _key(key: str) -> str:
    return key if _plain_ok(key, "key") else _quoted(key)


def _scalar(value: Any, flow: bool) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if _reads_back(text, "flow" if flow else "block") != value:
            raise ValueError(f"float {value!r} does not survive YAML; write it as SQL")
        return text
    text = str(value)
    return text if _plain_ok(text, "flow" if flow else "block") else _quoted(text)


def _plain_ok(text: str, context: str) -> bool:
    if not text or text != text.strip() or "\n" in text or text[0] in "-?:,[]{}#&*!|>'\"%@`":
        return False
    if not all(_PRINTABLE.match(ch) for ch in text) or "\t" in text:
        return False
    if text[0].isdigit() or (text[0] in "+." and len(text) > 1):
        return False  # looks like a number (or a date) to some YAML reader
    if text.lower() in {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}:
        return False  # booleans and null in YAML 1.1 or 1.2
    return bool(_reads_back(text, context) == text)


@lru_cache(maxsize=65536)
def _reads_back(text: str, context: str) -> Any:
    """What YAML reads `text` as, written plain in a block value, a flow value, or a key."""
    try:
        if context == "key":
            loaded = yaml.load(f"{text}: x\n", Loader=_LOADER)
            return next(iter(loaded)) if isinstance(loaded, dict) and len(loaded) == 1 else None
        if context == "flow":
            loaded = yaml.load(f"{{k: {text}, z: 1}}\n", Loader=_LOADER)
            return loaded.get("k") if isinstance(loaded, dict) and len(loaded) == 2 else None
        loaded = yaml.load(f"k: {text}\n", Loader=_LOADER)
        return loaded.get("k") if isinstance(loaded, dict) and len(loaded) == 1 else None
    except yaml.YAMLError:
        return None


def _quoted(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif not _PRINTABLE.match(ch) or ch in "\x85\u2028\u2029\ufeff":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                       else f"\\U{code:08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _literal_ok(text: str) -> bool:
    """A `|` block keeps the text exactly: printable, no CR, no tabs where indentation is read."""
    if "\r" in text or not all(_PRINTABLE.match(ch) for ch in text):
        return False
    if any(ch in text for ch in "\x85\u2028\u2029\ufeff"):
        return False
    lines = text.split("\n")
    # A line of only spaces before the first text line would be read as indentation.
    return not any(line.strip() == "" and line for line in lines[: _first_text_line(lines) + 1])


def _first_text_line(lines: list[str]) -> int:
    return next((n for n, line in enumerate(lines) if line.strip()), 0)


def _literal_header(text: str) -> str:
    indicator = ""
    lines = text.split("\n")
    if lines[_first_text_line(lines)].startswith(" "):
        indicator = str(len(INDENT))
    trailing = len(text) - len(text.rstrip("\n"))
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    return f"|{indicator}{chomp}"


def _literal_lines(text: str, depth: int) -> list[str]:
    pad = INDENT * depth
    body = text[:-1] if text.endswith("\n") else text
    return [f"{pad}{line}" if line else "" for line in body.split("\n")]
