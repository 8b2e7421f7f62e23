"""The command line as a therapist or an integrator uses it (docs/cli.md)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from clotsafe.cli import main
from tests.helpers import intake

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dvt-30-days.json"


def _run(*args: str, input: str | bytes | None = None) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args), input=input)
    return r.exit_code, r.stdout, r.stderr


def test_screen_text_summary() -> None:
    """The text summary leads with the level and lists reasons and the plan by region."""
    code, out, _ = _run("screen", str(EXAMPLE))
    assert code == 0
    assert out.startswith("LEVEL: CLEARANCE REQUIRED")
    assert "CLOT-ACTIVE" in out and "do not work: Left calf or shin, Left foot" in out


def test_screen_json_from_stdin() -> None:
    """`-` reads standard input; JSON output is the decision JSON."""
    code, out, _ = _run("screen", "-", "--format", "json", input=EXAMPLE.read_bytes())
    assert code == 0
    assert json.loads(out)["level"] == "clearance_required"


def test_screen_markdown() -> None:
    """Markdown output has the reasons table (CDS Hooks cards and letters reuse it)."""
    code, out, _ = _run("screen", str(EXAMPLE), "--format", "markdown")
    assert code == 0 and "| `CLOT-ACTIVE` |" in out


def test_incomplete_is_never_a_green_light() -> None:
    """An incomplete screening says so before the level."""
    obj = intake()
    del obj["answers"]["rf_faint"]
    code, out, _ = _run("screen", "-", input=json.dumps(obj))
    assert code == 0
    assert out.splitlines()[0].startswith("!! SCREENING INCOMPLETE")
    assert "Have you fainted" in out and "rf_faint" not in out  # the question, in words


def test_bad_intake_exits_1_naming_the_field() -> None:
    """A malformed intake prints the field and exits 1."""
    code, _, err = _run("screen", "-", input=json.dumps(intake({"rf_faint": "y"})))
    assert code == 1
    assert "answers.rf_faint" in err


def test_settings_file_applied_and_weaker_rejected(tmp_path: Path) -> None:
    """--settings applies a stricter clinic policy and refuses a weaker one."""
    strict = tmp_path / "strict.toml"
    strict.write_text('[rules.MED-ANTICOAG]\nlevel = "clearance_required"\n')
    obj = json.dumps(intake({"anticoagulant": "yes", "rf_unusual_bleeding": "no"}))
    code, out, _ = _run("screen", "-", "--format", "json", "--settings", str(strict), input=obj)
    assert code == 0 and json.loads(out)["level"] == "clearance_required"
    weak = tmp_path / "weak.toml"
    weak.write_text('[rules.CLOT-ACTIVE]\nlevel = "standard"\n')
    code, _, err = _run("screen", "-", "--settings", str(weak), input=obj)
    assert code == 1 and "rules.CLOT-ACTIVE.level" in err


def test_batch_keeps_order_and_reports_bad_lines(tmp_path: Path) -> None:
    """Batch: one decision per line in order; a bad line gives {"line": N, "error"} and exit 1."""
    good = json.dumps(intake())
    lines = [good, "{not json", json.dumps(intake({"age": "old"})), good]
    src = tmp_path / "in.ndjson"
    src.write_text("\n".join(lines) + "\n")
    code, out, _ = _run("screen", "--batch", str(src))
    rows = [json.loads(x) for x in out.splitlines()]
    assert code == 1 and len(rows) == 4
    assert rows[0]["level"] == "standard" and rows[3]["level"] == "standard"
    assert rows[1]["line"] == 2 and rows[1]["error"][0]["code"] == "invalid_json"
    assert rows[2]["line"] == 3 and rows[2]["error"][0]["field"] == "answers.age"


def test_batch_all_good_exits_0(tmp_path: Path) -> None:
    """A clean batch exits 0."""
    src = tmp_path / "in.ndjson"
    src.write_text(json.dumps(intake()) + "\n")
    code, out, _ = _run("screen", "--batch", str(src))
    assert code == 0 and json.loads(out)["level"] == "standard"


def test_rules_lists_every_rule() -> None:
    """`clotsafe rules` lists the 31 rules of POLICY §3 and CLEARANCE-RESTRICTIONS (§8.6) with
    level, sources, policy choice and their numbers filled in (no placeholder left)."""
    code, out, _ = _run("rules", "--format", "json")
    rules = json.loads(out)
    assert code == 0 and len(rules) == 32 and rules[-1]["id"] == "CLEARANCE-RESTRICTIONS"
    texts = ("fires_when", "summary", "plan", "policy_note")
    assert not [r["id"] for r in rules if any("{" in r[k] for k in texts)]
    assert all(r["sources"] and isinstance(r["policy_choice"], bool) for r in rules)


def test_schema_intake() -> None:
    """`clotsafe schema intake` prints a JSON Schema."""
    code, out, _ = _run("schema", "intake")
    assert code == 0 and json.loads(out)["title"].startswith("clotsafe intake")


def test_score_items_and_json() -> None:
    """`clotsafe score NAME --items` lists items; a findings file gives bounds."""
    code, out, _ = _run("score", "wells_pe", "--items")
    assert code == 0 and "heart" in out.lower()
    code, out, _ = _run(
        "score", "wells_pe", "-", "--format", "json", input=json.dumps({"heart_rate": 110})
    )
    assert code == 0
    r = json.loads(out)
    assert r["lower"] == 1.5 and r["upper"] > r["lower"]


def test_score_unknown_item_and_calculator() -> None:
    """Unknown items and calculators are clear errors, not tracebacks."""
    code, _, err = _run("score", "wells_pe", "-", input=json.dumps({"nope": True}))
    assert code == 1 and "nope" in err
    code, _, err = _run("score", "nope", "--items")
    assert code == 2 and "unknown calculator" in err


FHIR_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fhir" / "synthea"


def test_fhir_questionnaire_command() -> None:
    """`clotsafe fhir questionnaire` prints the intake as a Questionnaire keyed by question id."""
    import pytest

    pytest.importorskip("fhir.resources")
    code, out, _ = _run("fhir", "questionnaire")
    q = json.loads(out)
    assert code == 0 and q["resourceType"] == "Questionnaire"
    link_ids = {i["linkId"] for group in q["item"] for i in group.get("item", [group])}
    assert "rf_breathless" in link_ids


def test_screen_fhir_ehr_bundle_needs_a_date() -> None:
    """EHR data is screened with a passed-in date; without one the CLI says so."""
    import pytest

    pytest.importorskip("fhir.resources")
    bundle = sorted(FHIR_FIXTURES.glob("*.json"))[0]
    code, out, _ = _run("screen", "--fhir", str(bundle), "--on", "2026-11-25", "--format", "json")
    assert code == 0
    decision = json.loads(out)
    assert decision["complete"] is False  # the record never says "no" to a red flag
    code, _, err = _run("screen", "--fhir", str(bundle))
    assert code == 1 and "date" in err


def test_screen_fhir_tells_what_it_did_not_use_from_the_record() -> None:
    """A platelet count in an unknown unit is not used: the CDS card lists it under "Not used
    from the record"; before, the command line said nothing. It goes to standard error
    (``warning: ...``; with --format json one JSON line), standard output stays the decision."""
    import pytest

    pytest.importorskip("fhir.resources")
    platelets = {"resourceType": "Observation", "id": "o1", "status": "final",
                 "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
                 "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2026-11-20",
                 "valueQuantity": {"value": 50, "unit": "bananas"}}  # fmt: skip
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1960-01-01"}
    bundle = json.dumps({"resourceType": "Bundle", "type": "collection",
                         "entry": [{"resource": patient}, {"resource": platelets}]})  # fmt: skip
    without = json.dumps({"resourceType": "Bundle", "type": "collection",
                          "entry": [{"resource": patient}]})  # fmt: skip
    args = ("screen", "--fhir", "-", "--on", "2026-11-25")
    code, out, err = _run(*args, "--format", "json", input=bundle)
    assert code == 0 and out == _run(*args, "--format", "json", input=without)[1]
    warnings = json.loads(err)["warnings"]
    assert [w["code"] for w in warnings] == ["unknown_unit"]
    assert warnings[0]["field"] == "entry[1].resource.valueQuantity.code"
    code, out, err = _run(*args, input=bundle)
    assert code == 0 and "LEVEL:" in out
    assert err.startswith("warning: entry[1].resource.valueQuantity.code") and "platelets" in err
    assert _run(*args, input=without)[2] == ""


def test_batch_progress_bar_goes_to_stderr_only() -> None:
    """With a progress bar (stderr is a terminal) stdout still holds only the decisions."""
    import io

    from clotsafe.cli import run_batch
    from clotsafe.rules import DEFAULT_SETTINGS

    src = io.BytesIO(("\n".join([json.dumps(intake())] * 1500) + "\n").encode())
    out = io.BytesIO()
    assert run_batch(src, out, DEFAULT_SETTINGS, progress=True) == 0
    rows = out.getvalue().splitlines()
    assert len(rows) == 1500 and all(json.loads(r)["level"] == "standard" for r in rows)
