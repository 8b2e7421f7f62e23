"""The DuckDB engine keeps every medicine line the reader reads by name (docs/fhir.md,
"Medicines by name"): the candidates' regular expression and ``keep_sql``'s ``instr`` each
hold every text the reader's whole-word match takes, run in DuckDB itself."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clotsafe.fhir.bulk.source_codes import code_rows
from clotsafe.fhir.codes import code_lists

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("duckdb") is None,
    reason="bulk screen needs the bulk extra (pip install -e '.[bulk]')",
)

NAMES = sorted(code for kind, _s, code in code_rows() if kind == "drug_name")


@pytest.fixture(scope="module")
def con() -> Any:
    import duckdb

    from clotsafe.fhir.bulk.screen_views import _holds_name, _names_pattern

    c = duckdb.connect()
    c.execute("CREATE TABLE codes (kind VARCHAR, system VARCHAR, code VARCHAR)")
    c.executemany("INSERT INTO codes VALUES (?, ?, ?)", list(code_rows()))
    c.execute("CREATE TABLE v (text VARCHAR, display VARCHAR)")
    keep = (
        f"SELECT count(*) FROM v JOIN codes n ON n.kind = 'drug_name' AND {_holds_name('v', 'n')}"
    )
    candidate = (
        f"SELECT count(*) FROM v WHERE regexp_matches(v.text, {_names_pattern()}, 'i') "
        f"OR regexp_matches(v.display, {_names_pattern()}, 'i')"
    )
    return c, keep, candidate


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(NAMES),
            st.sampled_from([n.upper() for n in NAMES]),
            st.text(max_size=5),
            st.sampled_from([" ", "[", "-", "ſ", "K", "İ"]),
        ),
        max_size=5,
    ),
    st.booleans(),
)
def test_every_text_the_reader_reads_by_name_is_kept(
    con: Any, parts: list[str], as_display: bool
) -> None:
    text = "".join(parts)
    if code_lists().drug_named(text) is None:
        return
    db, keep, candidate = con
    db.execute("DELETE FROM v")
    db.execute("INSERT INTO v VALUES (?, ?)", (None, text) if as_display else (text, None))
    assert db.execute(candidate).fetchone()[0] == 1, text
    assert db.execute(keep).fetchone()[0] >= 1, text


def _medicine(kind: str, rid: str, pid: str, concept: dict[str, Any]) -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": kind, "id": rid, "status": "active",
                         "subject": {"reference": f"Patient/{pid}"},
                         "medicationCodeableConcept": concept}  # fmt: skip
    if kind == "MedicationRequest":
        r |= {"intent": "order", "authoredOn": "2026-11-01"}
    elif kind == "MedicationStatement":
        r["effectiveDateTime"] = "2026-11-01"
    else:
        r |= {"status": "in-progress", "effectiveDateTime": "2026-11-25"}  # the screening day
    return r


def test_bulk_screen_reads_medicines_by_name_as_screen_fhir_does(tmp_path: Any) -> None:
    """Each medicine type, named by a text alone, by a display beside an unlisted code, or
    in a referenced Medication: every patient's decision equals ``screen --fhir``, and each
    named blood thinner reaches its patient."""
    from test_bulk_screen_support import (
        assert_same_as_screen_fhir,
        bulk_screen,
        decisions,
        write_export,
    )

    unlisted = {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1364445"}
    concepts = [{"text": "ELIQUIS 5 mg"},
                {"coding": [unlisted | {"display": "apixaban 5 MG Oral Tablet"}]},
                {"coding": [{"system": "http://example.org/local", "code": "x"}],
                 "text": "Xarelto 20mg"}]  # fmt: skip
    resources: list[dict[str, Any]] = []
    expected = {}
    kinds = ("MedicationRequest", "MedicationStatement", "MedicationAdministration")
    for k, kind in enumerate(kinds):
        for c, concept in enumerate(concepts):
            pid = f"p{k}{c}"
            resources.append({"resourceType": "Patient", "id": pid, "birthDate": "1960-01-01",
                              "gender": "female"})  # fmt: skip
            resources.append(_medicine(kind, f"m{k}{c}", pid, concept))
            expected[f"Patient/{pid}"] = f"{kind}/m{k}{c}"
    med = {"resourceType": "Medication", "id": "med1", "code": {"text": "Plavix 75 mg"}}
    ref = _medicine("MedicationRequest", "mref", "pref", {})
    del ref["medicationCodeableConcept"]
    ref["medicationReference"] = {"reference": "Medication/med1"}
    resources += [{"resourceType": "Patient", "id": "pref"}, ref, med]
    plain = _medicine("MedicationRequest", "mplain", "pplain", {"text": "paracetamol"})
    resources += [{"resourceType": "Patient", "id": "pplain"}, plain]
    directory = write_export(tmp_path / "export", resources)
    bulk_screen(directory, tmp_path / "out")
    assert assert_same_as_screen_fhir(directory, tmp_path / "out") == len(expected) + 2
    sources = {d["patient"]: d["sources"] for d in decisions(tmp_path / "out")}
    for patient, medicine in expected.items():
        assert sources[patient]["anticoagulant"] == [medicine], patient
    assert sources["Patient/pref"]["antiplatelet"] == ["MedicationRequest/mref"]
    assert "anticoagulant" not in sources["Patient/pplain"]
