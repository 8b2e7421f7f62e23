"""JSON decoding that refuses an object naming the same key twice (POLICY 1.1 §8.1, INTAKE.md).

Every JSON parser clotsafe could use (orjson, the standard library, pydantic's jiter) keeps the
*last* of two equal keys, so ``{"rf_breathless": "yes", "rf_breathless": "no"}`` would silently
turn a red flag into a "no". :func:`loads` is the one decoder for JSON from outside: it raises
:class:`JsonInputError` with code ``invalid_json`` (not JSON) or ``duplicate_key`` (one error
per repeated key, ``field`` = the key's path, e.g. ``answers.clots[0].treatment``).

How it stays fast. orjson parses, then writes the value back: ``orjson.dumps(value)`` has one
``:`` per key/value pair plus the colons inside strings (orjson writes a colon as itself). In
the text given, every ``:`` outside a string also separates a key from its value, and a colon
inside a string is written as itself too -- unless it is the escape ``\\u003a``. So, when the
text holds no such escape, ``raw.count(":")`` = pairs written + colons in strings written,
and ``orjson.dumps(value).count(":")`` = the same for what was kept. A repeated key makes the
parser drop at least one pair (with whatever its value held), so the second count is then
strictly smaller: **equal counts prove that no key repeats**, and unequal ones that one does.
Only when the text holds ``\\u003a`` (or nests deeper than ``orjson.dumps`` goes) does the
standard library's C scanner decide instead, with a hook that stops at the first repeated key.
Only when a key repeats does :func:`duplicate_keys` scan the text (in Python, with no
recursion limit) for the paths.

Measured with ``taskset -c 0 .venv/bin/python benchmarks/bench_strictjson.py 1000``
(intakes from benchmarks/gen_intakes.py; CPU time, best of 15 interleaved rounds; two runs
on 2026-11-30 on the shared 2-core build machine, load average 5-6 from other jobs):

    per intake (942 B compact, 1,230 B indent=2)            compact        indented
    orjson.loads alone (the floor)                          4.4-4.5 µs     4.3 µs
    strictjson.loads                                       10.0-10.5 µs    8.6-8.8 µs
    orjson + a Python walk counting pairs (rejected)        9.9-10.1 µs    9.4-9.7 µs
    json.loads(object_pairs_hook=dict-size check)          17.9-18.9 µs   17.2-17.5 µs
    strictjson.loads, a string holding a colon              9.2 µs
    strictjson.loads refusing a repeat (paths found)       73-76 µs
    CDS Hooks body, 67 KB (300 Observations)     orjson 0.42-0.72 ms, strictjson 0.58-0.98 ms,
                                                 stdlib hook 1.4-2.4 ms
    CDS Hooks body, 4.5 MB (20,000 Observations) orjson 123-133 ms, strictjson 127-144 ms;
                                                 refusing a repeat at its very end 0.6-0.8 s

So the check costs 4.5-6 µs per intake here (``orjson.dumps`` + count ~2.5 µs, ``raw.count``
~0.7 µs, calls and the escape test the rest), on a machine where orjson itself takes 4.4 µs.
The pair-counting walk was tried first: no faster on intakes, and FHIR, whose URLs put colons
in strings, always needed a second check after it (on the 67 KB body, timeit: the walk 0.44-
0.71 ms, ``orjson.dumps`` + count 0.11-0.16 ms).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from clotsafe.domain.errors import ClotsafeInputError, FieldError

__all__ = ["MAX_REPORTED", "JsonInputError", "duplicate_keys", "loads", "loads_many"]

#: at most this many repeated keys are reported (each once, by path); one is enough to refuse
MAX_REPORTED = 20

# a string or a structural character of JSON text that a parser has accepted; numbers, true,
# false, null and white space hold none of these characters and are skipped
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\],:]', re.DOTALL)


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
    if (kind is dict or kind is list) and not _surely_unique(raw, value):
        found = duplicate_keys(raw)
        if found:
            raise JsonInputError([_duplicate(path, key) for path, key in found])
    return value


def loads_many(raws: Sequence[bytes | str]) -> list[Any] | None:
    """Decode many JSON texts at once (a bulk export's lines of one patient): their values,
    or None when one of them is not JSON or may name a key twice -- then decode each with
    :func:`loads`, which raises the error that text deserves.

    The module docstring's count, summed: for each text, the colons ``orjson.dumps`` writes of
    its value are at most the colons of the text, and fewer exactly when a key repeats. So the
    texts' colons together equal the colons of their values dumped together exactly when no
    text repeats a key, and one dump and two counts over the lot replace one per text (in
    ``bulk screen``, a third of the cost of decoding each line with :func:`loads`; on this
    machine the lines are ~1 KB, where the fixed costs of a check dominate)."""
    try:
        values = [orjson.loads(raw) for raw in raws]
        text = _joined(raws)
    except (orjson.JSONDecodeError, TypeError):  # TypeError: bytes and str mixed
        return None
    # where the count cannot tell (an escaped colon, nesting too deep to dump): each alone
    return values if _colons_match(text, values) else None


def _joined(raws: Sequence[bytes | str]) -> bytes | str:
    if raws and isinstance(raws[0], str):
        return "".join(raws)  # type: ignore[arg-type]
    return b"".join(raws)  # type: ignore[arg-type]


def duplicate_keys(raw: bytes | str) -> list[tuple[str, str]]:
    """``(path, key)`` of every key named twice in one object (first :data:`MAX_REPORTED`).

    ``path`` is dotted with list indexes (``answers.clots[0].treatment``, ``entry[3].resource
    .code``); keys are compared after decoding escapes, so ``"a\\u0062"`` repeats ``"ab"``.
    ``raw`` must be valid JSON (call after a parser accepted it). Pure Python: for the failure
    path only."""
    text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8")
    found: list[tuple[str, str]] = []
    stack: list[_Frame] = []
    top = _Frame("", is_object=False, expect_key=False)  # the innermost open object or array
    for tok in _TOKEN.findall(text):
        first = tok[0]
        if first == '"':
            if top.expect_key:
                top.key = key = json.loads(tok) if "\\" in tok else tok[1:-1]
                if key in top.seen and (hit := (top.child(), key)) not in found:
                    found.append(hit)
                    if len(found) == MAX_REPORTED:
                        break
                top.seen.add(key)
        elif first == ",":
            top.expect_key = top.is_object
            top.index += 1
        elif first == ":":
            top.expect_key = False
        elif first == "{" or first == "[":
            stack.append(top)
            top = _Frame(top.child() if len(stack) > 1 else "", first == "{", first == "{")
        else:
            top = stack.pop()
    return found


def _surely_unique(raw: bytes | str, value: dict[str, Any] | list[Any]) -> bool:
    """True when no object of ``value`` lost a repeated key; False when one may have (then
    :func:`duplicate_keys` decides and names the paths). The argument is in the module
    docstring."""
    counted = _colons_match(raw, value)
    if counted is not None:
        return counted
    try:
        json.loads(raw, object_pairs_hook=_unique_pairs)
    except (_Repeated, RecursionError, ValueError):
        return False
    return True


def _colons_match(raw: bytes | str, value: Any) -> bool | None:
    """Whether ``value`` dumped has as many colons as ``raw`` (the module docstring's count),
    or None when the count cannot tell: ``raw`` holds an escaped colon, or ``value`` nests
    deeper than ``orjson.dumps`` goes."""
    if _has_escaped_colon(raw):
        return None
    try:
        return orjson.dumps(value).count(b":") == _colons(raw)
    except orjson.JSONEncodeError:
        return None


def _colons(raw: bytes | str) -> int:
    return raw.count(":") if isinstance(raw, str) else raw.count(b":")


def _has_escaped_colon(raw: bytes | str) -> bool:
    if isinstance(raw, str):
        return "\\" in raw and ("\\u003a" in raw or "\\u003A" in raw)
    return b"\\" in raw and (b"\\u003a" in raw or b"\\u003A" in raw)


class _Repeated(Exception):
    """Raised inside the standard library's decoder at the first repeated key."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Repeated
    return obj


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
