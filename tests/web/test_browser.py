"""Tested as a user would: Playwright with Debian's Chromium against a live server, and axe on
every page (no serious or critical violations).

Skipped, with the reason, when /usr/bin/chromium is not installed (`.ci/run` installs it).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import CHROMIUM

if not CHROMIUM.exists():
    pytest.skip(
        f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)",
        allow_module_level=True,
    )
pytest.importorskip("playwright.sync_api", reason="install the test-web extra")
pytest.importorskip("axe_playwright_python.sync_playwright", reason="install the test-web extra")

from pypdf import PdfReader

from clotsafe.domain.questions import BY_ID
from tests.web.conftest import days_ago

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the tests
# themselves (fixtures) are plain synchronous code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PASSWORD = "correct-horse-battery"


def new_context(browser: Any, **options: Any) -> Any:
    """A browser context with generous timeouts: CI shares 2 cores with the rest of the suite."""
    context = browser.new_context(**options)
    context.set_default_timeout(60_000)
    context.set_default_navigation_timeout(60_000)
    return context


def check_axe(axe: Any, page: Any) -> None:
    """No serious or critical accessibility violation on this page."""
    violations = axe.run(page).response["violations"]
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v.get("impact") in ("serious", "critical")
    ]
    assert not bad, f"{page.url}: " + "; ".join(bad)


def settle(page: Any) -> None:
    """Wait for htmx autosave requests and swaps to finish."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def nav_click(page: Any, selector: str) -> None:
    """Click something that loads a new page, and wait for that page (no race with axe)."""
    with page.expect_navigation():
        page.click(selector)


def retract_breathlessness(page: Any, base: str, token: str) -> None:
    """As the client on the intake link ``token``: "Yes" to sudden breathlessness, the emergency
    screen, "I pressed the wrong answer", then "No" (the save may still be on its way)."""
    page.goto(f"{base}/i/{token}/step/rf_lungs/")
    # click, not check: "yes" leaves the page for the emergency screen at once, so the radio
    # is never seen checked (Playwright's check() would wait for that)
    page.click("#rf_breathless-yes")
    page.wait_for_url(re.compile(r"/emergency/$"))
    nav_click(page, "text=I pressed the wrong answer")
    page.click("#rf_breathless-no")


def login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def answer_step_no(page: Any, special: dict[str, Any]) -> None:
    """Answer the questions on screen: the special ones as given, other yes/no ones with No."""
    names = page.eval_on_selector_all(
        "#fields input[type=radio]", "els => [...new Set(els.map(e => e.name))]"
    )
    for name in names:
        if name in special:
            continue
        if BY_ID[name].type == "tri" and not page.is_checked(f"input[name={name}][value=no]"):
            page.check(f"input[name={name}][value=no]")
            settle(page)


def fill_intake(page: Any, axe: Any, special: dict[str, Any]) -> None:
    """Go through every step as a client on a phone; `special` answers by question id."""
    nav_click(page, "text=Start")
    for _ in range(30):
        if "/done/" in page.url:
            return
        check_axe(axe, page)
        for qid, action in special.items():
            if page.locator(f"#q-{qid}").count():
                action(page)
                settle(page)
        answer_step_no(page, special)
        nav_click(page, "button[name=next]")
    raise AssertionError("the intake did not finish")


def _clot(page: Any) -> None:
    page.check("input[name=clot_ever][value=yes]")
    settle(page)
    page.wait_for_selector("#clots-0-kind")  # the follow-up appears
    page.select_option("#clots-0-kind", "dvt")
    settle(page)
    page.select_option("#clots-0-site", "left_calf")
    settle(page)
    page.fill("#clots-0-diagnosed_on", days_ago(30))
    page.dispatch_event("#clots-0-diagnosed_on", "change")
    settle(page)
    page.select_option("#clots-0-treatment", "ongoing")


def _about(page: Any) -> None:
    page.fill("#age", "52")
    page.dispatch_event("#age", "change")
    settle(page)
    page.check("input[name=sex][value=female]")


@pytest.fixture
def therapist(clinic_a: Any, make_member: Any) -> Any:
    return make_member(clinic_a, "therapist_a")


def test_journey_dvt_30_days_ago_letter_clearance_adapt(
    browser: Any, axe: Any, live_server: Any, therapist: Any, tmp_path: Path
) -> None:
    """A therapist adds a client and sends a link; the client reports a DVT diagnosed 30 days
    ago on a phone; the therapist sees clearance_required and the body map, downloads the
    letter, records the clinician's clearance and sees the level become adapt."""
    base = live_server.url
    desk = new_context(browser, accept_downloads=True)
    page = desk.new_page()
    login(page, base, "therapist_a")
    check_axe(axe, page)
    nav_click(page, "text=Add client")
    check_axe(axe, page)
    page.fill("#id_name", "Robin Journey")
    nav_click(page, "button:has-text('Add client')")
    nav_click(page, "button:has-text('Create intake link')")
    link = page.input_value("#intake-link")
    assert re.search(r"/i/[A-Za-z0-9_-]{43,}/$", link)
    check_axe(axe, page)

    phone = new_context(browser, **PHONE)
    client_page = phone.new_page()
    client_page.goto(link)
    check_axe(axe, client_page)
    fill_intake(client_page, axe, {"clot_ever": _clot, "age": _about})
    assert "Thank you. Your answers were sent." in client_page.content()
    assert "No massage for now." in client_page.content()
    check_axe(axe, client_page)
    phone.close()

    page.goto(f"{base}/")
    row = page.locator("tr", has_text="Robin Journey")
    assert "Clearance required" in row.inner_text()
    with page.expect_navigation():
        row.locator("a", has_text=re.compile(r"\d{4}-\d\d-\d\d")).click()
    check_axe(axe, page)
    assert page.locator(".banner").inner_text().count("Clearance required") >= 1
    assert page.locator("svg.map-view").count() == 2
    avoided = page.locator("g.region[data-avoid='1']")
    assert {avoided.nth(i).get_attribute("data-region") for i in range(avoided.count())} >= {
        "left_calf",
        "left_foot",
    }
    assert page.locator("g[data-region=left_calf]").first.is_visible()

    with page.expect_download() as download:
        page.click("text=Download consultation letter (PDF)")
    pdf = tmp_path / "letter.pdf"
    download.value.save_as(pdf)
    text = re.sub(
        r"\s+",
        " ",
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages),
    )
    for expected in (
        "Clinic A",
        "Robin Journey",
        "CLOT-ACTIVE",
        "Is massage away from the clot site",
        "Signature",
    ):
        assert expected in text

    nav_click(page, "text=Record a clearance")
    check_axe(axe, page)
    page.check("input[name=rules][value=CLOT-ACTIVE]")
    page.fill("#id_clinician", "Dr Lee, GP")
    nav_click(page, "button:has-text('Record clearance')")
    assert re.search(r"/screenings/\d+/$", page.url)
    assert "Adapt" in page.locator(".banner").inner_text()
    assert "Cleared by Dr Lee, GP" in page.content()
    nav_click(page, "text=Robin Journey")
    assert "Clearance required → Adapt" in page.locator(".history").inner_text()
    check_axe(axe, page)
    desk.close()


def test_journey_breathlessness_lands_on_emergency_screen(
    browser: Any, axe: Any, live_server: Any, clinic_a: Any, make_client: Any
) -> None:
    """Reporting breathlessness shows, at once, the full-screen call-999 message."""
    from clotsafe.web.clients.services import create_link

    _, token = create_link(make_client(clinic_a, "Breathless"), by=None)
    phone = new_context(browser, **PHONE)
    page = phone.new_page()
    page.goto(f"{live_server.url}/i/{token}/")
    nav_click(page, "text=Start")
    # click, not check: "yes" leaves for the emergency screen at once (see retract_breathlessness)
    page.click("input[name=rf_breathless][value=yes]")
    page.wait_for_url(re.compile(r"/emergency/$"))
    assert page.locator("h1").inner_text() == "Call 999 now"
    assert "Do not drive yourself." in page.content()
    box = page.locator(".fullscreen").bounding_box()
    assert box and box["height"] >= 0.75 * 844
    check_axe(axe, page)
    phone.close()


def test_axe_on_every_other_page(
    browser: Any, axe: Any, live_server: Any, clinic_a: Any, make_member: Any, make_client: Any
) -> None:
    """The pages the journeys do not reach: lead pages, re-check, same-day screen, closed link."""
    from django.urls import reverse

    from clotsafe.web.clients.services import create_link, revoke_link
    from tests.web.conftest import COMPLETE_NO, dvt_answers

    make_member(clinic_a, "lead_a", role="lead")
    c = make_client(clinic_a, "Casey", dvt_answers())
    urgent = make_client(clinic_a, "Devon", {**COMPLETE_NO, "rf_limb_swelling": "yes"})
    _, open_token = create_link(urgent, by=None)
    revoked, revoked_token = create_link(c, by=None)
    revoke_link(revoked, by=None)
    base = live_server.url
    ctx = new_context(browser)
    page = ctx.new_page()
    page.goto(f"{base}/login/")
    check_axe(axe, page)
    login(page, base, "lead_a")
    for url in (
        "/?level=clearance_required",
        reverse("recheck", args=[c.pk]),
        reverse("client_detail", args=[urgent.pk]),
        reverse("screening_detail", args=[urgent.latest_screening.pk]),
        reverse("team"),
        reverse("clinic_settings"),
    ):
        page.goto(base + url)
        check_axe(axe, page)
    phone = new_context(browser, **PHONE)
    p2 = phone.new_page()
    p2.goto(f"{base}/i/{open_token}/step/rf_limbs/")
    for name in ("rf_limb_pain", "rf_limb_skin", "rf_hard_vein"):
        p2.check(f"input[name={name}][value=no]")
        settle(p2)
    p2.check("input[name=rf_limb_swelling][value=yes]")
    settle(p2)
    p2.click("button[name=next]")
    p2.wait_for_url(re.compile(r"/urgent/"))
    assert "No massage today. See a doctor today." in p2.content()
    check_axe(axe, p2)
    p2.goto(f"{base}/i/{revoked_token}/")
    assert "no longer works" in p2.content()
    check_axe(axe, p2)
    phone.close()
    ctx.close()
