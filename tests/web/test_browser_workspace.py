"""The therapist workspace of issue 8, tested as a user would: Playwright with Debian's Chromium
against a live server, and axe (no serious or critical violation) at phone and desktop size.

Skipped, with the reason, when /usr/bin/chromium is not installed (as test_browser.py).
"""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from pypdf import PdfReader

from clotsafe.domain.regions import REGIONS
from tests.web.conftest import COMPLETE_NO, dvt_answers
from tests.web.test_browser import (  # noqa: F401  (browser, axe: session fixtures)
    PHONE,
    axe,
    browser,
    check_axe,
    login,
    nav_click,
    new_context,
)

pytestmark = pytest.mark.django_db(transaction=True)
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def _pdf_text(body: bytes) -> str:
    pages = PdfReader(io.BytesIO(body)).pages
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))


@pytest.fixture
def desk(browser: Any, live_server: Any, clinic_a: Any, make_member: Any) -> Any:  # noqa: F811
    """A therapist of clinic A, logged in on a desktop browser."""
    make_member(clinic_a, "therapist_a")
    ctx = new_context(browser, **DESKTOP)
    page = ctx.new_page()
    login(page, live_server.url, "therapist_a")
    yield page
    ctx.close()


def test_incomplete_screening_allows_no_pressure_anywhere(
    desk: Any,
    axe: Any,  # noqa: F811
    live_server: Any,
    clinic_a: Any,
    make_client: Any,
) -> None:
    """Issue 8 §1.5 (POLICY §2): an incomplete screening is never a green light, so its body map
    shows no region at "Deepest (no limit)" or any other pressure, and the plan no "Any
    position": nothing is allowed until the pending questions are answered. Failed before the
    fix: the map showed 5 on all 21 regions and the plan "Any position"."""
    c = make_client(clinic_a, "Frankie Incomplete", {"rf_breathless": "no", "clot_ever": "no"})
    desk.goto(f"{live_server.url}/screenings/{c.latest_screening.pk}/")
    regions = desk.locator("g.region")
    drawn = {regions.nth(i).get_attribute("data-region") for i in range(regions.count())}
    assert drawn == set(REGIONS)
    marks = set(
        desk.eval_on_selector_all("g.region text", "els => els.map(e => e.textContent.trim())")
    )
    assert marks == {"–"}, marks
    assert desk.locator("g.region[data-cap]").count() == 0
    body = desk.locator("main").inner_text()
    assert "Deepest" not in body and "Any position" not in body
    assert "No session plan until the screening is complete" in body
    assert "no pressure is allowed anywhere" in body.lower()
    check_axe(axe, desk)


def test_letter_only_where_it_fits_with_birth_date_and_full_references(
    desk: Any,
    axe: Any,  # noqa: F811
    live_server: Any,
    clinic_a: Any,
    make_client: Any,
) -> None:
    """Issue 8 §1.6: an emergency offers no consultation letter (its letter had an empty "Rules
    needing your answer") and its letter URL is refused; a clearance_required letter names the
    client's date of birth and every source in full (not only "S48"). Failed before the fix."""
    emergency = make_client(clinic_a, "Emery", {**COMPLETE_NO, "rf_breathless": "yes"})
    url = f"{live_server.url}/screenings/{emergency.latest_screening.pk}/"
    desk.goto(url)
    assert desk.locator("text=consultation letter").count() == 0
    assert desk.request.get(url + "letter.pdf").status == 404

    casey = make_client(clinic_a, "Casey Clot", dvt_answers())
    casey.date_of_birth = date(1971, 3, 14)
    casey.save()
    desk.goto(f"{live_server.url}/screenings/{casey.latest_screening.pk}/")
    href = desk.get_attribute("a:has-text('Download consultation letter')", "href")
    response = desk.request.get(live_server.url + href)
    assert response.status == 200
    text = _pdf_text(response.body())
    assert "Casey Clot, born 1971-03-14" in text
    assert "Rules needing your answer: CLOT-ACTIVE" in text
    assert "[S48] Kearon C" in text  # the reason's own source, in full


def test_cleared_rule_says_what_to_do_now(
    desk: Any,
    axe: Any,  # noqa: F811
    live_server: Any,
    clinic_a: Any,
    make_client: Any,
) -> None:
    """Issue 8 §1.6: after a clearance the cleared rule's card says what to do now (follow the
    plan), not "No massage until the clinician has answered". Failed before the fix."""
    c = make_client(clinic_a, "Casey Cleared", dvt_answers())
    desk.goto(f"{live_server.url}/clients/{c.pk}/clearances/new/")
    desk.check("input[name=rules][value=CLOT-ACTIVE]")
    desk.fill("#id_clinician", "Dr Lee, GP")
    nav_click(desk, "button:has-text('Record clearance')")
    card = desk.locator("article.reason", has_text="CLOT-ACTIVE")
    text = card.inner_text()
    assert "Cleared by Dr Lee, GP" in text
    assert "No massage until" not in text
    assert "Follow the plan" in text
    check_axe(axe, desk)
