"""EHR data (Patient, Condition, MedicationRequest/Statement, Observation, Procedure, Encounter)
-> the intake answers the record supports and the clinical findings the scores need.

Rules of the road (docs/fhir.md):
* only what the record SAYS becomes an answer; a question the record is silent on stays
  *missing* (never "no"), so the decision stays honest about being incomplete;
* every derived answer and finding keeps the references of the resources it came from;
* every time window is counted back from the passed-in date ``at``, never the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from clotsafe.domain.errors import FieldError, IntakeError
from clotsafe.domain.intake import Intake, parse_intake
from clotsafe.fhir.codes import CodeLists, ConditionMatch, Drug, canonical_system, code_lists
from clotsafe.fhir.errors import FhirInputError, join, problem
from clotsafe.fhir.resources import (
    Res,
    by_ref,
    check_subjects,
    codings,
    collect,
    collect_prefetch,
    fhir_date,
    find_patient,
    first_date,
    patient_full_urls,
    period_end,
    status_code,
)

#: windows (days) counted back from ``at``; the INTAKE.md wording of each question
RECENT_EVENT_DAYS = 84  # "in the last 12 weeks": surgery, leg injury, birth
LAST_MONTH_DAYS = 30  # Caprini "<1 month" items
CANCER_ACTIVE_DAYS = 183  # "cancer now, or any treatment in the last 6 months"
PLATELET_DAYS = 90  # a platelet count older than this is not "the last known count" for today
BODY_DAYS = 365  # height, weight, BMI
VITALS_DAYS = 1  # heart rate, SpO2 for Wells PE / PERC: today's (or yesterday's) vitals

_INACTIVE = frozenset({"inactive", "remission", "resolved"})
_IGNORED_VERIFICATION = frozenset({"refuted", "entered-in-error"})
_CURRENT_MED = frozenset({"active", "on-hold", "intended"})
_PAST_MED = frozenset({"completed", "stopped"})
_LIMB_GROUPS = {("leg", "left"): "left_leg", ("leg", "right"): "right_leg",
                ("leg", "both"): "legs", ("leg", None): "legs",
                ("arm", "left"): "left_arm", ("arm", "right"): "right_arm",
                ("arm", "both"): "arms", ("arm", None): "arms"}  # fmt: skip


@dataclass
class EhrFacts:
    """What the record supports: intake answers and clinical findings, each with its sources."""

    at: date
    answers: dict[str, Any] = field(default_factory=dict)
    #: question id (or ``clots[i]``) -> references of the resources it came from
    sources: dict[str, list[str]] = field(default_factory=dict)
    #: calculator findings (item ids or measurements) -> value
    findings: dict[str, Any] = field(default_factory=dict)
    finding_sources: dict[str, list[str]] = field(default_factory=dict)
    #: resources that could not be used (unknown code systems, missing codes, odd units)
    warnings: list[FieldError] = field(default_factory=list)
    patient_ref: str | None = None
    inpatient: bool = False

    def answer(self, qid: str, value: Any, ref: str) -> None:
        self.answers[qid] = value
        self.sources.setdefault(qid, [])
        if ref not in self.sources[qid]:
            self.sources[qid].append(ref)

    def find(self, item: str, value: Any, ref: str) -> None:
        self.findings[item] = value
        refs = self.finding_sources.setdefault(item, [])
        if ref not in refs:
            refs.append(ref)

    def intake_json(self) -> dict[str, Any]:
        return {"screened_on": self.at.isoformat(), "answers": dict(self.answers)}

    def intake(self) -> Intake:
        """The intake the record supports (validated like any other intake)."""
        try:
            return parse_intake(self.intake_json())
        except IntakeError as exc:
            raise FhirInputError([_source_error(e, self.sources) for e in exc.errors]) from None


def _source_error(err: FieldError, sources: Mapping[str, list[str]]) -> FieldError:
    qid = err.field.removeprefix("answers.").split(".")[0]
    refs = sources.get(qid) or sources.get(qid.split("[")[0]) or []
    where = f" (from {', '.join(refs)})" if refs else ""
    return FieldError(err.field, err.code, err.message + where, err.got)


@dataclass
class _Clot:
    kind: str
    site: str | None
    diagnosed_on: date | None
    ref: str
    treatment: str | None = None
    treatment_refs: list[str] = field(default_factory=list)


@dataclass
class _Med:
    drug: Drug
    current: bool
    start: date | None
    end: date | None
    ref: str


@dataclass
class _Builder:
    at: date
    codes: CodeLists
    facts: EhrFacts
    clots: list[_Clot] = field(default_factory=list)
    meds: list[_Med] = field(default_factory=list)
    medications: dict[str, Res] = field(default_factory=dict)
    latest: dict[str, tuple[date, float, str]] = field(default_factory=dict)
    surgery_dates: list[tuple[date, str, str]] = field(default_factory=list)
    trauma_dates: list[tuple[date | None, str]] = field(default_factory=list)

    def trauma(self, when: date | None, ref: str) -> None:
        self.trauma_dates.append((when, ref))

    def add_name(self, qid: str, name: str, ref: str) -> None:
        names = list(self.facts.answers.get(qid, []))
        if name not in names:
            names.append(name)
        self.facts.answer(qid, names, ref)

    def hormone_finding(self, ref: str) -> None:
        for item in ("hormone_use", "hormonal_treatment"):
            self.facts.find(item, True, ref)

    # --- dispatch -----------------------------------------------------------------------
    def read(self, r: Res) -> None:
        """Read one resource by its type (``_READERS``; Medication is read by reference)."""
        reader = _READERS.get(r.type)
        if reader is not None:
            reader(self, r)

    def warn(self, path: str, code: str, message: str, got: Any = None) -> None:
        self.facts.warnings.append(problem(path, code, message, got))

    # --- Patient --------------------------------------------------------------------------
    def _patient(self, r: Res) -> None:
        # what is read here is resources.READ_FIELDS["Patient"] (two copies must agree on it)
        birth = fhir_date(r.data.get("birthDate"), latest=True)
        if birth is not None and birth <= self.at:
            age = (
                self.at.year
                - birth.year
                - ((self.at.month, self.at.day) < (birth.month, birth.day))
            )
            self.facts.answer("age", age, r.ref)
            self.facts.find("age", age, r.ref)
        gender = r.data.get("gender")
        if gender in ("female", "male", "other"):
            self.facts.answer("sex", gender, r.ref)

    # --- Condition ------------------------------------------------------------------------
    def _condition(self, r: Res) -> None:
        match = self._match_condition(r)
        if match is None or status_code(r.data, "verificationStatus") in _IGNORED_VERIFICATION:
            return
        onset = first_date(r.data, "onsetDateTime", "onsetPeriod", "recordedDate")
        if onset is not None and onset > self.at:
            return  # recorded after the screening date: not known on that day
        abated = first_date(r.data, "abatementDateTime", "abatementPeriod")
        active = status_code(r.data, "clinicalStatus") not in _INACTIVE and (
            abated is None or abated > self.at
        )
        _apply_condition(self, _Condition(r, match, onset, abated, active))

    def _match_condition(self, r: Res) -> ConditionMatch | None:
        systems: list[str | None] = []
        for system, code, _i in codings(r.data.get("code")):
            m = self.codes.condition(system, code)
            if m is not None:
                return m
            systems.append(system)
        self._code_warning(r, systems)
        return None

    def _code_warning(self, r: Res, systems: list[str | None]) -> None:
        if not systems:
            self.warn(join(r.path, "code"), "missing_code",
                      f"{r.ref} has no coded code; clotsafe cannot read it")  # fmt: skip
        elif all(canonical_system(s) is None for s in systems):
            names = sorted({str(s) for s in systems})
            self.warn(join(r.path, "code.coding"), "unknown_code_system",
                      f"{r.ref} uses code systems clotsafe does not know: "
                      + ", ".join(names), names[0])  # fmt: skip

    # --- medicines --------------------------------------------------------------------------
    def _medicationrequest(self, r: Res) -> None:
        self._med(r, r.data.get("status"), fhir_date(r.data.get("authoredOn")),
                  _validity_end(r.data))  # fmt: skip

    def _medicationstatement(self, r: Res) -> None:
        start = first_date(r.data, "effectiveDateTime", "effectivePeriod", "dateAsserted")
        self._med(r, r.data.get("status"), start, period_end(r.data, "effectivePeriod"))

    def _medicationadministration(self, r: Res) -> None:
        start = first_date(r.data, "effectiveDateTime", "effectivePeriod")
        end = period_end(r.data, "effectivePeriod") or start
        status = {"in-progress": "active", "completed": "completed"}.get(str(r.data.get("status")))
        self._med(r, status, start, end)

    def _med(self, r: Res, status: Any, start: date | None, end: date | None) -> None:
        if not isinstance(status, str) or status not in _CURRENT_MED | _PAST_MED:
            return  # cancelled, entered-in-error, not-taken, draft, unknown
        drug = self._drug(r)
        if drug is None or (start is not None and start > self.at):
            return
        current = status in _CURRENT_MED and (end is None or end >= self.at)
        self.meds.append(_Med(drug, current, start, end or (None if current else start), r.ref))

    def _drug(self, r: Res) -> Drug | None:
        concept = r.data.get("medicationCodeableConcept")
        ref = r.data.get("medicationReference")
        if concept is None and isinstance(ref, dict):
            med = self.medications.get(str(ref.get("reference")))
            if med is None:
                self.warn(
                    join(r.path, "medicationReference"),
                    "unresolved_reference",
                    "the Medication it names is not in the input",
                    ref.get("reference"),
                )
                return None
            concept = med.data.get("code")  # resources.READ_FIELDS["Medication"]
        for system, code, _i in codings(concept):
            d = self.codes.drug(system, code)
            if d is not None:
                return d
        return self._drug_by_name(concept)

    def _drug_by_name(self, concept: Any) -> Drug | None:
        """A medicine no code of the lists names, read by its text or a coding's display
        (product-level codes; medications.toml, "Names"): it can only add a medicine."""
        if not isinstance(concept, dict):
            return None
        texts = [concept.get("text")]
        codings_ = concept.get("coding")
        if isinstance(codings_, list):
            texts += [c.get("display") for c in codings_ if isinstance(c, dict)]
        for text in texts:
            if isinstance(text, str) and (d := self.codes.drug_named(text)) is not None:
                return d
        return None

    # --- Observation --------------------------------------------------------------------------
    def _observation(self, r: Res) -> None:
        if r.data.get("status") in ("entered-in-error", "cancelled", "preliminary"):
            return
        for system, code, _i in codings(r.data.get("code")):
            m = self.codes.measure(system, code)
            if m is not None:
                self._measurement(r, m.measure, m.units)
                return

    def _measurement(self, r: Res, measure: str, units: Mapping[str, float]) -> None:
        when = first_date(r.data, "effectiveDateTime", "effectivePeriod", "issued")
        q = r.data.get("valueQuantity")
        if when is None or when > self.at or not isinstance(q, dict):
            return
        value, unit = q.get("value"), q.get("code") or q.get("unit")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            self.warn(join(r.path, "valueQuantity.value"), "wrong_type", "expected a number", value)
            return
        if not isinstance(unit, str) or unit not in units:
            self.warn(
                join(r.path, "valueQuantity.code"),
                "unknown_unit",
                f"unit not understood for {measure}: the value is not used",
                unit,
            )
            return
        prev = self.latest.get(measure)
        if prev is None or when >= prev[0]:
            self.latest[measure] = (when, float(value) * units[str(unit)], r.ref)

    # --- Procedure ------------------------------------------------------------------------------
    def _procedure(self, r: Res) -> None:
        if r.data.get("status") not in ("completed", "in-progress", None):
            return
        when = first_date(r.data, "performedDateTime", "performedPeriod")
        if when is None or when > self.at:
            return
        for system, code, _i in codings(r.data.get("code")):
            s = self.codes.surgery(system, code)
            if s is not None:
                _procedure_facts(self, r, s, when)
                return

    # --- Encounter ------------------------------------------------------------------------------
    def _encounter(self, r: Res) -> None:
        klass = r.data.get("class")
        code = klass.get("code") if isinstance(klass, dict) else None
        if r.data.get("status") == "in-progress" and code in ("IMP", "ACUTE", "NONAC"):
            self.facts.inpatient = True
            self.facts.find("inpatient", True, r.ref)


#: resource type -> its reader (Medication is read through the resources that name it)
_READERS: Mapping[str, Callable[[_Builder, Res], None]] = {
    "Patient": _Builder._patient,
    "Condition": _Builder._condition,
    "MedicationRequest": _Builder._medicationrequest,
    "MedicationStatement": _Builder._medicationstatement,
    "MedicationAdministration": _Builder._medicationadministration,
    "Observation": _Builder._observation,
    "Procedure": _Builder._procedure,
    "Encounter": _Builder._encounter,
}


def _validity_end(data: Mapping[str, Any]) -> date | None:
    dr = data.get("dispenseRequest")
    return period_end(dr, "validityPeriod") if isinstance(dr, dict) else None


def _days(at: date, d: date | None) -> int | None:
    return None if d is None else (at - d).days


class Needs(Enum):
    """When a matched Condition counts, besides its window (``ConditionEffect.window``)."""

    ALWAYS = "always"  # history counts: the record saying it ever happened is enough
    ACTIVE = "active"  # only while active (clinical status, abatement)
    WITHIN = "within"  # only when its onset is within the window
    ACTIVE_OR_WITHIN = "active_or_within"  # active now, or began within the window
    WITHIN_OR_UNDATED_ACTIVE = "within_or_undated_active"  # began within it, or active undated


@dataclass(frozen=True, slots=True)
class ConditionEffect:
    """What a Condition concept's ``effect`` (knowledge/codes/conditions.toml) answers.

    When it counts (``needs``, ``window`` days back from ``at``), ``question`` is answered
    "yes", every item of ``findings`` is set, ``names`` = (question, name) adds the name to a
    list answer (name None: the code's thrombophilia marker), and ``trauma`` records a trauma
    date for the scores. Clots, cancer, leg fractures and varicose veins need code
    (``_CONDITION_CODE``).
    """

    question: str | None
    needs: Needs = Needs.ALWAYS
    window: int | None = None
    findings: tuple[str, ...] = ()
    names: tuple[str, str | None] | None = None
    trauma: bool = False


_HORMONE_FINDINGS = ("hormone_use", "hormonal_treatment")
_E = ConditionEffect
#: effect -> what it answers (the table; the four effects that need code are below it)
CONDITION_EFFECTS: Mapping[str, ConditionEffect] = {
    "thrombophilia": _E("thrombophilia", findings=("known_thrombophilia",),
                        names=("thrombophilia_markers", None)),
    "pts": _E("pts", Needs.ACTIVE),
    "lymphedema": _E("lymphedema", Needs.ACTIVE),
    "thrombocytopenia": _E("platelets_low", Needs.ACTIVE),
    "pregnancy": _E("pregnant", Needs.ACTIVE),
    "cancer_history": _E("cancer_past"),
    "pelvic_fracture": _E(None, Needs.WITHIN, RECENT_EVENT_DAYS, trauma=True),
    "spinal_cord_injury": _E("spinal_cord_injury_recent", Needs.WITHIN, LAST_MONTH_DAYS,
                             trauma=True),
    "heart_failure": _E("heart_failure_recent", Needs.ACTIVE_OR_WITHIN, LAST_MONTH_DAYS,
                        ("heart_or_respiratory_failure",)),
    "lung_disease": _E("lung_disease", Needs.ACTIVE),
    "pneumonia": _E("pneumonia_recent", Needs.WITHIN_OR_UNDATED_ACTIVE, LAST_MONTH_DAYS,
                    ("acute_infection_or_rheumatologic",)),
    "sepsis": _E("sepsis_recent", Needs.WITHIN_OR_UNDATED_ACTIVE, LAST_MONTH_DAYS,
                 ("acute_infection_or_rheumatologic",)),
    "heart_attack": _E("heart_attack_recent", Needs.WITHIN, LAST_MONTH_DAYS,
                       ("acute_mi_or_ischaemic_stroke",)),
    "stroke": _E("stroke_recent", Needs.WITHIN, LAST_MONTH_DAYS,
                 ("acute_mi_or_ischaemic_stroke",)),
    "ibd": _E("ibd"),
    "anticoagulant_use": _E("anticoagulant", Needs.ACTIVE),
    "antiplatelet_use": _E("antiplatelet", Needs.ACTIVE),
    "aspirin_use": _E("antiplatelet", Needs.ACTIVE, names=("antiplatelet_names", "aspirin")),
    "hormones": _E("hormones", Needs.ACTIVE, findings=_HORMONE_FINDINGS),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Condition:
    """One matched Condition, read: its dates and whether it is active at ``at``."""

    r: Res
    m: ConditionMatch
    onset: date | None
    abated: date | None
    active: bool


def _counts(e: ConditionEffect, c: _Condition, at: date) -> bool:
    if e.needs is Needs.ALWAYS:
        return True
    if e.needs is Needs.ACTIVE:
        return c.active
    d = _days(at, c.onset)
    within = d is not None and e.window is not None and d <= e.window
    if e.needs is Needs.ACTIVE_OR_WITHIN:
        return c.active or within
    if e.needs is Needs.WITHIN_OR_UNDATED_ACTIVE:
        return within or (c.active and c.onset is None)
    return within


def _apply_effect(b: _Builder, e: ConditionEffect, c: _Condition) -> None:
    if not _counts(e, c, b.at):
        return
    ref = c.r.ref
    if e.question is not None:
        b.facts.answer(e.question, "yes", ref)
    for item in e.findings:
        b.facts.find(item, True, ref)
    if e.names is not None:
        name = e.names[1] if e.names[1] is not None else c.m.marker
        if name:
            b.add_name(e.names[0], name, ref)
    if e.trauma:
        b.trauma(c.onset, ref)


# --- the four effects that need code ---------------------------------------------------------


def _clot(b: _Builder, c: _Condition) -> None:
    concept = c.m.concept
    site = _clot_site(concept.limb, c.m.side)
    b.clots.append(_Clot(concept.kind or "unsure", site, c.onset, c.r.ref))


def _clot_history(b: _Builder, c: _Condition) -> None:
    concept = c.m.concept
    site = _clot_site(concept.limb, None)
    b.clots.append(_Clot(concept.kind or "unsure", site, None, c.r.ref))


def _varicose(b: _Builder, c: _Condition) -> None:
    if not c.active:
        return
    b.facts.answer("varicose", "yes", c.r.ref)
    group = _LIMB_GROUPS[("leg", c.m.side)]
    sites = b.facts.answers.get("varicose_site", [])
    b.facts.answer("varicose_site", sorted({*sites, group}), c.r.ref)


def _cancer(b: _Builder, c: _Condition) -> None:
    d = _days(b.at, c.abated)
    if c.active or (d is not None and d <= CANCER_ACTIVE_DAYS):
        b.facts.answer("cancer_active", "yes", c.r.ref)
        for item in ("active_cancer", "malignancy"):
            b.facts.find(item, True, c.r.ref)
    else:
        b.facts.answer("cancer_past", "yes", c.r.ref)


def _leg_fracture(b: _Builder, c: _Condition) -> None:
    d = _days(b.at, c.onset)
    if c.onset is None or d is None or d > RECENT_EVENT_DAYS:
        return
    b.facts.answer("leg_injury", "yes", c.r.ref)
    b.facts.answer("leg_injury_on", c.onset.isoformat(), c.r.ref)
    b.trauma(c.onset, c.r.ref)


_CONDITION_CODE: Mapping[str, Callable[[_Builder, _Condition], None]] = {
    "clot": _clot,
    "clot_history": _clot_history,
    "varicose": _varicose,
    "cancer": _cancer,
    "leg_fracture": _leg_fracture,
}


def _apply_condition(b: _Builder, c: _Condition) -> None:
    """A matched Condition's effect: a table row, code for the four that differ, else a
    warning (a concept whose effect clotsafe has no reading for)."""
    effect = c.m.concept.effect
    row = CONDITION_EFFECTS.get(effect)
    if row is not None:
        _apply_effect(b, row, c)
        return
    code = _CONDITION_CODE.get(effect)
    if code is not None:
        code(b, c)
    else:
        b.warn(c.r.path, "unhandled_concept", f"no reading for {c.m.concept.id}")


def _clot_site(limb: str | None, side: str | None) -> str | None:
    if limb in ("leg", "arm"):
        return _LIMB_GROUPS[(limb, side)]
    if limb == "lung":
        return "lung"
    return "other" if limb == "other" else None


def _procedure_facts(b: _Builder, r: Res, s: Any, when: date) -> None:
    days = (b.at - when).days
    if s.birth and days <= RECENT_EVENT_DAYS:
        b.facts.answer("gave_birth", "yes", r.ref)
        b.facts.answer("birth_on", when.isoformat(), r.ref)
        if s.cesarean:
            b.facts.answer("cesarean", "yes", r.ref)
    if s.kind is None or days > RECENT_EVENT_DAYS:
        if s.kind is not None:
            b.surgery_dates.append((when, s.kind, r.ref))
        return
    b.surgery_dates.append((when, s.kind, r.ref))
    prev = b.facts.answers.get("surgery_on")
    if prev is None or when.isoformat() >= prev:
        b.facts.answer("surgery_recent", "yes", r.ref)
        b.facts.answer("surgery_on", when.isoformat(), r.ref)
        b.facts.answer("surgery_kind", s.kind, r.ref)
        if s.site:
            b.facts.answer("surgery_site", [s.site], r.ref)


# --- after every resource is read -----------------------------------------------------------


def _finish(b: _Builder) -> None:
    _medicine_answers(b)
    _clot_answers(b)
    _measurement_answers(b)
    _event_findings(b)


def _medicine_answers(b: _Builder) -> None:
    for m in b.meds:
        if not m.current:
            continue
        if m.drug.drug_class == "hormone":
            b.facts.answer("hormones", "yes", m.ref)
            b.hormone_finding(m.ref)
            continue
        b.facts.answer(m.drug.drug_class, "yes", m.ref)
        b.add_name(f"{m.drug.drug_class}_names", m.drug.name, m.ref)


def _clot_answers(b: _Builder) -> None:
    if not b.clots:
        return
    records = []
    for i, c in enumerate(sorted(b.clots, key=lambda c: c.diagnosed_on or b.at)):
        _treatment(b, c)
        rec: dict[str, Any] = {"kind": c.kind}
        if c.site is not None:
            rec["site"] = c.site
        if c.diagnosed_on is not None:
            rec["diagnosed_on"] = c.diagnosed_on.isoformat()
        if c.treatment is not None:
            rec["treatment"] = c.treatment
        records.append(rec)
        b.facts.sources[f"clots[{i}]"] = [c.ref, *c.treatment_refs]
        _clot_findings(b, c)
    for c in b.clots:
        b.facts.answer("clot_ever", "yes", c.ref)
    b.facts.answers["clots"] = records
    b.facts.sources["clots"] = [c.ref for c in b.clots]


def _treatment(b: _Builder, c: _Clot) -> None:
    """ongoing: an anticoagulant now; finished: one that ended after the diagnosis."""
    anticoag = [m for m in b.meds if m.drug.drug_class == "anticoagulant"]
    now = [m for m in anticoag if m.current]
    if now:
        c.treatment, c.treatment_refs = "ongoing", [m.ref for m in now]
        return
    since = c.diagnosed_on or date.min
    done = [m for m in anticoag if (m.end or m.start or date.min) >= since]
    if done and c.diagnosed_on is not None:
        c.treatment, c.treatment_refs = "finished", [m.ref for m in done]


def _clot_findings(b: _Builder, c: _Clot) -> None:
    items = ["previous_dvt_or_pe", "prior_dvt_or_pe"]
    if c.kind in ("dvt", "unsure"):
        items.append("previous_dvt")
    if c.kind != "svt":
        items.append("previous_vte")
    for item in items:
        b.facts.find(item, True, c.ref)


_MEASURE_ANSWERS = {"platelets": ("platelet_count", PLATELET_DAYS),
                    "height_cm": ("height_cm", BODY_DAYS), "weight_kg": ("weight_kg", BODY_DAYS),
                    "bmi": ("bmi", BODY_DAYS)}  # fmt: skip
_MEASURE_FINDINGS = {"bmi": ("bmi", BODY_DAYS), "heart_rate": ("heart_rate", VITALS_DAYS),
                     "spo2": ("oxygen_saturation", VITALS_DAYS)}  # fmt: skip


def _measurement_answers(b: _Builder) -> None:
    for measure, (when, value, ref) in b.latest.items():
        age = (b.at - when).days
        if measure in _MEASURE_ANSWERS and age <= _MEASURE_ANSWERS[measure][1]:
            b.facts.answer(_MEASURE_ANSWERS[measure][0], round(value, 1), ref)
        if measure in _MEASURE_FINDINGS and age <= _MEASURE_FINDINGS[measure][1]:
            b.facts.find(_MEASURE_FINDINGS[measure][0], round(value, 1), ref)


def _event_findings(b: _Builder) -> None:
    for when, kind, ref in b.surgery_dates:
        days = (b.at - when).days
        if kind != "minor" and days <= RECENT_EVENT_DAYS:
            b.facts.find("bedridden_or_major_surgery", True, ref)
        if days <= 28:
            for item in ("immobilisation_or_surgery", "recent_surgery_or_trauma"):
                b.facts.find(item, True, ref)
        if days <= LAST_MONTH_DAYS:
            b.facts.find("recent_trauma_or_surgery", True, ref)
    for trauma_on, ref in b.trauma_dates:
        days = (b.at - trauma_on).days if trauma_on is not None else 0
        if days <= 28:
            b.facts.find("recent_surgery_or_trauma", True, ref)
        if days <= LAST_MONTH_DAYS:
            b.facts.find("recent_trauma_or_surgery", True, ref)


# --- entry points ----------------------------------------------------------------------------


def derive(obj: Any, *, at: date, patient_id: str | None = None,
           include_unverified: bool = False) -> EhrFacts:  # fmt: skip
    """Read a Bundle, a list of resources or one resource for ONE patient."""
    return derive_resources(collect(obj), at=at, patient_id=patient_id,
                            full_urls=patient_full_urls(obj),
                            include_unverified=include_unverified)  # fmt: skip


def derive_prefetch(prefetch: Mapping[str, Any], *, at: date, patient_id: str | None = None
                    ) -> EhrFacts:  # fmt: skip
    """Read a CDS Hooks prefetch object (each value a resource or a searchset Bundle)."""
    return derive_resources(collect_prefetch(prefetch), at=at, patient_id=patient_id,
                            full_urls=patient_full_urls(prefetch))  # fmt: skip


def derive_resources(resources: list[Res], *, at: date, patient_id: str | None = None,
                     full_urls: set[str] | None = None,
                     include_unverified: bool = False) -> EhrFacts:  # fmt: skip
    patient = find_patient(resources, patient_id)
    check_subjects(resources, patient, full_urls or set())
    facts = EhrFacts(at=at, patient_ref=patient.ref if patient else None)
    b = _Builder(at, code_lists(include_unverified), facts)
    b.medications = _medication_index(resources)
    for r in resources:
        b.read(r)
    _finish(b)
    return facts


def _medication_index(resources: list[Res]) -> dict[str, Res]:
    out: dict[str, Res] = {}
    for ref, r in by_ref(resources, "Medication", "conflicting_resources").items():
        out[ref] = r
        rid = r.data.get("id")
        if isinstance(rid, str):
            out[f"#{rid}"] = r
    return out
