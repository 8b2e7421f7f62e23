"""A medicine the code lists do not hold is read by its name (medications.toml, "Names").

Records code prescriptions at product level: "apixaban 5 MG Oral Tablet" is RxNorm 1364445, a
code FACTS.md does not list (it lists ingredient and brand codes). Before, such a prescription
was dropped without a word: a client on apixaban was screened as if the record said nothing
about a blood thinner (found in the bulk benchmark's export, whose planted anticoagulants were
never read).
"""

from __future__ import annotations

from typing import Any

import pytest
from fhir_builders import AT, ago, bundle, med_request, patient
from hypothesis import given
from hypothesis import strategies as st

from clotsafe.fhir.bulk.source_codes import code_rows
from clotsafe.fhir.codes import RXNORM, code_lists
from clotsafe.fhir.ehr import derive
from clotsafe.rules import evaluate

#: an RxNorm product code no list holds (the SCD of apixaban 5 MG Oral Tablet)
UNLISTED = "1364445"


def _unlisted(display: str | None = None, text: str | None = None, **more: Any) -> dict:
    r = med_request(UNLISTED, **more)
    concept = r["medicationCodeableConcept"]
    concept["coding"][0].pop("display", None)
    if display is not None:
        concept["coding"][0]["display"] = display
    if text is not None:
        concept["text"] = text
    return r


@pytest.mark.parametrize(
    ("display", "text", "kind", "name"),
    [
        ("apixaban 5 MG Oral Tablet", None, "anticoagulant", "apixaban"),
        (None, "ELIQUIS 5mg tablets", "anticoagulant", "apixaban"),
        ("rivaroxaban 20 MG Oral Tablet [Xarelto]", None, "anticoagulant", "rivaroxaban"),
        (None, "Innohep 10,000 IU", "anticoagulant", "tinzaparin"),
        ("dabigatran etexilate 150 MG Oral Capsule", None, "anticoagulant", "dabigatran"),
        ("clopidogrel 75 MG Oral Tablet [Plavix]", None, "antiplatelet", "clopidogrel"),
        (None, "Aspirin 81 mg", "antiplatelet", "aspirin"),
    ],
)
def test_an_unlisted_product_is_read_by_the_name_in_its_text_or_display(
    display: str | None, text: str | None, kind: str, name: str
) -> None:
    facts = derive(bundle(patient(), _unlisted(display, text)), at=AT)
    assert facts.answers[kind] == "yes"
    assert facts.answers[f"{kind}_names"] == [name]
    assert facts.sources[kind] == ["MedicationRequest/m1"]
    rule = "MED-ANTICOAG" if kind == "anticoagulant" else "MED-ANTIPLATELET"
    assert rule in evaluate(facts.intake(), at=AT).fired


def test_an_unlisted_product_with_a_name_is_read_like_a_listed_one() -> None:
    """The name gives the same answers the code would: status and dates still decide."""
    by_name = derive(bundle(patient(), _unlisted("apixaban 5 MG Oral Tablet")), at=AT)
    by_code = derive(bundle(patient(), med_request("1364430")), at=AT)
    assert by_name.answers == by_code.answers
    stopped = _unlisted("apixaban 5 MG Oral Tablet", status="stopped", authored=ago(400))
    assert derive(bundle(patient(), stopped), at=AT).answers.get("anticoagulant") != "yes"
    cancelled = _unlisted("apixaban 5 MG Oral Tablet", status="cancelled")
    assert "anticoagulant" not in derive(bundle(patient(), cancelled), at=AT).answers


@pytest.mark.parametrize(
    "text",
    ["paracetamol 500 MG Oral Tablet", "Xapixabanx", "apixabanol", "heparinoid cream", ""],
)
def test_only_a_whole_name_is_read(text: str) -> None:
    facts = derive(bundle(patient(), _unlisted(text)), at=AT)
    assert "anticoagulant" not in facts.answers and "antiplatelet" not in facts.answers


def test_a_listed_code_wins_over_the_name() -> None:
    """Warfarin's code with a display naming aspirin is warfarin."""
    r = med_request("11289")
    r["medicationCodeableConcept"]["coding"][0]["display"] = "aspirin"
    facts = derive(bundle(patient(), r), at=AT)
    assert facts.answers["anticoagulant"] == "yes" and "antiplatelet" not in facts.answers


def test_a_referenced_medication_is_read_by_its_name() -> None:
    r = med_request(UNLISTED)
    del r["medicationCodeableConcept"]
    r["medicationReference"] = {"reference": "Medication/x"}
    code = {"coding": [{"system": RXNORM, "code": UNLISTED}], "text": "Eliquis"}
    med = {"resourceType": "Medication", "id": "x", "code": code}
    facts = derive(bundle(patient(), r, med), at=AT)
    assert facts.answers["anticoagulant_names"] == ["apixaban"]


def test_the_names_can_be_turned_off_to_see_what_the_codes_alone_give() -> None:
    assert code_lists(medicine_names=False).drug_named("apixaban") is None
    assert code_lists().drug_named("apixaban") is not None


NAMES = sorted(code for kind, _s, code in code_rows() if kind == "drug_name")


@given(
    st.lists(
        st.one_of(st.sampled_from(NAMES), st.text(max_size=6), st.sampled_from([" ", "[", "-"])),
        max_size=6,
    ),
    st.booleans(),
)
def test_the_bulk_engines_keep_every_text_the_reader_reads_by_name(
    parts: list[str], upper: bool
) -> None:
    """The SQL keeps a medicine whose text, lower-cased, holds a name (``_holds_name``): a
    superset of the reader's whole-word, ASCII-case match, or a line the reader would read
    would be dropped before it."""
    text = "".join(parts)
    text = text.upper() if upper else text
    if code_lists().drug_named(text) is not None:
        assert any(name in text.lower() for name in NAMES)
