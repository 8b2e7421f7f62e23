"""A fixed-seed bulk export built from the committed Synthea patients (tests/fixtures/fhir/synthea).

    .venv/bin/python benchmarks/bulk/generate.py --patients 10000 --out /tmp/bulk-10k [--gzip]

Each generated patient is one of the 8 committed Synthea patients with everything a real export
varies: new ids (uuids from the seed) and references rewritten to them, the subject written
``Patient/<id>`` or (30 %) ``urn:uuid:<id>``, every date moved by the same random number of days
(-300..+20: some resources fall after the screening date), and planted on top, each with its
own chance: a recent DVT (SNOMED or ICD-10-CM with laterality), an active anticoagulant, a
stopped one, a refuted and an entered-in-error DVT, partial onset and birth dates, a medicine
named through ``medicationReference`` to a Medication in ``Medication.1.ndjson``, an inpatient
stay in progress, and Observations with codes clotsafe does not read (the noise of a real
record, which the views filter out). Files are ``<Type>.<n>.ndjson`` (``.gz`` with ``--gzip``)
as ``clotsafe bulk export`` writes them, with ``export.json`` and ``manifest.json``.
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

import orjson

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "fhir" / "synthea"
TRANSACTION_TIME = "2026-11-25T06:00:00Z"
SCREEN_ON = date(2026, 11, 25)
SNOMED = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
#: LOINC codes clotsafe does not read (glucose, haemoglobin, HbA1c, cholesterol, creatinine)
NOISE_LOINC = ("2339-0", "718-7", "4548-4", "2093-3", "2160-0")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
#: chance of each planted feature, per patient
PLANT = {"recent_dvt": 0.06, "anticoag_active": 0.05, "anticoag_stopped": 0.05,
         "refuted_dvt": 0.03, "error_dvt": 0.02, "partial_dates": 0.1, "med_reference": 0.05,
         "inpatient": 0.02, "urn_uuid": 0.3}  # fmt: skip
NOISE_PER_PATIENT = 30


SUBJECT = b"__SUBJECT__"
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: what a copy rewrites: the subject placeholder, every uuid (the template's ids), every date
_PATTERN = re.compile(b'"(' + SUBJECT + b')"|(' + _UUID.pattern + rb")|(\d{4}-\d{2}-\d{2})")
#: the kinds of the pieces a template line is cut into
TEXT, SUBJ, UID, DAY = range(4)


@dataclass(frozen=True)
class Template:
    """One Synthea patient, cut once into pieces so that a copy is a join, not a parse: each
    resource's line as (kind, bytes) pieces — literal text, the subject reference, an id, a
    date — and its resourceType. Only planted changes that need the structure parse a line."""

    lines: list[tuple[str, list[tuple[int, bytes]]]]
    patient_id: bytes


def _pieces(text: bytes) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    at = 0
    for m in _PATTERN.finditer(text):
        out.append((TEXT, text[at : m.start()]))
        kind = SUBJ if m.group(1) else UID if m.group(2) else DAY
        out.append((kind, m.group(0) if kind != SUBJ else b""))
        at = m.end()
    out.append((TEXT, text[at:]))
    return [(k, b) for k, b in out if b or k == SUBJ]


def templates() -> list[Template]:
    """The committed Synthea patients, each as a Template."""
    out = []
    for p in sorted(FIXTURES.glob("synthea-*.json")):
        resources = [e["resource"] for e in orjson.loads(p.read_bytes())["entry"]]
        for r in resources:
            for key in ("subject", "patient"):
                if isinstance(r.get(key), dict) and "reference" in r[key]:
                    r[key] = {"reference": SUBJECT.decode()}
        ids = {r["id"] for r in resources}
        assert all(_UUID.fullmatch(i.encode()) for i in ids), "template ids must be uuids"
        pid = next(r["id"] for r in resources if r["resourceType"] == "Patient").encode()
        lines = [(r["resourceType"], _pieces(orjson.dumps(r))) for r in resources]
        out.append(Template(lines, pid))
    return out


class Patient:
    """One generated patient: a template's resources, renamed, shifted and planted on.

    ``lines`` holds (resourceType, serialised line) for the template's resources and
    ``resources`` the planted ones (dicts, serialised at the end)."""

    def __init__(self, rng: random.Random, template: Template) -> None:
        self.rng = rng
        self.pid = self.new_id()
        self.shift = timedelta(days=rng.randint(-300, 20))
        self.urn = rng.random() < PLANT["urn_uuid"]
        self.ids: dict[bytes, bytes] = {template.patient_id: self.pid.encode()}
        self.days: dict[bytes, bytes] = {}
        ref = orjson.dumps(self.subject()["reference"])
        self.lines = [(kind, self._line(pieces, ref)) for kind, pieces in template.lines]
        self.resources: list[dict[str, Any]] = []
        self.medications: list[dict[str, Any]] = []

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def subject(self) -> dict[str, str]:
        return {"reference": f"urn:uuid:{self.pid}" if self.urn else f"Patient/{self.pid}"}

    def _line(self, pieces: list[tuple[int, bytes]], ref: bytes) -> bytes:
        out = []
        for kind, text in pieces:
            if kind == TEXT:
                out.append(text)
            elif kind == SUBJ:
                out.append(ref)
            elif kind == UID:
                new = self.ids.get(text)
                if new is None:
                    new = self.ids[text] = self.new_id().encode()
                out.append(new)
            else:
                day = self.days.get(text)
                if day is None:
                    day = self.days[text] = self._moved(text)
                out.append(day)
        return b"".join(out)

    def _moved(self, text: bytes) -> bytes:
        y, mo, d = (int(x) for x in text.split(b"-"))
        try:
            return (date(y, mo, d) + self.shift).isoformat().encode()
        except ValueError:
            return text

    def edit(self, kind: str, change: Callable[[dict[str, Any]], None]) -> None:
        """Apply ``change`` to every template resource of ``kind`` (parsed, then re-serialised)."""
        for i, (k, line) in enumerate(self.lines):
            if k == kind:
                r = orjson.loads(line)
                change(r)
                self.lines[i] = (k, orjson.dumps(r))

    def finish(self) -> list[tuple[str, bytes]]:
        """(resourceType, line) of every resource of the patient, planted ones last."""
        return self.lines + [(r["resourceType"], orjson.dumps(r)) for r in self.resources]


def _cc(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _ago(days: int) -> str:
    return (SCREEN_ON - timedelta(days=days)).isoformat()


def _condition(p: Patient, code: dict[str, Any], onset: str, **more: Any) -> dict[str, Any]:
    status = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                          "code": "active"}]}  # fmt: skip
    return {"resourceType": "Condition", "id": p.new_id(), "clinicalStatus": status,
            "code": code, "subject": p.subject(), "onsetDateTime": onset, **more}  # fmt: skip


def _dvt_code(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.5:
        return _cc(SNOMED, "128053003", "Deep venous thrombosis")
    code = rng.choice(["I82.401", "I82.402", "I82.403", "I82.412", "I82.421"])
    return _cc(ICD, code, "Acute embolism and thrombosis of deep veins of lower extremity")


def _med(p: Patient, status: str, authored: str) -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": p.new_id(), "status": status,
            "intent": "order", "medicationCodeableConcept": _cc(RXNORM, "1364445",
                                                                "apixaban 5 MG Oral Tablet"),
            "subject": p.subject(), "authoredOn": authored}  # fmt: skip


def _verification(code: str) -> dict[str, Any]:
    system = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
    return {"coding": [{"system": system, "code": code}]}


def plant(p: Patient) -> None:
    """Planted features on top of the template (each with its own chance)."""
    rng, add = p.rng, p.resources.append
    if rng.random() < PLANT["recent_dvt"]:
        add(_condition(p, _dvt_code(rng), _ago(rng.randint(1, 80))))
    if rng.random() < PLANT["anticoag_active"]:
        add(_med(p, "active", _ago(rng.randint(1, 60))))
    if rng.random() < PLANT["anticoag_stopped"]:
        add(_med(p, "stopped", _ago(rng.randint(100, 400))))
    for kind, verification in (("refuted_dvt", "refuted"), ("error_dvt", "entered-in-error")):
        if rng.random() < PLANT[kind]:
            add(_condition(p, _dvt_code(rng), _ago(rng.randint(1, 80)),
                           verificationStatus=_verification(verification)))  # fmt: skip
    if rng.random() < PLANT["partial_dates"]:
        _partial_dates(p)
    if rng.random() < PLANT["med_reference"]:
        _med_reference(p)
    if rng.random() < PLANT["inpatient"]:
        add({"resourceType": "Encounter", "id": p.new_id(), "status": "in-progress",
             "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                       "code": "IMP"}, "subject": p.subject()})  # fmt: skip
    for _ in range(NOISE_PER_PATIENT):
        add(_noise(p))


def _partial_dates(p: Patient) -> None:
    def birth(r: dict[str, Any]) -> None:
        if isinstance(r.get("birthDate"), str):
            r["birthDate"] = r["birthDate"][:4]

    def onset(r: dict[str, Any]) -> None:
        if isinstance(r.get("onsetDateTime"), str) and p.rng.random() < 0.5:
            r["onsetDateTime"] = r["onsetDateTime"][: p.rng.choice((4, 7))]

    p.edit("Patient", birth)
    p.edit("Condition", onset)


def _med_reference(p: Patient) -> None:
    def by_reference(r: dict[str, Any]) -> None:
        concept = r.get("medicationCodeableConcept")
        if concept is not None:
            mid = p.new_id()
            p.medications.append({"resourceType": "Medication", "id": mid, "code": concept})
            del r["medicationCodeableConcept"]
            r["medicationReference"] = {"reference": f"Medication/{mid}"}

    p.edit("MedicationRequest", by_reference)


def _noise(p: Patient) -> dict[str, Any]:
    code = p.rng.choice(NOISE_LOINC)
    return {"resourceType": "Observation", "id": p.new_id(), "status": "final",
            "code": _cc(LOINC, code, "laboratory"), "subject": p.subject(),
            "effectiveDateTime": _ago(p.rng.randint(0, 900)) + "T08:00:00Z",
            "valueQuantity": {"value": round(p.rng.uniform(1, 200), 1), "unit": "mg/dL",
                              "system": "http://unitsofmeasure.org", "code": "mg/dL"}}  # fmt: skip


def patients(n: int, seed: int) -> Iterator[tuple[list[tuple[str, bytes]], list[dict[str, Any]]]]:
    """((resourceType, line) of the resources, Medications) of each of ``n`` patients,
    reproducibly from ``seed``."""
    rng = random.Random(seed)
    temps = templates()
    for _ in range(n):
        p = Patient(rng, rng.choice(temps))
        plant(p)
        yield p.finish(), p.medications


class Writer:
    """``<Type>.<n>.ndjson[.gz]`` files, a new part every ``part_lines`` lines."""

    def __init__(self, out: Path, gz: bool, part_lines: int) -> None:
        self.out, self.gz, self.part_lines = out, gz, part_lines
        self.files: dict[str, tuple[IO[bytes], int, int]] = {}
        self.done: list[tuple[str, str, int]] = []

    def write(self, kind: str, line: bytes) -> None:
        f, part, lines = self.files.get(kind) or self._open(kind, 1)
        if lines >= self.part_lines:
            self._close(kind)
            f, part, lines = self._open(kind, part + 1)
        f.write(line + b"\n")
        self.files[kind] = (f, part, lines + 1)

    def _open(self, kind: str, part: int) -> tuple[IO[bytes], int, int]:
        name = f"{kind}.{part}.ndjson" + (".gz" if self.gz else "")
        path = self.out / name
        f: Any = gzip.GzipFile(path, "wb", 1) if self.gz else path.open("wb")
        self.files[kind] = (f, part, 0)
        return self.files[kind]

    def _close(self, kind: str) -> None:
        f, part, lines = self.files.pop(kind)
        f.close()
        self.done.append((kind, f"{kind}.{part}.ndjson" + (".gz" if self.gz else ""), lines))

    def close(self) -> list[tuple[str, str, int]]:
        for kind in list(self.files):
            self._close(kind)
        return sorted(self.done)


def generate(out: Path, n: int, seed: int = 20261130, *, gz: bool = False,
             part_lines: int = 500_000) -> dict[str, int]:  # fmt: skip
    """Write the export into ``out``; returns resources per type."""
    out.mkdir(parents=True, exist_ok=True)
    w = Writer(out, gz, part_lines)
    for lines, meds in patients(n, seed):
        for kind, line in lines:
            w.write(kind, line)
        for m in meds:
            w.write("Medication", orjson.dumps(m))
    files = w.close()
    _manifest(out, files)
    counts: dict[str, int] = {}
    for kind, _name, lines in files:
        counts[kind] = counts.get(kind, 0) + lines
    return counts


def _manifest(out: Path, files: list[tuple[str, str, int]]) -> None:
    base = "https://ehr.example.org/fhir"
    outputs = [{"type": k, "url": f"{base}/files/{name}", "count": n} for k, name, n in files]
    manifest = {"transactionTime": TRANSACTION_TIME, "request": f"{base}/Group/g1/$export",
                "requiresAccessToken": True, "output": outputs, "error": []}  # fmt: skip
    state = {"server": base, "transactionTime": TRANSACTION_TIME, "complete": True,
             "files": [{"type": k, "path": name, "lines": n} for k, name, n in files]}  # fmt: skip
    (out / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    (out / "export.json").write_bytes(orjson.dumps(state, option=orjson.OPT_INDENT_2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--patients", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=20261130)
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--part-lines", type=int, default=500_000)
    a = ap.parse_args()
    counts = generate(a.out, a.patients, a.seed, gz=a.gzip, part_lines=a.part_lines)
    print(orjson.dumps({"patients": a.patients, "resources": counts}).decode())


if __name__ == "__main__":
    main()
