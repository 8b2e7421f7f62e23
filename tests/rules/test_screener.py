"""The Screener seam (rules, a source of intakes, the time, all passed in) and its sources."""

from __future__ import annotations

import json
from datetime import date

import orjson
import pytest
from tests.helpers import intake

from clotsafe.domain.errors import ClotsafeInputError
from clotsafe.domain.intake import parse_intake
from clotsafe.rules import evaluate, load_settings
from clotsafe.rules import screener as screener_mod
from clotsafe.rules.screener import Screener, SourceItem, intake_json, intake_lines


def _line(answers: dict[str, object] | None = None) -> bytes:
    return json.dumps(intake(answers)).encode()


def test_results_keep_source_order_identity_and_errors() -> None:
    """One result per line, in order: a bad line is an error result naming its line, and the
    lines after it are still screened."""
    lines = [_line({"rf_faint": "yes"}), b"{not json", _line({"age": "old"}), _line()]
    results = list(Screener().screen(intake_lines(lines)))
    assert [r.identity for r in results] == [{"line": n} for n in (1, 2, 3, 4)]
    assert results[0].decision is not None and results[0].decision.level.value == "emergency"
    assert results[1].error is not None and results[1].error.errors[0].code == "invalid_json"
    assert results[2].error is not None and results[2].error.errors[0].field == "answers.age"
    assert results[3].decision is not None and results[3].decision.level.value == "standard"
    assert results[2].error_json() == {"line": 3, "error": results[2].error.to_dict()["errors"]}


def test_screen_one_is_evaluate_with_the_screeners_settings() -> None:
    """screen_one gives exactly evaluate()'s decision under the Screener's clinic settings."""
    settings = load_settings('[rules.MED-ANTICOAG]\nlevel = "clearance_required"\n', "strict")
    one = parse_intake(intake({"anticoagulant": "yes", "rf_unusual_bleeding": "no"}))
    got = Screener(settings).screen_one(one)
    assert got == evaluate(one, settings=settings)
    assert got.level.value == "clearance_required" and got.settings_name == "strict"


def test_the_time_is_passed_in() -> None:
    """``at`` overrides each intake's screened_on: a clot active on the screening date is
    history 91 days later (the clock is never read)."""
    clot = {"clot_ever": "yes", "clots": [{"kind": "dvt", "site": "left_calf",
            "diagnosed_on": "2026-11-01", "treatment": "ongoing"}]}  # fmt: skip
    src = list(intake_lines([_line(clot)]))
    now = next(Screener().screen(src))
    later = next(Screener().screen(src, at=date(2027, 1, 31)))
    assert now.decision is not None and "CLOT-ACTIVE" in now.decision.fired
    assert later.decision is not None and "CLOT-HISTORY" in later.decision.fired
    assert later.decision.screened_on == date(2027, 1, 31)


def test_single_intake_json_source() -> None:
    """A single intake JSON is a source of one item (identity empty unless given)."""
    (item,) = intake_json(_line(), identity={"client": "c-7"})
    assert item.identity == {"client": "c-7"} and item.intake is not None
    (bad,) = intake_json(b"[]")
    assert bad.intake is None and isinstance(bad.error, ClotsafeInputError)


def test_any_iterable_of_source_items_is_a_source() -> None:
    """A new source is a generator of SourceItems: provenance passes through unchanged."""
    one = parse_intake(intake({"age": 70}))
    src = [SourceItem({"patient": "Patient/x"}, one, None, {"age": ("Patient/x",)})]
    (r,) = Screener().screen(src)
    assert r.identity == {"patient": "Patient/x"} and r.provenance == {"age": ("Patient/x",)}
    assert r.decision == evaluate(one)


def test_rules_are_passed_through_only_when_the_engine_takes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Until evaluate() takes a registry, a Screener given one refuses it (never ignores it);
    once it does, the registry is passed to every evaluation."""
    monkeypatch.setattr(screener_mod, "_ENGINE_TAKES_RULES", False)
    with pytest.raises(TypeError, match="rules="):
        Screener(rules=object())
    seen: list[object] = []

    def fake_evaluate(intake: object, *, at: object = None, settings: object, rules: object):  # type: ignore[no-untyped-def]
        seen.append(rules)
        return evaluate(intake, at=at, settings=settings)  # type: ignore[arg-type]

    monkeypatch.setattr(screener_mod, "_ENGINE_TAKES_RULES", True)
    monkeypatch.setattr(screener_mod, "evaluate", fake_evaluate)
    registry = object()
    list(Screener(rules=registry).screen(intake_lines([_line()])))
    assert seen == [registry]


# --- FHIR sources -----------------------------------------------------------------------------

fhir_builders = pytest.importorskip("tests.fhir.fhir_builders", reason="needs the fhir extra")


def test_questionnaire_response_source_keeps_item_paths() -> None:
    """A QuestionnaireResponse source: identity is the resource, provenance the item paths."""
    from clotsafe.fhir.sources import fhir_source

    fb = fhir_builders
    qr = fb.complete_response(fb.tri("rf_faint", "yes"))
    qr["id"] = "qr1"
    (item,) = fhir_source(qr)
    assert item.identity == {"questionnaire_response": "QuestionnaireResponse/qr1"}
    assert item.provenance["rf_faint"] == ("item[17]",)
    (r,) = Screener().screen([item])
    assert r.decision is not None and r.decision.level.value == "emergency"


def test_ehr_source_keeps_resource_references_and_needs_a_date() -> None:
    """An EHR source: each derived answer keeps the resources it came from; without the
    screening date the source yields an error item, not an exception."""
    from clotsafe.fhir.sources import fhir_source

    fb = fhir_builders
    b = fb.bundle(fb.patient(), fb.med_request("1364430"))  # apixaban
    (item,) = fhir_source(b, fb.AT)
    assert item.intake is not None and item.identity == {"patient": "Patient/p1"}
    assert any("MedicationRequest/m1" in refs for refs in item.provenance.values())
    (r,) = Screener().screen([item])
    assert r.decision is not None and "MED-ANTICOAG" in r.decision.fired
    (no_date,) = fhir_source(b)
    assert no_date.error is not None and no_date.error.errors[0].code == "missing_date"


def test_cli_batch_output_is_the_reference_decision_json() -> None:
    """The Screener-routed batch writes orjson.dumps(evaluate(intake).to_json()) per line."""
    import io

    from clotsafe.cli import run_batch
    from clotsafe.rules import DEFAULT_SETTINGS

    lines = [_line({"rf_faint": "unsure"}), _line({"varicose": "yes"})]
    out = io.BytesIO()
    assert run_batch(io.BytesIO(b"\n".join(lines) + b"\n"), out, DEFAULT_SETTINGS,
                     progress=False) == 0  # fmt: skip
    want = [orjson.dumps(evaluate(parse_intake(json.loads(x))).to_json()) for x in lines]
    assert out.getvalue().splitlines() == want
