"""Password reset mails are limited per account and per client address per hour, so nobody can
flood a member's inbox (or many inboxes from one address); the page answers the same whether a
mail went out, was held back or no account has the address. Real SMTP server (aiosmtpd)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from clotsafe.web.accounts import checks, resetlimit
from clotsafe.web.audit.models import AuditEvent
from tests.web.conftest import Inbox

pytestmark = pytest.mark.django_db
DOCS = Path(__file__).resolve().parents[2] / "docs" / "accounts.md"


def _ask(browser: Browser, email: str, address: str = "203.0.113.7") -> tuple[int, str, str]:
    """Ask for a reset link from ``address``; the answer as the person sees it."""
    response = browser.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)
    page = browser.get(response["Location"]).content.decode()
    return response.status_code, response["Location"], page


def _settle(inbox: Inbox, expected: int) -> list[Any]:
    """The mails go out in the background: wait for the expected ones, then a little longer
    so that an extra one would have arrived too."""
    inbox.wait(expected)
    time.sleep(0.5)
    return inbox.messages


def _member(make_member: Any, clinic: Any, name: str) -> Any:
    user = make_member(clinic, name)
    user.email = f"{name}@example.org"
    user.save()
    return user


def test_one_account_gets_at_most_the_limit_of_reset_mails_per_hour(
    client: Browser, therapist_a: Any, smtp: Inbox, settings: Any
) -> None:
    """Five requests for one address: three mails (the limit), the same answer all five times;
    the two held back are in the audit log."""
    settings.CLOTSAFE_RESET_MAILS_PER_ACCOUNT = 3
    therapist_a.email = "ta@example.org"
    therapist_a.save()
    answers = {_ask(client, "ta@example.org", f"198.51.100.{i}") for i in range(5)}
    assert len(answers) == 1
    assert len(_settle(smtp, 3)) == 3
    details = list(
        AuditEvent.objects.filter(target_type="account").values_list("detail", flat=True)
    )
    assert details.count(resetlimit.SENT) == 3 and details.count(resetlimit.HELD_BACK) == 2


def test_one_address_sends_at_most_the_limit_of_reset_mails_per_hour(
    client: Browser, clinic_a: Any, make_member: Any, smtp: Inbox, settings: Any
) -> None:
    """One address asking for three accounts gets two mails out (the limit); another address
    still gets its mail for the third account."""
    settings.CLOTSAFE_RESET_MAILS_PER_ADDRESS = 2
    members = [_member(make_member, clinic_a, f"member{i}") for i in range(3)]
    answers = {_ask(client, m.email) for m in members}
    assert len(answers) == 1
    assert len(_settle(smtp, 2)) == 2
    _ask(client, members[2].email, address="192.0.2.50")
    assert [m["X-Rcpt"] for m in _settle(smtp, 3)][2] == "member2@example.org"


def test_the_answer_is_the_same_for_a_mail_sent_held_back_or_no_account(
    client: Browser, therapist_a: Any, smtp: Inbox, settings: Any
) -> None:
    settings.CLOTSAFE_RESET_MAILS_PER_ACCOUNT = 1
    therapist_a.email = "ta@example.org"
    therapist_a.save()
    sent = _ask(client, "ta@example.org")
    held_back = _ask(client, "ta@example.org")
    unknown = _ask(client, "nobody@example.org")
    assert sent == held_back == unknown
    assert len(_settle(smtp, 1)) == 1


def test_the_limit_counts_the_last_hour_only(
    client: Browser, therapist_a: Any, smtp: Inbox, settings: Any, monkeypatch: Any
) -> None:
    settings.CLOTSAFE_RESET_MAILS_PER_ACCOUNT = 1
    therapist_a.email = "ta@example.org"
    therapist_a.save()
    _ask(client, "ta@example.org")
    _ask(client, "ta@example.org")
    later = timezone.now() + timedelta(minutes=61)
    monkeypatch.setattr(resetlimit, "now", lambda: later)
    _ask(client, "ta@example.org")
    assert len(_settle(smtp, 2)) == 2


def test_the_defaults_and_setting_names_are_documented() -> None:
    text = DOCS.read_text()
    for name, value in resetlimit.defaults().items():
        assert f"`{name}`" in text and f"default {value}" in text, name


def test_a_limit_that_is_not_a_number_is_named_and_the_default_used(settings: Any) -> None:
    settings.CLOTSAFE_RESET_MAILS_PER_ACCOUNT = "lots"
    settings.CLOTSAFE_RESET_MAILS_PER_ADDRESS = "0"  # 0 is a limit: no reset mails at all
    problems = checks.reset_limits_check()
    assert [p.id for p in problems] == ["clotsafe.accounts.W003"]
    assert "CLOTSAFE_RESET_MAILS_PER_ACCOUNT" in problems[0].msg
    assert resetlimit.limit("CLOTSAFE_RESET_MAILS_PER_ACCOUNT") == 3
    assert resetlimit.limit("CLOTSAFE_RESET_MAILS_PER_ADDRESS") == 0
