"""The decision JSON of a batch line, byte for byte ``orjson.dumps(decision.to_json())``, faster.

The Caprini summary is most of a decision's JSON and the calculator memoises its results, so
the same result object comes back for the same findings: :class:`DecisionDumper` serialises
each result's summary once and splices it in as an ``orjson.Fragment``. Reasons are written as
``Reason.to_json`` writes them, without its defensive copies (orjson writes tuples as arrays)
and reading enum values directly; the plan goes through ``Plan.to_json`` unchanged.

``Decision.to_json`` (domain/decision.py) stays the definition of the JSON. The dumper is
written against the source of the methods it mirrors and checks, at import, a hash of that
source: when anyone changes them, the dumper switches itself off (every decision goes through
``to_json``, counted as ``reference``) until it is brought up to date, and
tests/rules/test_fastpath.py fails to say so. A reason with a clearance, a raised level or a
clearance's restrictions goes through ``Reason.to_json`` (counted as ``reasons_reference``).
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

import orjson

from clotsafe.calculators.base import ScoreResult
from clotsafe.domain.decision import Decision, Reason

Fragment = orjson.Fragment
_dumps = orjson.dumps

#: sha256 of the to_json sources this module mirrors (see module docstring)
MIRRORED = "a147f930becc55032433bd78561dd8c8bc561fdccc419d11c3f144bc8325e404"
#: at most this many score summaries are kept (then they start again)
CACHE_SIZE = 4096


def mirrored_source_hash() -> str:
    """The hash of the mirrored methods as they are now (compare with :data:`MIRRORED`)."""
    parts = (Decision.to_json, Reason.to_json, ScoreResult.summary)
    text = "\n".join(inspect.getsource(f) for f in parts)
    return hashlib.sha256(text.encode()).hexdigest()


UP_TO_DATE = mirrored_source_hash() == MIRRORED


class DecisionDumper:
    """``dump(decision) -> bytes``, equal to ``orjson.dumps(decision.to_json())``."""

    __slots__ = ("_scores", "fast", "reasons_reference", "reference")

    def __init__(self) -> None:
        self._scores: dict[int, tuple[ScoreResult, Any]] = {}
        self.fast = 0
        self.reference = 0
        self.reasons_reference = 0

    def __call__(self, d: Decision) -> bytes:
        if not UP_TO_DATE:
            self.reference += 1
            return _dumps(d.to_json())
        self.fast += 1
        out: dict[str, Any] = {
            "policy_version": d.policy_version,
            "level": d.level._value_,
            "complete": d.complete,
            "pending_questions": d.pending_questions,
            "reasons": list(map(self._reason, d.reasons)),
            "plan": d.plan.to_json(),
            "referral": {"urgency": d.referral._value_},
            "scores": {k: self._score(v) for k, v in d.scores.items()},
            "screened_on": d.screened_on.isoformat(),
            "settings": d.settings_name,
        }
        if d.expired_clearances:
            out["expired_clearances"] = [dict(c) for c in d.expired_clearances]
        if d.unapplied_clearances:
            out["unapplied_clearances"] = [dict(c) for c in d.unapplied_clearances]
        return _dumps(out)

    def _reason(self, r: Reason) -> dict[str, Any]:
        """Reason.to_json without its copies (orjson writes tuples as arrays) and with the
        enum values read directly (Enum.value is a descriptor call)."""
        if r.cleared_by is not None or r.default_level is not None or r.clearance is not None:
            self.reasons_reference += 1
            return r.to_json()
        answers = r.answers
        d = {
            "rule": r.rule,
            "level": r.level._value_,
            "summary": r.summary,
            "sources": r.sources,
            "policy_choice": r.policy_choice,
            "rule_level": r.rule_level._value_,
            "answers": answers if type(answers) is dict else dict(answers),
            "assumptions": r.assumptions,
        }
        if r.policy_note:
            d["policy_note"] = r.policy_note
        return d

    def _score(self, s: Any) -> Any:
        """A score's summary, serialised once per result object (results are memoised)."""
        hit = self._scores.get(id(s))
        if hit is not None and hit[0] is s:
            return hit[1]
        if not isinstance(s, ScoreResult):
            return s.summary()
        frag = Fragment(_dumps(s.summary()))
        _bounded(self._scores)[id(s)] = (s, frag)
        return frag


def _bounded(cache: dict[Any, Any]) -> dict[Any, Any]:
    """The cache, emptied first when full (memory stays flat over any batch)."""
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    return cache
