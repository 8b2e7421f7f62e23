"""EHR resources -> intake answers and findings: hand-built bundles for each rule the EHR path
can trigger, provenance, time windows, and what stays missing."""

from __future__ import annotations

import pytest
from fhir_builders import (
    AT,
    ICD,
    RXNORM,
    ago,
    bundle,
    condition,
    encounter_inpatient,
    med_request,
    med_statement,
    observation,
    patient,
    procedure,
)

from clotsafe.fhir.codes import code_lists
from clotsafe.fhir.ehr import derive
from clotsafe.fhir.errors import FhirInputError
from clotsafe.fhir.scores import score_findings
from clotsafe.rules import evaluate

# (rule that must fire, resources besides the Patient)
RULE_CASES = [
    ("CLOT-ACTIVE", [condition("I82.412", ICD, onset=ago(20))]),
    ("CLOT-HISTORY", [condition("128053003", onset=ago(400), status="resolved"),
                      med_request("11289", status="completed", authored=ago(380))]),
    ("THROMBOPHILIA", [condition("D68.51", ICD, onset="2010-01-01")]),
    ("PTS", [condition("I87.009", ICD, onset="2020-01-01")]),
    ("MED-ANTICOAG", [med_request("855332")]),
    ("MED-ANTIPLATELET", [med_statement("243670")]),
    ("PLATELETS-LOW", [observation("777-3", 42, "10*3/uL")]),
    ("SURG-EARLY", [procedure("52734007", when=ago(10))]),
    ("SURG-MINOR", [procedure("22523008", when=ago(10))]),
    ("SURG-LATE", [procedure("38102005", when=ago(40))]),
    ("LEG-INJURY-EARLY", [condition("S82.001A", ICD, onset=ago(10))]),
    ("PREGNANCY", [condition("72892002", onset=ago(100))]),
    ("POSTPARTUM-EARLY", [procedure("11466000", when=ago(20))]),
    ("POSTPARTUM-LATE", [procedure("236974004", when=ago(60))]),
    ("CANCER", [condition("254837009", onset="2026-06-01")]),
    ("VARICOSE-MILD", [condition("I83.92", ICD, onset="2019-01-01")]),
    ("LYMPHEDEMA", [condition("I89.0", ICD, onset="2019-01-01")]),
    ("CAPRINI-HIGHEST", [condition("Z86.718", ICD), condition("I83.91", ICD, rid="c2")]),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "resources"), RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_each_rule_the_ehr_can_trigger_fires_from_a_hand_built_bundle(rule, resources) -> None:
    """Each policy rule the record can support fires from coded EHR data alone."""
    facts = derive(bundle(patient(), *resources), at=AT)
    decision = evaluate(facts.intake(), at=AT)
    assert rule in decision.fired


def test_an_empty_record_answers_nothing_and_the_decision_is_incomplete() -> None:
    """What the record does not say stays missing, never "no": no green light from silence."""
    facts = derive(bundle(patient()), at=AT)
    assert set(facts.answers) == {"age", "sex"}
    decision = evaluate(facts.intake(), at=AT)
    assert decision.complete is False and "rf_breathless" in decision.pending_questions


def test_every_derived_answer_keeps_its_source_reference() -> None:
    """The anticoagulant answer names the MedicationRequest it came from."""
    facts = derive(bundle(patient(), med_request("1364436", rid="eliquis")), at=AT)
    assert facts.answers["anticoagulant"] == "yes"
    assert facts.answers["anticoagulant_names"] == ["apixaban"]
    assert facts.sources["anticoagulant"] == ["MedicationRequest/eliquis"]


def test_a_clot_record_has_kind_site_date_and_treatment_from_the_record() -> None:
    """ICD-10-CM I82.412 (left femoral DVT) + ongoing warfarin -> dvt, left_leg, ongoing."""
    facts = derive(bundle(patient(), condition("I82.412", ICD, onset=ago(200), rid="dvt"),
                          med_request("11289", rid="w")), at=AT)  # fmt: skip
    assert facts.answers["clots"] == [
        {"kind": "dvt", "site": "left_leg", "diagnosed_on": ago(200), "treatment": "ongoing"}
    ]
    assert facts.sources["clots[0]"] == ["Condition/dvt", "MedicationRequest/w"]
    assert "CLOT-HISTORY" in evaluate(facts.intake(), at=AT).fired


def test_a_clot_without_recorded_treatment_leaves_treatment_missing() -> None:
    """No anticoagulant in the record is not "no treatment": the field stays missing."""
    facts = derive(bundle(patient(), condition("59282003", onset=ago(300))), at=AT)
    assert facts.answers["clots"] == [{"kind": "pe", "site": "lung", "diagnosed_on": ago(300)}]


def test_time_windows_count_back_from_the_passed_in_date() -> None:
    """The same hip replacement is SURG-EARLY 10 days later and no surgery rule 100 days later."""
    b = bundle(patient(), procedure("52734007", when="2026-11-01"))
    assert "SURG-EARLY" in evaluate(derive(b, at=AT).intake(), at=AT).fired
    later = AT.replace(year=2027, month=2, day=20)
    assert "surgery_recent" not in derive(b, at=later).answers


def test_resources_dated_after_the_screening_date_are_ignored() -> None:
    """A condition recorded after `at` was not known on that day."""
    facts = derive(bundle(patient(), condition("I82.412", ICD, onset="2027-01-01")), at=AT)
    assert "clots" not in facts.answers


def test_stopped_or_entered_in_error_medicines_do_not_count_as_current() -> None:
    """A cancelled anticoagulant order does not make the client anticoagulated."""
    facts = derive(bundle(patient(), med_request("11289", status="cancelled")), at=AT)
    assert "anticoagulant" not in facts.answers


def test_unverified_codes_are_not_used_unless_asked() -> None:
    """FACTS [U] codes (ticagrelor ingredient 1116632) ship with verified=false and are skipped."""
    b = bundle(patient(), med_request("1116632"))
    assert "antiplatelet" not in derive(b, at=AT).answers
    assert derive(b, at=AT, include_unverified=True).answers["antiplatelet"] == "yes"
    assert code_lists().drug("RxNorm", "1116635") is not None  # the verified SCD


def test_unit_conversion_and_unknown_units() -> None:
    """Platelets in /uL are converted to x10^9/L; an unknown unit is a warning, not a value."""
    facts = derive(bundle(patient(), observation("777-3", 42000, "/uL")), at=AT)
    assert facts.answers["platelet_count"] == 42.0
    odd = derive(bundle(patient(), observation("777-3", 42, "furlongs")), at=AT)
    assert "platelet_count" not in odd.answers and odd.warnings[0].code == "unknown_unit"


def test_unknown_code_systems_and_missing_codes_are_warnings_with_paths() -> None:
    """A local code system cannot be read: the fact stays missing and the path is reported."""
    local = condition("X1", "http://hospital.example/codes", rid="loc")
    nocode = {**condition("x", rid="nc"), "code": {"text": "DVT, left leg"}}
    facts = derive(bundle(patient(), local, nocode), at=AT)
    codes = {(w.field, w.code) for w in facts.warnings}
    assert ("entry[1].resource.code.coding", "unknown_code_system") in codes
    assert ("entry[2].resource.code", "missing_code") in codes


def test_synthea_style_urn_uuid_subject_references_are_accepted() -> None:
    """Synthea refers to the patient by urn:uuid fullUrl; that is the same patient."""
    facts = derive(bundle(patient(), med_request("855332"), uuid_refs=True), at=AT)
    assert facts.answers["anticoagulant"] == "yes"


def test_a_resource_about_another_patient_is_a_broken_reference() -> None:
    """Mixing patients is refused with the path of the offending reference."""
    with pytest.raises(FhirInputError) as exc:
        derive(bundle(patient(), med_request("855332", pid="someone-else")), at=AT)
    assert exc.value.errors[0].field == "entry[1].resource.subject.reference"
    assert exc.value.errors[0].code == "broken_reference"


def test_two_patients_in_one_bundle_are_refused() -> None:
    """One patient's record per call."""
    with pytest.raises(FhirInputError) as exc:
        derive(bundle(patient(), patient("p2")), at=AT)
    assert exc.value.errors[0].code == "several_patients"


def test_the_same_patient_twice_with_different_content_is_refused_not_guessed() -> None:
    """Two Patient resources with one id and different birth dates: before, the last one in the
    input silently gave the age (a 56-year-old or a 16-year-old, by the order of the lines)."""
    old, young = patient(birth="1970-05-01"), patient(birth="2010-05-01")
    for first, second in ((old, young), (young, old)):
        with pytest.raises(FhirInputError) as exc:
            derive(bundle(first, second), at=AT)
        assert exc.value.errors[0].code == "several_patients"
        assert exc.value.errors[0].field == "entry[1].resource"
        assert "two different Patient resources" in exc.value.errors[0].message


def test_the_same_patient_twice_alike_is_read_once() -> None:
    """The same Patient given twice (a prefetch may hold it under two keys, one a subset; its
    meta and narrative may differ): read as one while the birth date and gender agree."""
    again = {**patient(), "meta": {"versionId": "2", "tag": [{"code": "SUBSETTED"}]},
             "text": {"status": "generated"}, "telecom": [{"value": "555"}]}  # fmt: skip
    facts = derive(bundle(patient(), again), at=AT)
    assert facts.answers["sex"] == "female"


def test_the_same_medication_twice_with_different_content_is_refused() -> None:
    """A medicine naming Medication/med1 when two Medications have that id, one warfarin and one
    not: which one it is would be a guess."""
    warfarin = {"resourceType": "Medication", "id": "med1",
                "code": {"coding": [{"system": RXNORM, "code": "855332"}]}}  # fmt: skip
    other = {"resourceType": "Medication", "id": "med1",
             "code": {"coding": [{"system": RXNORM, "code": "197361"}]}}  # fmt: skip
    request = {**med_request("855332"), "medicationReference": {"reference": "Medication/med1"}}
    del request["medicationCodeableConcept"]
    for first, second in ((warfarin, other), (other, warfarin)):
        with pytest.raises(FhirInputError) as exc:
            derive(bundle(patient(), first, second, request), at=AT)
        assert exc.value.errors[0].code == "conflicting_resources"
        assert exc.value.errors[0].field == "entry[2].resource"
    assert derive(bundle(patient(), warfarin, dict(warfarin), request),
                  at=AT).answers["anticoagulant"] == "yes"  # fmt: skip


def test_scores_appear_with_their_unknown_items_when_the_record_supports_them() -> None:
    """Age, heart rate and a prior DVT feed Wells PE, PERC and Padua, unknown items listed."""
    facts = derive(bundle(patient(birth="1950-01-01"), condition("Z86.718", ICD),
                          observation("8867-4", 112, "/min"), encounter_inpatient()),
                   at=AT)  # fmt: skip
    scores = score_findings(facts.findings, facts.finding_sources)
    assert set(scores) == {"wells_dvt", "wells_pe", "perc", "padua"}
    pe = scores["wells_pe"].to_dict()
    assert pe["lower"] == 3.0 and "haemoptysis" in pe["unknown"]
    assert "warning" in scores["perc"].to_dict()
    assert facts.inpatient is True


def test_no_scores_without_supporting_data() -> None:
    """With only a birth date and nothing else, Wells DVT is not shown (no item known)."""
    facts = derive(bundle(patient()), at=AT)
    assert "wells_dvt" not in score_findings(facts.findings, facts.finding_sources)


def test_every_condition_effect_in_the_code_lists_has_a_reading() -> None:
    """Each concept's effect is a row of the effect table or one of the four coded readings,
    so no coded Condition is silently dropped as "no reading"."""
    from clotsafe.fhir.ehr import _CONDITION_CODE, CONDITION_EFFECTS

    effects = {c.effect for c, _e in code_lists(True).snomed_conditions.values()}
    effects |= {c.effect for _p, c, _e in code_lists(True).icd_prefixes}
    assert effects <= set(CONDITION_EFFECTS) | set(_CONDITION_CODE)
    assert not set(CONDITION_EFFECTS) & set(_CONDITION_CODE)


def test_the_effect_table_reads_history_activity_and_windows() -> None:
    """Needs: IBD counts from history; lymphoedema only while active; a stroke only within the
    last month; heart failure while active even when old; pneumonia when active and undated."""
    facts = derive(bundle(patient(),
                          condition("I89.0", ICD, rid="ly", status="resolved"),
                          condition("K50.90", ICD, rid="ibd", status="resolved"),
                          condition("I63.9", ICD, rid="st", onset=ago(40)),
                          condition("I50.9", ICD, rid="hf", onset=ago(400)),
                          condition("J18.9", ICD, rid="pn")), at=AT)  # fmt: skip
    assert "lymphedema" not in facts.answers and facts.answers["ibd"] == "yes"
    assert "stroke_recent" not in facts.answers
    assert facts.answers["heart_failure_recent"] == "yes"
    assert facts.answers["pneumonia_recent"] == "yes"
    assert facts.findings["acute_infection_or_rheumatologic"] is True
