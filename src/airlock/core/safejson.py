"""A JSON decoder for untrusted input: bounded size, depth and count, no duplicate keys.

Strings may not hold NUL (PostgreSQL refuses it in text) or lone surrogates (they cannot be
encoded to UTF-8); numbers must be finite and integers fit in 64 bits (no column is wider,
and Python refuses to convert integers of more than 4,300 digits). Every refusal names where
in the document it is (`body.items[3].name`), so the caller can be told what to fix.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Final

INT64_MAX: Final = 2**63 - 1
INT64_MIN: Final = -(2**63)
# Longer literals are refused before int() is called: its cost grows with the square of the
# length, and over 4,300 digits it raises ValueError.
_MAX_INT_DIGITS: Final = 20
_STRUCTURE = re.compile(r'[\[\]{}"\\]')


@dataclass(frozen=True)
class Limits:
    """How much untrusted JSON is accepted."""

    max_bytes: int = 2 * 1024 * 1024
    max_depth: int = 64
    max_values: int = 200_000


DEFAULT_LIMITS: Final = Limits()


class JSONRefused(ValueError):
    """The document breaks a rule; path names where, rule which, message what."""

    def __init__(self, path: str, rule: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.rule = rule
        self.message = message

    def as_error(self) -> dict[str, str]:
        """The refusal in the shape of the API's validation errors."""
        return {"path": self.path, "rule": self.rule, "message": self.message}


class _Duplicates(dict[str, Any]):
    """An object whose source repeated keys; the walk reports the first repeat."""

    repeated: str = ""


class _Refused:
    """A number the decoder must not convert; the walk reports it with its path."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        self.message = message


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            dup = _Duplicates(out)
            dup.repeated = key
            return dup
        out[key] = value
    return out


def _int(text: str) -> int | _Refused:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        return _Refused("int_range", f"integer of {len(text)} digits is out of range")
    return int(text)


def _constant(name: str) -> _Refused:
    return _Refused("number", f"{name} is not a JSON number")


def nesting_exceeds(text: str, limit: int) -> bool:
    """Tell whether brackets nest deeper than limit, in one linear pass that skips strings."""
    # Checked before json.loads because the decoder recurses once per level.
    depth = 0
    in_string = False
    skip_until = -1
    for match in _STRUCTURE.finditer(text):
        i = match.start()
        if i < skip_until:
            continue
        char = match.group()
        if in_string:
            if char == "\\":
                skip_until = i + 2
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def text_problem(value: str) -> str:
    """Why a string may not be stored (a NUL, a lone surrogate), or ''."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate (not valid Unicode text)"
    return ""


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"


def _check(doc: Any, where: str, limits: Limits) -> None:
    stack: list[tuple[str, Any]] = [(where, doc)]
    count = 0
    while stack:
        path, node = stack.pop()
        count += 1
        if count > limits.max_values:
            raise JSONRefused(where, "max_values", f"holds over {limits.max_values:,} values")
        if isinstance(node, str):
            problem = text_problem(node)
            if problem:
                raise JSONRefused(path, "text", problem)
        elif isinstance(node, bool) or node is None:
            continue
        elif isinstance(node, int):
            if not INT64_MIN <= node <= INT64_MAX:
                raise JSONRefused(path, "int_range", "integer out of the 64-bit range")
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise JSONRefused(path, "number", "number out of range")
        elif isinstance(node, _Refused):
            raise JSONRefused(path, node.rule, node.message)
        elif isinstance(node, dict):
            if isinstance(node, _Duplicates):
                raise JSONRefused(path, "duplicate_key", f"the key {node.repeated!r} repeats")
            for key, value in node.items():
                problem = text_problem(key)
                if problem:
                    raise JSONRefused(path, "text", f"a key {problem}")
                stack.append((_join(path, key), value))
        elif isinstance(node, list):
            stack.extend((_join(path, i), v) for i, v in enumerate(node))


def loads(raw: bytes | str, *, where: str = "body", limits: Limits = DEFAULT_LIMITS) -> Any:
    """Decode untrusted JSON, or raise JSONRefused naming the place and the rule broken."""
    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > limits.max_bytes:
        message = f"is {size:,} bytes, over the limit of {limits.max_bytes:,}"
        raise JSONRefused(where, "max_bytes", message)
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONRefused(where, "json", f"is not UTF-8 (byte {exc.start})") from None
    else:
        text = raw
    if nesting_exceeds(text, limits.max_depth):
        message = f"nests deeper than the limit of {limits.max_depth} levels"
        raise JSONRefused(where, "max_depth", message)
    try:
        doc = json.loads(text, object_pairs_hook=_pairs, parse_int=_int, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        message = f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        raise JSONRefused(where, "json", message) from None
    except (ValueError, RecursionError) as exc:  # belt and braces: the checks above prevent it
        raise JSONRefused(where, "json", f"is not valid JSON ({type(exc).__name__})") from None
    _check(doc, where, limits)
    return doc
