"""The client intake never loses or hides what the client said (issue 8 §1), server side.

Browser versions of the same defects (slow network, typed dates) are in test_browser_intake.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from clotsafe.web.clients.models import IntakeLink
from clotsafe.web.clients.services import create_link
from clotsafe.web.screenings import services as screenings
from clotsafe.web.screenings.models import Screening
from tests.web.conftest import COMPLETE_NO

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(clinic_a: Any, make_client: Any) -> tuple[IntakeLink, str]:
    return create_link(make_client(clinic_a, "Pat"), by=None)


def _save(token: str, key: str) -> str:
    return reverse("intake_save", args=[token, key])


def _submitted_with(lnk: IntakeLink, answers: dict[str, Any]) -> Screening:
    screening = screenings.record(lnk.client, answers, kind=Screening.Kind.INTAKE, by=None)
    lnk.answers = answers
    lnk.submitted_at = timezone.now()
    lnk.save()
    return screening


def test_done_page_of_an_incomplete_standard_screening_is_no_green_light(
    client: Any, link: Any
) -> None:
    """POLICY §2: an incomplete screening is never a green light. The client whose screening
    is standard but incomplete must not read "Nothing about blood clots stops your massage"."""
    lnk, token = link
    answers = {k: v for k, v in COMPLETE_NO.items() if k != "cancer_active"}
    screening = _submitted_with(lnk, answers)
    assert screening.level == "standard" and not screening.complete
    page = client.get(reverse("intake_done", args=[token])).content.decode()
    assert "Nothing about blood clots stops your massage" not in page
    assert "Some questions were not answered." in page
    assert "level-standard" not in page


def test_done_page_of_a_complete_standard_screening_says_so(client: Any, link: Any) -> None:
    lnk, token = link
    _submitted_with(lnk, dict(COMPLETE_NO))
    page = client.get(reverse("intake_done", args=[token])).content.decode()
    assert "Nothing about blood clots stops your massage today." in page
    assert "Some questions were not answered." not in page
