"""The code lists of ``clotsafe/knowledge/codes/`` (SNOMED CT, ICD-10-CM, RxNorm, LOINC).

Data, not code: each TOML file states its source and version, and each code names where it was
verified. Codes FACTS.md tags unverified carry ``verified = false`` and are left out unless
``include_unverified`` is asked for.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"

#: system URIs seen in the wild for the same code systems (Synthea writes some of these)
SYSTEM_ALIASES: Mapping[str, str] = {
    SNOMED: SNOMED,
    "http://snomed.info/sct/": SNOMED,
    "SNOMED-CT": SNOMED,
    ICD10CM: ICD10CM,
    "http://hl7.org/fhir/sid/icd-10-us": ICD10CM,
    RXNORM: RXNORM,
    "RxNorm": RXNORM,
    LOINC: LOINC,
    "LOINC": LOINC,
}


def canonical_system(system: str | None) -> str | None:
    """The canonical URI for a known code-system alias, None for an unknown system."""
    return SYSTEM_ALIASES.get(system or "")


@dataclass(frozen=True, slots=True)
class ConditionConcept:
    id: str
    effect: str
    kind: str | None = None
    limb: str | None = None


@dataclass(frozen=True, slots=True)
class ConditionMatch:
    concept: ConditionConcept
    code: str
    display: str
    #: "left", "right", "both" or None, read from the ICD-10-CM laterality character
    side: str | None = None
    #: INTAKE.md thrombophilia marker, when the code names one
    marker: str | None = None


@dataclass(frozen=True, slots=True)
class Drug:
    rxcui: str
    ingredient: str
    #: INTAKE.md value for anticoagulant_names / antiplatelet_names ("other" when unlisted)
    name: str
    drug_class: str


@dataclass(frozen=True, slots=True)
class Measure:
    loinc: str
    measure: str
    unit: str
    units: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class SurgeryCode:
    snomed: str
    display: str
    kind: str | None
    site: str | None
    birth: bool
    cesarean: bool


def _load(name: str) -> dict[str, Any]:
    path = resources.files("clotsafe.knowledge").joinpath("codes", name)
    with path.open("rb") as f:
        return tomllib.load(f)


def _kept(
    entries: Iterable[Mapping[str, Any]], include_unverified: bool
) -> list[Mapping[str, Any]]:
    return [e for e in entries if include_unverified or e.get("verified", True)]


_SIDES = {"1": "right", "2": "left", "3": "both"}


@dataclass(frozen=True, slots=True)
class CodeLists:
    """All code lists, indexed for lookup."""

    snomed_conditions: Mapping[str, tuple[ConditionConcept, Mapping[str, Any]]]
    icd_prefixes: tuple[tuple[str, ConditionConcept, Mapping[str, Any]], ...]
    drugs: Mapping[str, Drug]
    measures: Mapping[str, Measure]
    surgeries: Mapping[str, SurgeryCode]
    #: medicine names (case folded) -> the drug they name: medications.toml, "Names"
    drug_names: Mapping[str, Drug] = field(default_factory=dict)
    _names: re.Pattern[str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        # the pattern follows from the names: built here, never passed beside them
        object.__setattr__(self, "_names", _name_pattern(self.drug_names))

    def condition(self, system: str | None, code: str) -> ConditionMatch | None:
        """The concept a Condition code belongs to, or None."""
        if system == SNOMED and code not in self.snomed_conditions:
            return None  # the common case in a real record: a code clotsafe does not read
        canon = canonical_system(system)
        if canon == SNOMED and code in self.snomed_conditions:
            concept, entry = self.snomed_conditions[code]
            return ConditionMatch(concept, code, str(entry.get("display", "")))
        if canon == ICD10CM:
            return self._icd(code)
        return None

    def _icd(self, code: str) -> ConditionMatch | None:
        bare = code.replace(".", "").upper()
        for prefix, concept, entry in self.icd_prefixes:  # longest prefix first
            if bare.startswith(prefix):
                side = _SIDES.get(bare[-1]) if entry.get("laterality") and len(bare) >= 5 else None
                return ConditionMatch(concept, code, str(entry.get("display", "")), side,
                                      entry.get("marker"))  # fmt: skip
        return None

    def drug(self, system: str | None, code: str) -> Drug | None:
        return self.drugs.get(code) if canonical_system(system) == RXNORM else None

    def drug_named(self, text: str) -> Drug | None:
        """The drug a medicine's text names as a whole word, case aside (the first named, when
        it names several), or None."""
        if self._names is None:
            return None
        found = self._names.search(text)
        return self.drug_names[found.group(0).casefold()] if found else None

    def measure(self, system: str | None, code: str) -> Measure | None:
        return self.measures.get(code) if canonical_system(system) == LOINC else None

    def surgery(self, system: str | None, code: str) -> SurgeryCode | None:
        return self.surgeries.get(code) if canonical_system(system) == SNOMED else None


def _conditions(include_unverified: bool) -> tuple[dict[str, Any], list[Any]]:
    snomed: dict[str, tuple[ConditionConcept, Mapping[str, Any]]] = {}
    icd: list[tuple[str, ConditionConcept, Mapping[str, Any]]] = []
    for c in _load("conditions.toml")["concept"]:
        concept = ConditionConcept(c["id"], c["effect"], c.get("kind"), c.get("limb"))
        for e in _kept(c.get("snomed", ()), include_unverified):
            snomed[e["code"]] = (concept, e)
        for e in _kept(c.get("icd10cm", ()), include_unverified):
            icd.append((e["prefix"].replace(".", "").upper(), concept, e))
    icd.sort(key=lambda t: -len(t[0]))
    return snomed, icd


def _drugs(include_unverified: bool) -> dict[str, Drug]:
    data = _load("medications.toml")
    ingredients = {i["ingredient"]: i for i in data["ingredient"]}
    out: dict[str, Drug] = {}
    for i in _kept(data["ingredient"], include_unverified):
        out[i["rxcui"]] = Drug(i["rxcui"], i["ingredient"], i["name"], i["class"])
    for p in _kept(data["product"], include_unverified):
        ing = ingredients.get(p["ingredient"], {})
        out[p["rxcui"]] = Drug(p["rxcui"], p["ingredient"], ing.get("name", "other"),
                               p.get("class") or ing["class"])  # fmt: skip
    return out


def _measures() -> dict[str, Measure]:
    return {c["loinc"]: Measure(c["loinc"], c["measure"], c["unit"], dict(c["units"]))
            for c in _load("observations.toml")["code"]}  # fmt: skip


def _surgeries() -> dict[str, SurgeryCode]:
    return {p["snomed"]: SurgeryCode(p["snomed"], p["display"], p.get("kind"), p.get("site"),
                                     p.get("birth", False), p.get("cesarean", False))
            for p in _load("procedures.toml")["procedure"]}  # fmt: skip


def _drug_names() -> dict[str, Drug]:
    """Every ingredient's own name (whether or not its code is verified: the name is FACTS.md's)
    and the ``[[name]]`` entries, case folded."""
    data = _load("medications.toml")
    ingredients = {i["ingredient"]: i for i in data["ingredient"]}
    out = {i["ingredient"].casefold(): Drug("", i["ingredient"], i["name"], i["class"])
           for i in data["ingredient"]}  # fmt: skip
    for n in data.get("name", ()):
        ing = ingredients.get(n["ingredient"], {})
        out[n["text"].casefold()] = Drug("", n["ingredient"], n.get("intake") or ing["name"],
                                         n.get("class") or ing["class"])  # fmt: skip
    return out


def _name_pattern(names: Mapping[str, Drug]) -> re.Pattern[str] | None:
    """One pattern for every name, longest first, each a whole word."""
    if not names:
        return None
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=lambda n: (-len(n), n)))
    # ASCII case only, as SQL's lower() folds it: the bulk engines keep a line whose text holds
    # a name (lower-cased), a superset of what this pattern reads (source_codes)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE | re.ASCII)


@cache
def code_lists(include_unverified: bool = False, medicine_names: bool = True) -> CodeLists:
    """Load every code list once. ``medicine_names``: a medicine no code names is read by its
    name (medications.toml, "Names"); off only to see what the codes alone give."""
    snomed, icd = _conditions(include_unverified)
    names = _drug_names() if medicine_names else {}
    return CodeLists(snomed, tuple(icd), _drugs(include_unverified), _measures(), _surgeries(),
                     names)  # fmt: skip


def sources() -> dict[str, str]:
    """File name -> the source/version line each code-list file declares."""
    names = ("conditions.toml", "medications.toml", "observations.toml", "procedures.toml")
    return {n: str(_load(n)["source_version"]) for n in names}
