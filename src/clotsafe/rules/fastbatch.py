"""NDJSON batches through the Screener: the fast path, counters, and worker processes.

``screen_ndjson(lines, settings, workers=N)`` yields the output in blocks, in input order: one
decision JSON (or ``{"line": n, "error": [...]}``) per input line. The fast path is the fast
intake validator (``domain.fastintake``), the compiled evaluator (``rules.fastrules``) and, for
what that one declines, the Screener's ``evaluate`` with the decision dumper
(``rules.fastjson``). What the fast path does not take (a line with a problem, a duplicate key,
an explicit null; every intake while the compiled evaluator is out of date with the rules; a
reason with a clearance in the dumper) goes through the reference code and is counted in
:class:`BatchStats`.

The compiled evaluator is ``rules/fastrules.py`` as Python, or the same source compiled with mypyc
(``benchmarks/build_compiled.py`` builds ``rules/_fastrules_c`` and ``calculators/_caprini_fast_c``
beside the sources, when mypyc and a C compiler are there): :func:`evaluator_class` takes the
compiled one only when it was built from the sources as they are now (an edit switches it off
until the next build) and ``CLOTSAFE_PURE_PYTHON`` is not set; ``native`` counts the intakes it
decided.

With ``workers > 1`` the lines go in blocks of ``chunk`` to a pool of processes; at most
``2 × workers`` blocks are in flight, so memory stays flat however long the input is, and the
blocks come back in input order.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from datetime import date
from importlib import import_module, resources
from itertools import islice
from multiprocessing.pool import AsyncResult
from typing import Any

import orjson

from clotsafe.domain.decision import Decision
from clotsafe.domain.errors import ClotsafeInputError
from clotsafe.domain.fastintake import FastParser
from clotsafe.knowledge import clearable_rules
from clotsafe.rules.fastjson import DecisionDumper
from clotsafe.rules.fastrules import FastEvaluator
from clotsafe.rules.screener import Result, Screener, reference_parser
from clotsafe.rules.settings import Settings

#: lines per block handed to a worker (and per counter update)
CHUNK = 500

#: the sources the compiled evaluator is built from: (package, file), in build order
COMPILED_SOURCES = (
    ("clotsafe.calculators", "caprini_fast.py"),
    ("clotsafe.rules", "fastrules.py"),
)
#: the compiled modules (benchmarks/build_compiled.py), the evaluator's last
COMPILED_MODULES = ("clotsafe.calculators._caprini_fast_c", "clotsafe.rules._fastrules_c")


def sources_hash() -> str:
    """sha256 of the compiled evaluator's sources as they are now (a build records it)."""
    h = hashlib.sha256()
    for package, name in COMPILED_SOURCES:
        h.update(resources.files(package).joinpath(name).read_bytes())
    return h.hexdigest()


def evaluator_class() -> type[FastEvaluator]:
    """The mypyc-compiled FastEvaluator if it is built from the current sources (and
    ``CLOTSAFE_PURE_PYTHON`` is unset), else the Python one: the same code either way."""
    if os.environ.get("CLOTSAFE_PURE_PYTHON"):
        return FastEvaluator
    try:
        modules = [import_module(m) for m in COMPILED_MODULES]
    except ImportError:
        return FastEvaluator  # not built (no mypyc or no C compiler): pure Python
    current = sources_hash()
    if any(getattr(m, "COMPILED_FROM", None) != current for m in modules):
        return FastEvaluator  # built from other sources: stale until the next build
    cls: type[FastEvaluator] = modules[-1].FastEvaluator
    return cls


def is_native(cls: type[Any]) -> bool:
    """True for the compiled evaluator."""
    return cls is not FastEvaluator


@dataclass(slots=True)
class BatchStats:
    """How many lines went which way (``clotsafe screen --batch --stats`` prints these)."""

    intakes: int = 0
    failed: int = 0
    #: lines validated by the fast validator / handed to the pydantic parser
    parsed_fast: int = 0
    parsed_reference: int = 0
    #: intakes decided by the compiled evaluator / by the rules as written (evaluate)
    compiled: int = 0
    evaluated: int = 0
    #: of those evaluated: decisions written by the fast dumper / through Decision.to_json
    dumped_fast: int = 0
    dumped_reference: int = 0
    #: reasons (with a clearance or a raised level) written through Reason.to_json
    reasons_reference: int = 0
    #: of the intakes the compiled evaluator decided: by its mypyc-compiled build
    native: int = 0

    def add(self, other: BatchStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def to_json(self) -> dict[str, int]:
        return asdict(self)


class LineScreener:
    """Screens blocks of NDJSON lines; ``fast=False`` is the reference path throughout.

    On the fast path each validated intake goes first to the compiled evaluator
    (``rules.fastrules.FastEvaluator``: the policy as straight-line code, byte-identical to the
    reference); when it declines (it was written against other reference sources, or another
    rule registry), the Screener evaluates the intake with the rules as written and the
    decision dumper writes it. Both are counted.
    """

    def __init__(self, settings: Settings, *, fast: bool = True, at: date | None = None) -> None:
        known = clearable_rules()
        self.screener = Screener(settings)
        self.at = at
        self.fast = fast
        self.parser = FastParser(known) if fast else None
        self.dumper = DecisionDumper() if fast else None
        evaluator = evaluator_class()
        self.native = is_native(evaluator)
        self.compiled = evaluator(settings) if fast else None
        self._parse = self.parser or reference_parser(known)
        self._dump: Callable[[Decision], bytes] = self.dumper or _reference_dump

    def block(self, start: int, lines: list[bytes]) -> tuple[bytes, BatchStats]:
        """The output lines (newline-terminated) of ``lines``, numbered from ``start``."""
        before = self.counts()
        out: list[bytes] = []
        failed, evaluated = self._screen(start, lines, out)
        out.append(b"")
        stats = self.counts()
        for f in fields(stats):
            setattr(stats, f.name, getattr(stats, f.name) - getattr(before, f.name))
        stats.intakes, stats.failed = len(lines), failed
        stats.compiled, stats.evaluated = len(lines) - failed - evaluated, evaluated
        if self.native and self.compiled is not None:
            stats.native = stats.compiled
        if self.parser is None:  # the reference path: every line parsed and dumped by it
            stats.parsed_reference = len(lines)
        if self.dumper is None:
            stats.dumped_reference = evaluated
        return b"\n".join(out), stats

    def _screen(self, start: int, lines: list[bytes], out: list[bytes]) -> tuple[int, int]:
        """Append the output of every line to ``out``; (lines failed, intakes evaluated)."""
        failed = evaluated = 0
        compiled, parser = self.compiled, self.parser
        if compiled is None or parser is None or not compiled.enabled:
            for n, line in enumerate(lines, start):
                text, fail, ev = self._line(n, line, False)
                failed, evaluated = failed + fail, evaluated + ev
                out.append(text)
            return failed, evaluated
        # the hot loop: a line the fast validator takes goes to the compiled evaluator as its
        # answers dict, without an Intake; any other line goes the general way (_line)
        try_answers, decide = parser.try_answers, compiled.decide_answers_json
        at, add, general = self.at, out.append, self._line
        for n, line in enumerate(lines, start):
            parts = try_answers(line)
            got = None if parts is None else decide(*parts, at)
            if got is None:
                got, fail, ev = general(n, line, parts is not None)
                failed, evaluated = failed + fail, evaluated + ev
            else:
                parser.fast += 1
            add(got)
        return failed, evaluated

    def _line(self, n: int, line: bytes, validated: bool) -> tuple[bytes, int, int]:
        """(output, failed, evaluated) of one line the hot loop did not finish: parsed by the
        fast parser (which hands what it does not take to the reference parser), decided by
        the compiled evaluator, else evaluated with the rules as written and dumped.
        ``validated``: the fast validator took it (the compiled evaluator declined it)."""
        try:
            intake = self._parse(line)
        except ClotsafeInputError as exc:
            return orjson.dumps(Result({"line": n}, None, exc).error_json()), 1, 0
        compiled = self.compiled
        if compiled is not None and not validated:
            got = compiled.decide_json(intake, self.at)
            if got is not None:
                return got, 0, 0
        return self._dump(self.screener.screen_one(intake, self.at)), 0, 1

    def counts(self) -> BatchStats:
        """The running counters of the fast parser and dumper (the rest is counted per block)."""
        p, d = self.parser, self.dumper
        stats = BatchStats()
        if p is not None:
            stats.parsed_fast, stats.parsed_reference = p.fast, p.fallback
        if d is not None:
            stats.dumped_fast, stats.dumped_reference = d.fast, d.reference
            stats.reasons_reference = d.reasons_reference
        return stats


def _reference_dump(decision: Decision) -> bytes:
    return orjson.dumps(decision.to_json())


def screen_ndjson(
    lines: Iterable[bytes],
    settings: Settings,
    *,
    workers: int = 1,
    fast: bool = True,
    at: date | None = None,
    chunk: int = CHUNK,
) -> Iterator[tuple[bytes, BatchStats]]:
    """(output block, its counters) for every ``chunk`` input lines, in input order."""
    blocks = _blocks(lines, chunk)
    if workers <= 1:
        screener = LineScreener(settings, fast=fast, at=at)
        for start, block in blocks:
            yield screener.block(start, block)
        return
    yield from _parallel(blocks, workers, (settings, fast, at))


def _blocks(lines: Iterable[bytes], chunk: int) -> Iterator[tuple[int, list[bytes]]]:
    it = iter(lines)
    start = 1
    while block := list(islice(it, chunk)):
        yield start, block
        start += len(block)


_WORKER: LineScreener | None = None


def _init(settings: Settings, fast: bool, at: date | None) -> None:
    global _WORKER
    _WORKER = LineScreener(settings, fast=fast, at=at)


def _work(start: int, block: list[bytes]) -> tuple[bytes, BatchStats]:
    if _WORKER is None:
        raise RuntimeError("a batch worker ran before its initializer")
    return _WORKER.block(start, block)


def _parallel(
    blocks: Iterator[tuple[int, list[bytes]]], workers: int, init: tuple[Any, ...]
) -> Iterator[tuple[bytes, BatchStats]]:
    """Blocks to a process pool, at most 2 × workers in flight, results in input order."""
    with multiprocessing.get_context().Pool(workers, initializer=_init, initargs=init) as pool:
        pending: deque[AsyncResult[tuple[bytes, BatchStats]]] = deque()
        for start, block in blocks:
            pending.append(pool.apply_async(_work, (start, block)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
