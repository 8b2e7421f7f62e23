"""A compiled rule evaluator for batches: the decision JSON of ``evaluate``, without its objects.

Use::

    fast = FastEvaluator(settings)          # once per clinic settings (precomputes)
    out = fast.decide_json(intake, at)      # bytes, or None: use the reference
    if out is None:
        out = orjson.dumps(evaluate(intake, at=at, settings=settings).to_json())

``decide(intake, at)`` returns exactly ``evaluate(intake, at=at, settings=settings).to_json()``
(every key, list order and message; a fresh dict the caller may keep or change);
``decide_json(intake, at)`` returns exactly ``orjson.dumps(evaluate(...).to_json())``. Both
return ``None`` when the caller must use the reference, and count ``fast`` / ``fallback``.
The reference (``rules/engine.py`` running the rule functions of ``rules/builtin.py`` through
``rules/registry.py`` and combining ``rules/plan.py``'s parts) stays the definition; this
module is the same policy compiled by hand:

* everything that depends only on the clinic settings is computed once per evaluator: the
  windows, each rule's level after clinic settings (and ``default_level``), its summary and
  policy note with the numbers in force (``engine.rule_texts``), its extra caps as bit masks,
  and the constant parts of its reason's JSON;
* the 21 body regions are bits of an int: a plan is six masks (regions capped at 0 … 5), the
  joint limits are two masks, so combining rules is ``|=``; region names, groups, distal
  closures and limbs are looked up in tables built at import from ``domain/regions.py``;
* rules are straight-line tests on the validated answers dict (the model's, or the one
  ``FastParser.try_answers`` decodes: ``decide_answers_json``), with no ``Ctx``,
  ``Firing``, ``PlanPart``, ``Reason`` or ``Decision`` objects; the plan's JSON is memoised per
  distinct plan (by its cumulative cap masks); Caprini comes as JSON from
  ``calculators.caprini_fast`` (the reference's one pass into masks, then the masks scored
  straight into the summary JSON and the CAPRINI-* answers, memoised per masks);
* ``decide_json`` writes the decision as one ``b"".join`` of pre-serialised pieces;
* POLICY 1.1 is covered in full: clearance validity (§8.5), cover only of events the
  clinician was told of (§8.4, ``unapplied_clearances``), clinic-raised levels (§8.7),
  ``CLEARANCE-RESTRICTIONS`` (§8.6), contradictory clot records (§8.2, §8.3), the no-massage
  plan, pending questions, Caprini (the same result as the engine's ``caprini_from_intake``)
  and referral.

What falls back (``None``, counted in ``fallback``; the caller screens with ``evaluate``):
an evaluator given a rule registry other than the built-in one; every intake while the
reference sources differ from the ones this module mirrors (below); and answers that are not
a validated model's full dict (``Answers`` over anything else; never the case for intakes from
``parse_intake_json`` or ``FastParser``). On the golden vignettes and 20,000 random intakes
(tests/rules/test_fastrules.py) nothing falls back.

Why long functions: ``_decide`` and its helpers are a hand-compiled version of 31 small rule
functions; a call per rule and a part object per firing were most of the reference's cost.
Each block says which rule (POLICY §3) it is, in POLICY order, so it reads against
``rules/builtin.py``.

The guard: this module mirrors engine.py, builtin.py, registry.py, plan.py, rules.toml and
``Decision.to_json``, ``Reason.to_json``, ``Plan.to_json``, ``ScoreResult.summary``. At import
it compares a hash of their text with :data:`MIRRORED`; when anyone changes them, every
evaluator switches itself off (every intake goes to the reference) and
tests/rules/test_fastrules.py fails, saying that this module must be brought up to date.

Figures (2026-11-30 10:17, ``taskset -c 0 .venv/bin/python benchmarks/bench_fastrules.py 20000
3``: one core, CPU time, best of 3 interleaved rounds over 20,000 intakes of gen_intakes.py, on
a machine shared with other work at load average 13.4 on 2 cores, so only the ratios to the
floor measured in the same run mean much):

==============================================  ===========  ==========  =======
stage (per intake)                              µs/intake    intakes/s   × floor
==============================================  ===========  ==========  =======
floor: orjson loads(line) + dumps(decision)         5.7        175,951     1.0
reference: dumps(evaluate().to_json())             72.3         13,834    12.7
line, reference: parse_intake_json + that         102.5          9,755    18.0
fast: ``decide_json``                              22.3         44,939     3.9
line, fast: try_answers + decide_answers_json     29.2         34,270     5.1
fast, mypyc build                                  11.9         84,336     2.1
line, fast, mypyc build                            18.1         55,224     3.2
==============================================  ===========  ==========  =======

The evaluator is 3.2× the reference (evaluate + to_json + dumps); a whole batch line 3.5× the
reference line as Python and 5.7× with the mypyc build (benchmarks/build_compiled.py compiles
a copy of this module as ``_fastrules_c``; rules/fastbatch.py uses it only while it was built
from this source as it is). Caprini (``calculators.caprini_fast``) is about a third of
``decide_json`` on gen_intakes.py's answers, whose combinations are mostly new to its memo.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from importlib import resources
from operator import itemgetter
from typing import Any

import orjson

from clotsafe import POLICY_VERSION
from clotsafe.calculators import caprini_fast
from clotsafe.calculators.base import ScoreResult
from clotsafe.domain.decision import Decision, Plan, Reason
from clotsafe.domain.intake import Clearance, Intake
from clotsafe.domain.questions import (
    ALWAYS_REQUIRED,
    BY_ID,
    LIMB_SIGNS,
    PE_SIGNS,
    PREGNANCY_REQUIRED,
)
from clotsafe.domain.regions import (
    GROUPS,
    LIMBS,
    REGION_OR_GROUP,
    REGIONS,
    distal_closure,
    expand,
    limbs_of,
)
from clotsafe.domain.types import Level, Position
from clotsafe.knowledge import RuleInfo
from clotsafe.knowledge import rules as rule_info
from clotsafe.rules import builtin, engine, plan, registry
from clotsafe.rules.engine import RESTRICTIONS, rule_texts
from clotsafe.rules.registry import RuleRegistry, builtin_rules
from clotsafe.rules.settings import CLEARANCE_DEFAULT_DAYS, DEFAULT_SETTINGS, Settings

__all__ = ["MIRRORED", "UP_TO_DATE", "FastEvaluator", "reference_source_hash"]

#: sha256 of the reference sources this module mirrors (see the module docstring)
MIRRORED = "6e3a08a5e4b079f911233c743120156a909f171865f89913aa712793559438df"


def reference_source_hash() -> str:
    """The hash of the mirrored reference as it is now (compare with :data:`MIRRORED`)."""
    texts = [inspect.getsource(m) for m in (engine, builtin, registry, plan)]
    texts.append(resources.files("clotsafe.knowledge").joinpath("rules.toml").read_text("utf-8"))
    texts += [
        inspect.getsource(f)
        for f in (Decision.to_json, Reason.to_json, Plan.to_json, ScoreResult.summary)
    ]
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


UP_TO_DATE = reference_source_hash() == MIRRORED

# --- tables built at import -----------------------------------------------------------------

_INFO = rule_info()
_BIT = {r: 1 << i for i, r in enumerate(REGIONS)}
_EVERYWHERE = (1 << len(REGIONS)) - 1
_MAX = 5  # MAX_PRESSURE: a cap of 5 restricts nothing
_BOTH_LEGS = frozenset({"left_leg", "right_leg"})


def _mask(regions: Iterable[str]) -> int:
    m = 0
    for r in regions:
        m |= _BIT[r]
    return m


def _limb_regions(limbs: Iterable[str]) -> int:
    return _mask(r for limb in limbs for r in LIMBS[limb])


_LEGS = _mask(GROUPS["legs"])
_ARMS_LEGS = _mask(GROUPS["arms"]) | _LEGS
_ABDOMEN = _BIT["abdomen"]
#: region or group name -> its regions / their distal closure / the legs it touches (whole legs)
_NAME = {n: _mask(expand((n,))) for n in REGION_OR_GROUP}
_DISTAL = {n: _mask(distal_closure(expand((n,)))) for n in REGION_OR_GROUP}
_LEGS_OF = {n: _limb_regions(limbs_of(expand((n,))) & _BOTH_LEGS) for n in REGION_OR_GROUP}
#: clot site as written (None, unsure: legs, POLICY §2, §8.2) -> (regions, distal closure of
#: the regions, the whole limbs they touch); lung and other have no body region
_SITE: dict[str | None, tuple[int, int, int]] = {
    n: (_NAME[n], _DISTAL[n], _limb_regions(limbs_of(expand((n,))))) for n in REGION_OR_GROUP
}
_SITE.update({"lung": (0, 0, 0), "other": (0, 0, 0)})
_SITE[None] = _SITE["unsure"] = _SITE["legs"]

_YES = frozenset({"yes", "unsure"})
_N_ANSWERS = len(BY_ID)
#: the red-flag answers, read in one call (each is a tri answer or None)
_RED_FLAGS = itemgetter(*PE_SIGNS, "rf_heart_racing", "rf_stroke_signs", *LIMB_SIGNS)
_BLEED_ANSWERS = ("anticoagulant", "anticoagulant_names", "antiplatelet", "antiplatelet_names",
                  "rf_unusual_bleeding")  # fmt: skip
_ALWAYS_GET = itemgetter(*ALWAYS_REQUIRED)
_Q_ORDER = {qid: i for i, qid in enumerate(BY_ID)}
_ALWAYS = tuple(ALWAYS_REQUIRED)
_PREGNANCY = tuple(PREGNANCY_REQUIRED)
_POSITIONS = tuple(p.value for p in sorted(Position, key=lambda p: p.rank))
_SIDE_LYING = Position.SIDE_LYING_PREFERRED.rank
_SEMI_RECLINING = Position.SIDE_LYING_OR_SEMI_RECLINING.rank
_LEVELS = tuple(lv.value for lv in sorted(Level, key=lambda lv: lv.rank))
_CLEARANCE = Level.CLEARANCE_REQUIRED.rank
_ADAPT = Level.ADAPT.rank
_URGENT = Level.URGENT_REFERRAL.rank
#: level rank -> referral urgency (POLICY §1)
_URGENCY = ("none", "none", "before_massage", "same_day", "emergency")
_CLEARANCE_DAYS = timedelta(days=CLEARANCE_DEFAULT_DAYS)

_dumps = orjson.dumps
#: Decision.to_json's fixed pieces
_J_LEVEL = tuple(
    b'{"policy_version":' + orjson.dumps(POLICY_VERSION) + b',"level":"' + lv.encode() + b'"'
    for lv in _LEVELS
)
_J_COMPLETE = b',"complete":true,"pending_questions":[]'
_J_INCOMPLETE = b',"complete":false,"pending_questions":'
_J_URGENCY = {
    u: b',"referral":{"urgency":"' + u.encode() + b'"},"scores":{"caprini":'
    for u in ("none", "suggested", "before_massage", "same_day", "emergency")
}
_J_ASSUMPTIONS = b',"assumptions":'
_RANK = itemgetter(0)

#: plan notes of the rules (rules/builtin.py writes them the same)
_N_DVT = "Do not massage. Do not do Homans' test or any provocation test."
_N_PTS = "Avoid broken or fragile skin."
_N_ANTICOAG = "Stop and refer if unusual bruising or bleeding appears."
_N_SURGERY = "Ask where the operation was and do not work that area."
_N_TRAVEL = "Ask about leg symptoms at the start of the session."
_N_CANCER = "An oncology-trained massage therapist is recommended."
_N_LYMPH = "Manual lymph drainage only by a trained therapist, and never with an active clot."
_N_CAPRINI = "Suggest the client discusses massage with a clinician."


def _cap(rule_id: str, key: str) -> int:
    return _INFO[rule_id].cap(key)


# each rule's own caps (rules.toml), read once
_CA_ALL, _CA_PE, _CA_SITE, _CA_LIMB = (
    _cap("CLOT-ACTIVE", k) for k in ("all", "pe_legs", "site", "limb")
)
_CA_MIN = _INFO["CLOT-ACTIVE"].session_minutes_max
_CH_ALL, _CH_PE, _CH_LIMB = (_cap("CLOT-HISTORY", k) for k in ("all", "pe_legs", "limb"))
_IVCR_LEGS = _cap("IVC-FILTER-RECENT", "legs")
_IVC_LEGS = _cap("IVC-FILTER", "legs")
_THROMB_LEGS = _cap("THROMBOPHILIA", "legs")
_PTS_LIMBS = _cap("PTS", "clot_limbs")
_ANTICOAG_ALL = _cap("MED-ANTICOAG", "all")
_ANTIPLATELET_ALL = _cap("MED-ANTIPLATELET", "all")
_PLATELETS_ALL = _cap("PLATELETS-LOW", "all")
_SURG = {
    rid: (_cap(rid, "legs"), _cap(rid, "site")) for rid in ("SURG-EARLY", "SURG-MINOR", "SURG-LATE")
}
_LIE_INJURED, _LIE_OTHER = (
    _cap("LEG-INJURY-EARLY", "injured_leg"),
    _cap("LEG-INJURY-EARLY", "other_leg"),
)
_LIL_INJURED = _cap("LEG-INJURY-LATE", "injured_leg")
_BEDREST_LEGS = _cap("BEDREST", "legs")
_TRAVEL_LEGS = _cap("TRAVEL", "legs")
_PREGNANCY_LEGS = _cap("PREGNANCY", "legs")
_PPE_LEGS, _PPE_ABDOMEN = (
    _cap("POSTPARTUM-EARLY", "legs"),
    _cap("POSTPARTUM-EARLY", "cesarean_abdomen"),
)
_PPL_LEGS = _cap("POSTPARTUM-LATE", "legs")
_CANCER_LEGS = _cap("CANCER", "legs")
_VM_SITE = _cap("VARICOSE-MARKED", "site")
_VMILD_SITE = _cap("VARICOSE-MILD", "site")
_LYMPH_SITE = _cap("LYMPHEDEMA", "site")
_CH5_LEGS = _cap("CAPRINI-HIGHEST", "legs")
_CH3_LEGS = _cap("CAPRINI-HIGH", "legs")


def _names_mask(table: Mapping[str, int], names: Iterable[str]) -> int:
    m = 0
    for n in names:
        m |= table[n]
    return m


def _whole(x: float) -> float | int:
    return int(x) if x == int(x) else x


def _regions_list(mask: int) -> list[str]:
    """The regions of a mask in the canonical order (``sort_regions``)."""
    return [r for r, bit in _BIT.items() if mask & bit]


# --- per settings ---------------------------------------------------------------------------


class _Rule:
    """One rule under one clinic's settings: what its reason and its plan always hold."""

    __slots__ = (
        "default_json",
        "default_level",
        "extra",
        "extra_avoid",
        "extra_caps",
        "extra_minutes",
        "head",
        "id",
        "level",
        "note",
        "note_json",
        "policy_choice",
        "rank",
        "sources",
        "summary",
        "tail",
    )

    def __init__(self, info: RuleInfo, settings: Settings) -> None:
        raised = settings.rules.get(info.id)
        level = raised.level if raised is not None and raised.level else info.level
        self.id = info.id
        self.rank = level.rank
        self.level = level.value
        self.default_level = info.level.value if level != info.level else None
        self.summary, self.note = rule_texts(info, settings.windows)
        self.sources = info.sources
        self.policy_choice = info.policy_choice
        caps: dict[int, int] = {}
        if raised is not None:
            for region, cap in raised.pressure_max.items():
                caps[cap] = caps.get(cap, 0) | _BIT[region]
        self.extra_caps = tuple(caps.items())
        self.extra_avoid = _mask(raised.avoid) if raised is not None else 0
        self.extra_minutes = raised.session_minutes_max if raised is not None else None
        self.extra = bool(self.extra_caps or self.extra_avoid or self.extra_minutes is not None)
        # Reason.to_json as bytes: head (by the reason's level) + answers + assumptions +
        # policy_note, [cleared_by], default_level, [clearance] + "}"
        head = {"rule": self.id, "level": "", "summary": self.summary,
                "sources": list(self.sources), "policy_choice": self.policy_choice,
                "rule_level": self.level}  # fmt: skip
        self.head = {
            lv: orjson.dumps({**head, "level": lv})[:-1] + b',"answers":'
            for lv in (self.level, "adapt")
        }
        self.note_json = b',"policy_note":' + orjson.dumps(self.note) if self.note else b""
        self.default_json = (
            b',"default_level":' + orjson.dumps(self.default_level) if self.default_level else b""
        )
        #: the rest of a reason without assumptions, cleared_by or clearance, and a comma
        self.tail = _J_ASSUMPTIONS + b"[]" + self.note_json + self.default_json + b"},"


#: an evaluation's running plan: masks of the regions capped at 0..5, then the joint masks,
#: the position rank, session minutes, notes, referral suggested
class _Plan:
    __slots__ = ("caps", "gentle", "minutes", "no_joint", "notes", "position", "suggested")

    def __init__(self) -> None:
        self.caps = [0, 0, 0, 0, 0, 0]
        self.gentle = 0
        self.no_joint = 0
        self.position = 0
        self.minutes: int | None = None
        self.notes: list[str] = []
        self.suggested = False

    def at_most(self, minutes: int | None) -> None:
        m = self.minutes
        if minutes is not None and (m is None or minutes < m):
            self.minutes = minutes


#: one firing: (the rule, answers read (or their JSON), assumptions, dated events as
#: (path, date or None))
_Fired = tuple[_Rule, Any, list[str], tuple[tuple[str, date | None], ...]]
#: one reason: (its level rank, the rule, answers, assumptions, cleared_by, clearance)
_Ranked = tuple[int, _Rule, Any, list[str], dict[str, Any] | None, dict[str, Any] | None]

#: at most this many distinct plans / score summaries are memoised (then they start again)
CACHE_SIZE = 4096


class FastEvaluator:
    """``decide(intake, at)`` = ``evaluate(intake, at=at, settings=settings).to_json()``.

    Build one per clinic settings (the precomputation is per settings) and call it for every
    intake of a batch. ``decide`` returns a fresh dict (the caller may keep or change it);
    ``decide_json`` the same decision as JSON bytes. Either returns None when the reference
    must decide: ``rules`` is not the built-in registry, or the reference sources changed
    (:data:`UP_TO_DATE` is False). Counters: ``fast`` and ``fallback`` (calls that returned
    None).
    """

    __slots__ = (
        "_extras",
        "_iso",
        "_j_settings",
        "_plans",
        "_restrictions",
        "_rules",
        "enabled",
        "fallback",
        "fast",
        "settings",
        "w",
    )

    def __init__(
        self, settings: Settings = DEFAULT_SETTINGS, *, rules: RuleRegistry | None = None
    ) -> None:
        self.settings = settings
        self.enabled = UP_TO_DATE and (rules is None or rules is builtin_rules())
        self.w = settings.windows
        self._rules = {rid: _Rule(info, settings) for rid, info in _INFO.items()}
        self._restrictions = self._rules[RESTRICTIONS]
        self._extras = any(r.extra for r in self._rules.values())
        self._j_settings = b'","settings":' + orjson.dumps(settings.name)
        self._plans: dict[tuple[Any, ...], tuple[dict[str, Any], bytes]] = {}
        self._iso: dict[date, bytes] = {}
        self.fast = 0
        self.fallback = 0

    def decide(self, intake: Intake, at: date | None = None) -> dict[str, Any] | None:
        """The decision JSON (a dict) of ``intake`` screened on ``at`` (default: its
        ``screened_on``), or None: screen it with ``evaluate``."""
        out: dict[str, Any] | None = None
        if self.enabled:
            on = at or intake.screened_on
            out = self._decide(intake.answers.as_mapping(), on, intake.clearances, False)
        if out is None:
            self.fallback += 1
        else:
            self.fast += 1
        return out

    def decide_json(self, intake: Intake, at: date | None = None) -> bytes | None:
        """``orjson.dumps`` of :meth:`decide`, written from pre-serialised pieces, or None."""
        out: bytes | None = None
        if self.enabled:
            on = at or intake.screened_on
            out = self._decide(intake.answers.as_mapping(), on, intake.clearances, True)
        if out is None:
            self.fallback += 1
        else:
            self.fast += 1
        return out

    def decide_answers_json(
        self,
        answers: Mapping[str, Any],
        screened_on: date,
        clearances: tuple[Clearance, ...] = (),
        at: date | None = None,
    ) -> bytes | None:
        """:meth:`decide_json` of an intake given as its parts, as ``FastParser.try_answers``
        returns them (the batch builds no Intake), or None."""
        out: bytes | None = None
        if self.enabled:
            out = self._decide(answers, at or screened_on, clearances, True)
        if out is None:
            self.fallback += 1
        else:
            self.fast += 1
        return out

    # --- the rules ------------------------------------------------------------------------

    def _decide(
        self, d: Mapping[str, Any], on: date, clearances: tuple[Clearance, ...], as_json: bool
    ) -> Any:
        """The decision as a dict (``as_json`` False) or as JSON bytes; ``d``: every question
        id -> its validated answer (None where missing)."""
        if len(d) != _N_ANSWERS:
            return None  # not the validated model's full dict: the reference reads it
        w = self.w
        R = self._rules
        p = _Plan()
        caps = p.caps
        fired: list[_Fired] = []
        no: tuple[tuple[str, date | None], ...] = ()

        # 3.1 red flags (one test for the common case: none is yes or unsure)
        if not _YES.isdisjoint(_RED_FLAGS(d)):
            self._red_flags(d, fired, p)
        anticoag = d["anticoagulant"] in _YES or bool(d["anticoagulant_names"])
        antiplatelet = d["antiplatelet"] in _YES or bool(d["antiplatelet_names"])
        if (anticoag or antiplatelet) and d["rf_unusual_bleeding"] in _YES:
            a = _used(d, _BLEED_ANSWERS)
            fired.append((R["RF-BLEED"], a, [], no))

        # 3.2 known clots
        clots = d["clots"]
        if clots:
            self._clots(clots, on, d, fired, p)
        if d["ivc_filter"] in _YES:
            placed = d["ivc_filter_placed_on"]
            a = _used(d, ("ivc_filter", "ivc_filter_placed_on"))
            event = (("answers.ivc_filter_placed_on", placed),)
            if placed is None or (on - placed).days <= w.ivc_filter_recent_days:
                notes = []
                if placed is None:
                    days = w.ivc_filter_recent_days
                    notes.append(f"ivc_filter_placed_on missing: counted as within {days} days")
                fired.append((R["IVC-FILTER-RECENT"], a, notes, event))
                caps[_IVCR_LEGS] |= _LEGS
            else:
                fired.append((R["IVC-FILTER"], a, [], event))
                caps[_IVC_LEGS] |= _LEGS
        if d["thrombophilia"] in _YES:
            a = _used(d, ("thrombophilia", "thrombophilia_markers"))
            fired.append((R["THROMBOPHILIA"], a, [], no))
            caps[_THROMB_LEGS] |= _LEGS
        if d["pts"] in _YES:
            self._pts(clots or (), d, fired, p)

        # 3.3 medicines and blood counts
        named = d["antiplatelet_names"]
        anticoag_fires = anticoag or (named is not None and len(set(named)) >= 2)
        if anticoag_fires:
            a = _used(d, ("anticoagulant", "anticoagulant_names", "antiplatelet_names"))
            fired.append((R["MED-ANTICOAG"], a, [], no))
            caps[_ANTICOAG_ALL] |= _EVERYWHERE
            p.notes.append(_N_ANTICOAG)
        elif antiplatelet:
            a = _used(d, ("antiplatelet", "antiplatelet_names"))
            fired.append((R["MED-ANTIPLATELET"], a, [], no))
            caps[_ANTIPLATELET_ALL] |= _EVERYWHERE
        count = d["platelet_count"]
        if d["platelets_low"] in _YES if count is None else float(count) < w.platelets_low_below:
            a = _used(d, ("platelets_low", "platelet_count"))
            fired.append((R["PLATELETS-LOW"], a, [], no))
            caps[_PLATELETS_ALL] |= _EVERYWHERE

        # 3.4 recent events and risk factors
        if d["surgery_recent"] in _YES:
            self._surgery(d, on, fired, p)
        if d["leg_injury"] in _YES:
            self._leg_injury(d, on, fired, p)
        if d["bed_rest"] in _YES or d["bed_rest_medical"] in _YES:
            fired.append((R["BEDREST"], _used(d, ("bed_rest", "bed_rest_medical")), [], no))
            caps[_BEDREST_LEGS] |= _LEGS
        if d["long_travel"] in _YES:
            fired.append((R["TRAVEL"], {"long_travel": d["long_travel"]}, [], no))
            caps[_TRAVEL_LEGS] |= _LEGS
            p.notes.append(_N_TRAVEL)
        if d["pregnant"] in _YES:
            weeks = d["pregnancy_weeks"]
            notes = []
            if weeks is None:
                semi = w.pregnancy_semi_reclining_week
                notes.append(f"pregnancy_weeks missing: counted as {semi} weeks or more")
            if weeks is None or weeks >= w.pregnancy_semi_reclining_week:
                p.position = max(p.position, _SEMI_RECLINING)
            elif weeks >= w.pregnancy_side_lying_week:
                p.position = max(p.position, _SIDE_LYING)
            fired.append((R["PREGNANCY"], _used(d, ("pregnant", "pregnancy_weeks")), notes, no))
            caps[_PREGNANCY_LEGS] |= _LEGS
        if d["gave_birth"] in _YES:
            self._postpartum(d, on, fired, p)
        if d["cancer_active"] in _YES:
            fired.append((R["CANCER"], {"cancer_active": d["cancer_active"]}, [], no))
            caps[_CANCER_LEGS] |= _LEGS
            p.notes.append(_N_CANCER)
        if d["varicose"] in _YES:
            self._varicose(d, fired, p)
        if d["lymphedema"] in _YES:
            site = d["lymphedema_site"]
            notes = []
            if site:
                m = _names_mask(_NAME, site)
            else:
                notes.append("lymphedema_site missing: arms and legs")
                m = _ARMS_LEGS
            fired.append((R["LYMPHEDEMA"], _used(d, ("lymphedema", "lymphedema_site")), notes, no))
            caps[_LYMPH_SITE] |= m
            p.notes.append(_N_LYMPH)
        score = caprini_fast.score(d, on)
        lower = score.lower
        cap_answers = score.answers_json if as_json else dict(score.answers)
        if lower >= w.caprini_highest_min:
            fired.append((R["CAPRINI-HIGHEST"], cap_answers, [], no))
            caps[_CH5_LEGS] |= _LEGS
            p.notes.append(_N_CAPRINI)
            p.suggested = True
        elif lower >= w.caprini_high_min:
            fired.append((R["CAPRINI-HIGH"], cap_answers, [], no))
            caps[_CH3_LEGS] |= _LEGS

        return self._assemble(clearances, on, d, fired, p, score, as_json)

    def _red_flags(self, d: Mapping[str, Any], fired: list[_Fired], p: _Plan) -> None:
        """RF-PE, RF-PE-HR, RF-STROKE, RF-HR, RF-DVT."""
        R = self._rules
        pe = [q for q in PE_SIGNS if d[q] in _YES]
        if pe:
            fired.append((R["RF-PE"], {q: d[q] for q in pe}, [], ()))
        limb = [q for q in LIMB_SIGNS if d[q] in _YES]
        hr = d["rf_heart_racing"] in _YES
        site = d["rf_limb_site"]
        if hr and limb:
            a = {"rf_heart_racing": d["rf_heart_racing"]}
            a.update({q: d[q] for q in limb})
            if site is not None:
                a["rf_limb_site"] = site
            fired.append((R["RF-PE-HR"], a, [], ()))
        if d["rf_stroke_signs"] in _YES:
            fired.append((R["RF-STROKE"], {"rf_stroke_signs": d["rf_stroke_signs"]}, [], ()))
        if hr and not limb:
            fired.append((R["RF-HR"], {"rf_heart_racing": d["rf_heart_racing"]}, [], ()))
        if limb:
            a = {q: d[q] for q in limb}
            if site is not None:
                a["rf_limb_site"] = site
            fired.append((R["RF-DVT"], a, [], ()))
            p.notes.append(_N_DVT)

    def _clots(
        self, clots: list[Any], on: date, d: Mapping[str, Any], fired: list[_Fired], p: _Plan
    ) -> None:
        """CLOT-ACTIVE and CLOT-HISTORY: each record normalised as registry._normalise."""
        w = self.w
        caps = p.caps
        active: list[tuple[int, Any, list[str], Any]] = []
        history: list[tuple[int, Any, list[str], Any]] = []
        a_events: list[tuple[str, date | None]] = []
        h_events: list[tuple[str, date | None]] = []
        a_all = h_all = False
        for i, c in enumerate(clots):
            kind, site, on_, treatment = c.kind, c.site, c.diagnosed_on, c.treatment
            notes: list[str] = []
            if kind == "unsure":
                kind = "dvt"
                notes.append(f"clots[{i}].kind unsure: counted as dvt")
            named = site
            if site is None or site == "unsure":
                notes.append(
                    f"clots[{i}].site {'unsure' if site else 'not given'}: counted as legs"
                )
                named = "legs"
            if named == "lung" and kind != "pe":
                notes.append(
                    f"clots[{i}]: a {kind} recorded in the lung counted as a pe (POLICY §8.3)"
                )
                kind = "pe"
            regions, distal, limbs = _SITE[named]
            is_pe = kind == "pe"
            if is_pe and regions:
                notes.append(
                    f"clots[{i}]: a pe recorded at {named} counted as a pe and as a clot at "
                    f"{named} (POLICY §8.3)"
                )
            if treatment is None or treatment == "unsure":
                notes.append(
                    f"clots[{i}].treatment {'unsure' if treatment else 'missing'}: counted as none"
                )
                treatment = "none"
            raw = _raw_clot(c)
            if on_ is None or (on - on_).days <= w.clot_active_days or treatment == "none":
                if on_ is None:
                    notes.append(
                        f"clots[{i}].diagnosed_on missing: counted as within "
                        f"{w.clot_active_days} days"
                    )
                active.append((i, raw, notes, None))
                a_events.append((f"answers.clots[{i}].diagnosed_on", on_))
                a_all = True
                if is_pe:
                    caps[_CA_PE] |= _LEGS
                if regions:
                    caps[0] |= distal
                    caps[_CA_SITE] |= distal
                    caps[_CA_LIMB] |= limbs & ~distal
                    p.no_joint |= limbs
            else:
                history.append((i, raw, notes, None))
                h_events.append((f"answers.clots[{i}].diagnosed_on", on_))
                h_all = True
                if is_pe:
                    caps[_CH_PE] |= _LEGS
                if regions:
                    caps[_CH_LIMB] |= limbs | regions
                    p.gentle |= limbs
        clot_ever = d["clot_ever"]
        for rid, group, events, fires in (
            ("CLOT-ACTIVE", active, a_events, a_all),
            ("CLOT-HISTORY", history, h_events, h_all),
        ):
            if not fires:
                continue
            answers: dict[str, Any] = {} if clot_ever is None else {"clot_ever": clot_ever}
            notes = []
            for i, raw, clot_notes, _ in group:
                answers[f"clots[{i}]"] = raw
                notes.extend(clot_notes)
            fired.append((self._rules[rid], answers, notes, tuple(events)))
        if a_all:
            caps[_CA_ALL] |= _EVERYWHERE
            p.at_most(_CA_MIN)
        if h_all:
            caps[_CH_ALL] |= _EVERYWHERE

    def _pts(
        self, clots: Iterable[Any], d: Mapping[str, Any], fired: list[_Fired], p: _Plan
    ) -> None:
        """PTS: the limbs of every recorded limb clot (both legs when none)."""
        answers: dict[str, Any] = {"pts": d["pts"]}
        limbs = 0
        for i, c in enumerate(clots):
            site = c.site
            if site is None or site == "unsure":
                site = "legs"
            limbs |= _SITE[site][2]
            answers[f"clots[{i}]"] = _raw_clot(c)
        notes = []
        if not limbs:
            notes.append("no limb clot recorded: both legs")
            limbs = _LEGS
        fired.append((self._rules["PTS"], answers, notes, ()))
        p.caps[_PTS_LIMBS] |= limbs
        p.notes.append(_N_PTS)

    def _surgery(self, d: Mapping[str, Any], on: date, fired: list[_Fired], p: _Plan) -> None:
        """SURG-EARLY, SURG-MINOR, SURG-LATE."""
        w = self.w
        kind = d["surgery_kind"]
        notes = []
        if kind is None or kind == "unsure":
            notes.append(f"surgery_kind {kind or 'missing'}: counted as major")
            kind = "major"
        when = d["surgery_on"]
        days = None if when is None else (on - when).days
        if days is None:
            notes.append(f"surgery_on missing: counted as within {w.surgery_early_days} days")
        early = days is None or days <= w.surgery_early_days
        if kind == "minor":
            rid = "SURG-MINOR" if early else ""
        elif early:
            rid = "SURG-EARLY"
        else:
            rid = "SURG-LATE" if days is not None and days <= w.surgery_late_days else ""
        if not rid:
            return
        legs, site_cap = _SURG[rid]
        p.caps[legs] |= _LEGS
        site = d["surgery_site"]
        if site:
            m = _names_mask(_NAME, site)
            p.caps[0] |= m
            p.caps[site_cap] |= m
        else:
            p.notes.append(_N_SURGERY)
        answers = _used(d, ("surgery_recent", "surgery_on", "surgery_kind", "surgery_site"))
        fired.append((self._rules[rid], answers, notes, (("answers.surgery_on", when),)))

    def _leg_injury(self, d: Mapping[str, Any], on: date, fired: list[_Fired], p: _Plan) -> None:
        """LEG-INJURY-EARLY and LEG-INJURY-LATE."""
        w = self.w
        notes = []
        ongoing_answer = d["leg_injury_ongoing"]
        ongoing = ongoing_answer is None or ongoing_answer in _YES
        if ongoing_answer is None:
            notes.append("leg_injury_ongoing missing: counted as ongoing")
        when = d["leg_injury_on"]
        days = None if when is None else (on - when).days
        if days is None:
            notes.append(f"leg_injury_on missing: counted as within {w.leg_injury_early_days} days")
        early = ongoing or days is None or days <= w.leg_injury_early_days
        if not early and days is not None and days > w.leg_injury_late_days:
            return
        site = d["leg_injury_site"]
        hurt = _names_mask(_LEGS_OF, site) if site else 0
        if not hurt:
            notes.append(
                "leg_injury_site " + ("names no leg" if site else "missing") + ": both legs"
            )
            hurt = _LEGS
        if early:
            rid = "LEG-INJURY-EARLY"
            p.caps[0] |= hurt
            p.caps[_LIE_INJURED] |= hurt
            p.caps[_LIE_OTHER] |= _LEGS & ~hurt
        else:
            rid = "LEG-INJURY-LATE"
            p.caps[_LIL_INJURED] |= hurt
        answers = _used(d, ("leg_injury", "leg_injury_on", "leg_injury_ongoing", "leg_injury_site"))
        fired.append((self._rules[rid], answers, notes, (("answers.leg_injury_on", when),)))

    def _postpartum(self, d: Mapping[str, Any], on: date, fired: list[_Fired], p: _Plan) -> None:
        """POSTPARTUM-EARLY and POSTPARTUM-LATE."""
        w = self.w
        born = d["birth_on"]
        days = None if born is None else (on - born).days
        if days is None or days <= w.postpartum_early_days:
            notes = []
            if days is None:
                notes.append(f"birth_on missing: counted as within {w.postpartum_early_days} days")
            p.caps[_PPE_LEGS] |= _LEGS
            cesarean = d["cesarean"]
            if cesarean is None or cesarean in _YES:
                if cesarean is None:
                    notes.append("cesarean missing: counted as yes")
                p.caps[0] |= _ABDOMEN
                p.caps[_PPE_ABDOMEN] |= _ABDOMEN
            answers = _used(d, ("gave_birth", "birth_on", "cesarean"))
            fired.append((self._rules["POSTPARTUM-EARLY"], answers, notes, ()))
        elif days <= w.postpartum_late_days:
            p.caps[_PPL_LEGS] |= _LEGS
            answers = _used(d, ("gave_birth", "birth_on"))
            fired.append((self._rules["POSTPARTUM-LATE"], answers, [], ()))

    def _varicose(self, d: Mapping[str, Any], fired: list[_Fired], p: _Plan) -> None:
        """VARICOSE-MARKED and VARICOSE-MILD."""
        severity = d["varicose_severity"]
        site = d["varicose_site"]
        notes = []
        if severity == "marked":
            rid = "VARICOSE-MARKED"
            if site:
                m = _names_mask(_DISTAL, site)
            else:
                notes.append("varicose_site missing: both legs")
                m = _LEGS  # the legs are their own distal closure
            p.caps[0] |= m
            p.caps[_VM_SITE] |= m
        else:
            rid = "VARICOSE-MILD"
            if severity is None:
                notes.append("varicose_severity missing: counted as mild")
            if site:
                m = _names_mask(_NAME, site)
            else:
                notes.append("varicose_site missing: both legs")
                m = _LEGS
            p.caps[_VMILD_SITE] |= m
        answers = _used(d, ("varicose", "varicose_severity", "varicose_site"))
        fired.append((self._rules[rid], answers, notes, ()))

    # --- clearances, reasons, the decision ------------------------------------------------

    def _assemble(
        self,
        clearances: tuple[Clearance, ...],
        on: date,
        d: Mapping[str, Any],
        fired: list[_Fired],
        p: _Plan,
        score: caprini_fast.Scored,
        as_json: bool,
    ) -> Any:
        """Clinic extras, clearances (POLICY §5, §8.4–§8.7), reasons in order, the decision."""
        if self._extras:
            _apply_extras(fired, p)
        ranked: list[_Ranked]
        expired: list[dict[str, Any]] = []
        unapplied: list[dict[str, Any]] = []
        if clearances:
            ranked, expired = self._clear(clearances, on, fired, p, unapplied)
        else:
            ranked = [(rule.rank, rule, a, n, None, None) for rule, a, n, _ in fired]
        if len(ranked) > 1:
            ranked.sort(key=_RANK, reverse=True)  # stable: POLICY order within a level
        rank = ranked[0][0] if ranked else 0
        urgency = _URGENCY[rank]
        if urgency == "none" and p.suggested:
            urgency = "suggested"
        pending = _pending(d)
        plan = self._plan(p, rank >= _URGENT, bool(ranked), as_json)
        if as_json:
            return self._json(on, rank, pending, ranked, plan, urgency, score, expired, unapplied)
        out: dict[str, Any] = {
            "policy_version": POLICY_VERSION,
            "level": _LEVELS[rank],
            "complete": not pending,
            "pending_questions": pending,
            "reasons": [_reason(*r[1:]) for r in ranked],
            "plan": plan,
            "referral": {"urgency": urgency},
            "scores": {"caprini": orjson.loads(score.summary_json)},
            "screened_on": on.isoformat(),
            "settings": self.settings.name,
        }
        if expired:
            out["expired_clearances"] = expired
        if unapplied:
            out["unapplied_clearances"] = unapplied
        return out

    def _json(
        self,
        on: date,
        rank: int,
        pending: list[str],
        ranked: list[_Ranked],
        plan: bytes,
        urgency: str,
        score: caprini_fast.Scored,
        expired: list[dict[str, Any]],
        unapplied: list[dict[str, Any]],
    ) -> bytes:
        """Decision.to_json as bytes, from the pre-serialised pieces (one join)."""
        out = [
            _J_LEVEL[rank],
            _J_COMPLETE if not pending else _J_INCOMPLETE + _dumps(pending),
            b',"reasons":[',
        ]
        add = out.append
        for _, rule, answers, notes, cleared_by, clearance in ranked:
            add(rule.head["adapt" if cleared_by else rule.level])
            add(answers if type(answers) is bytes else _dumps(answers))
            if notes or cleared_by is not None or clearance is not None:
                add(_J_ASSUMPTIONS + (_dumps(notes) if notes else b"[]") + rule.note_json)
                if cleared_by is not None:
                    add(b',"cleared_by":' + _dumps(cleared_by))
                add(rule.default_json)
                if clearance is not None:
                    add(b',"clearance":' + _dumps(clearance))
                add(b"},")
            else:
                add(rule.tail)
        if ranked:
            out[-1] = out[-1][:-1]  # no comma after the last reason
        out += (
            b'],"plan":',
            plan,
            _J_URGENCY[urgency],
            score.summary_json,
            b'},"screened_on":"',
            self._iso.get(on) or self._iso_of(on),
            self._j_settings,
        )
        if expired:
            add(b',"expired_clearances":' + _dumps(expired))
        if unapplied:
            add(b',"unapplied_clearances":' + _dumps(unapplied))
        add(b"}")
        return b"".join(out)

    def _iso_of(self, on: date) -> bytes:
        if len(self._iso) >= CACHE_SIZE:
            self._iso.clear()
        iso = self._iso[on] = on.isoformat().encode()
        return iso

    def _clear(
        self,
        clearances: tuple[Clearance, ...],
        on: date,
        fired: list[_Fired],
        p: _Plan,
        unapplied: list[dict[str, Any]],
    ) -> tuple[list[_Ranked], list[dict[str, Any]]]:
        """The reasons with their clearances (engine._reason, _cover, _restrictions_reason)."""
        valid, expired = self._validity(clearances, on)
        ranked: list[_Ranked] = []
        for rule, answers, notes, events in fired:
            cleared_by = None
            if valid and rule.rank >= _CLEARANCE:
                cleared_by = _cover(rule, events, valid, unapplied)
            rank = _ADAPT if cleared_by else rule.rank
            ranked.append((rank, rule, answers, notes, cleared_by, None))
        for c, until in valid:
            if c.pressure_max or c.avoid or c.notes:
                ranked.append(self._restriction(c, until, p))
        return ranked, expired

    def _validity(
        self, clearances: tuple[Clearance, ...], on: date
    ) -> tuple[list[tuple[Clearance, date]], list[dict[str, Any]]]:
        """engine.clearance_validity (POLICY §8.5)."""
        days = self.settings.clearance_valid_days
        valid, expired = [], []
        for c in clearances:
            until = c.valid_until or c.date + _CLEARANCE_DAYS
            if days is not None:
                until = min(until, c.date + timedelta(days=days))
            if c.date <= on <= until:
                valid.append((c, until))
            else:
                expired.append(_clearance_json(c, until))
        return valid, expired

    def _restriction(self, c: Clearance, until: date, p: _Plan) -> _Ranked:
        """POLICY §8.6: the reason CLEARANCE-RESTRICTIONS, and the clinician's plan."""
        for region, cap in c.pressure_max.items():
            p.caps[cap] |= _BIT[region]
        p.caps[0] |= _mask(c.avoid)
        if c.notes:
            note = f"Clinician ({c.clinician}, {c.date.isoformat()}): {c.notes}"
            if note not in p.notes:
                p.notes.append(note)
        rule = self._restrictions
        restrictions = {
            "pressure_max": dict(c.pressure_max),
            "avoid": sorted(c.avoid),
            "notes": c.notes,
        }
        answers = {"restrictions": restrictions}
        return (rule.rank, rule, answers, [], None, _clearance_json(c, until))

    def _plan(self, p: _Plan, no_massage: bool, rescreen: bool, as_json: bool) -> Any:
        """plan.combine (or no_massage_plan) as JSON, memoised per distinct plan: the key holds
        the regions capped at ≤ 0, ≤ 1, … ≤ 4 (none for the no-massage plan)."""
        caps = p.caps
        if no_massage:
            c = (-1, -1, -1, -1, -1)
        else:
            c0 = caps[0]
            c1 = c0 | caps[1]
            c2 = c1 | caps[2]
            c3 = c2 | caps[3]
            c = (c0, c1, c2, c3, c3 | caps[4])
        key = (c, p.gentle, p.no_joint, p.position, p.minutes, tuple(p.notes), rescreen)
        hit = self._plans.get(key)
        if hit is None:
            hit = self._plans[key] = _plan_json(c, p, no_massage, rescreen)
            if len(self._plans) > CACHE_SIZE:
                self._plans.clear()
        t = hit[0]
        if as_json:
            return hit[1]
        return {
            "pressure_max": dict(t["pressure_max"]),
            "avoid": list(t["avoid"]),
            "position": t["position"],
            "gentle_joint_movement": list(t["gentle_joint_movement"]),
            "no_joint_movement": list(t["no_joint_movement"]),
            "session_minutes_max": t["session_minutes_max"],
            "rescreen_each_visit": t["rescreen_each_visit"],
            "notes": list(t["notes"]),
        }


def _used(d: Mapping[str, Any], qids: tuple[str, ...]) -> dict[str, Any]:
    """Ctx.used: the answers given, dates as ISO text."""
    out = {}
    for q in qids:
        v = d[q]
        if v is not None:
            out[q] = v.isoformat() if isinstance(v, date) else v
    return out


def _raw_clot(c: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"kind": c.kind}
    if c.site is not None:
        raw["site"] = c.site
    if c.diagnosed_on is not None:
        raw["diagnosed_on"] = c.diagnosed_on.isoformat()
    if c.treatment is not None:
        raw["treatment"] = c.treatment
    return raw


def _reason(
    rule: _Rule,
    answers: dict[str, Any],
    notes: list[str],
    cleared_by: dict[str, Any] | None,
    clearance: dict[str, Any] | None,
) -> dict[str, Any]:
    """Reason.to_json of one firing (or of a clearance's restrictions)."""
    r: dict[str, Any] = {
        "rule": rule.id,
        "level": "adapt" if cleared_by else rule.level,
        "summary": rule.summary,
        "sources": list(rule.sources),
        "policy_choice": rule.policy_choice,
        "rule_level": rule.level,
        "answers": answers,
        "assumptions": notes,
    }
    if rule.note:
        r["policy_note"] = rule.note
    if cleared_by is not None:
        r["cleared_by"] = cleared_by
    if rule.default_level is not None:
        r["default_level"] = rule.default_level
    if clearance is not None:
        r["clearance"] = clearance
    return r


def _apply_extras(fired: list[_Fired], p: _Plan) -> None:
    """engine._with_settings: a clinic's extra caps, avoided regions and session limit."""
    caps = p.caps
    for rule, _, _, _ in fired:
        if rule.extra:
            for cap, m in rule.extra_caps:
                caps[cap] |= m
            caps[0] |= rule.extra_avoid
            p.at_most(rule.extra_minutes)


def _cover(
    rule: _Rule,
    events: tuple[tuple[str, date | None], ...],
    valid: list[tuple[Clearance, date]],
    unapplied: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """engine._cover (POLICY §5, §8.4, §8.7)."""
    cleared_by = None
    rid = rule.id
    for c, until in valid:
        if rid not in c.rules:
            continue
        if rule.rank > _CLEARANCE:
            unapplied.append(
                {
                    "rule": rid,
                    "why": "level_raised_by_clinic",
                    "clearance": _clearance_json(c, until),
                }
            )
            continue
        late = next((e for e in events if e[1] is None or e[1] > c.date), None)
        if late is not None:
            path, when = late
            unapplied.append(
                {
                    "rule": rid,
                    "why": "event_after_clearance" if when else "event_undated",
                    "clearance": _clearance_json(c, until),
                    "event": path,
                    "event_on": when.isoformat() if when else None,
                }
            )
        elif cleared_by is None:
            cleared_by = {
                "clinician": c.clinician,
                "date": c.date.isoformat(),
                "valid_until": until.isoformat(),
            }
    return cleared_by


def _clearance_json(c: Clearance, until: date) -> dict[str, Any]:
    return {
        "rules": sorted(c.rules),
        "clinician": c.clinician,
        "date": c.date.isoformat(),
        "valid_until": until.isoformat(),
    }


def _pending(d: Mapping[str, Any]) -> list[str]:
    """engine.pending_questions, as a list."""
    missing = [q for q in _ALWAYS if d[q] is None] if None in _ALWAYS_GET(d) else []
    if d["rf_unusual_bleeding"] is None and (
        d["anticoagulant"] in _YES
        or d["antiplatelet"] in _YES
        or d["anticoagulant_names"]
        or d["antiplatelet_names"]
    ):
        missing.append("rf_unusual_bleeding")
    if d["clot_ever"] in _YES and not d["clots"]:
        missing.append("clots")
    age = d["age"]
    if not (d["sex"] == "male" or (age is not None and (age < 12 or age > 55))):
        missing.extend(q for q in _PREGNANCY if d[q] is None)
    if len(missing) > 1:
        missing.sort(key=_Q_ORDER.__getitem__)
    return missing


def _plan_json(
    c: tuple[int, int, int, int, int], p: _Plan, no_massage: bool, rescreen: bool
) -> tuple[dict[str, Any], bytes]:
    """Plan.to_json of plan.combine (or no_massage_plan) of the running plan; ``c``: the
    regions capped at ≤ 0 … ≤ 4."""
    if no_massage:
        pressure = dict.fromkeys(REGIONS, 0)
        zero = _EVERYWHERE
    else:
        c0, c1, c2, c3, c4 = c
        pressure = {
            r: 0
            if b & c0
            else 1
            if b & c1
            else 2
            if b & c2
            else 3
            if b & c3
            else 4
            if b & c4
            else 5
            for r, b in _BIT.items()
        }
        zero = c0
    t = {
        "pressure_max": pressure,
        "avoid": _regions_list(zero),
        "position": _POSITIONS[p.position],
        "gentle_joint_movement": _regions_list(p.gentle & ~p.no_joint),
        "no_joint_movement": _regions_list(p.no_joint),
        "session_minutes_max": p.minutes,
        "rescreen_each_visit": rescreen or no_massage,
        "notes": list(p.notes),
    }
    return t, orjson.dumps(t)
