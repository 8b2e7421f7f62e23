"""A bulk export as a source for the Screener (``clotsafe.rules.screener``).

``clotsafe bulk export`` writes one NDJSON file per resource type (``<Type>.<n>.ndjson``, or
``.ndjson.gz`` when the content came gzipped; ``<Type>.ndjson`` and ``<n>.<Type>.ndjson``, as
other tools name them, are read too). The screening engine (DuckDB or Spark, in
``screen_duckdb`` / ``screen_spark``) runs the SQL on FHIR views of ``views/``, keeps only the
resources the EHR reader could use (by the code lists) and hands over each patient's few
resources, in export order, as a :class:`PatientGroup`. :func:`bulk_source` turns each group
into a SourceItem with the UNCHANGED per-patient reader (``fhir.ehr.derive_resources``):
identity ``{"patient": "Patient/<id>"}``, provenance = each derived answer -> the resources it
came from.

Export order: files by resource type (name order), then part number, then line. A patient's
Bundle in that order gives the same decision through ``clotsafe screen --fhir``.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from clotsafe.domain import strictjson
from clotsafe.domain.errors import FieldError
from clotsafe.fhir.bulk.errors import BulkError
from clotsafe.fhir.ehr import derive_resources
from clotsafe.fhir.errors import FhirInputError, fhir_json, join, problem
from clotsafe.fhir.resources import USED_TYPES, Res
from clotsafe.rules.screener import SourceItem

_TYPE = r"(?P<type>[A-Z][A-Za-z]{0,63})"
_GZ = r"\.ndjson(?P<gz>\.gz)?"
#: the names of an export's files, each ``.ndjson`` or ``.ndjson.gz``: ``<Type>.<n>`` as ``bulk
#: export`` names them, ``<Type>`` (Synthea, many servers) and ``<n>.<Type>`` (the SMART
#: bulk-data-client); the part number is 0 when there is none
FILE_NAMES = (
    re.compile(_TYPE + r"\.(?P<n>[0-9]{1,9})" + _GZ),
    re.compile(_TYPE + _GZ),
    re.compile(r"(?P<n>[0-9]{1,9})\." + _TYPE + _GZ),
)
#: a name that looks like NDJSON data: it must then be one of FILE_NAMES (``.part``: a download
#: not finished, never read)
_LOOKS_LIKE_DATA = re.compile(r"[^/]*\.(ndjson|jsonl)(\.[^/]*)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One output file of the export; ``ordinal`` is its place in export order."""

    path: Path
    type: str
    part: int
    gzipped: bool
    ordinal: int

    @property
    def name(self) -> str:
        return self.path.name


def export_files(directory: Path, types: Iterable[str] = USED_TYPES) -> list[ExportFile]:
    """The export's files of the wanted types, in export order (type, then part number).

    Only final names count: ``.part`` files (incomplete downloads), ``error/`` and
    ``deleted/`` are not patient data to screen. A file that looks like NDJSON but whose name
    gives no resource type is ``bulk_bad_option``: screened without the resources it holds,
    a patient could look safe.
    """
    wanted = set(types)
    found, unknown = [], []
    for p in sorted(directory.iterdir()):
        m = next((m for pattern in FILE_NAMES if (m := pattern.fullmatch(p.name))), None)
        if m and m["type"] in wanted and p.is_file():
            found.append((m["type"], int(m.groupdict().get("n") or 0), bool(m["gz"]), p))
        elif not m and _LOOKS_LIKE_DATA.fullmatch(p.name) and not p.name.endswith(".part"):
            unknown.append(p.name)
    if unknown:
        raise BulkError("bulk_bad_option", f"{directory} holds files whose names give no resource "
                        f"type: {', '.join(unknown)}. Name each <Type>.<n>.ndjson (for example "
                        "Condition.1.ndjson; .ndjson.gz when it is gzip) or move it out of the "
                        "directory: a patient screened without the resources it holds could "
                        "look safe")  # fmt: skip
    found.sort(key=lambda t: (t[0], t[1], t[2], t[3].name))
    return [ExportFile(p, t, n, gz, i) for i, (t, n, gz, p) in enumerate(found)]


def open_lines(f: ExportFile) -> BinaryIO:
    """The file's bytes, inflated when it is gzip."""
    if f.gzipped:
        return gzip.GzipFile(f.path, "rb")  # type: ignore[return-value]
    return f.path.open("rb")


@dataclass(slots=True)
class Row:
    """One resource line: which file (its ordinal), which line (from 1), the JSON text. Not
    ``frozen``, as ``resources.Res`` (one is built for every kept line; nothing changes it)."""

    file: int
    line: int
    raw: bytes | str


@dataclass(frozen=True, slots=True)
class PatientGroup:
    """One patient's resources that the reader could use, in export order."""

    patient: str
    rows: tuple[Row, ...]


def bulk_source(
    groups: Iterable[PatientGroup], at: date, files: list[ExportFile]
) -> Iterator[SourceItem]:
    """One SourceItem per patient group, read by ``fhir.ehr.derive_resources``."""
    names = [f.name for f in files]
    for g in groups:
        yield patient_item(g, at, names)


def patient_item(g: PatientGroup, at: date, names: list[str],
                 not_used: list[FieldError] | None = None) -> SourceItem:  # fmt: skip
    """The intake one patient's record supports (or the input error, with file and line);
    what the record holds but the reader could not use is added to ``not_used`` (the
    warnings the CDS card lists under "Not used from the record")."""
    ident = {"patient": f"Patient/{g.patient}"}
    try:
        resources = _resources(g.rows, names)
        facts = derive_resources(resources, at=at, patient_id=g.patient)
        intake = facts.intake()
    except FhirInputError as exc:
        return SourceItem(ident, None, exc)
    if not_used is not None:
        not_used += facts.warnings
    return SourceItem(ident, intake, None, {k: tuple(v) for k, v in facts.sources.items()})


def _resources(rows: tuple[Row, ...], names: list[str]) -> list[Res]:
    """The rows read as resources. All of a patient's lines are decoded and checked for a
    repeated key at once (``strictjson.loads_many``); when that cannot vouch for every one,
    each line is decoded alone, so a bad line is told exactly as before, by file and line."""
    values = strictjson.loads_many([r.raw for r in rows])
    if values is None:
        return [_res(r, names) for r in rows]
    return [_typed(v, _path(r, names)) for r, v in zip(rows, values, strict=True)]


def _path(row: Row, names: list[str]) -> str:
    return f"{names[row.file]}:{row.line}"


def _res(row: Row, names: list[str]) -> Res:
    path = _path(row, names)
    return _typed(_decoded(row.raw, path), path)


def _typed(data: Any, path: str) -> Res:
    kind = data.get("resourceType") if isinstance(data, dict) else None
    if not isinstance(kind, str):
        message = "every FHIR resource needs a resourceType"
        raise FhirInputError([problem(path, "missing_resource_type", message, kind)])
    rid = data.get("id")
    ref = f"{kind}/{rid}" if isinstance(rid, str) and rid else path
    return Res(data, path, ref, kind)


def _decoded(raw: bytes | str, path: str) -> Any:
    """The line as JSON, decoded as every FHIR input is (``fhir_json``): a key named twice
    in one object is refused (POLICY 1.1 §8.1: ``screen --fhir`` refuses the same Bundle), and
    so is a line that is not one JSON value (an engine whose JSON functions read only its
    first value may have kept it); the errors name the file and line."""
    try:
        return fhir_json(raw)
    except FhirInputError as exc:
        raise FhirInputError([replace(e, field=join(path, e.field)) for e in exc.errors]) from None
