"""The client's intake on a phone: steps, follow-ups, saving, errors, red-flag screens, end page."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from clotsafe.domain.questions import QUESTIONS
from clotsafe.web.clients.models import IntakeLink
from clotsafe.web.clients.services import create_link, token_hash
from clotsafe.web.intake import steps
from tests.web.conftest import days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(clinic_a: Any, make_client: Any) -> tuple[IntakeLink, str]:
    return create_link(make_client(clinic_a, "Pat"), by=None)


def _step(token: str, key: str) -> str:
    return reverse("intake_step", args=[token, key])


def _save(token: str, key: str) -> str:
    return reverse("intake_save", args=[token, key])


def test_every_question_is_in_exactly_one_step_except_bmi() -> None:
    """BMI is computed from height and weight; every other INTAKE.md question is asked."""
    asked = [q for s in steps.STEPS for q in s.questions]
    assert len(asked) == len(set(asked))
    assert set(asked) == {q.id for q in QUESTIONS} - {"bmi"}


def test_red_flags_come_first() -> None:
    assert [s.key for s in steps.STEPS[:3]] == ["rf_lungs", "rf_heart", "rf_limbs"]


def test_emergency_red_flag_goes_to_the_emergency_screen_at_once(client: Any, link: Any) -> None:
    """Answering yes to breathlessness (autosave on change) sends the client straight to the
    full-screen message: call the clinic's emergency number, do not drive yourself."""
    _, token = link
    response = client.post(_save(token, "rf_lungs"), {"rf_breathless": "yes"})
    assert response["HX-Redirect"] == reverse("intake_emergency", args=[token])
    page = client.get(response["HX-Redirect"]).content.decode()
    assert "Call 999 now" in page and "Do not drive yourself." in page
    assert 'href="tel:999"' in page


def test_emergency_is_recorded_for_the_therapist_at_once(client: Any, link: Any) -> None:
    """The therapist sees the emergency even if the client never finishes the form."""
    lnk, token = link
    client.post(_save(token, "rf_lungs"), {"rf_breathless": "yes"})
    client.post(_save(token, "rf_lungs"), {"rf_breathless": "yes", "rf_faint": "no"})
    lnk.client.refresh_from_db()
    assert lnk.client.level == "emergency"
    assert lnk.client.screenings.count() == 1
    lnk.refresh_from_db()
    assert lnk.is_open


def test_emergency_also_without_javascript(client: Any, link: Any) -> None:
    _, token = link
    response = client.post(_step(token, "rf_lungs"), {"rf_chest_pain": "unsure", "shown": ""})
    assert response["Location"] == reverse("intake_emergency", args=[token])


def test_dvt_signs_lead_to_no_massage_see_a_doctor_today(client: Any, link: Any) -> None:
    _, token = link
    client.post(
        _step(token, "rf_lungs"),
        {q: "no" for q in steps.STEPS[0].questions} | {"shown": ",".join(steps.STEPS[0].questions)},
    )
    client.post(
        _step(token, "rf_heart"),
        {
            "rf_heart_racing": "no",
            "rf_stroke_signs": "no",
            "shown": "rf_heart_racing,rf_stroke_signs",
        },
    )
    limb = {
        "rf_limb_swelling": "yes",
        "rf_limb_pain": "no",
        "rf_limb_skin": "no",
        "rf_hard_vein": "no",
        "rf_limb_site": ["left_calf"],
        "shown": "rf_limb_swelling,rf_limb_pain,rf_limb_skin,rf_hard_vein,rf_limb_site",
    }
    response = client.post(_step(token, "rf_limbs"), limb)
    assert response["Location"].startswith(reverse("intake_urgent", args=[token]))
    page = client.get(response["Location"]).content.decode()
    assert "No massage today. See a doctor today." in page
    assert "Do not rub or massage that area." in page
    assert "call 999 now" in page


def test_follow_up_appears_only_when_its_trigger_is_answered(client: Any, link: Any) -> None:
    _, token = link
    page = client.get(_step(token, "surgery")).content.decode()
    assert 'name="surgery_recent"' in page and 'name="surgery_kind"' not in page
    partial = client.post(_save(token, "surgery"), {"surgery_recent": "yes"}).content.decode()
    assert 'name="surgery_kind"' in partial and 'name="surgery_on"' in partial
    partial = client.post(_save(token, "surgery"), {"surgery_recent": "no"}).content.decode()
    assert 'name="surgery_kind"' not in partial


def test_answers_are_saved_as_they_go_and_back_shows_them(client: Any, link: Any) -> None:
    lnk, token = link
    client.post(_save(token, "clots"), {"clot_ever": "no"})
    lnk.refresh_from_db()
    assert lnk.answers == {"clot_ever": "no"}
    assert lnk.started_at is not None
    page = client.get(_step(token, "clots")).content.decode()
    assert 'name="clot_ever" value="no" checked' in page
    page = client.get(_step(token, "clot_more")).content.decode()
    assert f'href="{_step(token, "clots")}"' in page  # Back goes to the previous step


def test_errors_are_shown_next_to_the_field(client: Any, link: Any) -> None:
    _, token = link
    response = client.post(
        _step(token, "sitting"), {"bed_rest": "no", "shown": "bed_rest,long_travel"}
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert 'id="err-long_travel">Please choose an answer.' in page
    response = client.post(
        _step(token, "surgery"),
        {
            "surgery_recent": "yes",
            "surgery_on": "2999-01-01",
            "shown": "surgery_recent,surgery_on,surgery_kind,surgery_site",
        },
    )
    assert 'id="err-surgery_on">This date is in the future.' in response.content.decode()


def test_progress_is_shown_and_skips_questions_that_do_not_apply(client: Any, link: Any) -> None:
    lnk, token = link
    page = client.get(_step(token, "rf_lungs")).content.decode()
    total = len(steps.applicable({}))
    assert f"Step 1 of {total}" in page
    client.post(_save(token, "you"), {"age": "40", "sex": "male"})
    lnk.refresh_from_db()
    assert "pregnancy" not in [s.key for s in steps.applicable(lnk.answers)]
    assert steps.next_step(steps.BY_KEY["you"], lnk.answers).key == "cancer"


def _fill_all(client: Any, token: str, extra: dict[str, Any]) -> Any:
    """Answer every step (no to all yes/no questions unless given), as a client would."""
    answers: dict[str, Any] = {}
    key = steps.STEPS[0].key
    response = None
    while key:
        step = steps.BY_KEY[key]
        lnk = IntakeLink.objects.get(token_hash=token_hash(token))
        qids = steps.enabled(step, {**lnk.answers, **extra})
        data: dict[str, Any] = {"shown": ",".join(qids)}
        for q in qids:
            if q in extra:
                data.update(extra[q] if isinstance(extra[q], dict) else {q: extra[q]})
            elif next(x for x in QUESTIONS if x.id == q).type == "tri":
                data[q] = "no"
        answers.update(data)
        response = client.post(_step(token, key), data)
        location = response.get("Location", "")
        if "/urgent/" in location or "/emergency/" in location or "/done/" in location:
            return response
        assert response.status_code == 302, response.content.decode()[:2000]
        key = location.rstrip("/").split("/")[-1]
    return response


def test_full_intake_with_dvt_30_days_ago_ends_on_the_plain_words_page(
    client: Any, link: Any, clinic_a: Any
) -> None:
    lnk, token = link
    clot = {
        "clot_ever": "yes",
        "clots": {
            "clots-count": "1",
            "clots-0-kind": "dvt",
            "clots-0-site": "left_calf",
            "clots-0-diagnosed_on": days_ago(30),
            "clots-0-treatment": "ongoing",
        },
        "age": "50",
        "sex": "female",
    }
    response = _fill_all(client, token, clot)
    assert response["Location"] == reverse("intake_done", args=[token])
    lnk.refresh_from_db()
    assert lnk.submitted_at is not None
    screening = lnk.client.latest_screening
    assert screening.level == "clearance_required" and screening.complete
    page = client.get(response["Location"]).content.decode()
    assert "No massage for now." in page
    assert "Can massage stop a clot from forming, or break one up?" in page
    assert "S42" in page
    # the link is now used up
    assert client.get(reverse("intake_start", args=[token])).status_code == 200
    assert b"already sent" in client.get(reverse("intake_start", args=[token])).content
