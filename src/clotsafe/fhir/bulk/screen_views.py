"""The SQL around the SQL on FHIR views, shared by the DuckDB and Spark engines.

The views (``views/<Type>.json``) flatten each resource to ``id``, ``patient`` (the subject
reference) and its codings (``system``, ``code``); the medicines also give the ``medication``
they reference. This module writes the few lines of SQL that are not a view: join the codings
with the code lists (the ``codes`` table of ``source_codes``, never a code in SQL), turn a
subject reference into the patient's id, and name the Medications the kept medicine resources
reference. The result is ``keep(type, id, patient, file, line)``: the resources the EHR reader
could use, by patient, with the file and line they were read from (the views carry both), so
the engines fetch the kept lines again by position, without parsing any line a second time.
The reader and the engine decide everything else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from clotsafe.fhir.bulk.source_codes import code_rows

#: the view of each resource type the screening reads (views/<Type>.json)
VIEW_TYPES = ("Patient", "Condition", "MedicationRequest", "MedicationStatement",
              "MedicationAdministration", "Medication", "Observation", "Procedure",
              "Encounter")  # fmt: skip
MEDICINE_TYPES = ("MedicationRequest", "MedicationStatement", "MedicationAdministration")
#: which code kinds of ``codes`` keep a resource of each coded type
CODE_KINDS = {"Condition": ("condition", "condition_prefix"), "Observation": ("measure",),
              "Procedure": ("procedure",), "MedicationRequest": ("drug",),
              "MedicationStatement": ("drug",), "MedicationAdministration": ("drug",)}  # fmt: skip


@cache
def views() -> Mapping[str, Mapping[str, Any]]:
    """Resource type -> its ViewDefinition (JSON), as committed in ``views/``."""
    folder = resources.files("clotsafe.fhir.bulk").joinpath("views")
    return {t: json.loads(folder.joinpath(f"{t}.json").read_text("utf-8")) for t in VIEW_TYPES}


def patient_key(ref: str) -> str:
    """SQL: the patient id a subject reference names (``Patient/x``, ``urn:uuid:x``,
    ``https://.../Patient/x``), NULL for anything else; as ``fhir.resources`` accepts them."""
    return (
        f"CASE WHEN {ref} LIKE 'Patient/%' THEN substr({ref}, 9) "
        f"WHEN {ref} LIKE 'urn:uuid:%' THEN substr({ref}, 10) "
        f"WHEN {ref} LIKE '%/Patient/%' THEN regexp_extract({ref}, '/Patient/([^/]+)$', 1) END"
    )


def keep_sql(kind: str, flat: str, *, distinct: bool = True) -> str:
    """SELECT type, id, patient, file, line of the resources of ``kind`` the reader could use.

    ``flat`` names the table of that type's view rows. Patients are all kept; coded types when
    a coding is in the code lists (exact codes, or ICD-10-CM prefixes matched on the code
    without dots, upper case; both as equi-joins); medicines also when they name a Medication
    (resolved below) or when their text or a display holds a medicine name (``_holds_name``);
    Encounters as the view gives them (in progress).

    Without ``distinct`` a line may come more than once (once per coding that keeps it): the
    caller removes the repeats (the DuckDB engine, by the line numbers it fetches, so that no
    hash table of every kept row is held).
    """
    key = patient_key("v.patient")
    select = "SELECT DISTINCT" if distinct else "SELECT"
    head = f"{select} '{kind}' AS type, v.id, {key} AS patient, v.file, v.line FROM {flat} v"
    if kind == "Patient":
        return (f"{select} 'Patient' AS type, v.id, v.id AS patient, v.file, v.line "
                f"FROM {flat} v")  # fmt: skip
    if kind == "Encounter":
        return head
    exact = ", ".join(f"'{k}'" for k in CODE_KINDS[kind] if not k.endswith("_prefix"))
    parts = [f"{head} JOIN codes c ON c.system = v.system AND c.code = v.code "
             f"AND c.kind IN ({exact})"]  # fmt: skip
    if "condition_prefix" in CODE_KINDS[kind]:
        bare = "upper(replace(v.code, '.', ''))"
        # only the codings of an ICD-10-CM spelling are cut into prefixes (most are SNOMED)
        icd = (f"(SELECT * FROM {flat} WHERE system IN "
               "(SELECT system FROM codes WHERE kind = 'condition_prefix')) v")  # fmt: skip
        cols = f"'{kind}' AS type, v.id, {key} AS patient, v.file, v.line"
        parts.append(f"{select} {cols} FROM {icd} JOIN prefix_lengths n "
                     f"ON length({bare}) >= n.n "
                     f"JOIN codes c ON c.system = v.system AND c.code = substr({bare}, 1, n.n) "
                     "AND c.kind = 'condition_prefix'")  # fmt: skip
    if kind in MEDICINE_TYPES:
        parts.append(f"{head} WHERE v.medication IS NOT NULL")
        parts.append(f"{head} JOIN codes n ON n.kind = 'drug_name' AND {_holds_name('v', 'n')}")
    return (" UNION " if distinct else " UNION ALL ").join(parts)


def _holds_name(v: str, n: str) -> str:
    """SQL: the medicine text or the coding's display of view row ``v`` holds the name
    ``n.code`` (lower case): a superset of the reader's whole-word match (``drug_named``),
    for a medicine named by a code the lists do not hold (instr: DuckDB and Spark alike)."""
    return f"(instr(lower({v}.text), {n}.code) > 0 OR instr(lower({v}.display), {n}.code) > 0)"


def candidates_sql(kind: str, view: str) -> str:
    """SELECT * of the view rows (``view``: a subquery of the schema-read plan, with its
    ``__sof_odd`` and ``__sof_other`` flags) that ``keep_sql`` or ``medicine_refs_sql`` could
    use, or that are flagged: a superset, so that only these are materialised (at 100,000
    patients the Conditions' view has 12 million rows, a few hundred thousand of them
    candidates)."""
    if kind not in CODE_KINDS:
        return f"SELECT * FROM {view}"
    exact = ", ".join(f"'{k}'" for k in CODE_KINDS[kind] if not k.endswith("_prefix"))
    # by the code alone (a superset: ``keep_sql`` matches the system too): a semi-join on the
    # short code is cheaper than one on (system, code) over every coding (0.84 against 0.94 s
    # for 10,000 patients' Conditions, one thread)
    conds = ["v.__sof_odd", "v.__sof_other",
             f"v.code IN (SELECT code FROM codes WHERE kind IN ({exact}))"]  # fmt: skip
    if "condition_prefix" in CODE_KINDS[kind]:
        conds.append("v.system IN (SELECT system FROM codes WHERE kind = 'condition_prefix')")
    if kind in MEDICINE_TYPES:
        conds.append("v.medication IS NOT NULL")
        if names := _names_pattern():
            # one regular expression, not a join with the names (0.1-0.15 s more for 10,000
            # patients' MedicationRequests): case folded as RE2 folds it, a superset of the
            # ASCII folding of keep_sql and the reader
            conds += [f"regexp_matches(v.text, {names}, 'i')",
                      f"regexp_matches(v.display, {names}, 'i')"]  # fmt: skip
    return f"SELECT * FROM {view} v WHERE " + " OR ".join(conds)


#: a resourceType that can be named in a message (anything else is not echoed)
_TYPE_NAME = re.compile(r"[A-Za-z]{1,64}")


#: what the summary says of a Patient without an id (nothing can name it, it is not screened)
NO_PATIENT_ID = "a Patient without an id: it is not screened (no resource can name it)"
#: SQL: the file and line of each Patient of the Patient view rows ``{flat}`` without an id
NO_ID_SQL = "SELECT DISTINCT file, line FROM {flat} WHERE id IS NULL"


def other_type(found: object, kind: str) -> str:
    """What the summary says of a line of a ``kind`` file that is not a ``kind`` resource
    (``found``: its resourceType, None when it has none or is not a JSON object): skipped and
    reported, never silently dropped (the Bulk Data files hold one type each)."""
    if isinstance(found, str) and _TYPE_NAME.fullmatch(found):
        return f"a resource of type {found} in a file of {kind} resources: the line is skipped"
    return "not a FHIR resource (no resourceType): the line is skipped"


@cache
def _names_pattern() -> str | None:
    """SQL: a string, the RE2 pattern of every medicine name of the code lists (built from
    them here, as the ``codes`` table is filled from them), or None when there are none."""
    names = sorted({code for kind, _s, code in code_rows() if kind == "drug_name"})
    if not names:
        return None
    pattern = "|".join(re.sub(r"([^a-z0-9 ])", r"\\\1", n) for n in names)
    return "'" + pattern.replace("'", "''") + "'"


#: SQL: the lengths of the ICD-10-CM prefixes (a table ``prefix_lengths(n)``)
PREFIX_LENGTHS = "SELECT DISTINCT length(code) AS n FROM codes WHERE kind = 'condition_prefix'"


def medication_key(ref: str) -> str:
    """SQL: the Medication id a medicationReference names (``Medication/<id>`` or ``#<id>``,
    as the reader resolves them), NULL otherwise."""
    return (
        f"CASE WHEN {ref} LIKE 'Medication/%' THEN substr({ref}, 12) "
        f"WHEN {ref} LIKE '#%' THEN substr({ref}, 2) END"
    )


def medicine_refs_sql(flat: str) -> str:
    """SELECT medication (its id), patient: the Medications one medicine table names."""
    key = patient_key("v.patient")
    return (
        f"SELECT DISTINCT {medication_key('v.medication')} AS medication, {key} AS patient "
        f"FROM {flat} v WHERE v.medication IS NOT NULL"
    )


def medication_keep_sql(flat: str, refs: str) -> str:
    """Medications named by a medicine resource, once per patient that names them."""
    return (
        f"SELECT DISTINCT 'Medication' AS type, m.id, r.patient, m.file, m.line FROM {flat} m "
        f"JOIN {refs} r ON r.medication = m.id"
    )
