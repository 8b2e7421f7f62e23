"""What the CDS service does to be fast changes nothing it reads (issue 10 §4): Conditions the
reader would pass over are left out before it starts, and the facts are the same; a resource
about another patient still stops the call. (Timings are in benchmarks/cds, never asserted.)"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from fhir_builders import AT, ICD, PATIENT_ID, SNOMED, condition, patient

from clotsafe.fhir.auth import MAX_LIFETIME_SECONDS, MemoryJtiStore
from clotsafe.fhir.ehr import derive_prefetch
from clotsafe.fhir.errors import FhirInputError
from clotsafe.fhir.service import unread_conditions_dropped

SYNTHEA = sorted((Path(__file__).resolve().parents[1] / "fixtures/fhir/synthea").glob("*.json"))


def _prefetch(bundle: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    resources = [e["resource"] for e in bundle["entry"]]
    pat = next(r for r in resources if r["resourceType"] == "Patient")
    kinds = {"conditions": "Condition", "medicationRequests": "MedicationRequest",
             "medicationStatements": "MedicationStatement", "observations": "Observation",
             "procedures": "Procedure", "encounters": "Encounter"}  # fmt: skip
    out: dict[str, Any] = {"patient": pat}
    for key, kind in kinds.items():
        entries = [{"resource": r} for r in resources if r["resourceType"] == kind]
        out[key] = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    return pat["id"], out


@pytest.mark.parametrize("path", SYNTHEA, ids=[p.stem for p in SYNTHEA])
def test_dropping_unread_conditions_changes_no_fact(path: Path) -> None:
    """Every Synthea patient, at five dates: the same answers, sources, findings and warnings
    with and without the Conditions the reader passes over -- and most of them are dropped."""
    pid, pre = _prefetch(json.loads(path.read_text()))
    slim = unread_conditions_dropped(pre, pid)
    kept = sum(1 for e in slim["conditions"]["entry"] if e)
    assert kept <= len(pre["conditions"]["entry"])
    for year in (2019, 2021, 2023, 2025, 2026):
        at = AT.replace(year=year)
        assert derive_prefetch(slim, at=at, patient_id=pid) == derive_prefetch(
            pre, at=at, patient_id=pid
        )


def test_conditions_the_reader_warns_about_or_reads_are_kept() -> None:
    """Unknown code systems (warned), no coding (warned) and listed codes (read) stay; only a
    plainly own Condition with known, unlisted codes goes."""
    read = condition("I82.412", ICD, rid="read")
    unknown = condition("x", "http://local.example/codes", rid="unknown")
    no_code = {**condition("x", SNOMED, rid="nocode"), "code": {"text": "something"}}
    unlisted = condition("160903007", SNOMED, rid="unlisted")
    entries = [{"resource": r} for r in (read, unknown, no_code, unlisted)]
    pre = {"patient": patient(), "conditions": {"resourceType": "Bundle", "entry": entries}}
    slim = unread_conditions_dropped(pre, PATIENT_ID)
    assert [e.get("resource", {}).get("id") for e in slim["conditions"]["entry"]] == [
        "read", "unknown", "nocode", None
    ]  # fmt: skip
    assert derive_prefetch(slim, at=AT, patient_id=PATIENT_ID) == derive_prefetch(
        pre, at=AT, patient_id=PATIENT_ID
    )


def test_an_unlisted_condition_about_another_patient_still_stops_the_call() -> None:
    """The reader refuses a record holding another patient's resource (broken_reference): a
    Condition is dropped only when its subject plainly names this patient."""
    other = {**condition("160903007", SNOMED, rid="other"),
             "subject": {"reference": "Patient/someone-else"}}  # fmt: skip
    pre = {"patient": patient(), "conditions": {"resourceType": "Bundle",
                                                "entry": [{"resource": other}]}}  # fmt: skip
    with pytest.raises(FhirInputError) as exc:
        derive_prefetch(unread_conditions_dropped(pre, PATIENT_ID), at=AT, patient_id=PATIENT_ID)
    assert exc.value.errors[0].code == "broken_reference"
    assert exc.value.errors[0].field == "prefetch.conditions.entry[0].resource.subject.reference"


def test_the_jti_purge_runs_once_a_minute_not_every_call_of_a_whole_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database jti store purged on EVERY call made while the wall clock's seconds were a
    multiple of 60 (all of that second's calls under load). Now once per PURGE_EVERY seconds
    per process, on a monotonic clock."""
    django = pytest.importorskip("django")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clotsafe.web.settings")
    os.environ.setdefault("CLOTSAFE_DATA_DIR", tempfile.mkdtemp(prefix="clotsafe-test-"))
    os.environ.setdefault("CLOTSAFE_SECRET_KEY", "test-only-not-a-secret")
    django.setup()  # the models module needs the apps (this file may run alone)
    from clotsafe.web.cds import models

    clock = [1000.0]
    monkeypatch.setattr(models.time, "monotonic", lambda: clock[0])
    purge = models._PurgeClock()
    due = []
    for _ in range(500):  # 500 calls within one second
        due.append(purge.due())
        clock[0] += 0.002
    assert due.count(True) == 1
    clock[0] += models.PURGE_EVERY
    assert purge.due() is True and purge.due() is False


def test_the_memory_store_and_lifetime_bound_agree() -> None:
    """Tokens live at most five minutes (CDS Hooks 2.0), so a store keeps an id that long."""
    store = MemoryJtiStore()
    assert store.add_if_new("a", int(time.time()) + MAX_LIFETIME_SECONDS)
    assert not store.add_if_new("a", int(time.time()) + MAX_LIFETIME_SECONDS)
