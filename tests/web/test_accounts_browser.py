"""Issue 9 §1 as a user meets it: Playwright with Debian's Chromium against a live server, and
axe (no serious or critical violation) on every account page, at phone size.

A therapist locks themself out; the lead sees it on the team page and gives a temporary
password; the therapist logs in with it and must choose their own. The lead turns on
two-factor by scanning nothing but typing the key's code, and the next log-in asks for it.
Skipped, with the reason, when /usr/bin/chromium is not installed (as test_browser.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.web.test_browser import PASSWORD, PHONE, check_axe, login, nav_click, new_context

pytestmark = pytest.mark.django_db(transaction=True)
NEW = "plum-orchard-lantern"


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page in a phone-sized browser, closed after the test."""
    ctx = new_context(browser, **PHONE)
    yield ctx.new_page()
    ctx.close()


def _log_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    nav_click(page, "main button[type=submit]")


def test_locked_out_therapist_gets_back_in_with_a_temporary_password(
    browser: Any, page: Any, axe: Any, live_server: Any, lead_a: Any, therapist_a: Any
) -> None:
    base = live_server.url
    for _ in range(5):
        _log_in(page, base, "therapist_a", "wrong-password")
    _log_in(page, base, "therapist_a", PASSWORD)
    assert "Too many failed log-ins" in page.content()
    check_axe(axe, page)
    nav_click(page, "text=Reset it by e-mail")
    check_axe(axe, page)
    page.fill("#id_email", "nobody@example.org")
    nav_click(page, "main button[type=submit]")
    assert "If an account has this address" in page.content()
    check_axe(axe, page)

    lead = new_context(browser, **PHONE)
    lp = lead.new_page()
    login(lp, base, "lead_a")
    lp.goto(base + reverse("team"))
    assert "locked out" in lp.content()
    check_axe(axe, lp)
    nav_click(lp, "button:has-text('Temporary password for therapist_a')")
    check_axe(axe, lp)
    temporary = re.search(r"<code>([a-z0-9-]{17})</code>", lp.content())[1]  # type: ignore[index]

    _log_in(page, base, "therapist_a", temporary)
    assert "/account/password/" in page.url and "temporary password" in page.content()
    check_axe(axe, page)
    page.fill("#id_old_password", temporary)
    page.fill("#id_new_password1", NEW)
    page.fill("#id_new_password2", NEW)
    nav_click(page, "main button[type=submit]")
    assert page.url.endswith(reverse("account")) and "Your password is changed." in page.content()
    check_axe(axe, page)
    lead.close()


def test_lead_turns_on_two_factor_and_the_next_login_asks_for_the_code(
    page: Any, axe: Any, live_server: Any, lead_a: Any
) -> None:
    base = live_server.url
    login(page, base, "lead_a")
    page.goto(base + reverse("account"))
    check_axe(axe, page)
    nav_click(page, "text=Turn on two-factor")
    assert page.locator(".qr-code svg").count() == 1
    check_axe(axe, page)
    page.fill("#id_code", _code(lead_a))
    nav_click(page, "button:has-text('Turn on two-factor')")
    assert "Two-factor is on" in page.content()
    nav_click(page, "button:has-text('Log out')")
    _log_in(page, base, "lead_a", PASSWORD)
    assert "/account/two-factor/check/" in page.url
    check_axe(axe, page)
    page.goto(base + reverse("team"))  # no way around the code
    assert "/account/two-factor/check/" in page.url
    page.fill("#id_code", _code(lead_a))
    nav_click(page, "button:has-text('Continue')")
    assert page.url.endswith(reverse("team"))


def _code(user: Any) -> str:
    """What the authenticator app shows now (each code counts once: the next one is new)."""
    device = TOTPDevice.objects.get(user=user)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def test_lead_sets_a_members_reset_email_on_the_team_page(
    page: Any, axe: Any, live_server: Any, lead_a: Any, therapist_a: Any
) -> None:
    """On a phone: the member's row has the field and its button; saving says so."""
    login(page, live_server.url, "lead_a")
    page.goto(live_server.url + reverse("team"))
    page.get_by_label("therapist_a: e-mail for password resets").fill("ta@example.org")
    nav_click(page, "button:has-text('Save e-mail for therapist_a')")
    assert "Saved the e-mail of therapist_a." in page.content()
    check_axe(axe, page)
    therapist_a.refresh_from_db()
    assert therapist_a.email == "ta@example.org"
