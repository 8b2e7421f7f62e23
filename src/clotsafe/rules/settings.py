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

Anything that would weaken the policy — a lower level, a cap above 5, a shorter window, a
disabled rule, a cautious reading turned off — is rejected at load with a message that names
the rule and the setting.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from clotsafe.domain.errors import FieldError, SettingsError
from clotsafe.domain.regions import GROUPS, REGION_OR_GROUP, REGION_SET
from clotsafe.domain.types import MAX_PRESSURE, Level
from clotsafe.knowledge import rules as rule_info

_LONGER = "longer_is_stricter"
_LOWER = "lower_is_stricter"


@dataclass(frozen=True, slots=True)
class Windows:
    """Time windows (days) and thresholds of POLICY §3, each with the direction that is stricter."""

    clot_active_days: int = 90
    ivc_filter_recent_days: int = 90
    surgery_early_days: int = 28
    surgery_late_days: int = 84
    leg_injury_early_days: int = 28
    leg_injury_late_days: int = 84
    postpartum_early_days: int = 42
    postpartum_late_days: int = 84
    pregnancy_side_lying_week: int = 13
    pregnancy_semi_reclining_week: int = 22
    platelets_low_below: float = 50
    caprini_high_min: int = 3
    caprini_highest_min: int = 5


#: which way each window may move (POLICY §6: lengthen a window; lower thresholds earlier)
WINDOW_DIRECTION: dict[str, str] = {
    **{f.name: _LONGER for f in fields(Windows) if f.name.endswith("_days")},
    "platelets_low_below": _LONGER,
    "pregnancy_side_lying_week": _LOWER,
    "pregnancy_semi_reclining_week": _LOWER,
    "caprini_high_min": _LOWER,
    "caprini_highest_min": _LOWER,
}


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
)


@dataclass(frozen=True, slots=True)
class Settings:
    name: str = "default"
    windows: Windows = Windows()
    rules: Mapping[str, RuleSettings] = field(default_factory=dict)
    clearance_valid_days: int = 90


DEFAULT_SETTINGS = Settings()


def load_settings(text: str, name: str = "clinic") -> Settings:
    """Parse and check clinic settings TOML; raise SettingsError naming each bad setting."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([FieldError("", "bad_settings", f"not valid TOML: {exc}")]) from None
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
    days = data.get("clearance_valid_days", 90)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        _err(errs, "clearance_valid_days", "expected a whole number of days ≥ 1", days)
        days = 90
    elif days > 90:
        _err(
            errs,
            "clearance_valid_days",
            f"clearance_valid_days {days} is longer than the "
            "policy's 90 days (POLICY §5); a clinic may only shorten it",
            days,
        )
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
        weaker = value < base if WINDOW_DIRECTION[key] == _LONGER else value > base
        if weaker:
            way = "shorten" if WINDOW_DIRECTION[key] == _LONGER else "raise"
            _err(
                errs,
                where,
                f"{key} = {value} would {way} the policy's {base}, which weakens "
                "it; a clinic may only make the policy stricter (POLICY §6)",
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
        elif not isinstance(body, dict):
            _err(errs, f"rules.{rid}", "expected a table")
        else:
            out[rid] = _rule(rid, body, info[rid].level, errs)
    return out


def _rule(rid: str, body: dict[str, Any], base: Level, errs: list[FieldError]) -> RuleSettings:
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
    level = _level(rid, body.get("level"), base, where, errs)
    caps = _caps(rid, body.get("pressure_max", {}), where, errs)
    avoid = _avoid(rid, body.get("avoid", []), where, errs)
    minutes = body.get("session_minutes_max")
    if minutes is not None and (
        not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0
    ):
        _err(errs, f"{where}.session_minutes_max", f"{rid}: expected whole minutes", minutes)
        minutes = None
    return RuleSettings(level, caps, avoid, minutes)


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
