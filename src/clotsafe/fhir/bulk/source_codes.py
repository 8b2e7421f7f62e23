"""The code lists of ``knowledge/codes/`` as rows for the screening engines' join.

The SQL never holds a code: the engine loads these rows into a table ``codes(kind, system,
code)`` and joins the views' (system, code) columns with it, to drop the resources the EHR
reader would not use anyway. Each code appears once per spelling of its system
(``fhir.codes.SYSTEM_ALIASES``), as the reader matches them. Kinds:

* ``condition``: a SNOMED CT or ICD-10-CM code that is a Condition concept (exact match);
* ``condition_prefix``: an ICD-10-CM prefix, matched on the code without dots, upper case;
* ``drug``: an RxNorm code (ingredient or product); ``measure``: a LOINC code;
* ``procedure``: a SNOMED CT surgery or delivery procedure;
* ``drug_name``: a medicine name (lower case, no system): a medicine no code names is kept
  when its text or a coding's display holds one (``screen_views._holds_name``, and the
  candidates' ``_names_pattern``), a superset of the reader's whole-word match
  (``fhir.codes.CodeLists.drug_named``).

A superset is safe (the reader decides what a resource means); a code missing here would
silently drop a resource, which the bulk tests catch by comparing with ``screen --fhir``.
"""

from __future__ import annotations

from functools import cache

from clotsafe.fhir.codes import ICD10CM, LOINC, RXNORM, SNOMED, SYSTEM_ALIASES, code_lists

#: kind, system (as written in the resource), code (or ICD-10-CM prefix without dots)
CodeRow = tuple[str, str, str]


def _spellings(canonical: str) -> list[str]:
    return [alias for alias, canon in SYSTEM_ALIASES.items() if canon == canonical]


@cache
def code_rows(include_unverified: bool = False) -> tuple[CodeRow, ...]:
    """Every code the EHR reader matches, as (kind, system, code) rows."""
    lists = code_lists(include_unverified)
    rows: list[CodeRow] = []
    for system in _spellings(SNOMED):
        rows += [("condition", system, code) for code in lists.snomed_conditions]
        rows += [("procedure", system, code) for code in lists.surgeries]
    for system in _spellings(ICD10CM):
        rows += [("condition_prefix", system, p) for p, _c, _e in lists.icd_prefixes]
    for system in _spellings(RXNORM):
        rows += [("drug", system, code) for code in lists.drugs]
    for system in _spellings(LOINC):
        rows += [("measure", system, code) for code in lists.measures]
    rows += [("drug_name", "", name.lower()) for name in lists.drug_names]
    return tuple(dict.fromkeys(rows))
