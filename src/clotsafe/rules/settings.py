"""Clinic settings (POLICY §6): a clinic may only make the policy stricter.

Settings come from a TOML file (docs/settings.md)::

    name = "Northside Massage"
    clearance_valid_days = 60          # may only be shortened (default 90, POLICY §5)

    [windows]
    clot_active_days = 180             # windows may only be lengthened

    [rules.CLOT-HISTORY]
    level = "clearance_required"       # levels may only be raised
    pressure_max = { legs = 1 }        # extra caps (region, group or "all") when the rule fires
    avoid = ["abdomen"]                # extra regions to avoid when the rule fires
    session_minutes_max = 30

Anything that would weaken the policy — a lower level, a cap above the rule's own cap or a
longer session than the rule's (POLICY §8.8), a shorter window, a disabled rule, a cautious
reading turned off — is rejected at load with a message that names the rule and the setting.
The policy's numbers come from ``clotsafe/knowledge/rules.toml`` (the one place they live).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any

from clotsafe.domain.errors import FieldError, SettingsError
from clotsafe.domain.regions import GROUPS, REGION_OR_GROUP, REGION_SET, REGIONS
from clotsafe.domain.types import MAX_PRESSURE, Level
from clotsafe.knowledge import RuleInfo, text_values
from clotsafe.knowledge import rules as rule_info
from clotsafe.knowledge import windows as window_info

_W = window_info()


@dataclass(frozen=True, slots=True)
class Windows:
    """Time windows (days) and thresholds of POLICY §3; the values are rules.toml's."""

    clot_active_days: int = int(_W["clot_active_days"].value)
    ivc_filter_recent_days: int = int(_W["ivc_filter_recent_days"].value)
    surgery_early_days: int = int(_W["surgery_early_days"].value)
    surgery_late_days: int = int(_W["surgery_late_days"].value)
    leg_injury_early_days: int = int(_W["leg_injury_early_days"].value)
    leg_injury_late_days: int = int(_W["leg_injury_late_days"].value)
    postpartum_early_days: int = int(_W["postpartum_early_days"].value)
    postpartum_late_days: int = int(_W["postpartum_late_days"].value)
    pregnancy_side_lying_week: int = int(_W["pregnancy_side_lying_week"].value)
    pregnancy_semi_reclining_week: int = int(_W["pregnancy_semi_reclining_week"].value)
    platelets_low_below: float = _W["platelets_low_below"].value
    caprini_high_min: int = int(_W["caprini_high_min"].value)
    caprini_highest_min: int = int(_W["caprini_highest_min"].value)

    def texts(self) -> dict[str, str]:
        """Placeholders for messages: the windows in force (see knowledge.text_values)."""
        return _texts(self)


@cache
def _texts(w: Windows) -> dict[str, str]:
    return text_values({f.name: getattr(w, f.name) for f in fields(Windows)})


#: which way each window may move (POLICY §6: lengthen a window; lower thresholds earlier)
WINDOW_DIRECTION: dict[str, str] = {name: w.stricter for name, w in _W.items()}


@dataclass(frozen=True, slots=True)
class RuleSettings:
    level: Level | None = None
    pressure_max: Mapping[str, int] = field(default_factory=dict)
    avoid: frozenset[str] = frozenset()
    session_minutes_max: int | None = None


#: the cautious readings of docs/policy-readings.md; each must stay true
INTERPRETATIONS = (
    "missing_detail_as_unsure",
    "no_massage_plan",
    "clot_records_always_count",
    "named_medicines_count",
    "leg_injury_site_without_leg_is_both_legs",
    "caprini_women_items_unless_male",
    "undated_event_not_covered",
    "pe_site_is_a_clot_site",
)


@dataclass(frozen=True, slots=True)
class Settings:
    name: str = "default"
    windows: Windows = Windows()
    rules: Mapping[str, RuleSettings] = field(default_factory=dict)
    #: a clinic's own limit on how long a clearance lasts (POLICY §8.5); None: not set, and a
    #: clearance lasts through its valid_until (or its date + CLEARANCE_DEFAULT_DAYS)
    clearance_valid_days: int | None = None


#: how long a clearance without valid_until lasts (POLICY §5, *policy*)
CLEARANCE_DEFAULT_DAYS = 90


DEFAULT_SETTINGS = Settings()


def load_settings(text: str, name: str = "clinic") -> Settings:
    """Parse and check clinic settings TOML; raise SettingsError naming each bad setting."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([FieldError("", "bad_settings", f"not valid TOML: {exc}")]) from None
    except RecursionError:
        # tomllib recurses per nesting level; a hostile file must get an error, not a crash
        raise SettingsError([FieldError("", "bad_settings", "tables nested too deeply")]) from None
    errs: list[FieldError] = []
    settings = _build(data, name, errs)
    if errs:
        raise SettingsError(errs)
    return settings


def load_settings_file(path: str) -> Settings:
    with open(path, encoding="utf-8") as f:
        return load_settings(f.read(), name=path)


def _err(errs: list[FieldError], where: str, msg: str, got: Any = None) -> None:
    errs.append(FieldError(where, "bad_settings", msg, got))


def _build(data: dict[str, Any], name: str, errs: list[FieldError]) -> Settings:
    known = {"name", "clearance_valid_days", "windows", "rules", "interpretation", "clinic"}
    for key in data.keys() - known:
        _err(errs, key, f"unknown setting {key!r}; known: {', '.join(sorted(known))}")
    windows = _windows(data.get("windows", {}), errs)
    rules = _rules(data.get("rules", {}), errs)
    _interpretation(data.get("interpretation", {}), errs)
    days = data.get("clearance_valid_days")
    if days is None:
        pass
    elif not isinstance(days, int) or isinstance(days, bool) or days < 1:
        _err(errs, "clearance_valid_days", "expected a whole number of days ≥ 1", days)
        days = None
    elif days > CLEARANCE_DEFAULT_DAYS:
        _err(
            errs,
            "clearance_valid_days",
            f"clearance_valid_days {days} is longer than the "
            f"policy's {CLEARANCE_DEFAULT_DAYS} days (POLICY §5); a clinic may only shorten it",
            days,
        )
        days = None
    return Settings(str(data.get("name", name)), windows, rules, days)


def _windows(raw: Any, errs: list[FieldError]) -> Windows:
    if not isinstance(raw, dict):
        _err(errs, "windows", "expected a table")
        return Windows()
    default = Windows()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"windows.{key}"
        if key not in WINDOW_DIRECTION:
            _err(errs, where, f"unknown window {key!r}; known: {', '.join(WINDOW_DIRECTION)}")
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            _err(errs, where, "expected a number ≥ 0", value)
            continue
        base = getattr(default, key)
        weaker = value > base if WINDOW_DIRECTION[key] == "lower" else value < base
        if weaker:
            way = {"longer": "shorten", "higher": "lower", "lower": "raise"}[WINDOW_DIRECTION[key]]
            _err(
                errs,
                where,
                f"{key} = {value} would {way} the policy's {base} used by "
                f"{', '.join(_W[key].rules)}, which weakens it; a clinic may only make the "
                "policy stricter (POLICY §6)",
                value,
            )
            continue
        values[key] = value
    return Windows(**{**{f.name: getattr(default, f.name) for f in fields(Windows)}, **values})


def _rules(raw: Any, errs: list[FieldError]) -> dict[str, RuleSettings]:
    if not isinstance(raw, dict):
        _err(errs, "rules", "expected a table of rule ids")
        return {}
    info = rule_info()
    out: dict[str, RuleSettings] = {}
    for rid, body in raw.items():
        if rid not in info:
            _err(errs, f"rules.{rid}", f"unknown rule {rid!r} (see `clotsafe rules`)")
        elif rid in NOT_SETTABLE:
            _err(errs, f"rules.{rid}", f"{rid} comes from a recorded clearance; it has no settings")
        elif not isinstance(body, dict):
            _err(errs, f"rules.{rid}", "expected a table")
        else:
            out[rid] = _rule(rid, body, info[rid], errs)
    return out


#: reasons that are not POLICY §3 rules and take no clinic settings
NOT_SETTABLE = frozenset({"CLEARANCE-RESTRICTIONS"})


def _rule(rid: str, body: dict[str, Any], info: RuleInfo, errs: list[FieldError]) -> RuleSettings:
    where = f"rules.{rid}"
    known = {"level", "pressure_max", "avoid", "session_minutes_max", "enabled"}
    for key in body.keys() - known:
        _err(
            errs,
            f"{where}.{key}",
            f"{rid}: unknown setting {key!r}; known: {', '.join(sorted(known))}",
        )
    if body.get("enabled", True) is not True:
        _err(
            errs,
            f"{where}.enabled",
            f"{rid}: a rule cannot be disabled (POLICY §6)",
            body.get("enabled"),
        )
    level = _level(rid, body.get("level"), info.level, where, errs)
    caps = _caps(rid, body.get("pressure_max", {}), where, errs)
    caps = _not_above_rule(info, caps, body.get("pressure_max", {}), where, errs)
    avoid = _avoid(rid, body.get("avoid", []), where, errs)
    minutes = _minutes(info, body.get("session_minutes_max"), where, errs)
    return RuleSettings(level, caps, avoid, minutes)


def loosest_caps(info: RuleInfo) -> dict[str, int]:
    """Region -> the highest cap the rule's own plan can give it: the lowest of its caps that
    always apply (keys "all", a region or a group); 5 where only answer-dependent caps reach."""
    out = dict.fromkeys(REGIONS, MAX_PRESSURE)
    for key, cap in info.caps.items():
        members = REGIONS if key == "all" else GROUPS.get(key, (key,) if key in REGIONS else ())
        for r in members:
            out[r] = min(out[r], cap)
    return out


def _not_above_rule(
    info: RuleInfo, caps: dict[str, int], raw: Any, where: str, errs: list[FieldError]
) -> dict[str, int]:
    """POLICY §8.8: a cap higher than the rule's own is refused, never silently ignored."""
    if not isinstance(raw, dict):
        return caps
    loosest = loosest_caps(info)
    for name, given in raw.items():
        members = REGIONS if name == "all" else GROUPS.get(name, (name,))
        own = min((loosest[r] for r in members if r in loosest), default=MAX_PRESSURE)
        if isinstance(given, int) and not isinstance(given, bool) and given > own:
            _err(
                errs,
                f"{where}.pressure_max.{name}",
                f"{info.id}: pressure_max.{name} = {given} is higher than the policy's cap of "
                f"{own} for {name} under this rule ({info.id}'s own caps: {_caps_words(info)}); "
                "a clinic may only lower caps (POLICY §8.8)",
                given,
            )
            for r in members:
                caps.pop(r, None)
    return caps


def _caps_words(info: RuleInfo) -> str:
    """The rule's caps as rules.toml names them ("all 2, limb 1, pe_legs 1, site 0")."""
    return ", ".join(f"{k} {v}" for k, v in info.caps.items()) or "none"


def _minutes(info: RuleInfo, raw: Any, where: str, errs: list[FieldError]) -> int | None:
    if raw is None:
        return None
    rid, w = info.id, f"{where}.session_minutes_max"
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        _err(errs, w, f"{rid}: expected whole minutes", raw)
        return None
    own = info.session_minutes_max
    if own is not None and raw > own:
        _err(
            errs,
            w,
            f"{rid}: session_minutes_max = {raw} is longer than the policy's {own} minutes "
            "for this rule; a clinic may only shorten a session (POLICY §8.8)",
            raw,
        )
        return None
    return raw


def _level(rid: str, raw: Any, base: Level, where: str, errs: list[FieldError]) -> Level | None:
    if raw is None:
        return None
    try:
        level = Level(raw)
    except ValueError:
        _err(
            errs,
            f"{where}.level",
            f"{rid}: level must be one of {', '.join(lv.value for lv in Level)}",
            raw,
        )
        return None
    if level < base:
        _err(
            errs,
            f"{where}.level",
            f"{rid}: level {level.value!r} is below the policy level "
            f"{base.value!r}; a clinic may only raise a rule's level (POLICY §6)",
            raw,
        )
        return None
    return level


def _caps(rid: str, raw: Any, where: str, errs: list[FieldError]) -> dict[str, int]:
    if not isinstance(raw, dict):
        _err(errs, f"{where}.pressure_max", f"{rid}: expected a table region = level")
        return {}
    caps: dict[str, int] = {}
    for region, level in raw.items():
        w = f"{where}.pressure_max.{region}"
        if region != "all" and region not in REGION_OR_GROUP:
            _err(errs, w, f"{rid}: unknown region {region!r}", region)
        elif (
            not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= MAX_PRESSURE
        ):
            _err(errs, w, f"{rid}: pressure level must be a whole number 0–5", level)
        else:
            members = REGION_SET if region == "all" else GROUPS.get(region, (region,))
            for r in members:
                caps[r] = min(level, caps.get(r, level))
    return caps


def _avoid(rid: str, raw: Any, where: str, errs: list[FieldError]) -> frozenset[str]:
    if not isinstance(raw, list):
        _err(errs, f"{where}.avoid", f"{rid}: expected a list of regions", raw)
        return frozenset()
    out: set[str] = set()
    for region in raw:
        if not isinstance(region, str) or region not in REGION_OR_GROUP:
            _err(errs, f"{where}.avoid", f"{rid}: unknown region {region!r}", region)
        else:
            out.update(GROUPS.get(region, (region,)))
    return frozenset(out)


def _interpretation(raw: Any, errs: list[FieldError]) -> None:
    if not isinstance(raw, dict):
        _err(errs, "interpretation", "expected a table")
        return
    for key, value in raw.items():
        where = f"interpretation.{key}"
        if key not in INTERPRETATIONS:
            _err(errs, where, f"unknown reading {key!r}; known: {', '.join(INTERPRETATIONS)}")
        elif value is not True:
            _err(
                errs,
                where,
                f"{key} is a cautious reading of the policy and cannot be turned "
                "off: that would weaken it (docs/policy-readings.md, POLICY §6)",
                value,
            )
