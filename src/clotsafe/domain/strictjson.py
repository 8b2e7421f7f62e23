"""JSON decoding that refuses an object naming the same key twice (POLICY 1.1 §8.1, INTAKE.md).

Every JSON parser clotsafe could use (orjson, the standard library, pydantic's jiter) keeps the
*last* of two equal keys, so ``{"rf_breathless": "yes", "rf_breathless": "no"}`` would silently
turn a red flag into a "no". :func:`loads` is the one decoder for JSON from outside: it raises
:class:`JsonInputError` with code ``invalid_json`` (not JSON) or ``duplicate_key`` (one error
per repeated key, ``field`` = the key's path, e.g. ``answers.clots[0].treatment``).

How it stays fast (orjson parses; the check is a byte count and a walk over the containers):
in JSON text every ``:`` outside a string separates a key from its value, so
``raw.count(":")`` = (key/value pairs written) + (colons written inside strings). A repeated
key makes the parser drop at least one pair, so the pairs in the decoded value are then
strictly fewer than the pairs written. Hence ``raw.count(":") == pairs in the decoded value``
proves that no key repeats (and that no string holds a colon). Only when the two differ --
a repeated key, or a string with a colon (a FHIR URL, a note "10:30") -- does the standard
library's C scanner decode the text again with a hook that stops at the first repeated key;
and only when there is one does :func:`duplicate_keys` scan the text in Python for the paths.

Measured with ``taskset -c 0 .venv/bin/python benchmarks/bench_strictjson.py`` (2,000 intakes
from benchmarks/gen_intakes.py; µs per intake, best of 5 rounds; 2026-11-30 on the shared
2-core build machine, load average 1.7, with other engineers' jobs running):

    what, per intake                               compact 941 B   indented 1,228 B
    orjson.loads alone (the floor)                      7.5             7.3
    strictjson.loads (orjson + count + walk)           13.9            14.2
    json.loads(object_pairs_hook=dict-size check)      29.6            29.9
    strictjson.loads, a string holds a colon           25.2
    strictjson.loads refusing a repeated answer       242
    duplicate_keys alone (the Python path finder)     448             198

So the check costs 4-6.5 µs here on top of orjson (runs vary by ±30 %), on a machine where
orjson itself takes 7 µs for what the batch budget counts at 2-5 µs; ``raw.count`` is ~1 µs
of it and the walk ~3-4 µs. ``orjson.dumps(value).count(":")`` was tried instead of the walk and
costs more (~11 µs here). The exact check (~+18 µs) runs only for text with a colon in a
string, and the path finder only for text that does repeat a key.
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
    kind = type(value)
    if (kind is dict or kind is list) and _colons(raw) != _pair_count(value):
        _refuse_repeats(raw)
    return value


def duplicate_keys(raw: bytes | str) -> list[tuple[str, str]]:
    """``(path, key)`` of every key named twice in one object (first :data:`MAX_REPORTED`).

    ``path`` is dotted with list indexes (``answers.clots[0].treatment``, ``entry[3].resource
    .code``); keys are compared after decoding escapes, so ``"a\\u0062"`` repeats ``"ab"``.
    ``raw`` must be valid JSON (call after a parser accepted it). Pure Python: for the failure
    path only."""
    text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8")
    scan = _Scan()
    for match in _TOKEN.finditer(text):
        scan.token(match.group())
        if len(scan.found) >= MAX_REPORTED:
            break
    return scan.found


def _colons(raw: bytes | str) -> int:
    return raw.count(":") if isinstance(raw, str) else raw.count(b":")


def _pair_count(value: dict[str, Any] | list[Any]) -> int:
    """Key/value pairs in all objects of a decoded value (iterative: no recursion limit)."""
    count = 0
    stack: list[Any] = [value]
    push, pop = stack.append, stack.pop
    while stack:
        node = pop()
        if type(node) is dict:
            count += len(node)
            node = node.values()
        for item in node:
            kind = type(item)
            if kind is dict or kind is list:
                push(item)
    return count


class _Repeated(Exception):
    """Raised inside the standard library's decoder at the first repeated key."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Repeated
    return obj


def _refuse_repeats(raw: bytes | str) -> None:
    """Colons inside strings, or a repeated key: decide exactly, and name the paths if so."""
    try:
        json.loads(raw, object_pairs_hook=_unique_pairs)
    except (_Repeated, RecursionError, ValueError):
        # a repeat, or text the C scanner will not take (too deep): the scan below decides
        found = duplicate_keys(raw)
        if found:
            raise JsonInputError([_duplicate(path, key) for path, key in found]) from None


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
