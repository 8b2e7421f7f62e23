"""Forms of the therapist workspace: before-session re-check and recording a clearance."""

from __future__ import annotations

from typing import Any

from django import forms

from clotsafe.domain.questions import BY_ID, LIMB_SIGNS, RED_FLAG_TRI
from clotsafe.domain.regions import GROUPS, REGIONS
from clotsafe.web import texts

TRI = [("no", "No"), ("yes", "Yes"), ("unsure", "Not sure")]
CAP_CHOICES = [("", "—")] + [(str(n), f"{n}: {texts.walton(n)}") for n in range(0, 6)]
CAP_TARGETS = list(GROUPS) + list(REGIONS)


def _tri(qid: str) -> forms.ChoiceField:
    return forms.ChoiceField(label=texts.question(qid)["text"], choices=TRI,
                             widget=forms.RadioSelect)  # fmt: skip


class RecheckForm(forms.Form):
    """Today's red-flag answers (POLICY §3: re-screen each visit)."""

    #: the site question belongs to the arm and leg signs: it comes right after them, worded
    #: for the therapist, never after the bleeding question (issue 8 §2)
    SITE_LABEL = (
        "Where is the swelling, pain, skin change or hard vein? Only if one of the arm "
        "or leg questions above is yes or not sure; you can leave it empty."
    )

    def __init__(self, *args: Any, medicated: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for qid in RED_FLAG_TRI:
            self.fields[qid] = _tri(qid)
            if qid == LIMB_SIGNS[-1]:
                self.fields["rf_limb_site"] = forms.MultipleChoiceField(
                    label=self.SITE_LABEL, required=False,
                    choices=[(r, texts.region_label(r)) for r in REGIONS],
                    widget=forms.CheckboxSelectMultiple,
                )  # fmt: skip
        if medicated:
            self.fields["rf_unusual_bleeding"] = _tri("rf_unusual_bleeding")

    def answers(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if v}
        if not any(data.get(q) in ("yes", "unsure") for q in RED_FLAG_TRI[6:]):
            data.pop("rf_limb_site", None)
        return {k: v for k, v in data.items() if k in BY_ID}


class ClearanceForm(forms.Form):
    rules = forms.MultipleChoiceField(label="Rules the clinician's answer covers",
                                      widget=forms.CheckboxSelectMultiple)  # fmt: skip
    clinician = forms.CharField(max_length=200, label="Clinician (name and role)")
    date = forms.DateField(label="Date of the clinician's answer",
                           widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    valid_until = forms.DateField(required=False, label="Valid until (blank: 90 days, POLICY §5)",
                                  widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    avoid = forms.MultipleChoiceField(required=False, label="Regions the clinician says to avoid",
                                      choices=[(r, texts.region_label(r)) for r in REGIONS],
                                      widget=forms.CheckboxSelectMultiple)  # fmt: skip
    notes = forms.CharField(required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 3}),
                            label="Clinician's notes")  # fmt: skip
    CAP_ROWS = 3

    def __init__(self, *args: Any, rules: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rules_field = self.fields["rules"]
        assert isinstance(rules_field, forms.MultipleChoiceField)
        rules_field.choices = rules
        targets = [("", "—")] + [(t, texts.region_label(t)) for t in CAP_TARGETS]
        for i in range(self.CAP_ROWS):
            self.fields[f"cap_region_{i}"] = forms.ChoiceField(
                required=False, choices=targets, label=f"Pressure limit {i + 1}: where"
            )
            self.fields[f"cap_level_{i}"] = forms.ChoiceField(
                required=False, choices=CAP_CHOICES, label=f"Pressure limit {i + 1}: maximum level"
            )

    def cap_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"cap_region_{i}"], self[f"cap_level_{i}"]) for i in range(self.CAP_ROWS)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for i in range(self.CAP_ROWS):
            region, level = data.get(f"cap_region_{i}"), data.get(f"cap_level_{i}")
            if bool(region) != bool(level):
                self.add_error(f"cap_level_{i}", "Choose both a region and a level, or neither.")
        return data

    def clearance_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        caps: dict[str, int] = {}
        for i in range(self.CAP_ROWS):
            region, level = d.get(f"cap_region_{i}"), d.get(f"cap_level_{i}")
            if region and level:
                caps[region] = min(int(level), caps.get(region, 5))
        return {"rules": list(d["rules"]), "clinician": d["clinician"], "date": d["date"],
                "valid_until": d.get("valid_until"),
                "restrictions": {"pressure_max": caps, "avoid": list(d.get("avoid") or []),
                                 "notes": d.get("notes", "")}}  # fmt: skip
