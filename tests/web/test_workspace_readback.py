"""Issue 8 §2: the therapist reads back every answer of a screening in plain language, grouped as
the client saw it, with changes since the screening before marked, and never an id, an answer
path or JSON (so nothing the client said is hidden behind a fired rule)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from clotsafe.domain.questions import BY_ID
from clotsafe.web.screenings import services
from clotsafe.web.screenings.models import Screening
from tests.web.conftest import COMPLETE_NO, NO_FLAGS, dvt_answers

pytestmark = pytest.mark.django_db

RAW = re.compile(r"\b(rf|clot|clots)_[a-z_]+\b|clots\[\d\]|\{\"|band low|up to highest")


def _text(html: str) -> str:
    main = html.split('<main id="main">')[1].split("</main>")[0]
    return re.sub(r"<[^>]+>", " ", main)


def test_every_asked_question_is_read_back_in_the_clients_words(
    web: Any, clinic_a: Any, make_client: Any
) -> None:
    c = make_client(clinic_a, "Casey", dvt_answers())
    page = web.get(reverse("screening_answers", args=[c.latest_screening.pk])).content.decode()
    text = _text(page)
    for heading in ("Warning signs (red flags)", "Blood clots", "Medicines", "About the client",
                    "How you feel right now", "Your arms and legs right now"):  # fmt: skip
        assert heading in text, heading
    assert "Is one leg or one arm swollen?" in text
    assert "What kind of clot was it? A clot in a deep vein (DVT)" in text
    assert "Was it treated? Yes, and I am still on treatment" in text
    assert "Left calf or shin" in text
    for qid in ("rf_breathless", "clot_ever", "anticoagulant", "rf_limb_site", "diagnosed_on"):
        assert qid not in page
    assert not RAW.search(text), RAW.search(text)
    assert "This is the client's first screening." in text


def test_changes_since_the_screening_before_are_marked(
    web: Any, clinic_a: Any, make_client: Any
) -> None:
    c = make_client(clinic_a, "Sam", COMPLETE_NO)
    swollen = {**COMPLETE_NO, "rf_limb_swelling": "yes", "rf_limb_site": ["left_calf"]}
    s = services.record(c, swollen, kind=Screening.Kind.INTAKE, by=None)
    page = web.get(reverse("screening_answers", args=[s.pk])).content.decode()
    assert "2 answers changed" in page
    changed = re.findall(r'<div class="answer changed"><dt>(.*?)</dt>', page)
    assert "Is one leg or one arm swollen?" in changed
    assert "was: No" in page and "was: Not answered" in page


def test_questions_not_asked_are_left_out(web: Any, clinic_a: Any, make_client: Any) -> None:
    """Follow-ups whose trigger was not yes are not asked, so not read back as unanswered."""
    c = make_client(clinic_a, "Sam", COMPLETE_NO)
    page = web.get(reverse("screening_answers", args=[c.latest_screening.pk])).content.decode()
    from clotsafe.render.present import question_words

    assert question_words()["question"]["anticoagulant_names"]["text"] not in page
    assert question_words()["question"]["anticoagulant"]["text"] in page


def test_unanswered_questions_say_so(web: Any, clinic_a: Any, make_client: Any) -> None:
    c = make_client(clinic_a, "Partial", dict(NO_FLAGS))
    page = web.get(reverse("screening_answers", args=[c.latest_screening.pk])).content.decode()
    assert "Not answered" in page
    assert BY_ID["clot_ever"].id not in page


def test_screening_page_links_to_the_read_back(web: Any, clinic_a: Any, make_client: Any) -> None:
    c = make_client(clinic_a, "Casey", dvt_answers())
    s = c.latest_screening
    page = web.get(reverse("screening_detail", args=[s.pk])).content.decode()
    assert reverse("screening_answers", args=[s.pk]) in page


def test_a_new_clot_is_marked_as_changed(web: Any, clinic_a: Any, make_client: Any) -> None:
    c = make_client(clinic_a, "Sam", COMPLETE_NO)
    s = services.record(c, dvt_answers(), kind=Screening.Kind.INTAKE, by=None)
    page = web.get(reverse("screening_answers", args=[s.pk])).content.decode()
    changed = re.findall(r'<div class="answer changed"><dt>(.*?)</dt>', page)
    assert "Clot 1" in changed
    assert "was: not reported" in page
    assert page.count("<h2") == page.count("</h2>")
    assert "<h3>Blood clots</h3>" not in page  # the section heading is not repeated


def test_height_and_weight_read_back_in_both_units(
    web: Any, clinic_a: Any, make_client: Any
) -> None:
    c = make_client(clinic_a, "Sam", {**COMPLETE_NO, "height_cm": 170.0, "weight_kg": 70})
    page = web.get(reverse("screening_answers", args=[c.latest_screening.pk])).content.decode()
    assert "170 cm (5 ft 7 in)" in page and "70 kg (154 lb)" in page
