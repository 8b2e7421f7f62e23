"""The client intake in Chromium on a phone (issue 8 §1): nothing the client said is lost or
hidden, on a slow network too, and axe finds no serious or critical violation on any intake
page at phone and desktop size.

Each test here failed on the code before issue 8 (see the commit that added it). The network
is slowed through the Chrome DevTools Protocol (``Network.emulateNetworkConditions``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from clotsafe.domain.questions import LIMB_SIGNS
from tests.web.test_browser import (
    DESKTOP,
    PHONE,
    check_axe,
    login,
    nav_click,
    new_context,
    retract_breathlessness,
    settle,
)

pytestmark = pytest.mark.django_db(transaction=True)
LIMBS = LIMB_SIGNS


@pytest.fixture
def phone(browser: Any) -> Any:
    context = new_context(browser, locale="en-US", **PHONE)
    yield context
    context.close()


@pytest.fixture
def intake(clinic_a: Any, make_client: Any) -> tuple[Any, str]:
    from clotsafe.web.clients.services import create_link

    return create_link(make_client(clinic_a, "Robin Slow"), by=None)


def _slow(page: Any, latency_ms: int) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": latency_ms, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def _answers(link: Any) -> dict[str, Any]:
    link.refresh_from_db()
    return dict(link.answers)


def _settled(page: Any) -> None:
    """Every save has come back (and a little more, for a save sent after it)."""
    settle(page)
    page.wait_for_timeout(300)
    settle(page)


def _type_date(page: Any, selector: str, d: date) -> None:
    """Type a date with the keyboard, as a client would (en-US: month, day, year), then tap
    outside the field (Tab only moves between the parts of the date)."""
    page.focus(selector)
    page.keyboard.type(f"{d.month:02d}{d.day:02d}{d.year:04d}", delay=60)
    page.click("h1")


def _checked(page: Any, name: str) -> str:
    return str(
        page.eval_on_selector_all(
            f"input[name={name}]", "els => (els.find(e => e.checked) || {value: ''}).value"
        )
    )


@pytest.mark.parametrize(("latency", "gap"), [(450, 200), (600, 400)])
def test_rapid_corrections_on_a_slow_network_are_kept(
    phone: Any, live_server: Any, intake: Any, latency: int, gap: int
) -> None:
    """§1.1: "No" then "Yes" 200–400 ms later on "Is one leg or one arm swollen?", and taps on
    the other questions while the saves are on their way: every last tap stays, on the screen
    and on the server, with 450 and 600 ms latency."""
    link, token = intake
    page = phone.new_page()
    page.goto(f"{live_server.url}/i/{token}/step/rf_limbs/")
    _slow(page, latency)
    page.click("#rf_limb_swelling-no")
    page.wait_for_timeout(gap)
    page.click("#rf_limb_swelling-yes")
    page.wait_for_timeout(gap // 2)
    page.click("#rf_limb_pain-no")
    page.wait_for_timeout(gap // 2)
    page.click("#rf_limb_skin-unsure")
    page.wait_for_timeout(gap)
    page.click("#rf_hard_vein-no")
    page.wait_for_timeout(gap // 2)
    page.click("#rf_limb_skin-no")
    _settled(page)
    want = {
        "rf_limb_swelling": "yes",
        "rf_limb_pain": "no",
        "rf_limb_skin": "no",
        "rf_hard_vein": "no",
    }
    assert {q: _checked(page, q) for q in LIMBS} == want
    assert {q: _answers(link).get(q) for q in LIMBS} == want
    page.wait_for_selector("#q-rf_limb_site")  # the follow-up of "Yes" appeared
    page.reload()
    assert {q: _checked(page, q) for q in LIMBS} == want


def _centre(page: Any, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


class _Finger:
    """A press and a release at one point, by mouse or by touch (through the DevTools
    Protocol: Playwright's own tap presses and releases at once)."""

    def __init__(self, page: Any, kind: str, x: float, y: float) -> None:
        self.page, self.point = page, {"x": x, "y": y}
        self.cdp = page.context.new_cdp_session(page) if kind == "touch" else None

    def down(self) -> None:
        if self.cdp is None:
            self.page.mouse.move(self.point["x"], self.point["y"])
            self.page.mouse.down()
        else:
            self.cdp.send(
                "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [self.point]}
            )

    def up(self) -> None:
        if self.cdp is None:
            self.page.mouse.up()
        else:
            self.cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


@pytest.mark.parametrize("kind", ["mouse", "touch"])
@pytest.mark.parametrize("first", ["rf_limb_swelling-yes", "rf_limb_pain-yes"])
def test_a_tap_held_while_a_save_comes_back_is_kept(
    phone: Any, live_server: Any, intake: Any, first: str, kind: str
) -> None:
    """A finger comes down on "No" to calf pain, a save comes back before it lifts, and the tap
    still counts. The step is redrawn from the server when a save comes back; a block replaced
    under the finger took the tap with it (pressed on the old node, released on the new one: the
    browser clicks neither). Seen once in CI on a slow network: "No" tapped, the question left
    unanswered. The save that comes back is another question's ("Yes" to swelling) or the
    pressed question's own (a quick correction of "Yes"); either brings the follow-up "Where?".
    A block the server sends back unchanged is not redrawn at all."""
    link, token = intake
    page = phone.new_page()
    page.goto(f"{live_server.url}/i/{token}/step/rf_limbs/")
    held: list[Any] = []
    page.route("**/save/", lambda route: held.append(route))
    page.click(f"#{first}")
    while not held:
        page.wait_for_timeout(50)
    page.eval_on_selector("#q-rf_hard_vein", "el => { el.dataset.mark = 'same node'; }")
    finger = _Finger(page, kind, *_centre(page, "#rf_limb_pain-no"))
    finger.down()
    held.pop().continue_()
    page.unroute("**/save/")
    settle(page)  # the save came back and the step was merged: the follow-up appeared
    assert page.locator("#q-rf_limb_site").count() == 1
    finger.up()
    _settled(page)
    assert _checked(page, "rf_limb_pain") == "no"
    assert _answers(link).get("rf_limb_pain") == "no"
    assert page.get_attribute("#q-rf_hard_vein", "data-mark") == "same node"


def test_an_answer_shown_but_never_saved_is_redrawn_from_the_server(
    phone: Any, live_server: Any, intake: Any
) -> None:
    """A browser restoring a form's state on "Back" can tick an answer without telling the
    page. Blocks the server sends back unchanged are not redrawn, but one that no longer shows
    what it was drawn with is: the screen never shows an answer the server does not have."""
    link, token = intake
    page = phone.new_page()
    page.goto(f"{live_server.url}/i/{token}/step/rf_limbs/")
    page.eval_on_selector("#rf_hard_vein-yes", "el => { el.checked = true; }")  # no event
    page.click("#rf_limb_pain-no")
    _settled(page)
    assert _checked(page, "rf_hard_vein") == ""
    assert "rf_hard_vein" not in _answers(link)
    assert _answers(link).get("rf_limb_pain") == "no"


def test_same_day_red_flag_is_on_the_urgent_list_before_the_client_goes_on(
    browser: Any, phone: Any, live_server: Any, intake: Any, clinic_a: Any, make_member: Any
) -> None:
    """§1.2: "Yes" to swelling, and the client closes the page: the therapist's list shows
    them under Urgent, not as "not screened"."""
    _, token = intake
    page = phone.new_page()
    page.goto(f"{live_server.url}/i/{token}/step/rf_limbs/")
    page.click("#rf_limb_swelling-yes")
    _settled(page)
    page.close()
    make_member(clinic_a, "therapist_a")
    desk = new_context(browser)
    therapist = desk.new_page()
    login(therapist, live_server.url, "therapist_a")
    therapist.goto(f"{live_server.url}/?level=urgent_referral")
    row = therapist.locator("tr", has_text="Robin Slow")
    assert row.count() == 1 and "Urgent referral" in row.inner_text()
    desk.close()


def test_a_retracted_emergency_red_flag_is_kept_for_the_therapist(
    phone: Any, live_server: Any, intake: Any
) -> None:
    """§1.3: "Yes" to sudden breathlessness, the emergency screen, "I pressed the wrong
    answer", "No": the therapist side can read that the client first said yes, when, what they
    were shown, and when they changed it."""
    link, token = intake
    page = phone.new_page()
    retract_breathlessness(page, live_server.url, token)
    _settled(page)
    from clotsafe.web.intake.history import red_flag_changes

    (change,) = red_flag_changes(link)
    assert (change.question_id, change.first_answer, change.changed_to) == (
        "rf_breathless",
        "yes",
        "no",
    )
    assert change.shown is not None and change.shown.value == "emergency"
    assert change.changed_at is not None and change.answered_at < change.changed_at
    assert _answers(link)["rf_breathless"] == "no"


def test_a_clot_date_typed_before_the_kind_survives_the_redraw(
    phone: Any, live_server: Any, intake: Any
) -> None:
    """§1.4: the date of a clot, typed with the keyboard before "What kind of clot", stays on
    the screen and is stored once the kind is chosen."""
    link, token = intake
    when = timezone.localdate() - timedelta(days=40)
    page = phone.new_page()
    page.goto(f"{live_server.url}/i/{token}/step/clots/")
    page.click("#clot_ever-yes")
    page.wait_for_selector("#clots-0-kind")
    _settled(page)
    _type_date(page, "#clots-0-diagnosed_on", when)
    _settled(page)
    assert page.input_value("#clots-0-diagnosed_on") == when.isoformat()
    page.select_option("#clots-0-kind", "dvt")
    _settled(page)
    assert page.input_value("#clots-0-diagnosed_on") == when.isoformat()
    assert _answers(link)["clots"] == [{"kind": "dvt", "diagnosed_on": when.isoformat()}]


def _surgery_date_page(phone: Any, base: str, token: str) -> Any:
    page = phone.new_page()
    page.goto(f"{base}/i/{token}/step/surgery/")
    page.click("#surgery_recent-yes")
    page.wait_for_selector("#surgery_on")
    _settled(page)
    return page


def test_a_date_typed_with_the_keyboard_is_saved_as_typed(
    phone: Any, live_server: Any, intake: Any
) -> None:
    """§1.4: typing 11/09/2026 in Chromium saves 2026-11-09, not 0002-11-09, and the field
    keeps it."""
    link, token = intake
    when = timezone.localdate() - timedelta(days=21)
    page = _surgery_date_page(phone, live_server.url, token)
    _slow(page, 300)
    _type_date(page, "#surgery_on", when)
    _settled(page)
    assert page.input_value("#surgery_on") == when.isoformat()
    assert _answers(link)["surgery_on"] == when.isoformat()


@pytest.mark.parametrize(
    ("typed", "message"),
    [(date(1800, 1, 1), "This date is too long ago."), (None, "This date is in the future.")],
)
def test_an_impossible_date_shows_an_error_and_keeps_what_was_typed(
    phone: Any, live_server: Any, intake: Any, typed: date | None, message: str
) -> None:
    """§1.4: a future date, or 1800-01-01, is refused with a message; the field is not
    emptied and nothing wrong is stored."""
    link, token = intake
    when = typed or timezone.localdate() + timedelta(days=10)
    page = _surgery_date_page(phone, live_server.url, token)
    _type_date(page, "#surgery_on", when)
    _settled(page)
    page.wait_for_selector("#err-surgery_on")
    assert message in page.inner_text("#err-surgery_on")
    assert page.input_value("#surgery_on") == when.isoformat()
    assert "surgery_on" not in _answers(link)


def test_about_how_long_ago_is_offered_beside_the_exact_date(
    phone: Any, live_server: Any, intake: Any
) -> None:
    link, token = intake
    page = _surgery_date_page(phone, live_server.url, token)
    page.select_option("#surgery_on-ago", "weeks")
    _settled(page)
    assert _answers(link)["surgery_on"] == (timezone.localdate() - timedelta(days=7)).isoformat()
    assert page.input_value("#surgery_on-ago") == "weeks"


def _answer_no(page: Any) -> None:
    from clotsafe.domain.questions import BY_ID

    names = page.eval_on_selector_all(
        "#fields input[type=radio]", "els => [...new Set(els.map(e => e.name))]"
    )
    for name in names:
        if BY_ID[name].type == "tri" and not _checked(page, name):
            page.click(f"#{name}-no")
            settle(page)


def _yes(page: Any, qid: str) -> None:
    page.click(f"#{qid}-yes")
    settle(page)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_axe_on_every_intake_page(
    browser: Any, axe: Any, live_server: Any, clinic_a: Any, make_client: Any, size: str
) -> None:
    """No serious or critical violation on the start page, every step with its follow-ups and
    errors shown, the same-day and emergency screens, the end page with the confirmation (with
    its errors, and confirmed) and a closed link, at phone and desktop size."""
    from clotsafe.web.clients.services import create_link

    clinic_a.units = "us"
    clinic_a.save()
    _, token = create_link(make_client(clinic_a, "Axe"), by=None)
    ctx = new_context(browser, locale="en-US", **(PHONE if size == "phone" else DESKTOP))
    page = ctx.new_page()
    base = live_server.url
    page.goto(f"{base}/i/{token}/")
    check_axe(axe, page)
    nav_click(page, "text=Start")
    follow_ups = {
        "rf_limbs": "rf_limb_swelling",
        "clots": "clot_ever",
        "medicines": "anticoagulant",
        "surgery": "surgery_recent",
        "veins": "varicose",
    }
    for _ in range(30):
        if "/done/" in page.url:
            break
        if "/urgent/" in page.url:
            check_axe(axe, page)
            nav_click(page, "a:has-text('Finish the questions')")
            continue
        key = page.url.rstrip("/").split("/")[-1]
        if key in follow_ups:
            _yes(page, follow_ups[key])
        if key == "you":
            page.fill("#age", "nan")
            page.click("h1")  # leaving the field saves it
            _settled(page)
            page.wait_for_selector("#err-age")
            check_axe(axe, page)
            page.fill("#age", "47")
            page.click("h1")
            settle(page)
            page.click("#sex-female")
            settle(page)
        if key == "surgery":
            page.fill("#surgery_on", "1800-01-01")
            page.click("h1")
            _settled(page)
            page.wait_for_selector("#err-surgery_on")
            check_axe(axe, page)
            page.select_option("#surgery_on-ago", "months")
            page.fill("#surgery_on", "")
            page.click("h1")
            _settled(page)
        if key == "clots":
            page.select_option("#clots-0-kind", "dvt")
            settle(page)
        _answer_no(page)
        _settled(page)
        check_axe(axe, page)
        nav_click(page, "button[name=next]")
    assert "/done/" in page.url
    check_axe(axe, page)
    nav_click(page, "button[name=consent]")
    assert page.locator(".consent .error").count() == 1
    check_axe(axe, page)
    page.check("#consent-confirm")
    page.fill("#consent-name", "Axe Client")
    nav_click(page, "button[name=consent]")
    assert "You confirmed your answers." in page.content()
    check_axe(axe, page)
    page.goto(f"{base}/i/{token}/")
    assert "already sent" in page.content()
    check_axe(axe, page)
    _, other = create_link(make_client(clinic_a, "Axe 2"), by=None)
    page.goto(f"{base}/i/{other}/step/rf_lungs/")
    page.click("#rf_breathless-yes")
    page.wait_for_url(re.compile(r"/emergency/$"))
    check_axe(axe, page)
    ctx.close()
