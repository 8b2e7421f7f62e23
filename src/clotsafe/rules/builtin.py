"""The rules of POLICY.md §3, one function each, registered through the same seam as any rule.

Each function reads the answers through ``Ctx``, returns ``None`` when the rule does not fire,
or a ``Firing`` with the answers it read (the trace), how unknowns were read, its plan part and
the dated events that triggered it. Levels, wording, caps and session lengths are data in
``clotsafe/knowledge/rules.toml`` (read here through ``_cap``), time windows come from the
clinic's settings in force (``ctx.w``): no number is written in this file.
"""

from __future__ import annotations

from clotsafe.domain.questions import LIMB_SIGNS, PE_SIGNS
from clotsafe.domain.regions import REGION_SET, distal_closure, limbs_of
from clotsafe.domain.types import Position
from clotsafe.knowledge import rules as rule_info
from clotsafe.rules.plan import PlanPart
from clotsafe.rules.registry import (
    ARMS,
    LEGS,
    Ctx,
    Event,
    Firing,
    NormClot,
    RuleRegistry,
    limb_regions,
)

_INFO = rule_info()


def _cap(rule_id: str, key: str) -> int:
    """One of a rule's own caps (rules.toml); tests/rules/test_rule_numbers.py checks the keys."""
    return _INFO[rule_id].cap(key)


def _minutes(rule_id: str) -> int | None:
    return _INFO[rule_id].session_minutes_max


# --- 3.1 red flags ------------------------------------------------------------------------


def _any_yes(ctx: Ctx, qids: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(q for q in qids if ctx.a.yes(q))


def rf_pe(ctx: Ctx) -> Firing | None:
    hits = _any_yes(ctx, PE_SIGNS)
    return Firing(ctx.used(*hits)) if hits else None


def rf_pe_hr(ctx: Ctx) -> Firing | None:
    limb = _any_yes(ctx, LIMB_SIGNS)
    if ctx.a.yes("rf_heart_racing") and limb:
        return Firing(ctx.used("rf_heart_racing", *limb, "rf_limb_site"))
    return None


def rf_stroke(ctx: Ctx) -> Firing | None:
    return Firing(ctx.used("rf_stroke_signs")) if ctx.a.yes("rf_stroke_signs") else None


def rf_hr(ctx: Ctx) -> Firing | None:
    if ctx.a.yes("rf_heart_racing") and not _any_yes(ctx, LIMB_SIGNS):
        return Firing(ctx.used("rf_heart_racing"))
    return None


def rf_dvt(ctx: Ctx) -> Firing | None:
    limb = _any_yes(ctx, LIMB_SIGNS)
    if not limb:
        return None
    part = PlanPart().note("Do not massage. Do not do Homans' test or any provocation test.")
    return Firing(ctx.used(*limb, "rf_limb_site"), part)


def on_anticoagulant(ctx: Ctx) -> bool:
    """Takes a blood thinner: the answer, or a named one (``named_medicines_count``)."""
    return ctx.a.yes("anticoagulant") or bool(ctx.a.names("anticoagulant_names"))


def on_antiplatelet(ctx: Ctx) -> bool:
    return ctx.a.yes("antiplatelet") or bool(ctx.a.names("antiplatelet_names"))


def rf_bleed(ctx: Ctx) -> Firing | None:
    if (on_anticoagulant(ctx) or on_antiplatelet(ctx)) and ctx.a.yes("rf_unusual_bleeding"):
        return Firing(
            ctx.used(
                "anticoagulant",
                "anticoagulant_names",
                "antiplatelet",
                "antiplatelet_names",
                "rf_unusual_bleeding",
            )
        )
    return None


# --- 3.2 known clots ------------------------------------------------------------------------


def _is_active(ctx: Ctx, c: NormClot) -> bool:
    days = ctx.days(c.diagnosed_on)
    return days is None or days <= ctx.w.clot_active_days or c.treatment == "none"


def _clot_trace(ctx: Ctx, clots: list[NormClot]) -> tuple[dict[str, object], list[str]]:
    answers: dict[str, object] = (
        {"clot_ever": ctx.a.get("clot_ever")} if "clot_ever" in ctx.a else {}
    )
    notes: list[str] = []
    for c in clots:
        answers[f"clots[{c.index}]"] = c.raw
        notes.extend(c.assumptions)
        if c.diagnosed_on is None:
            notes.append(
                f"clots[{c.index}].diagnosed_on missing: counted as within "
                f"{ctx.w.clot_active_days} days"
            )
    return answers, notes


def clot_active(ctx: Ctx) -> Firing | None:
    clots = [c for c in ctx.clots if _is_active(ctx, c)]
    if not clots:
        return None
    rid = "CLOT-ACTIVE"
    part = PlanPart().cap(REGION_SET, _cap(rid, "all")).session_at_most(_minutes(rid))
    for c in clots:
        if c.pe:
            part = part.cap(LEGS, _cap(rid, "pe_legs"))
        if c.regions:
            avoid = distal_closure(c.regions)
            part = part.avoid_regions(avoid).cap(avoid, _cap(rid, "site"))
            part = part.cap(limb_regions(c.limbs) - avoid, _cap(rid, "limb"))
            part = part.no_joints(limb_regions(c.limbs))
    answers, notes = _clot_trace(ctx, clots)
    return Firing(answers, part, tuple(notes), tuple(c.event for c in clots))


def clot_history(ctx: Ctx) -> Firing | None:
    clots = [c for c in ctx.clots if not _is_active(ctx, c)]
    if not clots:
        return None
    rid = "CLOT-HISTORY"
    part = PlanPart().cap(REGION_SET, _cap(rid, "all"))
    for c in clots:
        if c.pe:
            part = part.cap(LEGS, _cap(rid, "pe_legs"))
        if c.regions:
            limbs = limb_regions(c.limbs)
            part = part.cap(limbs | c.regions, _cap(rid, "limb")).gentle_joints(limbs)
    answers, notes = _clot_trace(ctx, clots)
    return Firing(answers, part, tuple(notes), tuple(c.event for c in clots))


def _ivc_recent(ctx: Ctx) -> bool | None:
    if not ctx.a.yes("ivc_filter"):
        return None
    days = ctx.days(ctx.a.date("ivc_filter_placed_on"))
    return days is None or days <= ctx.w.ivc_filter_recent_days


def _ivc_firing(ctx: Ctx, rid: str, notes: tuple[str, ...] = ()) -> Firing:
    part = PlanPart().cap(LEGS, _cap(rid, "legs"))
    event = Event("answers.ivc_filter_placed_on", ctx.a.date("ivc_filter_placed_on"))
    return Firing(ctx.used("ivc_filter", "ivc_filter_placed_on"), part, notes, (event,))


def ivc_filter_recent(ctx: Ctx) -> Firing | None:
    if _ivc_recent(ctx) is not True:
        return None
    notes: tuple[str, ...] = ()
    if "ivc_filter_placed_on" not in ctx.a:
        days = ctx.w.ivc_filter_recent_days
        notes = (f"ivc_filter_placed_on missing: counted as within {days} days",)
    return _ivc_firing(ctx, "IVC-FILTER-RECENT", notes)


def ivc_filter(ctx: Ctx) -> Firing | None:
    if _ivc_recent(ctx) is not False:
        return None
    return _ivc_firing(ctx, "IVC-FILTER")


def thrombophilia(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("thrombophilia"):
        return None
    part = PlanPart().cap(LEGS, _cap("THROMBOPHILIA", "legs"))
    return Firing(ctx.used("thrombophilia", "thrombophilia_markers"), part)


def pts(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("pts"):
        return None
    limbs: set[str] = set()
    for c in ctx.clots:
        limbs |= c.limbs
    answers = ctx.used("pts")
    answers.update({f"clots[{c.index}]": c.raw for c in ctx.clots})
    notes: tuple[str, ...] = ()
    if not limbs:
        notes = ("no limb clot recorded: both legs",)
        limbs = {"left_leg", "right_leg"}
    part = PlanPart().cap(limb_regions(limbs), _cap("PTS", "clot_limbs"))
    return Firing(answers, part.note("Avoid broken or fragile skin."), notes)


# --- 3.3 medicines and blood counts -------------------------------------------------------


def _anticoag_fires(ctx: Ctx) -> bool:
    return on_anticoagulant(ctx) or len(set(ctx.a.names("antiplatelet_names"))) >= 2


def med_anticoag(ctx: Ctx) -> Firing | None:
    if not _anticoag_fires(ctx):
        return None
    part = (
        PlanPart()
        .cap(REGION_SET, _cap("MED-ANTICOAG", "all"))
        .note("Stop and refer if unusual bruising or bleeding appears.")
    )
    return Firing(ctx.used("anticoagulant", "anticoagulant_names", "antiplatelet_names"), part)


def med_antiplatelet(ctx: Ctx) -> Firing | None:
    if not on_antiplatelet(ctx) or _anticoag_fires(ctx):
        return None
    part = PlanPart().cap(REGION_SET, _cap("MED-ANTIPLATELET", "all"))
    return Firing(ctx.used("antiplatelet", "antiplatelet_names"), part)


def platelets_low(ctx: Ctx) -> Firing | None:
    count = ctx.a.number("platelet_count")
    fires = ctx.a.yes("platelets_low") if count is None else count < ctx.w.platelets_low_below
    if not fires:
        return None
    part = PlanPart().cap(REGION_SET, _cap("PLATELETS-LOW", "all"))
    return Firing(ctx.used("platelets_low", "platelet_count"), part)


# --- 3.4 recent events and risk factors ---------------------------------------------------


def _surgery(ctx: Ctx) -> tuple[str, int | None, list[str]] | None:
    """(kind, days ago, assumptions) of a recent operation, or None."""
    if not ctx.a.yes("surgery_recent"):
        return None
    notes = []
    kind = ctx.a.text("surgery_kind")
    if kind in (None, "unsure"):
        notes.append(f"surgery_kind {kind or 'missing'}: counted as major")
        kind = "major"
    days = ctx.days(ctx.a.date("surgery_on"))
    if days is None:
        notes.append(f"surgery_on missing: counted as within {ctx.w.surgery_early_days} days")
    return kind, days, notes


def _surgery_firing(ctx: Ctx, rid: str, notes: list[str]) -> Firing:
    site = ctx.a.regions("surgery_site")
    part = PlanPart().cap(LEGS, _cap(rid, "legs"))
    if site:
        part = part.avoid_regions(site).cap(site, _cap(rid, "site"))
    else:
        part = part.note("Ask where the operation was and do not work that area.")
    answers = ctx.used("surgery_recent", "surgery_on", "surgery_kind", "surgery_site")
    event = Event("answers.surgery_on", ctx.a.date("surgery_on"))
    return Firing(answers, part, tuple(notes), (event,))


def _early(ctx: Ctx, days: int | None) -> bool:
    return days is None or days <= ctx.w.surgery_early_days


def surg_early(ctx: Ctx) -> Firing | None:
    s = _surgery(ctx)
    if s is None or s[0] == "minor" or not _early(ctx, s[1]):
        return None
    return _surgery_firing(ctx, "SURG-EARLY", s[2])


def surg_minor(ctx: Ctx) -> Firing | None:
    s = _surgery(ctx)
    if s is None or s[0] != "minor" or not _early(ctx, s[1]):
        return None
    return _surgery_firing(ctx, "SURG-MINOR", s[2])


def surg_late(ctx: Ctx) -> Firing | None:
    s = _surgery(ctx)
    if s is None or s[0] == "minor" or s[1] is None:
        return None
    if not ctx.w.surgery_early_days < s[1] <= ctx.w.surgery_late_days:
        return None
    return _surgery_firing(ctx, "SURG-LATE", s[2])


def _injured_legs(ctx: Ctx, notes: list[str]) -> set[str]:
    site = ctx.a.regions("leg_injury_site")
    legs = limbs_of(site or ()) & {"left_leg", "right_leg"}
    if not legs:
        notes.append("leg_injury_site " + ("names no leg" if site else "missing") + ": both legs")
        return {"left_leg", "right_leg"}
    return set(legs)


def _leg_injury_early(ctx: Ctx) -> tuple[bool, list[str]] | None:
    """(early?, assumptions) for a leg injury, or None without one."""
    if not ctx.a.yes("leg_injury"):
        return None
    notes = []
    ongoing = ctx.detail("leg_injury_ongoing")
    if ongoing and "leg_injury_ongoing" not in ctx.a:
        notes.append("leg_injury_ongoing missing: counted as ongoing")
    days = ctx.days(ctx.a.date("leg_injury_on"))
    if days is None:
        notes.append(f"leg_injury_on missing: counted as within {ctx.w.leg_injury_early_days} days")
    early = ongoing or days is None or days <= ctx.w.leg_injury_early_days
    if not early and days is not None and days > ctx.w.leg_injury_late_days:
        return None
    return early, notes


def _leg_injury_firing(ctx: Ctx, part: PlanPart, notes: list[str]) -> Firing:
    answers = ctx.used("leg_injury", "leg_injury_on", "leg_injury_ongoing", "leg_injury_site")
    event = Event("answers.leg_injury_on", ctx.a.date("leg_injury_on"))
    return Firing(answers, part, tuple(notes), (event,))


def leg_injury_early(ctx: Ctx) -> Firing | None:
    li = _leg_injury_early(ctx)
    if li is None or not li[0]:
        return None
    rid, notes = "LEG-INJURY-EARLY", li[1]
    injured = _injured_legs(ctx, notes)
    hurt = limb_regions(injured)
    part = PlanPart().avoid_regions(hurt).cap(hurt, _cap(rid, "injured_leg"))
    part = part.cap(limb_regions({"left_leg", "right_leg"} - injured), _cap(rid, "other_leg"))
    return _leg_injury_firing(ctx, part, notes)


def leg_injury_late(ctx: Ctx) -> Firing | None:
    li = _leg_injury_early(ctx)
    if li is None or li[0]:
        return None
    notes = li[1]
    hurt = limb_regions(_injured_legs(ctx, notes))
    part = PlanPart().cap(hurt, _cap("LEG-INJURY-LATE", "injured_leg"))
    return _leg_injury_firing(ctx, part, notes)


def bedrest(ctx: Ctx) -> Firing | None:
    if not (ctx.a.yes("bed_rest") or ctx.a.yes("bed_rest_medical")):
        return None
    part = PlanPart().cap(LEGS, _cap("BEDREST", "legs"))
    return Firing(ctx.used("bed_rest", "bed_rest_medical"), part)


def travel(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("long_travel"):
        return None
    part = (
        PlanPart()
        .cap(LEGS, _cap("TRAVEL", "legs"))
        .note("Ask about leg symptoms at the start of the session.")
    )
    return Firing(ctx.used("long_travel"), part)


def pregnancy(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("pregnant"):
        return None
    part = PlanPart().cap(LEGS, _cap("PREGNANCY", "legs"))
    weeks = ctx.a.get("pregnancy_weeks")
    notes: tuple[str, ...] = ()
    if weeks is None:
        w = ctx.w.pregnancy_semi_reclining_week
        notes = (f"pregnancy_weeks missing: counted as {w} weeks or more",)
    if weeks is None or weeks >= ctx.w.pregnancy_semi_reclining_week:
        part = part.at_most(Position.SIDE_LYING_OR_SEMI_RECLINING)
    elif weeks >= ctx.w.pregnancy_side_lying_week:
        part = part.at_most(Position.SIDE_LYING_PREFERRED)
    return Firing(ctx.used("pregnant", "pregnancy_weeks"), part, notes)


def _birth_days(ctx: Ctx) -> int | bool | None:
    """Days since birth; None when the date is missing; False when there was no birth."""
    if not ctx.a.yes("gave_birth"):
        return False
    return ctx.days(ctx.a.date("birth_on"))


def postpartum_early(ctx: Ctx) -> Firing | None:
    days = _birth_days(ctx)
    if days is False or (days is not None and days > ctx.w.postpartum_early_days):
        return None
    rid = "POSTPARTUM-EARLY"
    part = PlanPart().cap(LEGS, _cap(rid, "legs"))
    notes = []
    if days is None:
        notes.append(f"birth_on missing: counted as within {ctx.w.postpartum_early_days} days")
    if ctx.detail("cesarean"):
        if "cesarean" not in ctx.a:
            notes.append("cesarean missing: counted as yes")
        part = part.avoid_regions(("abdomen",)).cap(("abdomen",), _cap(rid, "cesarean_abdomen"))
    return Firing(ctx.used("gave_birth", "birth_on", "cesarean"), part, tuple(notes))


def postpartum_late(ctx: Ctx) -> Firing | None:
    days = _birth_days(ctx)
    if days is False or days is None:
        return None
    if not ctx.w.postpartum_early_days < days <= ctx.w.postpartum_late_days:
        return None
    part = PlanPart().cap(LEGS, _cap("POSTPARTUM-LATE", "legs"))
    return Firing(ctx.used("gave_birth", "birth_on"), part)


def cancer(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("cancer_active"):
        return None
    part = (
        PlanPart()
        .cap(LEGS, _cap("CANCER", "legs"))
        .note("An oncology-trained massage therapist is recommended.")
    )
    return Firing(ctx.used("cancer_active"), part)


def _varicose_site(ctx: Ctx, notes: list[str]) -> frozenset[str]:
    site = ctx.a.regions("varicose_site")
    if site:
        return site
    notes.append("varicose_site missing: both legs")
    return frozenset(LEGS)


def _varicose_answers(ctx: Ctx) -> dict[str, object]:
    return ctx.used("varicose", "varicose_severity", "varicose_site")


def varicose_marked(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("varicose") or ctx.a.text("varicose_severity") != "marked":
        return None
    notes: list[str] = []
    avoid = distal_closure(_varicose_site(ctx, notes))
    part = PlanPart().avoid_regions(avoid).cap(avoid, _cap("VARICOSE-MARKED", "site"))
    return Firing(_varicose_answers(ctx), part, tuple(notes))


def varicose_mild(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("varicose") or ctx.a.text("varicose_severity") == "marked":
        return None
    notes: list[str] = []
    if "varicose_severity" not in ctx.a:
        notes.append("varicose_severity missing: counted as mild")
    part = PlanPart().cap(_varicose_site(ctx, notes), _cap("VARICOSE-MILD", "site"))
    return Firing(_varicose_answers(ctx), part, tuple(notes))


def lymphedema(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("lymphedema"):
        return None
    site = ctx.a.regions("lymphedema_site")
    notes: tuple[str, ...] = ()
    if not site:
        notes = ("lymphedema_site missing: arms and legs",)
        site = frozenset(ARMS + LEGS)
    part = (
        PlanPart()
        .cap(site, _cap("LYMPHEDEMA", "site"))
        .note("Manual lymph drainage only by a trained therapist, and never with an active clot.")
    )
    return Firing(ctx.used("lymphedema", "lymphedema_site"), part, notes)


def _whole(x: float) -> float | int:
    return int(x) if x == int(x) else x


def _caprini_answers(ctx: Ctx) -> dict[str, object]:
    c = ctx.caprini
    answers: dict[str, object] = {
        "caprini_lower": _whole(c.lower),
        "caprini_upper": _whole(c.upper),
    }
    answers.update({i.id: "present" for i in c.items if i.present})
    return answers


def caprini_highest(ctx: Ctx) -> Firing | None:
    if ctx.caprini.lower < ctx.w.caprini_highest_min:
        return None
    part = (
        PlanPart()
        .cap(LEGS, _cap("CAPRINI-HIGHEST", "legs"))
        .note("Suggest the client discusses massage with a clinician.")
        .suggest_referral()
    )
    return Firing(_caprini_answers(ctx), part)


def caprini_high(ctx: Ctx) -> Firing | None:
    if not ctx.w.caprini_high_min <= ctx.caprini.lower < ctx.w.caprini_highest_min:
        return None
    return Firing(_caprini_answers(ctx), PlanPart().cap(LEGS, _cap("CAPRINI-HIGH", "legs")))


def register(registry: RuleRegistry) -> RuleRegistry:
    """Register the rules of POLICY §3 (in POLICY order) with their trigger answers."""
    r = registry.register
    r("RF-PE", rf_pe, PE_SIGNS)
    r("RF-PE-HR", rf_pe_hr, ("rf_heart_racing",))
    r("RF-STROKE", rf_stroke, ("rf_stroke_signs",))
    r("RF-HR", rf_hr, ("rf_heart_racing",))
    r("RF-DVT", rf_dvt, LIMB_SIGNS)
    r("RF-BLEED", rf_bleed, ("rf_unusual_bleeding",))
    r("CLOT-ACTIVE", clot_active, ("clots",))
    r("CLOT-HISTORY", clot_history, ("clots",))
    r("IVC-FILTER-RECENT", ivc_filter_recent, ("ivc_filter",))
    r("IVC-FILTER", ivc_filter, ("ivc_filter",))
    r("THROMBOPHILIA", thrombophilia, ("thrombophilia",))
    r("PTS", pts, ("pts",))
    r("MED-ANTICOAG", med_anticoag, ("anticoagulant", "anticoagulant_names", "antiplatelet_names"))
    r("MED-ANTIPLATELET", med_antiplatelet, ("antiplatelet", "antiplatelet_names"))
    r("PLATELETS-LOW", platelets_low, ("platelets_low", "platelet_count"))
    r("SURG-EARLY", surg_early, ("surgery_recent",))
    r("SURG-MINOR", surg_minor, ("surgery_recent",))
    r("SURG-LATE", surg_late, ("surgery_recent",))
    r("LEG-INJURY-EARLY", leg_injury_early, ("leg_injury",))
    r("LEG-INJURY-LATE", leg_injury_late, ("leg_injury",))
    r("BEDREST", bedrest, ("bed_rest", "bed_rest_medical"))
    r("TRAVEL", travel, ("long_travel",))
    r("PREGNANCY", pregnancy, ("pregnant",))
    r("POSTPARTUM-EARLY", postpartum_early, ("gave_birth",))
    r("POSTPARTUM-LATE", postpartum_late, ("gave_birth",))
    r("CANCER", cancer, ("cancer_active",))
    r("VARICOSE-MARKED", varicose_marked, ("varicose",))
    r("VARICOSE-MILD", varicose_mild, ("varicose",))
    r("LYMPHEDEMA", lymphedema, ("lymphedema",))
    r("CAPRINI-HIGHEST", caprini_highest)
    r("CAPRINI-HIGH", caprini_high)
    return registry
