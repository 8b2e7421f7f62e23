"""``clotsafe bulk screen`` on DuckDB: the same decisions as one patient at a time, and outputs a
program lead and a therapist can use.

Protects: the SQL only filters and groups (every decision is byte-identical to
``screen --fhir`` on the patient's own Bundle, for the Synthea fixtures and a 1,000-patient
generated export with planted clots, medicines, refuted and entered-in-error diagnoses, partial
dates, urn:uuid and medicationReference references); gzip and plain files read alike; an
empty export; a malformed line reported with its file and line while the rest is screened;
the worklist in plain words, most urgent first; a record never gives a green light.
"""

from __future__ import annotations

import csv
import importlib.util
import io
from pathlib import Path

import orjson
import pytest
from test_bulk_screen_support import (
    SYNTHEA,
    assert_same_as_screen_fhir,
    bulk_screen,
    decisions,
    generator,
    screen_fhir,
    write_export,
)

from clotsafe import POLICY_VERSION
from clotsafe.domain.questions import QUESTIONS

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("duckdb") is None,
    reason="bulk screen needs the bulk extra (pip install -e '.[bulk]')",
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 1,000-patient generated export (fixed seed) and its DuckDB screening."""
    base = tmp_path_factory.mktemp("gen1000")
    directory = base / "export"
    generator().generate(directory, 1000, seed=1000, part_lines=40_000)
    out = base / "out"
    bulk_screen(directory, out)
    return directory, out


def test_every_synthea_fixture_patient_gets_the_decision_screen_fhir_gives(tmp_path: Path) -> None:
    """The 8 committed Synthea patients, exported together: each decision equals
    ``screen --fhir`` on that patient's committed Bundle, byte for byte."""
    resources = []
    bundles = {}
    for p in sorted(SYNTHEA.glob("synthea-*.json")):
        bundle = orjson.loads(p.read_bytes())
        resources += [e["resource"] for e in bundle["entry"]]
        patient = next(e["resource"] for e in bundle["entry"]
                       if e["resource"]["resourceType"] == "Patient")  # fmt: skip
        bundles[f"Patient/{patient['id']}"] = bundle
    directory = write_export(tmp_path / "export", resources)
    bulk_screen(directory, tmp_path / "out")
    got = {d["patient"]: d["decision"] for d in decisions(tmp_path / "out")}
    assert sorted(got) == sorted(bundles)
    for ref, bundle in bundles.items():
        assert orjson.dumps(got[ref]) == orjson.dumps(orjson.loads(screen_fhir(bundle))), ref
    assert_same_as_screen_fhir(directory, tmp_path / "out")


def test_every_patient_of_a_generated_export_gets_the_decision_screen_fhir_gives(
    generated: tuple[Path, Path],
) -> None:
    """1,000 generated patients: the views dropped nothing the reader uses."""
    directory, out = generated
    assert assert_same_as_screen_fhir(directory, out) == 1000


def test_the_planted_anticoagulants_are_read(generated: tuple[Path, Path]) -> None:
    """The generator plants active apixaban as RxNorm 1364445 ("apixaban 5 MG Oral Tablet", a
    product code no list holds): each is read by its name, as the blood thinner of its
    patient. Before, none of them was read: not by the reader, and not kept by the views."""
    directory, out = generated
    planted: dict[str, str] = {}
    for f in sorted(directory.glob("MedicationRequest.*")):
        for line in f.read_bytes().splitlines():
            r = orjson.loads(line)
            codes = [
                c.get("code") for c in r.get("medicationCodeableConcept", {}).get("coding", [])
            ]
            if "1364445" in codes and r["status"] == "active":
                ref = r["subject"]["reference"]
                planted[ref.rsplit(":", 1)[-1].rsplit("/", 1)[-1]] = f"MedicationRequest/{r['id']}"
    assert len(planted) > 20
    sources = {d["patient"].removeprefix("Patient/"): d["sources"] for d in decisions(out)}
    for pid, med in planted.items():
        assert med in sources[pid].get("anticoagulant", []), pid


def test_decisions_are_in_patient_id_order_with_the_sources_of_every_derived_answer(
    generated: tuple[Path, Path],
) -> None:
    """decisions.ndjson: patient-id order; ``sources`` names resources of the record."""
    lines = decisions(generated[1])
    ids = [d["patient"].removeprefix("Patient/") for d in lines]
    assert ids == sorted(ids)
    with_clots = [d for d in lines if "clots" in d["sources"]]
    assert with_clots
    for d in with_clots:
        assert all(ref.startswith("Condition/") for ref in d["sources"]["clots"])
    assert all("/" in ref for d in lines for refs in d["sources"].values() for ref in refs)


def test_a_screening_from_a_record_is_never_a_green_light(generated: tuple[Path, Path]) -> None:
    """Red-flag questions are never answered from a record: every decision is incomplete and
    nothing is shown as standard or adapt."""
    out = generated[1]
    assert all(d["decision"]["complete"] is False for d in decisions(out))
    summary = orjson.loads((out / "summary.json").read_bytes())
    assert "standard" not in summary["shown_as"] and "adapt" not in summary["shown_as"]
    assert summary["unknowns"]["rf_breathless"] == 1000


def test_worklist_is_most_urgent_first_in_plain_words_with_minimal_identifiers(
    generated: tuple[Path, Path],
) -> None:
    """No question id, no name or birth date; levels from most to least urgent."""
    out = generated[1]
    text = (out / "worklist.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1000
    ids = {q.id for q in QUESTIONS} | {"clots", "answers."}
    tokens = set(text.replace(",", " ").replace(";", " ").replace('"', " ").split())
    assert not {i for i in ids if "_" in i} & tokens
    assert "birthDate" not in text and "family" not in text
    order = ["Emergency", "Urgent", "Clearance", "Screening incomplete"]
    ranks = [next(i for i, w in enumerate(order) if r["shown as"].startswith(w)) for r in rows]
    assert ranks == sorted(ranks)
    assert all(r["patient"].startswith("Patient/") for r in rows)


def test_summary_counts_levels_rules_and_unknowns_with_the_export_time_and_policy(
    generated: tuple[Path, Path],
) -> None:
    """summary.json: counts add up; transactionTime and policy version are named; the chart
    is a self-contained page."""
    out = generated[1]
    s = orjson.loads((out / "summary.json").read_bytes())
    assert s["patients"] == s["screened"] == 1000
    assert sum(s["levels"].values()) == 1000 == sum(s["shown_as"].values())
    assert s["transactionTime"] == "2026-11-25T06:00:00Z"
    assert s["policy_version"] and s["rules"]["CLOT-ACTIVE"] > 0
    assert sum(1 for _ in (out / "risk-assessments.ndjson").open("rb")) == 1000
    page = (out / "levels.html").read_text("utf-8")
    assert "<svg" in page and "http" not in page.replace('xmlns="http', "")


def test_gzip_and_plain_files_give_the_same_outputs(tmp_path: Path) -> None:
    """An export whose files came gzipped (``.ndjson.gz``) is read exactly like plain NDJSON."""
    gen = generator()
    plain, gz = tmp_path / "plain", tmp_path / "gz"
    gen.generate(plain, 60, seed=7)
    gen.generate(gz, 60, seed=7, gz=True)
    assert any(p.suffix == ".gz" for p in gz.iterdir())
    bulk_screen(plain, tmp_path / "o1")
    bulk_screen(gz, tmp_path / "o2")
    for name in ("decisions.ndjson", "worklist.csv", "risk-assessments.ndjson"):
        assert (tmp_path / "o1" / name).read_bytes() == (tmp_path / "o2" / name).read_bytes()


def test_an_empty_export_writes_empty_outputs(tmp_path: Path) -> None:
    """No files (or empty ones): zero patients, every output present, exit 0."""
    directory = tmp_path / "export"
    directory.mkdir()
    (directory / "Patient.1.ndjson").write_bytes(b"")
    result = bulk_screen(directory, tmp_path / "out")
    assert (tmp_path / "out" / "decisions.ndjson").read_bytes() == b""
    assert (tmp_path / "out" / "worklist.csv").read_text().count("\n") == 1
    summary = orjson.loads((tmp_path / "out" / "summary.json").read_bytes())
    assert summary["patients"] == 0 and "Screened 0 of 0" in result.stdout
    # the policy in force, even with no patient (it printed "export of None, policy []")
    assert summary["policy_version"] == POLICY_VERSION
    assert "None" not in result.stdout and "[]" not in result.stdout


def test_a_malformed_line_is_reported_with_file_and_line_and_the_rest_is_screened(
    tmp_path: Path,
) -> None:
    """A truncated line (a download cut short) is named; every patient is still screened."""
    directory = tmp_path / "export"
    generator().generate(directory, 40, seed=3)
    path = directory / "Condition.1.ndjson"
    lines = path.read_bytes().split(b"\n")
    lines[6] = lines[6][:40]
    path.write_bytes(b"\n".join(lines))
    result = bulk_screen(directory, tmp_path / "out")
    summary = orjson.loads((tmp_path / "out" / "summary.json").read_bytes())
    assert summary["input"]["malformed"] == [
        {"file": "Condition.1.ndjson", "line": 7, "message": "not JSON: the line is skipped"}
    ]
    assert summary["patients"] == 40
    warnings = [orjson.loads(x) for x in result.stderr.splitlines()]
    assert any("Condition.1.ndjson line 7" in w.get("message", "") for w in warnings)
    assert_same_as_screen_fhir(directory, tmp_path / "out")


def test_blank_lines_keep_line_numbers_physical(tmp_path: Path) -> None:
    """Blank lines are not records: a file with some is read by line (the schema-read plan
    numbers records), so a malformed line after them is still named by its physical line, and
    every patient gets the decision ``screen --fhir`` gives."""
    directory = tmp_path / "export"
    generator().generate(directory, 30, seed=23)
    for name in ("Condition.1.ndjson", "Observation.1.ndjson"):
        path = directory / name
        lines = path.read_bytes().split(b"\n")
        path.write_bytes(b"\n".join([b"", *lines[:5], b"   ", *lines[5:]]))
    path = directory / "Condition.1.ndjson"
    lines = path.read_bytes().split(b"\n")
    lines[9] = lines[9][:30]
    path.write_bytes(b"\n".join(lines))
    bulk_screen(directory, tmp_path / "out")
    summary = orjson.loads((tmp_path / "out" / "summary.json").read_bytes())
    assert summary["input"]["malformed"] == [
        {"file": "Condition.1.ndjson", "line": 10, "message": "not JSON: the line is skipped"}
    ]
    assert assert_same_as_screen_fhir(directory, tmp_path / "out") == 30


def test_progress_goes_to_stderr_and_stdout_holds_only_the_summary(tmp_path: Path) -> None:
    """--progress json: JSON lines on stderr; stdout the printed summary (no progress)."""
    directory = tmp_path / "export"
    generator().generate(directory, 20, seed=5)
    result = bulk_screen(directory, tmp_path / "out")
    events = [orjson.loads(x)["event"] for x in result.stderr.splitlines()]
    assert "stage" in events and "patients" in events
    assert result.stdout.startswith("Screened 20 of 20 patients")
    assert '"event"' not in result.stdout


def test_two_workers_write_what_one_writes(tmp_path: Path) -> None:
    """--workers 2 keeps the order: the same files as one process."""
    directory = tmp_path / "export"
    generator().generate(directory, 450, seed=11)
    bulk_screen(directory, tmp_path / "o1")
    bulk_screen(directory, tmp_path / "o2", "--workers", "2")
    for name in ("decisions.ndjson", "worklist.csv", "risk-assessments.ndjson", "levels.html"):
        assert (tmp_path / "o1" / name).read_bytes() == (tmp_path / "o2" / name).read_bytes()


def test_workers_are_forked_from_a_forkserver_that_imported_clotsafe_once() -> None:
    """--workers N: where the system has a forkserver, the workers are forked from it, and it
    imports the screening (and the main module) once; ``spawn`` imported clotsafe again in
    every worker (0.4-0.6 s of CPU each, benchmarks/bulk/README.md, session 7)."""
    import multiprocessing

    from clotsafe.fhir.bulk import screen

    ctx = screen._context()
    if "forkserver" not in multiprocessing.get_all_start_methods():
        assert ctx.get_start_method() == "spawn"
        return
    assert ctx.get_start_method() == "forkserver"
    preload = multiprocessing.forkserver._forkserver._preload_modules  # type: ignore[attr-defined]
    assert preload == ["__main__", "clotsafe.fhir.bulk.screen"]


def test_a_worker_starts_with_its_heap_frozen_and_few_collections() -> None:
    """A worker's start (``_init``): what is alive then is out of the collector's reach and
    the collector runs every 50,000 allocations, not 700 (a patient's resources hold no cycle:
    4-5 % of the Python stage, benchmarks/bulk/README.md, session 7)."""
    import gc
    from datetime import date

    from clotsafe.fhir.bulk import screen
    from clotsafe.rules.settings import DEFAULT_SETTINGS

    before = gc.get_threshold()
    try:
        screen._init(date(2026, 11, 30), ["Patient.1.ndjson"], DEFAULT_SETTINGS)
        assert gc.get_threshold()[0] == screen.GC_YOUNG == 50_000
        assert gc.get_freeze_count() > 0
    finally:  # this test's process is not a worker
        gc.set_threshold(*before)
        gc.unfreeze()
        screen._WORKER = None


def test_several_files_per_type_are_merged_by_patient_in_export_order(tmp_path: Path) -> None:
    """Each type is fetched on its own and the streams are merged by patient: with several part
    files per type, every patient still gets the decision ``screen --fhir`` gives."""
    directory = tmp_path / "export"
    generator().generate(directory, 60, seed=13, part_lines=300)
    assert (directory / "Condition.3.ndjson").is_file()
    bulk_screen(directory, tmp_path / "out")
    assert assert_same_as_screen_fhir(directory, tmp_path / "out") == 60


def test_an_export_far_larger_than_the_memory_limit_is_screened(tmp_path: Path) -> None:
    """Issue 10: 10,000 patients ran out of DuckDB's 512MB in the grouped fetch. The same at a
    small scale: 300 patients (52 MB of NDJSON) under a 64MB limit give the outputs of an
    unlimited run (the fetch joined every line on its parsed id and sorted all types at once,
    and ran out of memory here)."""
    directory = tmp_path / "export"
    generator().generate(directory, 300, seed=17)
    bulk_screen(directory, tmp_path / "o1", "--memory-limit", "4GB")
    bulk_screen(directory, tmp_path / "o2", "--memory-limit", "64MB")
    for name in ("decisions.ndjson", "worklist.csv", "risk-assessments.ndjson"):
        assert (tmp_path / "o1" / name).read_bytes() == (tmp_path / "o2" / name).read_bytes()


def test_parts_of_a_few_patients_write_what_one_part_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kept lines are written and sorted in parts of PART_PATIENTS patients (bounded
    memory): parts of 7 patients (9 parts, several files per type) and of 1 patient give the
    outputs of one part, and each patient the decision ``screen --fhir`` gives."""
    from clotsafe.fhir.bulk import screen_duckdb

    directory = tmp_path / "export"
    generator().generate(directory, 60, seed=13, part_lines=300)
    bulk_screen(directory, tmp_path / "o1")
    for size in (7, 1):
        monkeypatch.setattr(screen_duckdb, "PART_PATIENTS", size)
        bulk_screen(directory, tmp_path / f"p{size}")
        for name in ("decisions.ndjson", "worklist.csv", "risk-assessments.ndjson"):
            assert (tmp_path / "o1" / name).read_bytes() == (
                tmp_path / f"p{size}" / name
            ).read_bytes()
    assert assert_same_as_screen_fhir(directory, tmp_path / "p7") == 60


def test_the_kept_text_is_deleted_when_the_engine_closes(tmp_path: Path) -> None:
    """The kept lines' text files are patient data: gone once the screening ends."""
    from clotsafe.fhir.bulk.screen_duckdb import DuckDbEngine
    from clotsafe.fhir.bulk.source import export_files

    directory = tmp_path / "export"
    generator().generate(directory, 10, seed=3)
    engine = DuckDbEngine(export_files(directory), temp_directory=tmp_path / "duck")
    engine.prepare()
    assert list(engine.parts_dir.glob("text/*/0.txt"))
    assert len(list(engine.groups())) == 10
    engine.close()
    assert not engine.parts_dir.exists()


def test_one_scan_reads_the_kept_text_and_a_blank_line_sends_its_type_the_general_way(
    tmp_path: Path,
) -> None:
    """The schema-read plan's scan of a type's lines copies its kept lines' text and finds its
    blank lines at once: a clean type keeps that text; a type with a blank line (its record
    numbers are no longer line numbers) is read by the general plan; the groups are the same."""
    from clotsafe.fhir.bulk.screen_duckdb import DuckDbEngine
    from clotsafe.fhir.bulk.source import export_files

    def run(directory: Path) -> tuple[set[str], list[tuple[str, list[str]]]]:
        engine = DuckDbEngine(export_files(directory), temp_directory=tmp_path / "duck")
        try:
            engine.prepare()
            rows = [(g.patient, [r.raw for r in g.rows]) for g in engine.groups()]
            return engine.texts, rows
        finally:
            engine.close()

    directory = tmp_path / "export"
    generator().generate(directory, 25, seed=29)
    clean_texts, clean_rows = run(directory)
    assert {"Condition", "Patient", "Observation"} <= clean_texts
    path = directory / "Condition.1.ndjson"
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([*lines[:3], b"", *lines[3:]]))
    texts, rows = run(directory)
    assert "Condition" not in texts and "Patient" in texts
    assert rows == clean_rows


def test_kept_resources_of_no_patient_of_the_export_are_counted_not_screened(
    tmp_path: Path,
) -> None:
    """``without_patient`` counts each kept resource once per subject that is no Patient of
    the export (as ``keep`` did before the kept rows held patient numbers): two Conditions of
    two unknown patients and a Medication that both name; nobody else's decision changes."""
    from clotsafe.fhir.bulk.source_codes import code_rows

    directory = tmp_path / "export"
    generator().generate(directory, 12, seed=31)
    bulk_screen(directory, tmp_path / "o1")
    system, code = next((s, c) for kind, s, c in code_rows() if kind == "condition")
    drug_system, drug = next((s, c) for kind, s, c in code_rows() if kind == "drug")
    extra = b""
    for n, ref in enumerate(("Patient/ghost-1", "urn:uuid:ghost-2")):
        extra += (
            orjson.dumps(
                {
                    "resourceType": "Condition",
                    "id": f"gc{n}",
                    "subject": {"reference": ref},
                    "code": {"coding": [{"system": system, "code": code}]},
                }
            )
            + b"\n"
        )
    (directory / "Condition.9.ndjson").write_bytes(extra)
    meds = b"".join(
        orjson.dumps({"resourceType": "MedicationRequest", "id": f"gm{n}", "status": "active",
                      "intent": "order", "subject": {"reference": ref},
                      "medicationReference": {"reference": "Medication/ghost-med"}}) + b"\n"
        for n, ref in enumerate(("Patient/ghost-1", "Patient/ghost-2"))
    )  # fmt: skip
    (directory / "MedicationRequest.9.ndjson").write_bytes(meds)
    med = {"resourceType": "Medication", "id": "ghost-med",
           "code": {"coding": [{"system": drug_system, "code": drug}]}}  # fmt: skip
    (directory / "Medication.9.ndjson").write_bytes(orjson.dumps(med) + b"\n")
    bulk_screen(directory, tmp_path / "o2")
    summary = orjson.loads((tmp_path / "o2" / "summary.json").read_bytes())
    # 2 Conditions + 2 MedicationRequests + the Medication once for each of its 2 subjects
    assert summary["input"]["without_patient"] == 6
    assert summary["patients"] == 12
    for name in ("decisions.ndjson", "worklist.csv"):
        assert (tmp_path / "o1" / name).read_bytes() == (tmp_path / "o2" / name).read_bytes()


@pytest.mark.parametrize(
    ("limit", "says"),
    [("abc", "--memory-limit 'abc' is not a size"), ("-1", "--memory-limit '-1' is not a size"),
     ("1MB", "needed more memory than --memory-limit 1MB")],
)  # fmt: skip
def test_a_memory_limit_that_cannot_work_is_a_clear_error_not_a_traceback(
    tmp_path: Path, limit: str, says: str
) -> None:
    """``--memory-limit abc`` ended in DuckDB's parser error and ``1MB`` in its out-of-memory
    error, each as a traceback: now the option's error (exit 1), and ``-1`` (no limit at all,
    which DuckDB would take) is refused too."""
    from click.testing import CliRunner

    from clotsafe.cli import main

    directory = tmp_path / "export"
    generator().generate(directory, 5, seed=1)
    result = CliRunner().invoke(main, ["bulk", "screen", str(directory), "--on", "2026-11-25",
                                       "--out", str(tmp_path / "out"), "--progress", "none",
                                       "--memory-limit", limit])  # fmt: skip
    assert result.exit_code == 1, (result.output, result.exception)
    assert says in result.stderr and "[bulk_bad_option]" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_a_blank_line_in_the_patients_or_a_medicine_file_sends_it_the_general_way_late(
    tmp_path: Path,
) -> None:
    """The Patients' and the MedicationRequests' line numbers are checked on the text thread,
    after DuckDB has read other types with the Patients' numbers: a blank line there sends
    the type the general way late (same parts, the medicines' references twice), and every
    patient still gets the decision ``screen --fhir`` gives."""
    from clotsafe.fhir.bulk.screen_duckdb import DuckDbEngine
    from clotsafe.fhir.bulk.source import export_files

    directory = tmp_path / "export"
    generator().generate(directory, 40, seed=37)
    for name in ("Patient.1.ndjson", "MedicationRequest.1.ndjson"):
        path = directory / name
        lines = path.read_bytes().split(b"\n")
        path.write_bytes(b"\n".join([*lines[:4], b"", *lines[4:]]))
    engine = DuckDbEngine(export_files(directory), temp_directory=tmp_path / "duck")
    try:
        engine.prepare()
        assert not {"Patient", "MedicationRequest"} & engine.texts
        assert "Condition" in engine.texts
    finally:
        engine.close()
    bulk_screen(directory, tmp_path / "out")
    assert assert_same_as_screen_fhir(directory, tmp_path / "out") == 40


@pytest.mark.parametrize("cut", [False, True])
def test_one_thread_and_files_read_side_by_side_give_the_same_groups(
    tmp_path: Path, cut: bool
) -> None:
    """With two DuckDB threads a type's files are read side by side (each scan numbered by
    record runs on one thread): the same groups as one thread reading them in turn, also when
    one file's read fails (a cut line: the type goes the general way)."""
    from clotsafe.fhir.bulk.screen_duckdb import DuckDbEngine
    from clotsafe.fhir.bulk.source import export_files

    directory = tmp_path / "export"
    generator().generate(directory, 60, seed=41, part_lines=300)
    assert (directory / "Condition.3.ndjson").is_file()
    if cut:
        path = directory / "Condition.2.ndjson"
        lines = path.read_bytes().split(b"\n")
        lines[5] = lines[5][:40]
        path.write_bytes(b"\n".join(lines))

    def groups(threads: int) -> tuple[set[str], list[tuple[str, list[tuple[int, int]]]]]:
        engine = DuckDbEngine(export_files(directory), temp_directory=tmp_path / f"d{threads}",
                              threads=threads)  # fmt: skip
        try:
            engine.prepare()
            rows = [(g.patient, [(r.file, r.line) for r in g.rows]) for g in engine.groups()]
            return engine.texts, rows
        finally:
            engine.close()

    one, two = groups(1), groups(2)
    assert one == two
    assert ("Condition" in one[0]) is not cut


def test_workers_read_their_own_ranges_across_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker reads its range of patients' lines itself (the main process sends ids): ranges
    of 7 patients in parts of 20, on 2 workers, write what one process writes, and every
    patient gets the decision ``screen --fhir`` gives."""
    from clotsafe.fhir.bulk import screen, screen_duckdb

    directory = tmp_path / "export"
    generator().generate(directory, 60, seed=43, part_lines=300)
    bulk_screen(directory, tmp_path / "o1")
    monkeypatch.setattr(screen_duckdb, "PART_PATIENTS", 20)
    monkeypatch.setattr(screen, "BLOCK", 7)
    bulk_screen(directory, tmp_path / "o2", "--workers", "2")
    for name in ("decisions.ndjson", "worklist.csv", "risk-assessments.ndjson"):
        assert (tmp_path / "o1" / name).read_bytes() == (tmp_path / "o2" / name).read_bytes()
    assert assert_same_as_screen_fhir(directory, tmp_path / "o2") == 60


def test_a_line_kept_twice_reaches_its_patient_once_and_is_counted_once(tmp_path: Path) -> None:
    """The keep files hold a row per coding that keeps a line (no hash table of every kept row:
    at 100,000 patients it made the peak grow with the export): a Condition kept by both of its
    codings, and a Medication named twice by one patient's requests and once by another's, each
    reach each patient once, are counted once, and the decisions are ``screen --fhir``'s."""
    from clotsafe.fhir.bulk.source_codes import code_rows

    rows = list(code_rows())
    condition = next((s, c) for kind, s, c in rows if kind == "condition")
    prefix = next((s, c) for kind, s, c in rows if kind == "condition_prefix")
    drug = next((s, c) for kind, s, c in rows if kind == "drug")

    def coding(pair: tuple[str, str]) -> dict[str, str]:
        return {"system": pair[0], "code": pair[1]}

    patients = [{"resourceType": "Patient", "id": p, "birthDate": "1960-01-01"}
                for p in ("p1", "p2")]  # fmt: skip
    dvt = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
           "clinicalStatus": {"coding": [{"code": "active"}]},
           "code": {"coding": [coding(condition), coding(prefix)]}}  # fmt: skip
    requests = [{"resourceType": "MedicationRequest", "id": f"m{n}", "status": "active",
                 "intent": "order", "subject": {"reference": f"Patient/{p}"},
                 "medicationReference": {"reference": "Medication/med"}}
                for n, p in enumerate(("p1", "p1", "p2"))]  # fmt: skip
    med = {"resourceType": "Medication", "id": "med", "code": {"coding": [coding(drug)]}}
    directory = write_export(tmp_path / "export", [*patients, dvt, *requests, med])
    bulk_screen(directory, tmp_path / "out")
    summary = orjson.loads((tmp_path / "out" / "summary.json").read_bytes())
    assert summary["input"]["kept"] == {"Condition": 1, "Medication": 2,
                                        "MedicationRequest": 3, "Patient": 2}  # fmt: skip
    got = {d["patient"]: d for d in decisions(tmp_path / "out")}
    for pid, own in (("p1", [dvt, *requests[:2]]), ("p2", requests[2:])):
        entries = [{"resource": r} for r in [patients[pid == "p2"], *own, med]]
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
        want = orjson.dumps(orjson.loads(screen_fhir(bundle)))
        assert orjson.dumps(got[f"Patient/{pid}"]["decision"]) == want, pid


@pytest.mark.parametrize("blank", [False, True])
def test_duckdb_holds_no_table_of_kept_rows(tmp_path: Path, blank: bool) -> None:
    """What grows with the export stays out of DuckDB's memory: once the lines are known, the
    only tables left are the code lists and the patients' ids (the kept rows are in Parquet
    keep files, one per type); also when a blank line sends the Conditions the general way."""
    from clotsafe.fhir.bulk.screen_duckdb import DuckDbEngine
    from clotsafe.fhir.bulk.source import export_files

    directory = tmp_path / "export"
    generator().generate(directory, 30, seed=5)
    if blank:
        path = directory / "Condition.1.ndjson"
        path.write_bytes(b"\n" + path.read_bytes())
    engine = DuckDbEngine(export_files(directory), temp_directory=tmp_path / "duck")
    try:
        report = engine.prepare()
        tables = {
            r[0] for r in engine.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        assert tables == {"codes", "prefix_lengths", "patient_part"}
        keeps = sorted(p.stem for p in engine.parts_dir.glob("keep/*.parquet"))
        assert keeps == engine.types
        assert ("Condition" in engine.texts) is not blank
        assert report.kept["Condition"] > 0 and len(list(engine.groups())) == 30
    finally:
        engine.close()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs RLIMIT_FSIZE (POSIX)")
@pytest.mark.parametrize("limit", [20_000, 300_000, 3_000_000])
def test_a_full_disk_is_a_clear_error_naming_the_directories_not_a_traceback(
    tmp_path: Path, limit: int
) -> None:
    """A disk that fills up while the screening writes its temporary files (the candidate and
    kept rows, the kept lines' text) or its outputs stopped it with a traceback (pyarrow's
    OSError, DuckDB's IOException with JSON in its text, or Python's own). Now it is
    ``bulk_io_error`` (exit 1) in words, naming --temp-dir and --out. The full disk is real:
    the child may write no file larger than ``limit`` bytes (RLIMIT_FSIZE)."""
    import resource
    import signal
    import subprocess
    import sys

    directory = tmp_path / "export"
    generator().generate(directory, 300, seed=9)

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    temp, out = tmp_path / "temp", tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "clotsafe", "bulk", "screen", str(directory), "--on",
         "2026-11-25", "--out", str(out), "--temp-dir", str(temp), "--progress", "none"],
        preexec_fn=small_files, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "[bulk_io_error]" in proc.stderr
    assert f"{temp} (--temp-dir)" in proc.stderr and f"{out} (--out)" in proc.stderr
    assert "{" not in proc.stderr  # no DuckDB JSON
    assert not (out / "summary.json").exists()


def test_duckdb_io_errors_are_told_in_words() -> None:
    """DuckDB's IOException text holds JSON; the message shows its words only."""
    import duckdb

    from clotsafe.fhir.bulk.screen import ScreenOptions, io_error

    options = ScreenOptions(Path("export"), Path("out"), __import__("datetime").date(2026, 1, 1))
    raw = ('IO Error: Could not open file: {"exception_type":"IO","exception_message":'
           '"Could not read \\"x.parquet\\": Permission denied","errno":"13"}')  # fmt: skip
    message = str(io_error(duckdb.IOException(raw), options))
    assert 'Could not read "x.parquet": Permission denied' in message
    assert "{" not in message and "exception_type" not in message
    full = '{"exception_type":"IO","exception_message":"No space","errno":"28"}'
    assert "no space left on the device" in str(io_error(duckdb.IOException(full), options))


def test_a_disk_full_at_the_summary_leaves_no_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last writes (worklist, summary, chart) failing is ``bulk_io_error`` too, and no
    half-written summary.json says the screening finished."""
    import errno

    from click.testing import CliRunner

    from clotsafe.cli import main
    from clotsafe.fhir.bulk import screen

    def full(out: Path, *_: object) -> None:
        (out / "summary.json").write_bytes(b'{"patients": ')
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(screen, "write_summary", full)
    directory = tmp_path / "export"
    generator().generate(directory, 5, seed=2)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["bulk", "screen", str(directory), "--on", "2026-11-25",
                                       "--out", str(out), "--progress", "none"])  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "no space left on the device" in result.stderr and "[bulk_io_error]" in result.stderr
    assert not (out / "summary.json").exists()
