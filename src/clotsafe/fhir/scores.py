"""Clinical scores from EHR findings: Wells DVT, Wells PE, PERC, Padua (FACTS.md §1-3, §5.1).

A score is shown when the record supports it: at least one of its items (or a measurement that
decides an item) is known. Unknown items are listed and bound the score (POLICY.md §4). PERC is
never a reason to clear anyone: its result always carries that warning (FACTS.md §3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import clotsafe.calculators  # noqa: F401  (registers the shipped calculators)
from clotsafe.calculators.base import ScoreResult, builtin_calculators

EHR_SCORES = ("wells_dvt", "wells_pe", "perc", "padua")
PERC_WARNING = ("PERC only applies when a clinician judges the pre-test probability of PE low "
                "(<15%); it never clears a client who has symptoms and is not a reason to "
                "massage.")  # fmt: skip


@dataclass(frozen=True, slots=True)
class EhrScore:
    result: ScoreResult
    #: item id or measurement -> references of the resources that decided it
    sources: Mapping[str, list[str]]

    def to_dict(self) -> dict[str, Any]:
        d = self.result.to_dict()
        d["sources"] = {k: list(v) for k, v in self.sources.items()}
        if self.result.calculator == "perc":
            d["warning"] = PERC_WARNING
        return d


def _valid_keys(name: str) -> set[str]:
    calc = builtin_calculators()[name]
    return {it.id for it in calc.items()} | set(calc.measurements)


def score_findings(findings: Mapping[str, Any], sources: Mapping[str, list[str]]
                   ) -> dict[str, EhrScore]:  # fmt: skip
    """Every EHR score the findings support, by calculator name."""
    out: dict[str, EhrScore] = {}
    for name in EHR_SCORES:
        if name not in builtin_calculators():
            continue
        keys = _valid_keys(name)
        given = {k: v for k, v in findings.items() if k in keys}
        if not given:
            continue
        result = builtin_calculators()[name].score(given)
        out[name] = EhrScore(result, {k: list(sources.get(k, ())) for k in given})
    return out
