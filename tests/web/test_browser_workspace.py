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
from tests.web.test_browser import DESKTOP, PHONE, check_axe, login, nav_click, new_context

pytestmark = pytest.mark.django_db(transaction=True)


def _pdf_text(body: bytes) -> str:
    pages = PdfReader(io.BytesIO(body)).pages
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))


@pytest.fixture
def desk(browser: Any, live_server: Any, clinic_a: Any, make_member: Any) -> Any:
    """A therapist of clinic A, logged in on a desktop browser."""
    make_member(clinic_a, "therapist_a")
    ctx = new_context(browser, **DESKTOP)
    page = ctx.new_page()
    login(page, live_server.url, "therapist_a")
    yield page
    ctx.close()


def test_incomplete_screening_allows_no_pressure_anywhere(
    desk: Any, axe: Any, live_server: Any, clinic_a: Any, make_client: Any
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
    desk: Any, live_server: Any, clinic_a: Any, make_client: Any
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
    desk: Any, axe: Any, live_server: Any, clinic_a: Any, make_client: Any
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


def test_changed_red_flag_is_shown_until_acknowledged(
    desk: Any, axe: Any, live_server: Any, clinic_a: Any
) -> None:
    """Issue 8 §1.3 (therapist side): a client who answered yes to sudden breathlessness, was
    shown the emergency screen and changed the answer to no finishes with a standard screening.
    The list and the screening page say that the red flag changed, when, and what the client
    was shown, and show no green Standard until a therapist acknowledges it. Failed before the
    fix: the list showed Standard and the only trace was "rf_breathless (yes → no)"."""
    from tests.web.test_workspace_redflags import BREATHLESS, retracted

    c = retracted(clinic_a, "Robin Retracted")
    base = live_server.url
    desk.goto(f"{base}/")
    row = desk.locator("tr", has_text="Robin Retracted")
    assert "Red-flag answer changed" in row.inner_text()
    assert row.locator(".badge.level-standard").count() == 0
    check_axe(axe, desk)
    nav_click(desk, "tr:has-text('Robin Retracted') a:has-text('20')")
    panel = desk.locator("section.redflag").inner_text()
    assert BREATHLESS in panel and "Call 999 now" in panel
    assert "Check the changed red flag" in desk.locator(".banner").inner_text()
    check_axe(axe, desk)
    nav_click(desk, "button:has-text('I have asked about the changed answer')")
    assert "Standard" in desk.locator(".banner").inner_text()
    assert "Acknowledged by therapist_a" in desk.locator("section.redflag").inner_text()
    c.latest_screening.refresh_from_db()
    assert c.latest_screening.red_flag_ack_by is not None


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"{page.url}: {width}px wide"


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_axe_and_layout_on_the_new_workspace_pages(
    browser: Any,
    axe: Any,
    live_server: Any,
    clinic_a: Any,
    make_member: Any,
    make_client: Any,
    size: str,
) -> None:
    """Every new page has no serious or critical axe violation at phone and desktop size, and a
    200-character name never makes the phone page scroll sideways (issue 8 §2)."""
    from django.urls import reverse

    from tests.web.test_workspace_redflags import retracted

    make_member(clinic_a, "lead_a", role="lead")
    long = make_client(clinic_a, "W" * 200, dvt_answers())
    long.date_of_birth, long.email, long.phone = date(1971, 3, 14), "w@example.org", "555-0100"
    long.save()
    changed = retracted(clinic_a, "Robin Retracted")
    ctx = new_context(browser, **(PHONE if size == "phone" else DESKTOP))
    page = ctx.new_page()
    login(page, live_server.url, "lead_a")
    page.goto(f"{live_server.url}{reverse('client_detail', args=[long.pk])}")
    nav_click(page, "button:has-text('Create intake link')")  # shows the link and its QR code
    assert page.locator(".qr-code svg").count() == 1
    for url in (
        "/?q=W",
        "/?archived=1",
        reverse("client_detail", args=[long.pk]),
        reverse("client_edit", args=[long.pk]),
        reverse("screening_detail", args=[long.latest_screening.pk]),
        reverse("screening_answers", args=[long.latest_screening.pk]),
        reverse("screening_detail", args=[changed.latest_screening.pk]),
        reverse("recheck", args=[long.pk]),
        reverse("clinic_settings"),
        reverse("settings_help"),
    ):
        page.goto(live_server.url + url)
        check_axe(axe, page)
        if size == "phone":
            _no_sideways_scroll(page)
    ctx.close()
    # the 403 page, as a therapist
    make_member(clinic_a, "therapist_a")
    ctx = new_context(browser, **(PHONE if size == "phone" else DESKTOP))
    page = ctx.new_page()
    login(page, live_server.url, "therapist_a")
    response = page.goto(live_server.url + reverse("clinic_settings"))
    assert response.status == 403
    assert page.locator("nav[aria-label=Main]").count() == 1
    check_axe(axe, page)
    ctx.close()


def test_journey_retracted_breathlessness_reaches_the_therapist(
    browser: Any, axe: Any, desk: Any, live_server: Any, clinic_a: Any, make_client: Any
) -> None:
    """Issue 8 §1.3, the whole journey: on a phone the client answers "Yes" to sudden
    breathlessness, sees the emergency screen, presses "I pressed the wrong answer", answers
    "No", finishes and confirms the answers. The therapist's list and screening page say that
    the red flag changed and what the client was shown, with the client's confirmation, and the
    screening is not a green Standard until acknowledged. Failed before issue 8: the list showed
    Standard and the history only "rf_breathless (yes → no)"."""
    from clotsafe.web.clients.services import create_link
    from tests.web.test_browser import answer_step_no, retract_breathlessness, settle

    client = make_client(clinic_a, "Jordan Journey")
    _, token = create_link(client, by=None)
    phone = new_context(browser, **PHONE)
    page = phone.new_page()
    retract_breathlessness(page, live_server.url, token)
    settle(page)
    for _ in range(30):
        if "/done/" in page.url:
            break
        answer_step_no(page, {})
        nav_click(page, "button[name=next]")
    assert "/done/" in page.url
    page.check("#consent-confirm")
    page.fill("#consent-name", "Jordan")
    nav_click(page, "button[name=consent]")
    phone.close()

    desk.goto(f"{live_server.url}/")
    row = desk.locator("tr", has_text="Jordan Journey")
    assert "Red-flag answer changed" in row.inner_text()
    assert row.locator(".badge.level-standard").count() == 0
    nav_click(desk, "tr:has-text('Jordan Journey') a:has-text('20')")
    panel = desk.locator("section.redflag").inner_text()
    assert "Are you short of breath all of a sudden" in panel and "Call 999 now" in panel
    assert 'typing "Jordan"' in desk.locator("main").inner_text()
    check_axe(axe, desk)
    nav_click(desk, "button:has-text('I have asked about the changed answer')")
    assert "Standard" in desk.locator(".banner").inner_text()
