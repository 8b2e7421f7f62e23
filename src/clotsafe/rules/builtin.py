"""The rules of POLICY.md §3, one function each, registered through the same seam as any rule.

Each function reads the answers through ``Ctx``, returns ``None`` when the rule does not fire,
or a ``Firing`` with the answers it read (the trace), how unknowns were read, and its plan part.
Levels, summaries and sources are data in ``clotsafe/knowledge/rules.toml``.
"""

from __future__ import annotations

from clotsafe.domain.questions import LIMB_SIGNS, PE_SIGNS
from clotsafe.domain.regions import REGION_SET, distal_closure, limbs_of
from clotsafe.domain.types import Position
from clotsafe.rules.plan import PlanPart
from clotsafe.rules.registry import ARMS, LEGS, Ctx, Firing, NormClot, limb_regions, rule

# --- 3.1 red flags ------------------------------------------------------------------------


def _any_yes(ctx: Ctx, qids: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(q for q in qids if ctx.a.yes(q))


@rule("RF-PE", triggers=(*PE_SIGNS,))
def rf_pe(ctx: Ctx) -> Firing | None:
    hits = _any_yes(ctx, PE_SIGNS)
    return Firing(ctx.used(*hits)) if hits else None


@rule("RF-PE-HR", triggers=("rf_heart_racing",))
def rf_pe_hr(ctx: Ctx) -> Firing | None:
    limb = _any_yes(ctx, LIMB_SIGNS)
    if ctx.a.yes("rf_heart_racing") and limb:
        return Firing(ctx.used("rf_heart_racing", *limb, "rf_limb_site"))
    return None


@rule("RF-STROKE", triggers=("rf_stroke_signs",))
def rf_stroke(ctx: Ctx) -> Firing | None:
    return Firing(ctx.used("rf_stroke_signs")) if ctx.a.yes("rf_stroke_signs") else None


@rule("RF-HR", triggers=("rf_heart_racing",))
def rf_hr(ctx: Ctx) -> Firing | None:
    if ctx.a.yes("rf_heart_racing") and not _any_yes(ctx, LIMB_SIGNS):
        return Firing(ctx.used("rf_heart_racing"))
    return None


@rule("RF-DVT", triggers=(*LIMB_SIGNS,))
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


@rule("RF-BLEED", triggers=("rf_unusual_bleeding",))
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


def _clot_firing(ctx: Ctx, clots: list[NormClot]) -> Firing:
    f = Firing({"clot_ever": ctx.a.get("clot_ever")} if "clot_ever" in ctx.a else {})
    for c in clots:
        f.answers[f"clots[{c.index}]"] = c.raw
        f.assumptions.extend(c.assumptions)
    return f


@rule("CLOT-ACTIVE", triggers=("clots",))
def clot_active(ctx: Ctx) -> Firing | None:
    clots = [c for c in ctx.clots if _is_active(ctx, c)]
    if not clots:
        return None
    f = _clot_firing(ctx, clots)
    part = f.part.cap(REGION_SET, 2)
    part.session_minutes_max = 45
    for c in clots:
        if c.kind == "pe":
            part.cap(LEGS, 1)
            continue
        limbs = c.limbs
        avoid = distal_closure(c.regions)
        part.avoid_regions(avoid)
        rest = limb_regions(limbs) - avoid
        part.cap(rest, 1)
        part.no_joints(limb_regions(limbs))
    return f


@rule("CLOT-HISTORY", triggers=("clots",))
def clot_history(ctx: Ctx) -> Firing | None:
    clots = [c for c in ctx.clots if not _is_active(ctx, c)]
    if not clots:
        return None
    f = _clot_firing(ctx, clots)
    part = f.part.cap(REGION_SET, 3)
    for c in clots:
        if c.kind == "pe":
            part.cap(LEGS, 2)
            continue
        limbs = limb_regions(c.limbs)
        part.cap(limbs | c.regions, 2)
        part.gentle_joints(limbs)
    return f


def _ivc_recent(ctx: Ctx) -> bool | None:
    if not ctx.a.yes("ivc_filter"):
        return None
    days = ctx.days(ctx.a.date("ivc_filter_placed_on"))
    return days is None or days <= ctx.w.ivc_filter_recent_days


@rule("IVC-FILTER-RECENT", triggers=("ivc_filter",))
def ivc_filter_recent(ctx: Ctx) -> Firing | None:
    if _ivc_recent(ctx) is not True:
        return None
    f = Firing(ctx.used("ivc_filter", "ivc_filter_placed_on"), PlanPart().cap(LEGS, 2))
    if "ivc_filter_placed_on" not in ctx.a:
        f.assumptions.append("ivc_filter_placed_on missing: counted as within 90 days")
    return f


@rule("IVC-FILTER", triggers=("ivc_filter",))
def ivc_filter(ctx: Ctx) -> Firing | None:
    if _ivc_recent(ctx) is not False:
        return None
    return Firing(ctx.used("ivc_filter", "ivc_filter_placed_on"), PlanPart().cap(LEGS, 2))


@rule("THROMBOPHILIA", triggers=("thrombophilia",))
def thrombophilia(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("thrombophilia"):
        return None
    return Firing(ctx.used("thrombophilia", "thrombophilia_markers"), PlanPart().cap(LEGS, 3))


@rule("PTS", triggers=("pts",))
def pts(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("pts"):
        return None
    limbs: set[str] = set()
    for c in ctx.clots:
        limbs |= c.limbs
    f = Firing(ctx.used("pts"))
    f.answers.update({f"clots[{c.index}]": c.raw for c in ctx.clots})
    if not limbs:
        f.assumptions.append("no limb clot recorded: both legs")
        limbs = {"left_leg", "right_leg"}
    f.part.cap(limb_regions(limbs), 2).note("Avoid broken or fragile skin.")
    return f


# --- 3.3 medicines and blood counts -------------------------------------------------------


def _anticoag_fires(ctx: Ctx) -> bool:
    return on_anticoagulant(ctx) or len(set(ctx.a.names("antiplatelet_names"))) >= 2


@rule(
    "MED-ANTICOAG",
    triggers=(
        "anticoagulant",
        "anticoagulant_names",
        "antiplatelet_names",
    ),
)
def med_anticoag(ctx: Ctx) -> Firing | None:
    if not _anticoag_fires(ctx):
        return None
    part = (
        PlanPart()
        .cap(REGION_SET, 2)
        .note("Stop and refer if unusual bruising or bleeding appears.")
    )
    return Firing(ctx.used("anticoagulant", "anticoagulant_names", "antiplatelet_names"), part)


@rule(
    "MED-ANTIPLATELET",
    triggers=(
        "antiplatelet",
        "antiplatelet_names",
    ),
)
def med_antiplatelet(ctx: Ctx) -> Firing | None:
    if not on_antiplatelet(ctx) or _anticoag_fires(ctx):
        return None
    return Firing(ctx.used("antiplatelet", "antiplatelet_names"), PlanPart().cap(REGION_SET, 3))


@rule(
    "PLATELETS-LOW",
    triggers=(
        "platelets_low",
        "platelet_count",
    ),
)
def platelets_low(ctx: Ctx) -> Firing | None:
    count = ctx.a.number("platelet_count")
    fires = ctx.a.yes("platelets_low") if count is None else count < ctx.w.platelets_low_below
    if not fires:
        return None
    return Firing(ctx.used("platelets_low", "platelet_count"), PlanPart().cap(REGION_SET, 1))


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
        notes.append("surgery_on missing: counted as within 28 days")
    return kind, days, notes


def _surgery_firing(ctx: Ctx, notes: list[str], legs_cap: int) -> Firing:
    f = Firing(ctx.used("surgery_recent", "surgery_on", "surgery_kind", "surgery_site"))
    f.assumptions.extend(notes)
    site = ctx.a.regions("surgery_site")
    if site:
        f.part.avoid_regions(site)
    else:
        f.part.note("Ask where the operation was and do not work that area.")
    f.part.cap(LEGS, legs_cap)
    return f


@rule("SURG-EARLY", triggers=("surgery_recent",))
def surg_early(ctx: Ctx) -> Firing | None:
    s = _surgery(ctx)
    if s is None or s[0] == "minor" or not (s[1] is None or s[1] <= ctx.w.surgery_early_days):
        return None
    return _surgery_firing(ctx, s[2], 2)


@rule("SURG-MINOR", triggers=("surgery_recent",))
def surg_minor(ctx: Ctx) -> Firing | None:
    s = _surgery(ctx)
    if s is None or s[0] != "minor" or not (s[1] is None or s[1] <= ctx.w.surgery_early_days):
        return None
    return _surgery_firing(ctx, s[2], 3)


@rule("SURG-LATE", triggers=("surgery_recent",))
def surg_late(ctx: Ctx) -> Firing | None:
    s = _surgery(ctx)
    if s is None or s[0] == "minor" or s[1] is None:
        return None
    if not ctx.w.surgery_early_days < s[1] <= ctx.w.surgery_late_days:
        return None
    return _surgery_firing(ctx, s[2], 2)


def _injured_legs(ctx: Ctx, f: Firing) -> set[str]:
    site = ctx.a.regions("leg_injury_site")
    legs = limbs_of(site or ()) & {"left_leg", "right_leg"}
    if not legs:
        f.assumptions.append(
            "leg_injury_site " + ("names no leg" if site else "missing") + ": both legs"
        )
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
        notes.append("leg_injury_on missing: counted as within 28 days")
    early = ongoing or days is None or days <= ctx.w.leg_injury_early_days
    if not early and days is not None and days > ctx.w.leg_injury_late_days:
        return None
    return early, notes


def _leg_injury_firing(ctx: Ctx, notes: list[str]) -> Firing:
    f = Firing(ctx.used("leg_injury", "leg_injury_on", "leg_injury_ongoing", "leg_injury_site"))
    f.assumptions.extend(notes)
    return f


@rule("LEG-INJURY-EARLY", triggers=("leg_injury",))
def leg_injury_early(ctx: Ctx) -> Firing | None:
    li = _leg_injury_early(ctx)
    if li is None or not li[0]:
        return None
    f = _leg_injury_firing(ctx, li[1])
    injured = _injured_legs(ctx, f)
    f.part.avoid_regions(limb_regions(injured))
    f.part.cap(limb_regions({"left_leg", "right_leg"} - injured), 2)
    return f


@rule("LEG-INJURY-LATE", triggers=("leg_injury",))
def leg_injury_late(ctx: Ctx) -> Firing | None:
    li = _leg_injury_early(ctx)
    if li is None or li[0]:
        return None
    f = _leg_injury_firing(ctx, li[1])
    f.part.cap(limb_regions(_injured_legs(ctx, f)), 2)
    return f


@rule(
    "BEDREST",
    triggers=(
        "bed_rest",
        "bed_rest_medical",
    ),
)
def bedrest(ctx: Ctx) -> Firing | None:
    if not (ctx.a.yes("bed_rest") or ctx.a.yes("bed_rest_medical")):
        return None
    return Firing(ctx.used("bed_rest", "bed_rest_medical"), PlanPart().cap(LEGS, 2))


@rule("TRAVEL", triggers=("long_travel",))
def travel(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("long_travel"):
        return None
    part = PlanPart().cap(LEGS, 3).note("Ask about leg symptoms at the start of the session.")
    return Firing(ctx.used("long_travel"), part)


@rule("PREGNANCY", triggers=("pregnant",))
def pregnancy(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("pregnant"):
        return None
    f = Firing(ctx.used("pregnant", "pregnancy_weeks"), PlanPart().cap(LEGS, 2))
    weeks = ctx.a.get("pregnancy_weeks")
    if weeks is None:
        f.assumptions.append("pregnancy_weeks missing: counted as 22 weeks or more")
    if weeks is None or weeks >= ctx.w.pregnancy_semi_reclining_week:
        f.part.position = Position.SIDE_LYING_OR_SEMI_RECLINING
    elif weeks >= ctx.w.pregnancy_side_lying_week:
        f.part.position = Position.SIDE_LYING_PREFERRED
    return f


def _birth_days(ctx: Ctx) -> int | bool | None:
    """Days since birth; None when the date is missing; False when there was no birth."""
    if not ctx.a.yes("gave_birth"):
        return False
    return ctx.days(ctx.a.date("birth_on"))


@rule("POSTPARTUM-EARLY", triggers=("gave_birth",))
def postpartum_early(ctx: Ctx) -> Firing | None:
    days = _birth_days(ctx)
    if days is False or (days is not None and days > ctx.w.postpartum_early_days):
        return None
    f = Firing(ctx.used("gave_birth", "birth_on", "cesarean"), PlanPart().cap(LEGS, 2))
    if days is None:
        f.assumptions.append("birth_on missing: counted as within 42 days")
    if ctx.detail("cesarean"):
        if "cesarean" not in ctx.a:
            f.assumptions.append("cesarean missing: counted as yes")
        f.part.avoid_regions(("abdomen",))
    return f


@rule("POSTPARTUM-LATE", triggers=("gave_birth",))
def postpartum_late(ctx: Ctx) -> Firing | None:
    days = _birth_days(ctx)
    if days is False or days is None:
        return None
    if not ctx.w.postpartum_early_days < days <= ctx.w.postpartum_late_days:
        return None
    return Firing(ctx.used("gave_birth", "birth_on"), PlanPart().cap(LEGS, 3))


@rule("CANCER", triggers=("cancer_active",))
def cancer(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("cancer_active"):
        return None
    part = PlanPart().cap(LEGS, 2).note("An oncology-trained massage therapist is recommended.")
    return Firing(ctx.used("cancer_active"), part)


def _varicose_site(ctx: Ctx, f: Firing) -> frozenset[str]:
    site = ctx.a.regions("varicose_site")
    if site:
        return site
    f.assumptions.append("varicose_site missing: both legs")
    return frozenset(LEGS)


@rule("VARICOSE-MARKED", triggers=("varicose",))
def varicose_marked(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("varicose") or ctx.a.text("varicose_severity") != "marked":
        return None
    f = Firing(ctx.used("varicose", "varicose_severity", "varicose_site"))
    f.part.avoid_regions(distal_closure(_varicose_site(ctx, f)))
    return f


@rule("VARICOSE-MILD", triggers=("varicose",))
def varicose_mild(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("varicose") or ctx.a.text("varicose_severity") == "marked":
        return None
    f = Firing(ctx.used("varicose", "varicose_severity", "varicose_site"))
    if "varicose_severity" not in ctx.a:
        f.assumptions.append("varicose_severity missing: counted as mild")
    f.part.cap(_varicose_site(ctx, f), 2)
    return f


@rule("LYMPHEDEMA", triggers=("lymphedema",))
def lymphedema(ctx: Ctx) -> Firing | None:
    if not ctx.a.yes("lymphedema"):
        return None
    f = Firing(ctx.used("lymphedema", "lymphedema_site"))
    site = ctx.a.regions("lymphedema_site")
    if not site:
        f.assumptions.append("lymphedema_site missing: arms and legs")
        site = frozenset(ARMS + LEGS)
    f.part.cap(site, 2).note(
        "Manual lymph drainage only by a trained therapist, and never with an active clot."
    )
    return f


def _whole(x: float) -> float | int:
    return int(x) if x == int(x) else x


def _caprini_firing(ctx: Ctx) -> Firing:
    c = ctx.caprini
    f = Firing({"caprini_lower": _whole(c.lower), "caprini_upper": _whole(c.upper)})
    f.answers.update({i.id: "present" for i in c.items if i.present})
    return f


@rule("CAPRINI-HIGHEST")
def caprini_highest(ctx: Ctx) -> Firing | None:
    if ctx.caprini.lower < ctx.w.caprini_highest_min:
        return None
    f = _caprini_firing(ctx)
    f.part.cap(LEGS, 2).note("Suggest the client discusses massage with a clinician.")
    f.part.referral_suggested = True
    return f


@rule("CAPRINI-HIGH")
def caprini_high(ctx: Ctx) -> Firing | None:
    if not ctx.w.caprini_high_min <= ctx.caprini.lower < ctx.w.caprini_highest_min:
        return None
    f = _caprini_firing(ctx)
    f.part.cap(LEGS, 3)
    return f
