"""The executor: a Screener runs the rules over a *source* of intakes at a passed-in time.

Following the CQL execution engine (``new Executor(library, codeService, parameters)
.exec(patientSource, executionDateTime)``) the three things are passed in, never found:

* the rules (``rules=``, the rule registry; today the engine's built-in one),
* the clinic settings (``settings=``),
* the time (``at=``; by default each intake's own ``screened_on``).

A *source* is any iterable of :class:`SourceItem`: who the intake is (a line number, a patient
reference, a QuestionnaireResponse id), the validated :class:`Intake` or the input error that
stopped it, and where each answer came from (answer path -> source references; empty for
intake JSON, where the answer *is* the source). The shipped sources: :func:`intake_lines`
(NDJSON, one intake per line) and :func:`intake_json` (one intake JSON) here, and the FHIR
adapters in ``clotsafe.fhir.sources``. A new source (a bulk export, a database) is a generator
of SourceItems; nothing else changes.

The Screener yields one :class:`Result` per item, in the source's order: the identity, the
Decision or the input error, and the provenance, unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from clotsafe.domain.decision import Decision
from clotsafe.domain.errors import ClotsafeInputError
from clotsafe.domain.intake import Intake, parse_intake_json
from clotsafe.knowledge import clearable_rules
from clotsafe.rules.engine import evaluate
from clotsafe.rules.settings import DEFAULT_SETTINGS, Settings

#: answer path (``age``, ``clots[0]``) -> references of the source data it came from
Provenance = Mapping[str, tuple[str, ...]]
#: who an intake is: {"line": 3}, {"patient": "Patient/p1"}, {"questionnaire_response": ...}
Identity = Mapping[str, Any]
#: intake JSON text -> a validated Intake (raises ClotsafeInputError)
Parser = Callable[[bytes], Intake]

NO_PROVENANCE: Provenance = MappingProxyType({})

#: whether the engine takes an explicit rule registry yet (``evaluate(..., rules=...)``)
_ENGINE_TAKES_RULES = "rules" in inspect.signature(evaluate).parameters


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One intake as a source yields it: exactly one of ``intake`` and ``error`` is set."""

    identity: Identity
    intake: Intake | None = None
    error: ClotsafeInputError | None = None
    provenance: Provenance = field(default_factory=lambda: NO_PROVENANCE)


@dataclass(frozen=True, slots=True)
class Result:
    """What the Screener made of one SourceItem: exactly one of ``decision``, ``error``."""

    identity: Identity
    decision: Decision | None = None
    error: ClotsafeInputError | None = None
    provenance: Provenance = field(default_factory=lambda: NO_PROVENANCE)

    def error_json(self) -> dict[str, Any]:
        """The batch error line: the identity, then ``"error"``: the list of problems."""
        if self.error is None:
            raise ValueError("error_json() of a result that has a decision")
        return {**self.identity, "error": self.error.to_dict()["errors"]}


class Screener:
    """Rules + settings, run over a source at a time (see the module docstring)."""

    __slots__ = ("_kwargs", "rules", "settings")

    def __init__(self, settings: Settings = DEFAULT_SETTINGS, *, rules: Any = None) -> None:
        if rules is not None and not _ENGINE_TAKES_RULES:
            raise TypeError(
                "this engine evaluates its built-in rule registry only: evaluate() takes no "
                "rules= yet, so a Screener cannot be given another registry"
            )
        self.settings = settings
        self.rules = rules
        kwargs: dict[str, Any] = {"settings": settings}
        if rules is not None:
            kwargs["rules"] = rules
        self._kwargs = kwargs

    def screen_one(self, intake: Intake, at: date | None = None) -> Decision:
        """The decision for one validated intake (``at``: default its ``screened_on``)."""
        return evaluate(intake, at=at, **self._kwargs)

    def screen(self, source: Iterable[SourceItem], at: date | None = None) -> Iterator[Result]:
        """One Result per SourceItem, in order; input errors pass through as results."""
        kwargs = self._kwargs
        for item in source:
            if item.intake is None:
                yield Result(item.identity, None, item.error, item.provenance)
            else:
                decision = evaluate(item.intake, at=at, **kwargs)
                yield Result(item.identity, decision, None, item.provenance)


# --- sources of intake JSON -----------------------------------------------------------------


def reference_parser(known_rules: Mapping[str, bool] | None = None) -> Parser:
    """The pydantic intake parser (``parse_intake_json``), checking clearances' rule ids
    against ``known_rules`` (default: the policy's rules, ``knowledge.clearable_rules()``)."""
    known = clearable_rules() if known_rules is None else known_rules

    def parse(raw: bytes) -> Intake:
        return parse_intake_json(raw, known_rules=known)

    return parse


def intake_lines(
    lines: Iterable[bytes], *, parse: Parser | None = None, start: int = 1
) -> Iterator[SourceItem]:
    """NDJSON: one intake JSON per line, identity ``{"line": n}`` counted from ``start``."""
    parse = parse or reference_parser()
    for n, line in enumerate(lines, start):
        try:
            intake = parse(line)
        except ClotsafeInputError as exc:
            yield SourceItem({"line": n}, None, exc)
            continue
        yield SourceItem({"line": n}, intake)


def intake_json(
    raw: bytes, *, parse: Parser | None = None, identity: Identity | None = None
) -> Iterator[SourceItem]:
    """One intake JSON document (identity ``{}`` unless given)."""
    parse = parse or reference_parser()
    ident: Identity = {} if identity is None else identity
    try:
        intake = parse(raw)
    except ClotsafeInputError as exc:
        yield SourceItem(ident, None, exc)
        return
    yield SourceItem(ident, intake)
