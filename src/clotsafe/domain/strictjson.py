"""JSON decoding that refuses an object naming the same key twice (POLICY 1.1 §8.1, INTAKE.md).

Every JSON parser clotsafe could use (orjson, the standard library, pydantic's jiter) keeps the
*last* of two equal keys, so ``{"rf_breathless": "yes", "rf_breathless": "no"}`` would silently
turn a red flag into a "no". :func:`loads` is the one decoder for JSON from outside: it raises
:class:`JsonInputError` with code ``invalid_json`` (not JSON) or ``duplicate_key`` (one error
per repeated key, ``field`` = the key's path, e.g. ``answers.clots[0].treatment``).

How it stays fast (orjson does the parsing; the check costs about one ``orjson.dumps``):
in JSON, every ``:`` outside a string separates a key from its value, and a ``:`` inside a
string is written literally unless it is the escape ``\\u003a``. So, when the text holds no
such escape, ``raw.count(":")`` equals (number of key/value pairs written) + (colons inside
strings written), and ``orjson.dumps(decoded).count(":")`` equals the same two numbers for the
decoded value. A repeated key is dropped by the parser together with one of its values, so the
second count is then strictly smaller. Equal counts therefore prove that no key repeats; only
when they differ (or the escape occurs, or the value is too deeply nested for ``orjson.dumps``)
does :func:`duplicate_keys` scan the text again, in Python, to find the paths.

Measured with ``.venv/bin/python benchmarks/bench_strictjson.py`` (one core, CPython 3, orjson;
a typical 1.4 KB intake; µs per call, best of 5 runs):

    orjson.loads alone                                   see the script's output in the report
    strictjson.loads (orjson + colon check)
    json.loads(object_pairs_hook=tiny dict check)
    duplicate_keys (slow path, only on failure)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from clotsafe.domain.errors import ClotsafeInputError, FieldError

__all__ = ["MAX_REPORTED", "JsonInputError", "duplicate_keys", "loads"]

#: at most this many repeated keys are reported (each once, by path); one is enough to refuse
MAX_REPORTED = 20

# one JSON token; only ever run on text that orjson has already accepted
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\],:]|[^\s{}\[\],:"]+', re.DOTALL)


class JsonInputError(ClotsafeInputError):
    """Text that is not JSON (``invalid_json``) or names a key twice (``duplicate_key``).

    Callers that want their own error type re-raise with ``exc.errors`` (for example
    ``parse_intake_json`` raises :class:`~clotsafe.domain.errors.IntakeError`)."""


def loads(raw: bytes | str) -> Any:
    """Decode JSON text; refuse it if any object, at any depth, names a key twice."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise JsonInputError([FieldError("", "invalid_json", f"not valid JSON: {exc}")]) from None
    if not _surely_unique(raw, value):
        found = duplicate_keys(raw)
        if found:
            raise JsonInputError([_duplicate(path, key) for path, key in found])
    return value


def duplicate_keys(raw: bytes | str) -> list[tuple[str, str]]:
    """``(path, key)`` of every key named twice in one object (first :data:`MAX_REPORTED`).

    ``path`` is dotted with list indexes (``answers.clots[0].treatment``, ``entry[3].resource
    .code``); keys are compared after decoding escapes, so ``"a\\u0062"`` repeats ``"ab"``.
    ``raw`` must be valid JSON (call after a parser accepted it)."""
    text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8")
    scan = _Scan()
    for match in _TOKEN.finditer(text):
        scan.token(match.group())
        if len(scan.found) >= MAX_REPORTED:
            break
    return scan.found


def _surely_unique(raw: bytes | str, value: Any) -> bool:
    if not isinstance(value, (dict, list)):
        return True
    try:
        written = orjson.dumps(value).count(b":")
    except orjson.JSONEncodeError:  # nested deeper than orjson.dumps allows
        return False
    if isinstance(raw, str):
        return "\\u003a" not in raw and "\\u003A" not in raw and raw.count(":") == written
    return b"\\u003a" not in raw and b"\\u003A" not in raw and raw.count(b":") == written


def _duplicate(path: str, key: str) -> FieldError:
    shown = key if len(key) <= 60 else key[:57] + "..."
    return FieldError(
        path,
        "duplicate_key",
        f"the key {shown!r} is given more than once in the same object; clotsafe never "
        "guesses which one is meant: send it once",
    )


@dataclass(slots=True)
class _Frame:
    path: str
    is_object: bool
    expect_key: bool = True
    key: str = ""
    index: int = 0
    seen: set[str] = field(default_factory=set)

    def child(self) -> str:
        if not self.is_object:
            return f"{self.path}[{self.index}]"
        return f"{self.path}.{self.key}" if self.path else self.key


@dataclass(slots=True)
class _Scan:
    """Walks the tokens with an explicit stack (no recursion limit), tracking paths."""

    stack: list[_Frame] = field(default_factory=list)
    found: list[tuple[str, str]] = field(default_factory=list)

    def token(self, tok: str) -> None:
        first = tok[0]
        if first in "{[":
            path = self.stack[-1].child() if self.stack else ""
            self.stack.append(_Frame(path, first == "{", expect_key=first == "{"))
        elif first in "}]":
            self.stack.pop()
        elif first == ",":
            top = self.stack[-1]
            top.expect_key = top.is_object
            top.index += 1
        elif first == ":":
            self.stack[-1].expect_key = False
        elif first == '"' and self.stack and self.stack[-1].expect_key:
            self._key(self.stack[-1], json.loads(tok))

    def _key(self, top: _Frame, key: str) -> None:
        top.key = key
        if key in top.seen:
            hit = (top.child(), key)
            if hit not in self.found:
                self.found.append(hit)
        top.seen.add(key)
