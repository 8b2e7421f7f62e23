"""The Python stage of ``bulk screen``: one patient's resources -> everything written about them.

The same function runs in the main process, in ``--workers`` processes and on Spark's
executors: ``fhir.bulk.source.patient_item`` (the unchanged EHR reader), the Screener (the
unchanged engine), then the output lines. :class:`Outcome` holds only bytes and strings so that
it crosses process and Arrow boundaries as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from clotsafe.domain.decision import Decision
from clotsafe.domain.errors import FieldError
from clotsafe.fhir.bulk.source import PatientGroup, patient_item
from clotsafe.fhir.risk import risk_assessment
from clotsafe.render import present
from clotsafe.rules.fastjson import DecisionDumper
from clotsafe.rules.screener import Result, Screener
from clotsafe.rules.settings import DEFAULT_SETTINGS, Settings

#: the worklist's "shown as" for a patient whose record could not be read
NOT_SCREENED = "not screened: the record could not be read"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One patient, screened: the lines for decisions.ndjson and risk-assessments.ndjson
    (empty when not screened), and ``info`` (JSON) for the worklist and the summary."""

    patient: str
    line: bytes
    risk: bytes
    info: bytes

    def info_json(self) -> dict[str, Any]:
        return dict(orjson.loads(self.info))


class PatientScreener:
    """Reader + engine + output lines, for one screening date and clinic settings."""

    __slots__ = ("at", "dump", "names", "screener")

    def __init__(self, at: date, names: list[str], settings: Settings = DEFAULT_SETTINGS):
        self.at = at
        self.names = names
        self.screener = Screener(settings)
        self.dump = DecisionDumper()

    def screen(self, groups: Iterable[PatientGroup]) -> list[Outcome]:
        return [self.one(g) for g in groups]

    def one(self, group: PatientGroup) -> Outcome:
        not_used: list[FieldError] = []
        item = patient_item(group, self.at, self.names, not_used)
        result = next(self.screener.screen([item], at=self.at))
        ref = f"Patient/{group.patient}"
        if result.decision is None:
            return _error_outcome(ref, result)
        return self._decided(ref, result.decision, result, not_used)

    def _decided(self, ref: str, d: Decision, result: Result, not_used: list[FieldError]
                 ) -> Outcome:  # fmt: skip
        sources = {k: list(v) for k, v in result.provenance.items()}
        # "not_used" only when the record held something the reader could not use
        tail = b',"not_used":' + orjson.dumps([w.to_dict() for w in not_used]) if not_used else b""
        line = b"".join((b'{"patient":', orjson.dumps(ref), b',"decision":', self.dump(d),
                         b',"sources":', orjson.dumps(sources), tail, b"}\n"))  # fmt: skip
        risk = orjson.dumps(risk_assessment(d, patient_ref=ref, sources=sources)) + b"\n"
        return Outcome(ref, line, risk, orjson.dumps(_info(d, not_used)))


def _info(d: Decision, not_used: list[FieldError]) -> dict[str, Any]:
    badge = present.badge(d)
    return {
        "not_used": sorted({w.code for w in not_used}),
        "level": d.level.value,
        "rank": d.level.rank,
        "shown": badge.id,
        "shown_label": badge.label,
        "headline": present.headline(d),
        "reasons": present.reason_summaries(d),
        "fired": [r.rule for r in d.reasons],
        "pending": list(d.pending_questions),
        "complete": d.complete,
        "policy_version": d.policy_version,
    }


def _error_outcome(ref: str, result: Result) -> Outcome:
    errors = result.error_json()["error"]
    line = orjson.dumps({"patient": ref, "error": errors}) + b"\n"
    messages = [f"{e.get('field')}: {e.get('message')}" for e in errors]
    info = {"level": None, "rank": 99, "shown": "not_screened", "shown_label": NOT_SCREENED,
            "headline": NOT_SCREENED, "reasons": messages, "fired": [], "pending": [],
            "complete": False, "policy_version": None}  # fmt: skip
    return Outcome(ref, line, b"", orjson.dumps(info))
