"""Issue 8 §2: clinic settings as a form for the common stricter settings (longer windows,
raised levels, lower caps, extra avoided regions), turned into the TOML the CLI reads, checked by
the engine (``load_settings``) with its message next to the field; the TOML box keeps the rest;
the settings documentation is reachable from the app; a clinic chooses metric or US units."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
from django.urls import reverse

from clotsafe.rules.settings import load_settings
from tests.web.conftest import COMPLETE_NO

pytestmark = pytest.mark.django_db

BASE = {"emergency_number": "999", "units": "metric", "settings_toml": ""}


def _error_of(page: str, field: str) -> str:
    """The error text shown in the same paragraph as the field (next to it)."""
    m = re.search(rf'<p class="q has-error"><label for="id_{field}">.*?</p>', page, re.S)
    assert m, f"no error next to {field}"
    return m.group(0)


def test_form_fields_become_the_engines_toml(lead_web: Any, clinic_a: Any) -> None:
    response = lead_web.post(reverse("clinic_settings"), {
        **BASE, "w_clot_active_days": "180", "r0_rule": "CLOT-HISTORY",
        "r0_level": "clearance_required", "r0_where": "legs", "r0_cap": "1",
        "r0_avoid": ["abdomen"], "units": "us",
        "settings_toml": "clearance_valid_days = 60\n"})  # fmt: skip
    assert response.status_code == 302
    clinic_a.refresh_from_db()
    data = tomllib.loads(clinic_a.settings_toml)
    assert data == {
        "clearance_valid_days": 60,
        "windows": {"clot_active_days": 180},
        "rules": {"CLOT-HISTORY": {"level": "clearance_required", "pressure_max": {"legs": 1},
                                   "avoid": ["abdomen"]}},
    }  # fmt: skip
    load_settings(clinic_a.settings_toml)  # the CLI reads the same file
    assert clinic_a.units == "us"
    page = lead_web.get(reverse("clinic_settings")).content.decode()
    assert 'name="w_clot_active_days" value="180"' in page  # read back into the fields
    assert '<option value="CLOT-HISTORY" selected>' in page


def test_a_shorter_window_is_refused_next_to_its_field(lead_web: Any, clinic_a: Any) -> None:
    page = lead_web.post(reverse("clinic_settings"),
                         {**BASE, "w_clot_active_days": "30"}).content.decode()  # fmt: skip
    assert "Not saved" in page
    assert "would shorten the policy" in _error_of(page, "w_clot_active_days")
    clinic_a.refresh_from_db()
    assert clinic_a.settings_toml == ""


def test_a_lower_level_and_a_higher_cap_are_refused_next_to_their_fields(
    lead_web: Any, clinic_a: Any
) -> None:
    page = lead_web.post(reverse("clinic_settings"), {
        **BASE, "r0_rule": "CLOT-HISTORY", "r0_level": "standard",
        "r1_rule": "CLOT-ACTIVE", "r1_where": "legs", "r1_cap": "3"}).content.decode()  # fmt: skip
    assert "below the policy level" in _error_of(page, "r0_level")
    assert "higher than the policy" in _error_of(page, "r1_cap")


def test_other_settings_stay_as_toml_with_the_engines_message(lead_web: Any) -> None:
    unknown = "[rules.NOPE]\nlevel = 'emergency'\n"
    page = lead_web.post(reverse("clinic_settings"), {**BASE, "settings_toml": unknown})
    page = page.content.decode()
    assert "unknown rule" in _error_of(page, "settings_toml")
    page = lead_web.post(reverse("clinic_settings"),
                         {**BASE, "settings_toml": "[[broken"}).content.decode()  # fmt: skip
    assert "not valid TOML" in _error_of(page, "settings_toml")


def test_screenings_use_the_form_settings(lead_web: Any, clinic_a: Any, make_client: Any) -> None:
    lead_web.post(reverse("clinic_settings"), {
        **BASE, "r0_rule": "RF-HR", "r0_level": "emergency"})  # fmt: skip
    clinic_a.refresh_from_db()
    c = make_client(clinic_a, "Racing", {**COMPLETE_NO, "rf_heart_racing": "yes"})
    assert c.latest_screening.level == "emergency"


def test_settings_documentation_is_reachable_from_the_app(lead_web: Any) -> None:
    page = lead_web.get(reverse("clinic_settings")).content.decode()
    assert reverse("settings_help") in page
    help_page = lead_web.get(reverse("settings_help")).content.decode()
    assert "clot_active_days" in help_page and "CLOT-HISTORY" in help_page
    assert "may only be raised" in help_page
