"""Clinic settings as a form: the common stricter settings (longer windows, raised levels, lower
caps, extra avoided regions) as fields, and the rest of docs/settings.md as TOML.

The form is turned into the same TOML the CLI reads and checked by the engine
(``clotsafe.rules.settings.load_settings``, through ``web/engine.settings_errors``); each of the
engine's messages is shown next to the field it is about. The TOML is still what is stored.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from typing import Any

from django import forms

from clotsafe.domain.errors import FieldError
from clotsafe.domain.regions import GROUPS, REGIONS
from clotsafe.domain.types import Level
from clotsafe.knowledge import rules as rule_info
from clotsafe.knowledge import windows as window_info
from clotsafe.render import present
from clotsafe.web import texts
from clotsafe.web.clinics.models import EMERGENCY_NUMBER, Clinic

RULE_ROWS = 4
#: rule keys the rows edit (anything else stays in the TOML box)
ROW_KEYS = {"level", "pressure_max", "avoid"}


def _window_label(name: str) -> str:
    w = window_info()[name]
    words = name.removesuffix("_days").replace("_", " ").capitalize()
    unit = " (days)" if name.endswith("_days") else ""
    way = {"longer": "longer only", "lower": "lower only", "higher": "higher only"}.get(
        w.stricter, w.stricter
    )
    return f"{words}{unit}: policy {w.value:g}, {way} (used by {', '.join(w.rules)})"


def _rule_choices() -> list[tuple[str, str]]:
    info = rule_info()
    return [("", "—")] + [(rid, f"{rid}: {present.level_label(r.level)}") for rid, r in
                          info.items() if rid != "CLEARANCE-RESTRICTIONS"]  # fmt: skip


LEVEL_CHOICES = [("", "— keep")] + [(lv.value, present.level_label(lv)) for lv in Level]
WHERE_CHOICES = [("", "—"), ("all", "Everywhere")] + [
    (t, texts.region_label(t)) for t in (*GROUPS, *REGIONS)]  # fmt: skip
CAP_CHOICES = [("", "—")] + [(str(n), f"{n}: {texts.walton(n)}") for n in range(0, 6)]


class ClinicSettingsForm(forms.Form):
    emergency_number = forms.CharField(max_length=6, validators=[EMERGENCY_NUMBER],
                                       help_text="Shown to clients on the emergency screen "
                                                 "(911, 999, 112 ...).")  # fmt: skip
    units = forms.ChoiceField(
        choices=Clinic.Units.choices, label="Units on the client's form",
        help_text="Height and weight; answers are stored in cm and kg.",
    )  # fmt: skip
    settings_toml = forms.CharField(
        required=False, label="Other stricter settings (TOML)",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="Anything the fields above do not cover, in the format of the settings "
                  "documentation.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, w in window_info().items():
            whole = not isinstance(w.value, float) or float(w.value).is_integer()
            kind = forms.IntegerField if whole else forms.FloatField
            self.fields[f"w_{name}"] = kind(required=False, min_value=0, max_value=100_000,
                                            label=_window_label(name))  # fmt: skip
        for i in range(RULE_ROWS):
            n = i + 1
            self.fields[f"r{i}_rule"] = forms.ChoiceField(
                required=False, choices=_rule_choices(), label=f"Rule {n}"
            )
            self.fields[f"r{i}_level"] = forms.ChoiceField(
                required=False, choices=LEVEL_CHOICES, label=f"Rule {n}: raise its level to"
            )
            self.fields[f"r{i}_where"] = forms.ChoiceField(
                required=False, choices=WHERE_CHOICES, label=f"Rule {n}: lower the pressure for"
            )
            self.fields[f"r{i}_cap"] = forms.ChoiceField(
                required=False, choices=CAP_CHOICES, label=f"Rule {n}: to at most"
            )
            self.fields[f"r{i}_avoid"] = forms.MultipleChoiceField(
                required=False,
                choices=[(r, texts.region_label(r)) for r in REGIONS],
                label=f"Rule {n}: also avoid",
                widget=forms.SelectMultiple(attrs={"size": 5}),
            )

    # --- layout helpers for the template --------------------------------------------------
    def window_fields(self) -> list[forms.BoundField]:
        return [self[f"w_{name}"] for name in window_info()]

    def rule_rows(self) -> list[list[forms.BoundField]]:
        return [[self[f"r{i}_{k}"] for k in ("rule", "level", "where", "cap", "avoid")]
                for i in range(RULE_ROWS)]  # fmt: skip

    # --- TOML <-> fields --------------------------------------------------------------------
    def clean_settings_toml(self) -> str:
        text: str = self.cleaned_data.get("settings_toml", "")
        try:
            data = tomllib.loads(text)
            if not all(isinstance(b, dict) for b in data.get("rules", {}).values()):
                raise forms.ValidationError("Each rule's settings must be a [rules.<rule>] table.")
            dumps(data)
        except tomllib.TOMLDecodeError as exc:
            raise forms.ValidationError(f"This is not valid TOML: {exc}") from exc
        except RecursionError as exc:  # tomllib and the writer recurse once per nesting level
            raise forms.ValidationError("These settings are nested too deeply.") from exc
        except (TypeError, AttributeError) as exc:
            raise forms.ValidationError(
                "These settings use a value the settings do not have "
                "(see the settings documentation)."
            ) from exc
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for i in range(RULE_ROWS):
            rule, where, cap = (data.get(f"r{i}_{k}") for k in ("rule", "where", "cap"))
            used = data.get(f"r{i}_level") or where or cap or data.get(f"r{i}_avoid")
            if used and not rule:
                self.add_error(f"r{i}_rule", "Choose the rule these settings are for.")
            if bool(where) != bool(cap):
                self.add_error(f"r{i}_cap", "Choose both where and the maximum level, or neither.")
        return data

    def to_toml(self) -> str:
        """The whole settings file: the TOML box with the fields laid over it."""
        d = self.cleaned_data
        data: dict[str, Any] = tomllib.loads(d.get("settings_toml") or "")
        windows = {name: d[f"w_{name}"] for name in window_info()
                   if d.get(f"w_{name}") is not None}  # fmt: skip
        if windows:
            data["windows"] = {**data.get("windows", {}), **windows}
        for i in range(RULE_ROWS):
            rule = d.get(f"r{i}_rule")
            if rule:
                _merge_row(data.setdefault("rules", {}).setdefault(rule, {}), d, i)
        return dumps(data)

    def show_errors(self, errors: list[FieldError]) -> None:
        """Each engine message next to the field it is about (the TOML box otherwise)."""
        for e in errors:
            self.add_error(self._field_for(e.field), e.message)

    def _field_for(self, path: str) -> str:
        parts = path.split(".")
        if parts[0] == "windows" and len(parts) > 1 and f"w_{parts[1]}" in self.fields:
            return f"w_{parts[1]}"
        if parts[0] == "rules" and len(parts) > 1:
            row = self._row_of(parts[1])
            if row is not None:
                key = {"level": "level", "pressure_max": "cap", "avoid": "avoid"}.get(
                    parts[2] if len(parts) > 2 else "", "rule"
                )
                return f"r{row}_{key}"
        return "settings_toml"

    def _row_of(self, rule: str) -> int | None:
        for i in range(RULE_ROWS):
            if self.cleaned_data.get(f"r{i}_rule") == rule:
                return i
        return None


def _merge_row(body: dict[str, Any], d: Mapping[str, Any], i: int) -> None:
    if d.get(f"r{i}_level"):
        body["level"] = d[f"r{i}_level"]
    if d.get(f"r{i}_where") and d.get(f"r{i}_cap"):
        caps = body.setdefault("pressure_max", {})
        where, cap = d[f"r{i}_where"], int(d[f"r{i}_cap"])
        caps[where] = min(cap, caps.get(where, cap))
    if d.get(f"r{i}_avoid"):
        body["avoid"] = sorted({*body.get("avoid", []), *d[f"r{i}_avoid"]})


def initial_from(clinic: Clinic) -> dict[str, Any]:
    """The form's fields from the stored TOML: windows, and up to four simple rule settings
    (a level, one cap, avoided regions); everything else stays in the TOML box."""
    try:
        data: dict[str, Any] = tomllib.loads(clinic.settings_toml or "")
    except tomllib.TOMLDecodeError:
        data = {}
    initial: dict[str, Any] = {"emergency_number": clinic.emergency_number,
                               "units": clinic.units}  # fmt: skip
    windows = data.get("windows", {})
    for name in list(windows):
        if name in window_info():
            initial[f"w_{name}"] = windows.pop(name)
    if not windows:
        data.pop("windows", None)
    rules = data.get("rules", {})
    row = 0
    for rid in list(rules):
        body = rules[rid]
        if row < RULE_ROWS and isinstance(body, dict) and _fits_a_row(body):
            initial.update(_row_initial(row, rid, rules.pop(rid)))
            row += 1
    if not rules:
        data.pop("rules", None)
    initial["settings_toml"] = dumps(data)
    return initial


def _fits_a_row(body: Mapping[str, Any]) -> bool:
    caps = body.get("pressure_max", {})
    return set(body) <= ROW_KEYS and isinstance(caps, dict) and len(caps) <= 1


def _row_initial(i: int, rid: str, body: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {f"r{i}_rule": rid, f"r{i}_level": body.get("level", ""),
                           f"r{i}_avoid": list(body.get("avoid", []))}  # fmt: skip
    for where, cap in body.get("pressure_max", {}).items():
        out[f"r{i}_where"], out[f"r{i}_cap"] = where, str(cap)
    return out


# --- a small TOML writer for the shapes of docs/settings.md --------------------------------------


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def dumps(data: Mapping[str, Any]) -> str:
    """Top-level keys, then tables (``[windows]``), then ``[rules.<id>]`` tables."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for name, table in data.items():
        if not isinstance(table, dict) or name == "rules":
            continue
        lines += ["", f"[{_key(name)}]"] + [f"{_key(k)} = {_value(v)}" for k, v in table.items()]
    for rid, body in data.get("rules", {}).items():
        lines += ["", f"[rules.{_key(rid)}]"]
        lines += [f"{_key(k)} = {_value(v)}" for k, v in body.items()]
    return "\n".join(lines).strip() + ("\n" if lines else "")
