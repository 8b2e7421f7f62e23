"""The therapist workspace: client list, screening page, body map, letter, clearance, re-check,
history, clinic lead pages. Each test names the clinical behaviour it protects."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.urls import reverse
from pypdf import PdfReader

from clotsafe.domain.regions import REGIONS
from clotsafe.web.clients.models import Client
from clotsafe.web.screenings.models import Screening
from tests.web.conftest import COMPLETE_NO, NO_FLAGS, dvt_answers

pytestmark = pytest.mark.django_db


def test_client_list_shows_level_as_text_colour_and_icon(
    web: Any, clinic_a: Any, make_client: Any
) -> None:
    """Level is never colour alone: each row has the level's words, a level class and an icon."""
    make_client(clinic_a, "Casey", dvt_answers())
    page = web.get("/").content.decode()
    row = re.search(r"<tr>\s*<td[^>]*><a[^>]*>Casey</a>.*?</tr>", page, re.S).group(0)
    assert "Clearance required" in row
    assert 'class="badge level-clearance_required"' in row
    assert 'href="#icon-pause"' in row


def test_client_list_filters_by_level(web: Any, clinic_a: Any, make_client: Any) -> None:
    make_client(clinic_a, "Casey", dvt_answers())
    make_client(clinic_a, "Sam", COMPLETE_NO)
    page = web.get("/?level=clearance_required").content.decode()
    assert "Casey" in page and "Sam" not in page
    page = web.get("/?level=standard").content.decode()
    assert "Sam" in page and "Casey" not in page


def test_incomplete_intakes_are_visible(web: Any, clinic_a: Any, make_client: Any) -> None:
    """A client with a missing answer or an unfinished intake is flagged, never shown as clear."""
    make_client(clinic_a, "Partial", {"rf_breathless": "no"})
    waiting = make_client(clinic_a, "Waiting")
    web.post(reverse("link_create", args=[waiting.pk]))
    page = web.get("/").content.decode()
    partial_row = re.search(r"Partial</a>.*?</tr>", page, re.S).group(0)
    assert "incomplete" in partial_row
    waiting_row = re.search(r"Waiting</a>.*?</tr>", page, re.S).group(0)
    assert "intake not finished" in waiting_row
    page = web.get("/?level=incomplete").content.decode()
    assert "Partial" in page and "Waiting" in page


def test_add_client_and_get_intake_link(web: Any, clinic_a: Any) -> None:
    response = web.post(reverse("client_new"), {"name": "New Person", "reference": "N-1"})
    client = Client.objects.get(name="New Person")
    assert client.clinic == clinic_a
    assert response["Location"] == reverse("client_detail", args=[client.pk])
    page = web.post(reverse("link_create", args=[client.pk]), follow=True).content.decode()
    assert re.search(r'value="http://testserver/i/[A-Za-z0-9_-]{43,}/"', page)


def test_screening_page_shows_banner_reasons_pending_caprini_and_map(
    web: Any, clinic_a: Any, make_client: Any
) -> None:
    """The screening page carries everything the therapist needs to decide (issue 4)."""
    c = make_client(clinic_a, "Casey", {**dvt_answers(), "anticoagulant": "yes"})
    page = web.get(reverse("screening_detail", args=[c.latest_screening.pk])).content.decode()
    assert "Clearance required" in page and "What to do:" in page
    assert "Send the consultation letter" in page
    assert "<code>CLOT-ACTIVE</code>" in page and "<code>MED-ANTICOAG</code>" in page
    assert "Policy choice" in page
    assert "S48" in page and "Kearon C" in page  # sources with citations
    assert "bleeding gums" in page  # pending: asked when on a blood thinner, in plain words
    assert "rf_unusual_bleeding" not in page
    assert "screening incomplete" in page.lower()
    assert "Caprini score (2005)" in page
    assert "<td>History of DVT/PE</td><td>3</td>" in page
    assert "Download consultation letter (PDF)" in page


def test_body_map_has_21_regions_coloured_by_cap_and_avoid_marked(
    web: Any, clinic_a: Any, make_client: Any
) -> None:
    """Every region appears on the front or back view with its cap; the clot region is avoided."""
    c = make_client(clinic_a, "Casey", dvt_answers())
    s = c.latest_screening
    page = web.get(reverse("screening_detail", args=[s.pk])).content.decode()
    drawn = set(re.findall(r'data-region="([a-z_]+)"', page))
    assert drawn == set(REGIONS)
    caps = s.decision["plan"]["pressure_max"]
    for region, cap in caps.items():
        assert f'data-region="{region}" data-cap="{cap}"' in page
    assert 'class="region cap-avoid" data-region="left_calf" data-cap="0" data-avoid="1"' in page
    assert "Avoid:</strong> Left calf or shin, Left foot" in page
    assert "Do not work this region" in page  # legend


def test_letter_pdf_has_letterhead_client_reasons_questions_signature(
    web: Any, clinic_a: Any, make_client: Any
) -> None:
    """The consultation letter asks POLICY §5's specific questions, not a blanket OK."""
    c = make_client(clinic_a, "Casey Client", dvt_answers())
    response = web.get(reverse("letter_pdf", args=[c.latest_screening.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    text = re.sub(r"\s+", " ", text)
    for expected in (
        "Clinic A",
        "1 High Street",
        "Casey Client",
        "CLOT-ACTIVE",
        "Is massage away from the clot site",
        "maximum pressure level",
        "should not be massaged at all",
        "Until when does this answer apply",
        "Signature",
    ):
        assert expected in text, expected


def test_recording_a_clearance_reevaluates_to_adapt(
    web: Any, clinic_a: Any, make_client: Any
) -> None:
    """POLICY §5: a valid clearance turns the covered clearance_required rule into adapt, and
    the clinician's restrictions are added (never loosened)."""
    c = make_client(clinic_a, "Casey", dvt_answers())
    response = web.post(
        reverse("clearance_new", args=[c.pk]),
        {
            "rules": ["CLOT-ACTIVE"],
            "clinician": "Dr Rivera, GP",
            "date": c.latest_screening.screened_on,
            "cap_region_0": "right_leg",
            "cap_level_0": "1",
            "avoid": ["abdomen"],
            "notes": "ok",
        },
    )
    assert response.status_code == 302
    c.refresh_from_db()
    s = c.latest_screening
    assert s.kind == "clearance" and s.level == "adapt"
    assert s.decision["plan"]["pressure_max"]["right_calf"] <= 1
    assert "abdomen" in s.decision["plan"]["avoid"]
    assert s.intake["clearances"][0]["clinician"] == "Dr Rivera, GP"
    page = web.get(reverse("client_detail", args=[c.pk])).content.decode()
    assert "Clearance required → <strong>Adapt</strong>" in page
    history = page.split("<h2>History</h2>")[1]
    assert "clearance_required" not in re.sub(r'class="[^"]*"', "", history)  # words only


def test_clearance_cannot_cover_red_flags(web: Any, clinic_a: Any, make_client: Any) -> None:
    c = make_client(clinic_a, "Devon", {**COMPLETE_NO, "rf_limb_swelling": "yes"})
    page = web.get(reverse("clearance_new", args=[c.pk])).content.decode()
    assert "RF-DVT" not in page
    response = web.post(
        reverse("clearance_new", args=[c.pk]),
        {"rules": ["RF-DVT"], "clinician": "Dr X", "date": c.latest_screening.screened_on},
    )
    assert response.status_code == 200
    assert Screening.objects.filter(client=c).count() == 1


def test_before_session_recheck_creates_new_screening(
    web: Any, clinic_a: Any, make_client: Any
) -> None:
    """Re-screen each visit: today's red-flag answers plus the previous answers."""
    c = make_client(
        clinic_a, "Sam", {**COMPLETE_NO, "anticoagulant": "yes", "rf_unusual_bleeding": "no"}
    )
    page = web.get(reverse("recheck", args=[c.pk])).content.decode()
    assert 'name="rf_unusual_bleeding"' in page
    data = {**NO_FLAGS, "rf_unusual_bleeding": "no", "rf_breathless": "yes"}
    response = web.post(reverse("recheck", args=[c.pk]), data)
    c.refresh_from_db()
    s = c.latest_screening
    assert response["Location"] == reverse("screening_detail", args=[s.pk])
    assert s.kind == "recheck" and s.level == "emergency"
    assert s.answers["anticoagulant"] == "yes"  # carried over
    assert s.based_on_id is not None
    page = web.get(reverse("client_detail", args=[c.pk])).content.decode()
    assert "Adapt → <strong>Emergency</strong>" in page
    assert "Are you short of breath all of a sudden, or for no reason you know? No → Yes" in page
    assert "rf_breathless" not in page  # issue 8: words only in the history


def test_stored_screening_keeps_answers_decision_and_policy_version(
    clinic_a: Any, make_client: Any
) -> None:
    c = make_client(clinic_a, "Casey", dvt_answers())
    s = c.latest_screening
    assert s.intake["answers"]["clots"][0]["kind"] == "dvt"
    assert s.decision["level"] == "clearance_required" and s.decision["reasons"]
    assert s.policy_version == s.decision["policy_version"] == "1.1"  # POLICY §8


def test_decision_json_api(web: Any, clinic_a: Any, make_client: Any) -> None:
    c = make_client(clinic_a, "Casey", dvt_answers())
    data = web.get(reverse("screening_json", args=[c.latest_screening.pk])).json()
    assert data["decision"]["level"] == "clearance_required"
    assert len(data["decision"]["plan"]["pressure_max"]) == 21


# --- clinic lead ----------------------------------------------------------------------------


def test_lead_sets_stricter_settings_and_screenings_use_them(
    lead_web: Any, clinic_a: Any, make_client: Any
) -> None:
    """POLICY §6: a clinic may raise a level; new screenings use the settings."""
    toml = '[rules.CLOT-HISTORY]\nlevel = "clearance_required"\n'
    response = lead_web.post(
        reverse("clinic_settings"),
        {"emergency_number": "112", "units": "metric", "settings_toml": toml},
        follow=True,
    )
    assert b"Saved" in response.content
    clinic_a.refresh_from_db()
    assert clinic_a.emergency_number == "112" and clinic_a.settings_toml == toml
    old_clot = {
        **COMPLETE_NO,
        "clot_ever": "yes",
        "clots": [
            {
                "kind": "dvt",
                "site": "left_calf",
                "diagnosed_on": "2020-01-01",
                "treatment": "finished",
            }
        ],
    }
    c = make_client(clinic_a, "History", old_clot)
    assert c.latest_screening.level == "clearance_required"
    assert c.latest_screening.settings_toml == toml


def test_weakening_settings_are_rejected_with_the_engines_message(
    lead_web: Any, clinic_a: Any
) -> None:
    toml = '[rules.CLOT-ACTIVE]\nlevel = "adapt"\n'
    response = lead_web.post(
        reverse("clinic_settings"),
        {"emergency_number": "911", "units": "metric", "settings_toml": toml},
    )
    page = response.content.decode()
    assert "Not saved" in page and "CLOT-ACTIVE" in page
    clinic_a.refresh_from_db()
    assert clinic_a.settings_toml == ""


def test_lead_manages_therapists(lead_web: Any, clinic_a: Any, client: Any) -> None:
    response = lead_web.post(
        reverse("team"),
        {
            "username": "newbie",
            "full_name": "New Bie",
            "password": "a-long-enough-pass-42",
            "role": "therapist",
        },
    )
    assert response.status_code == 302
    membership = clinic_a.members.get(user__username="newbie")
    lead_web.post(reverse("team_active", args=[membership.pk]), {"active": "0"})
    membership.user.refresh_from_db()
    assert membership.user.is_active is False


def test_clearance_dated_in_the_future_is_refused_with_the_field(
    web: Any, clinic_a: Any, make_client: Any
) -> None:
    """A clearance cannot be recorded before the clinician gave it (engine: impossible_date)."""
    c = make_client(clinic_a, "Casey", dvt_answers())
    response = web.post(
        reverse("clearance_new", args=[c.pk]),
        {"rules": ["CLOT-ACTIVE"], "clinician": "Dr X", "date": "2999-01-01"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    date_field = re.search(r'<p class="q has-error"><label for="id_date">.*?</p>', page, re.S)
    assert date_field and "is after the screening date" in date_field.group(0)
    assert "clearances[0]" not in page and "screened_on" not in page
    c.refresh_from_db()
    assert c.latest_screening.level == "clearance_required"


def test_incomplete_screening_is_never_shown_as_a_green_light(
    web: Any, clinic_a: Any, make_client: Any
) -> None:
    """POLICY §2: an incomplete screening whose answers so far are standard is shown as
    "Screening incomplete" with the alert icon, in the list, on the client and screening pages."""
    c = make_client(clinic_a, "Partial", {"rf_breathless": "no"})
    assert c.level == "standard" and not c.latest_screening.complete
    for url in (
        "/",
        reverse("client_detail", args=[c.pk]),
        reverse("screening_detail", args=[c.latest_screening.pk]),
    ):
        page = web.get(url).content.decode()
        assert 'class="badge level-incomplete"' in page and "Screening incomplete" in page, url
        assert 'class="badge level-standard"' not in page, url


def test_screening_page_reads_stored_decisions_of_policy_1_and_1_1(
    web: Any, clinic_a: Any, make_client: Any
) -> None:
    """Stored decisions are read back as Decisions (``Decision.from_json``): a version-1
    decision (no 1.1 fields) still shows, and a 1.1 decision shows which clearance was not
    applied and why (POLICY §8.4), in words; never an answer path."""
    c = make_client(clinic_a, "Casey", dvt_answers())
    s = c.latest_screening
    old = {k: v for k, v in s.decision.items() if k != "unapplied_clearances"}
    s.decision = old | {"policy_version": "1"}
    s.save(update_fields=["decision"])
    page = web.get(reverse("screening_detail", args=[s.pk])).content.decode()
    assert "Clearance required" in page
    assert re.search(r"policy version 1(?![.\d])", page)
    clearance = {"rules": ["CLOT-ACTIVE"], "clinician": "Dr X", "date": "2026-09-01",
                 "valid_until": "2026-11-30"}  # fmt: skip
    s.decision = old | {"unapplied_clearances": [
        {"rule": "CLOT-ACTIVE", "why": "event_after_clearance", "clearance": clearance,
         "event": "clots[0].diagnosed_on", "event_on": "2026-11-20"}]}  # fmt: skip
    s.save(update_fields=["decision"])
    page = web.get(reverse("screening_detail", args=[s.pk])).content.decode()
    assert ("Clearance by Dr X on 2026-09-01 was not applied to CLOT-ACTIVE: the clot was "
            "diagnosed after it (2026-11-20).") in page  # fmt: skip
    assert "clots[0]" not in page


def test_recheck_site_question_belongs_to_the_limb_signs(
    web: Any, clinic_a: Any, make_client: Any
) -> None:
    """Issue 8 §2: "Where is it?" read as part of the bleeding question. The site comes right
    after the arm and leg signs, says what it is about, and the bleeding question comes after."""
    c = make_client(
        clinic_a, "Sam", {**COMPLETE_NO, "anticoagulant": "yes", "rf_unusual_bleeding": "no"}
    )
    page = web.get(reverse("recheck", args=[c.pk])).content.decode()
    order = [page.index(f'name="{q}"') for q in ("rf_hard_vein", "rf_limb_site",
                                                  "rf_unusual_bleeding")]  # fmt: skip
    assert order == sorted(order)
    assert "(You can skip this.)" not in page
    assert "Where is the swelling, pain, skin change or hard vein?" in page
