"""CONTRIBUTING.md's recipes, done once each against the real seams (a plug-in rule, a question,
a calculator, an output format, an input source), so the guide a newcomer follows cannot drift
from the code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from clotsafe.calculators import CalculatorRegistry, DuplicateCalculatorError, builtin_calculators
from clotsafe.calculators.base import Band, Item
from clotsafe.calculators.engine import BandScheme, PointsCalculator
from clotsafe.domain.decision import Decision
from clotsafe.domain.errors import FieldError, IntakeError
from clotsafe.domain.intake import AnswersModel, parse_intake
from clotsafe.domain.questions import QUESTIONS
from clotsafe.domain.regions import GROUPS
from clotsafe.domain.types import Level
from clotsafe.knowledge import RuleInfo
from clotsafe.render import present
from clotsafe.rules import evaluate
from clotsafe.rules.builtin import register
from clotsafe.rules.plan import PlanPart
from clotsafe.rules.registry import Ctx, Firing, RuleRegistry
from clotsafe.rules.screener import Screener, SourceItem

ROOT = Path(__file__).resolve().parents[1]
INTAKE = {"screened_on": "2026-11-30", "answers": {"hormones": "yes"}}


def test_the_guide_names_files_that_exist() -> None:
    """Every file path CONTRIBUTING.md names exists (a renamed module must update the guide)."""
    text = (ROOT / "CONTRIBUTING.md").read_text()
    paths = {p for p in text.split("`") if p.startswith(("src/", "tests/", "docs/", "scripts/"))}
    assert paths, "no paths found"
    missing = [p for p in paths if "<" not in p and not (ROOT / p.split(" ")[0]).exists()]
    assert not missing


def _hormones(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("hormones"):
        return None
    part = PlanPart().cap(GROUPS["legs"], 3)
    return Firing(ctx.used("hormones"), part)


PLUGIN = RuleInfo(
    id="TEST-HORMONES",
    section="recent_events",
    level=Level.ADAPT,
    fires_when="hormones",
    summary="Takes hormones (a plug-in rule written by the contributing guide's test).",
    action="Massage with the plan.",
    sources=("S11",),
    policy_choice=True,
    caps=MappingProxyType({"legs": 3}),
)


def test_add_a_rule_as_a_plug_in() -> None:
    """Recipe "Add a rule": a rule registered with its metadata fires, is explained and joins
    the plan; registering a shipped id again is refused."""
    registry = register(RuleRegistry()).register("TEST-HORMONES", _hormones, ("hormones",), PLUGIN)
    decision = evaluate(parse_intake(INTAKE), rules=registry)
    reason = next(r for r in decision.reasons if r.rule == "TEST-HORMONES")
    assert reason.level is Level.ADAPT and reason.answers == {"hormones": "yes"}
    assert decision.plan.pressure_max["left_calf"] == 3
    assert "TEST-HORMONES" not in evaluate(parse_intake(INTAKE)).fired


def test_add_a_question_reaches_every_surface() -> None:
    """Recipe "Add a question": the bank alone drives the intake model, the client wording and
    the FHIR Questionnaire, so a new `_q(...)` line appears everywhere."""
    from clotsafe.fhir.questionnaire import questionnaire

    ids = [q.id for q in QUESTIONS]
    assert list(AnswersModel.model_fields) == ids
    wording = present.question_words()["question"]
    assert [q for q in ids if q not in wording] == []
    text = json.dumps(questionnaire())
    assert [q for q in ids if f'"linkId": "{q}"' not in text] == []


TOY = PointsCalculator(
    name="toy",
    title="Toy score",
    citation="CONTRIBUTING.md's test",
    sources=(),
    versions=("1",),
    band_schemes=("1",),
    measurements=MappingProxyType({}),
    table=(Item("a", "Item a", 1), Item("b", "Item b", 2)),
    schemes=MappingProxyType(
        {
            "1": BandScheme(
                "1", "Toy", (Band("low", "Low", None, 1), Band("high", "High", 2, None)), ()
            )
        }
    ),
    version_schemes=MappingProxyType({"1": ("1",)}),
)


def test_add_a_calculator() -> None:
    """Recipe "Add a calculator": a points calculator registers beside the shipped five and
    scores with bounds; a second registration of a name is refused."""
    registry = CalculatorRegistry(builtin_calculators().values())
    registry.register(TOY)
    result = registry["toy"].score({"a": True})
    assert (result.lower, result.upper) == (1, 3)
    with pytest.raises(DuplicateCalculatorError):
        registry.register(TOY)


def _render_plain(decision: Decision) -> str:
    """A new output format built only from the presenter."""
    lines = [present.headline(decision), present.action(decision)]
    banner = present.incomplete_banner(decision)
    if banner:
        lines += [banner.title, *banner.questions]
    lines += [f"{r.rule}: {r.summary}" for r in present.reasons(decision)]
    return "\n".join(lines + present.plan_lines(decision))


def test_add_an_output_format() -> None:
    """Recipe "Add an output format": a renderer from the presenter shows the level's words,
    the incomplete banner in plain language, and no question id or JSON."""
    out = _render_plain(evaluate(parse_intake(INTAKE)))
    assert "incomplete" in out.lower()
    assert "rf_" not in out and "{" not in out


def _source() -> Iterator[SourceItem]:
    """A new input source: two intakes and one bad record, each with its identity."""
    yield SourceItem({"row": 1}, parse_intake(INTAKE), provenance={"hormones": ("sheet!B2",)})
    yield SourceItem({"row": 2}, None, IntakeError([FieldError("age", "wrong_type", "bad")]))
    yield SourceItem({"row": 3}, parse_intake({**INTAKE, "answers": {}}))


def test_add_an_input_source() -> None:
    """Recipe "Add an input source": the Screener keeps the source's order, identities and
    provenance, and passes a bad record through as an error without stopping."""
    results: list[Any] = list(Screener().screen(_source()))
    assert [r.identity["row"] for r in results] == [1, 2, 3]
    assert results[0].decision is not None and results[0].provenance["hormones"] == ("sheet!B2",)
    assert results[1].error is not None and results[1].decision is None
    assert results[2].decision is not None and not results[2].decision.complete
