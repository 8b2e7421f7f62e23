"""The intake's form layer and what it keeps (issue 8 §1–§3), through the Django test client:
saves in the client's order, red flags recorded at once and their changes kept, dates never
erased, no crash on a bad number, units, medicine names, the client's confirmation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from clotsafe.web.clients.models import IntakeLink
from clotsafe.web.clients.services import client_list, create_link
from clotsafe.web.intake import history
from clotsafe.web.screenings.models import Screening
from tests.web.conftest import days_ago

pytestmark = pytest.mark.django_db
LIMBS = "rf_limb_swelling,rf_limb_pain,rf_limb_skin,rf_hard_vein"


@pytest.fixture
def link(clinic_a: Any, make_client: Any) -> tuple[IntakeLink, str]:
    return create_link(make_client(clinic_a, "Pat"), by=None)


def _save(token: str, key: str) -> str:
    return reverse("intake_save", args=[token, key])


def _step(token: str, key: str) -> str:
    return reverse("intake_step", args=[token, key])


def _answers(lnk: IntakeLink) -> dict[str, Any]:
    lnk.refresh_from_db()
    return dict(lnk.answers)


def test_a_late_older_save_never_overwrites_a_newer_answer(client: Any, link: Any) -> None:
    """§1.1: "No" (save 1) then "Yes" (save 2); save 2 arrives first, save 1 late: Yes stays."""
    lnk, token = link
    client.post(_save(token, "rf_limbs"), {"rf_limb_swelling": "yes", "seq-rf_limb_swelling": "2"})
    client.post(_save(token, "rf_limbs"), {"rf_limb_swelling": "no", "seq-rf_limb_swelling": "1"})
    assert _answers(lnk)["rf_limb_swelling"] == "yes"


def test_a_save_changes_only_the_questions_it_is_newer_for(client: Any, link: Any) -> None:
    """A save carries the whole step; a question it is not newer for keeps its answer."""
    lnk, token = link
    client.post(_save(token, "rf_limbs"), {"rf_limb_pain": "yes", "seq-rf_limb_pain": "3"})
    client.post(
        _save(token, "rf_limbs"),
        {
            "rf_limb_swelling": "no",
            "seq-rf_limb_swelling": "1",
            "seq-rf_limb_pain": "2",
            "shown": LIMBS,
        },
    )
    answers = _answers(lnk)
    assert answers["rf_limb_pain"] == "yes" and answers["rf_limb_swelling"] == "no"


def test_same_day_red_flag_is_recorded_at_once_and_listed_under_urgent(
    client: Any, link: Any, clinic_a: Any
) -> None:
    """§1.2: "Yes" to swelling is on the therapist's Urgent list before the client goes on."""
    lnk, token = link
    client.post(_save(token, "rf_limbs"), {"rf_limb_swelling": "yes"})
    lnk.client.refresh_from_db()
    assert lnk.client.level == "urgent_referral"
    assert lnk.client in client_list(clinic_a, "urgent_referral")
    screening = lnk.client.latest_screening
    assert screening.kind == Screening.Kind.INTAKE and not screening.complete
    assert lnk.is_open
    # the same red flag again records nothing new; a new one does
    client.post(_save(token, "rf_limbs"), {"rf_limb_swelling": "yes", "rf_limb_pain": "no"})
    assert lnk.client.screenings.count() == 1
    client.post(_save(token, "rf_heart"), {"rf_heart_racing": "yes"})
    assert lnk.client.screenings.count() == 2


def test_what_the_client_was_told_is_kept_with_the_red_flag(client: Any, link: Any) -> None:
    lnk, token = link
    client.post(
        _step(token, "rf_limbs"),
        {
            "rf_limb_swelling": "yes",
            "rf_limb_pain": "no",
            "rf_limb_skin": "no",
            "rf_hard_vein": "no",
            "shown": LIMBS,
        },
    )
    client.get(reverse("intake_urgent", args=[token]) + "?after=rf_limbs")
    (report,) = history.red_flag_reports(lnk)
    assert report.question_id == "rf_limb_swelling" and report.first_answer == "yes"
    assert report.shown is not None and report.shown.value == "urgent_referral"
    assert report.shown_text == "No massage today. See a doctor today."
    assert not report.retracted and history.red_flag_changes(lnk) == []


def test_a_retracted_red_flag_is_kept_with_when_and_what_was_shown(client: Any, link: Any) -> None:
    """§1.3: yes to breathlessness, the emergency screen, then "No": the change is kept."""
    lnk, token = link
    before = timezone.now()
    client.post(_save(token, "rf_lungs"), {"rf_breathless": "yes"})
    client.get(reverse("intake_emergency", args=[token]))
    client.post(_save(token, "rf_lungs"), {"rf_breathless": "no", "seq-rf_breathless": "5"})
    (change,) = history.red_flag_changes(lnk)
    assert (change.question_id, change.first_answer, change.changed_to) == (
        "rf_breathless",
        "yes",
        "no",
    )
    assert change.shown is not None and change.shown.value == "emergency"
    assert change.shown_text == "Call 999 now"
    assert change.changed_at is not None and before <= change.answered_at <= change.changed_at
    assert history.clients_with_red_flag_changes([lnk.client_id]) == {lnk.client_id}


def test_a_red_flag_cleared_by_its_trigger_counts_as_changed(client: Any, link: Any) -> None:
    """Unusual bleeding is asked only on a blood thinner: saying "no" to the blood thinner
    after "yes" to bleeding removes the answer, and that is kept as a change."""
    lnk, token = link
    client.post(
        _save(token, "medicines"),
        {
            "anticoagulant": "yes",
            "rf_unusual_bleeding": "yes",
            "shown": "anticoagulant,rf_unusual_bleeding",
        },
    )
    client.post(_save(token, "medicines"), {"anticoagulant": "no", "shown": "anticoagulant"})
    (change,) = history.red_flag_changes(lnk)
    assert change.question_id == "rf_unusual_bleeding" and change.changed_to is None


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "1e309", "1e80", "abc", "12.5.3"])
@pytest.mark.parametrize("qid", ["age", "height_cm", "weight_kg"])
def test_a_bad_number_is_a_field_error_never_a_crash(
    client: Any, link: Any, qid: str, bad: str
) -> None:
    """§3: Django's number fields with the question bank's bounds; what was typed stays."""
    lnk, token = link
    key = "you" if qid == "age" else "body"
    response = client.post(_save(token, key), {qid: bad})
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="err-{qid}"' in page and f'value="{bad}"' in page
    assert qid not in _answers(lnk)
    response = client.post(_step(token, key), {qid: bad, "shown": qid})
    assert response.status_code == 422


def test_dates_before_1900_and_in_the_future_are_refused_and_kept(client: Any, link: Any) -> None:
    """§1.4: an impossible date is refused with a message, and the field is not emptied."""
    lnk, token = link
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    for value, message in (
        ("1800-01-01", "too long ago"),
        (future, "in the future"),
        ("2026-02-31", "real date"),
    ):
        page = client.post(
            _save(token, "surgery"),
            {"surgery_recent": "yes", "surgery_on": value, "shown": "surgery_recent,surgery_on"},
        ).content.decode()
        assert message in page and f'value="{value}"' in page
        assert "surgery_on" not in _answers(lnk)
    client.post(
        _save(token, "surgery"),
        {"surgery_recent": "yes", "surgery_on": days_ago(3), "shown": "surgery_recent,surgery_on"},
    )
    assert _answers(lnk)["surgery_on"] == days_ago(3)


def test_about_how_long_ago_stores_the_most_recent_end_of_the_range(client: Any, link: Any) -> None:
    lnk, token = link
    client.post(
        _save(token, "surgery"),
        {"surgery_recent": "yes", "surgery_on-ago": "weeks", "shown": "surgery_recent,surgery_on"},
    )
    assert _answers(lnk)["surgery_on"] == days_ago(7)
    page = client.get(_step(token, "surgery")).content.decode()
    assert '<option value="weeks" selected>1 to 4 weeks ago</option>' in page


def test_a_clot_date_typed_before_the_kind_is_kept(client: Any, link: Any) -> None:
    """§1.4: the clot record has no kind yet; its date is kept on screen and stored with the
    kind once chosen."""
    lnk, token = link
    data = {
        "clot_ever": "yes",
        "clots-count": "1",
        "clots-0-diagnosed_on": days_ago(40),
        "shown": "clot_ever,clots",
    }
    page = client.post(_save(token, "clots"), data).content.decode()
    assert f'value="{days_ago(40)}"' in page
    page = client.get(_step(token, "clots")).content.decode()
    assert f'value="{days_ago(40)}"' in page
    client.post(_save(token, "clots"), data | {"clots-0-kind": "dvt"})
    assert _answers(lnk)["clots"] == [{"kind": "dvt", "diagnosed_on": days_ago(40)}]
    response = client.post(
        _step(token, "clots"),
        {
            "clot_ever": "yes",
            "pts": "no",
            "clots-count": "1",
            "clots-0-site": "left_calf",
            "shown": "clot_ever,clots,pts",
        },
    )
    assert "Please choose what kind of clot it was." in response.content.decode()


def test_us_units_are_shown_and_stored_metric(client: Any, clinic_a: Any, make_client: Any) -> None:
    clinic_a.units = "us"
    clinic_a.save()
    lnk, token = create_link(make_client(clinic_a, "Sam"), by=None)
    page = client.get(_step(token, "body")).content.decode()
    assert "Feet" in page and "Inches" in page and "pounds" in page and "centimetres" not in page
    client.post(
        _save(token, "body"), {"height_cm-ft": "5", "height_cm-in": "10", "weight_kg-lb": "160"}
    )
    answers = _answers(lnk)
    assert answers["height_cm"] == 177.8 and answers["weight_kg"] == 72.6
    page = client.get(_step(token, "body")).content.decode()
    assert 'name="height_cm-ft" value="5"' in page and 'name="weight_kg-lb" value="160"' in page


def test_medicines_show_brand_names_and_another_one_is_typed(client: Any, link: Any) -> None:
    lnk, token = link
    page = client.post(_save(token, "medicines"), {"anticoagulant": "yes"}).content.decode()
    assert "Apixaban (Eliquis)" in page and "Rivaroxaban (Xarelto)" in page
    client.post(
        _save(token, "medicines"),
        {
            "anticoagulant": "yes",
            "anticoagulant_names": ["other"],
            "anticoagulant_names-other": "Sintrom",
            "shown": "anticoagulant,anticoagulant_names",
        },
    )
    lnk.refresh_from_db()
    assert history.other_medicines(lnk) == {"anticoagulant_names": "Sintrom"}
    page = client.get(_step(token, "medicines")).content.decode()
    assert 'value="Sintrom"' in page


def test_the_client_confirms_the_answers_with_a_typed_name(client: Any, link: Any) -> None:
    lnk, token = link
    lnk.submitted_at = timezone.now()
    lnk.save()
    url = reverse("intake_done", args=[token])
    assert client.post(url, {"name": "Pat Doe"}).status_code == 422
    assert history.consent_for(lnk) is None
    response = client.post(url, {"name": "Pat Doe", "confirm": "on"})
    assert response.status_code == 302
    consent = history.consent_for(lnk)
    assert consent is not None and consent.name == "Pat Doe"
    assert consent.statement == "These are my own answers. They are true as far as I know."
    assert "You confirmed your answers." in client.get(url).content.decode()


def test_dates_given_as_about_how_long_ago_are_marked_for_the_therapist(
    client: Any, link: Any
) -> None:
    lnk, token = link
    client.post(
        _save(token, "surgery"),
        {"surgery_recent": "yes", "surgery_on-ago": "months", "shown": "surgery_recent,surgery_on"},
    )
    client.post(
        _save(token, "clots"),
        {
            "clot_ever": "yes",
            "clots-count": "2",
            "clots-0-diagnosed_on": days_ago(9),
            "clots-0-kind": "pe",
            "clots-1-kind": "dvt",
            "clots-1-diagnosed_on-ago": "year",
            "shown": "clot_ever,clots",
        },
    )
    lnk.refresh_from_db()
    assert lnk.answers["clots"][1]["diagnosed_on"] == days_ago(182)
    assert history.approximate_dates(lnk) == {
        ("surgery_on",): "1 to 3 months ago",
        ("clots", 1, "diagnosed_on"): "6 to 12 months ago",
    }


@pytest.mark.parametrize("step", ["rf_lungs", "surgery"])
def test_each_save_and_each_next_evaluates_the_engine_once(
    client: Any, link: Any, monkeypatch: Any, step: str
) -> None:
    """§3: one evaluation per request (a red flag that records a screening adds the
    screening's own evaluation, with the client's clearances)."""
    from clotsafe.web import engine

    calls: list[int] = []
    real = engine.run

    def counted(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(engine, "run", counted)
    _, token = link
    qid = "rf_faint" if step == "rf_lungs" else "surgery_recent"
    client.post(_save(token, step), {qid: "no"})
    assert len(calls) == 1
    client.post(_step(token, step), {qid: "no", "shown": qid})
    assert len(calls) == 2
