"""Issue 9 §1: accounts. Passwords are checked against the account they are for, usernames keep
to a safe set, a locked-out therapist has ways back in (reset by e-mail, the lead's unlock or
temporary password), and a lead may turn on two-factor, which no URL lets anyone skip.
Password reset mails go through a real SMTP server (aiosmtpd on localhost)."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clotsafe.web.audit.models import AuditEvent
from tests.web.conftest import Inbox, mail_body

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
RESET_URL = re.compile(r"http://testserver(/password-reset/[^/\s]+/[^/\s]+/)")


def _login(client: Any, username: str, password: str = PASSWORD) -> Any:
    return client.post("/login/", {"username": username, "password": password})


def _add(lead_web: Any, username: str, password: str = "a-long-enough-pass-42", **kw: str) -> Any:
    data = {"username": username, "full_name": "", "password": password, "role": "therapist"}
    return lead_web.post(reverse("team"), {**data, **kw})


# --- passwords and usernames ------------------------------------------------------------------


def test_a_password_like_the_new_username_is_refused(lead_web: Any) -> None:
    """Django's similarity check needs the user: ``simuser_zz1`` for ``simuser_zz`` is refused."""
    response = _add(lead_web, "simuser_zz", "simuser_zz1")
    assert response.status_code == 200
    assert "too similar to the username" in response.content.decode()
    assert not User.objects.filter(username="simuser_zz").exists()


def test_a_password_like_the_new_email_is_refused(lead_web: Any) -> None:
    response = _add(lead_web, "robin", "robin.hood@example.org", email="robin.hood@example.org")
    assert response.status_code == 200 and not User.objects.filter(username="robin").exists()


@pytest.mark.parametrize(
    "name", ["a b", "rob\x00in", "<script>", "ал", "rо" + "bin", "x", "-lead", "a" * 31, "ro@bin"]
)
def test_usernames_keep_to_a_safe_set(lead_web: Any, name: str) -> None:
    """Spaces, NUL, markup, other alphabets (a Cyrillic о looks like o), too short or long."""
    before = User.objects.count()
    response = _add(lead_web, name)
    assert response.status_code == 200
    assert User.objects.count() == before
    assert "letters (a-z), digits" in response.content.decode()


def test_a_safe_username_with_an_email_is_added(lead_web: Any, clinic_a: Any) -> None:
    response = _add(lead_web, "jo.smith-2", email="jo@example.org")
    assert response.status_code == 302
    assert clinic_a.members.get(user__username="jo.smith-2").user.email == "jo@example.org"


# --- change password ------------------------------------------------------------------------------


def test_change_password_checks_it_against_the_user_and_is_audited(
    client: Any, therapist_a: Any
) -> None:
    client.force_login(therapist_a)
    url = reverse("password_change")
    weak = client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password1": "therapist_a1",
            "new_password2": "therapist_a1",
        },
    )
    assert weak.status_code == 200 and "too similar" in weak.content.decode()
    new = "plum-orchard-lantern"
    ok = client.post(url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert ok.status_code == 302 and ok["Location"] == reverse("account")
    assert "_auth_user_id" in client.session  # still logged in here
    therapist_a.refresh_from_db()
    assert therapist_a.check_password(new)
    assert AuditEvent.objects.filter(actor="therapist_a", detail="password changed").exists()


def test_the_account_page_changes_the_email_only_with_the_password(
    web: Any, therapist_a: Any
) -> None:
    wrong = web.post(reverse("account"), {"email": "new@example.org", "password": "nope"})
    assert "not your current password" in wrong.content.decode()
    therapist_a.refresh_from_db()
    assert therapist_a.email == ""
    web.post(reverse("account"), {"email": "new@example.org", "password": PASSWORD})
    therapist_a.refresh_from_db()
    assert therapist_a.email == "new@example.org"


# --- password reset by e-mail ------------------------------------------------------------


def test_reset_by_email_through_smtp(client: Any, therapist_a: Any, smtp: Inbox) -> None:
    """The link in the mail sets a new password once; the lockout is lifted; all audited."""
    therapist_a.email = "ta@example.org"
    therapist_a.save()
    for _ in range(5):
        _login(client, "therapist_a", "wrong")
    response = client.post(reverse("password_reset"), {"email": "TA@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(smtp.wait()) == 1 and smtp.messages[0]["X-Rcpt"] == "ta@example.org"
    body = mail_body(smtp.messages[0])
    assert "works once, for 60 minutes" in body
    link = RESET_URL.search(body)[1]  # type: ignore[index]
    form = client.get(link, follow=True)
    assert "Set a new password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    weak = client.post(set_url, {"new_password1": "therapist_a1", "new_password2": "therapist_a1"})
    assert "too similar" in weak.content.decode()
    new = "plum-orchard-lantern"
    done = client.post(set_url, {"new_password1": new, "new_password2": new})
    assert done["Location"] == reverse("password_reset_complete")
    assert _login(client, "therapist_a", new).status_code == 302  # no longer locked out
    client.logout()
    again = client.get(link, follow=True).content.decode()
    assert "This link does not work" in again
    details = set(
        AuditEvent.objects.filter(actor__in=["therapist_a", "anonymous"]).values_list(
            "detail", flat=True
        )
    )
    assert {"password reset e-mail sent", "password reset by e-mail"} <= details


def test_reset_does_not_reveal_whether_an_account_exists(
    client: Any, therapist_a: Any, smtp: Inbox
) -> None:
    """The same redirect and the same page for a known and an unknown address."""
    therapist_a.email = "ta@example.org"
    therapist_a.save()
    known = client.post(reverse("password_reset"), {"email": "ta@example.org"})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    page = client.get(known["Location"]).content.decode()
    assert "If an account has this address" in page
    assert AuditEvent.objects.filter(detail="password reset e-mail sent").count() == 1
    assert [m["X-Rcpt"] for m in smtp.wait()] == ["ta@example.org"]


def test_reset_answers_before_the_mail_server_does(
    client: Any, therapist_a: Any, smtp: Inbox
) -> None:
    """Talking to the mail server takes measurable time, and only known addresses get a mail:
    the answer must not wait for it, or its timing would tell which addresses have accounts.
    Here the server holds the mail until released; the page has already answered by then."""
    therapist_a.email = "ta@example.org"
    therapist_a.save()
    smtp.gate.clear()
    threading.Timer(5, smtp.gate.set).start()  # a server that answers late
    response = client.post(reverse("password_reset"), {"email": "ta@example.org"})
    answered_before_the_server = not smtp.gate.is_set() and smtp.messages == []
    smtp.gate.set()
    assert response.status_code == 302
    assert answered_before_the_server
    assert len(smtp.wait()) == 1


def test_a_deactivated_account_gets_no_reset_mail(
    client: Any, therapist_a: Any, smtp: Inbox
) -> None:
    therapist_a.email, therapist_a.is_active = "ta@example.org", False
    therapist_a.save()
    client.post(reverse("password_reset"), {"email": "ta@example.org"})
    assert not AuditEvent.objects.filter(detail="password reset e-mail sent").exists()
    assert smtp.messages == []


def test_reset_with_a_malformed_address_names_the_field(client: Any) -> None:
    response = client.post(reverse("password_reset"), {"email": "not an address\x00"})
    assert response.status_code == 200
    assert "email" in response.content.decode().lower()


# --- the clinic lead: unlock, temporary password ------------------------------------------


def test_locked_out_page_offers_the_ways_back(client: Any, therapist_a: Any) -> None:
    for _ in range(5):
        _login(client, "therapist_a", "wrong")
    page = _login(client, "therapist_a").content.decode()
    assert "Too many failed log-ins" in page
    assert reverse("password_reset") in page and "unlock" in page


def test_lead_sees_a_locked_out_therapist_and_unlocks_them(
    client: Any, lead_a: Any, therapist_a: Any
) -> None:
    for _ in range(5):
        _login(client, "therapist_a", "wrong")
    client.force_login(lead_a)
    team = client.get(reverse("team")).content.decode()
    assert "locked out" in team and "Unlock therapist_a" in team
    membership = therapist_a.membership
    assert client.post(reverse("team_unlock", args=[membership.pk])).status_code == 302
    assert "locked out" not in client.get(reverse("team")).content.decode()
    client.logout()
    assert _login(client, "therapist_a").status_code == 302
    assert AuditEvent.objects.filter(actor="lead_a", detail="unlocked therapist_a").exists()


def test_temporary_password_must_be_changed_at_next_login(
    client: Any, lead_a: Any, therapist_a: Any
) -> None:
    client.force_login(lead_a)
    page = client.post(reverse("team_password", args=[therapist_a.membership.pk]))
    assert page.status_code == 200
    temporary = re.search(r"<code>([a-z0-9-]{17})</code>", page.content.decode())[1]  # type: ignore[index]
    client.logout()
    assert _login(client, "therapist_a", PASSWORD).status_code == 200  # the old one is gone
    assert _login(client, "therapist_a", temporary).status_code == 302
    for url in ("/", reverse("client_new"), reverse("account")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("password_change"))
    change = client.get(reverse("password_change")).content.decode()
    assert "temporary password" in change
    new = "plum-orchard-lantern"
    client.post(
        reverse("password_change"),
        {"old_password": temporary, "new_password1": new, "new_password2": new},
    )
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(
        actor="lead_a", detail="set a temporary password for therapist_a"
    ).exists()


def test_temporary_password_is_for_others_and_for_leads_only(
    client: Any, lead_a: Any, therapist_a: Any, make_member: Any, clinic_a: Any
) -> None:
    client.force_login(lead_a)
    assert client.post(reverse("team_password", args=[lead_a.membership.pk])).status_code == 403
    client.force_login(therapist_a)
    other = make_member(clinic_a, "colleague")
    for name in ("team_password", "team_unlock"):
        assert client.post(reverse(name, args=[other.membership.pk])).status_code == 403
    assert client.get(reverse("two_factor")).status_code == 403


def test_account_actions_need_post(lead_web: Any, therapist_a: Any) -> None:
    for name in ("team_password", "team_unlock"):
        assert lead_web.get(reverse(name, args=[therapist_a.membership.pk])).status_code == 405


# --- two-factor -----------------------------------------------------------------------------------


def _code(device: TOTPDevice) -> str:
    """The code the app shows now. Codes are single use: let the next one count as new."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def _turn_on(client: Any, lead: Any) -> TOTPDevice:
    page = client.get(reverse("two_factor")).content.decode()
    assert "<svg" in page and "Type this key instead" in page
    device = TOTPDevice.objects.get(user=lead, confirmed=False)
    wrong = client.post(reverse("two_factor"), {"code": "000000"})
    assert "not right" in wrong.content.decode() or "Too many" in wrong.content.decode()
    response = client.post(reverse("two_factor"), {"code": _code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_lead_turns_on_two_factor_and_login_then_needs_the_code(
    client: Any, lead_a: Any, clinic_a: Any, make_client: Any
) -> None:
    client.force_login(lead_a)
    device = _turn_on(client, lead_a)
    assert client.get("/").status_code == 200  # this session checked a code already
    client.logout()
    response = _login(client, "lead_a")
    assert response.status_code == 302
    c = make_client(clinic_a, "Casey")
    for url in (
        "/",
        reverse("team"),
        reverse("client_detail", args=[c.pk]),
        reverse("account"),
        reverse("two_factor"),
        reverse("audit_csv"),
        "/api/v1/clients",
        "/admin/",
    ):
        skipped = client.get(url)
        assert skipped.status_code == 302, url
        assert skipped["Location"].startswith(reverse("two_factor_verify")), url
    post = client.post(reverse("team_password", args=[lead_a.membership.pk]))
    assert post["Location"].startswith(reverse("two_factor_verify"))
    wrong = client.post(reverse("two_factor_verify"), {"code": "123456", "next": "/"})
    assert wrong.status_code == 200 and "not right" in wrong.content.decode()
    bad = client.post(reverse("two_factor_verify"), {"code": "12ab56", "next": "/"})
    assert "Enter the 6 digits" in bad.content.decode()
    right = client.post(reverse("two_factor_verify"), {"code": _code(device), "next": "/"})
    assert right.status_code == 302 and right["Location"] == "/"
    assert client.get(reverse("team")).status_code == 200
    assert AuditEvent.objects.filter(actor="lead_a", detail="two-factor code accepted").exists()


def test_the_code_step_keeps_the_page_asked_for_but_never_another_site(
    client: Any, lead_a: Any
) -> None:
    client.force_login(lead_a)
    device = _turn_on(client, lead_a)
    client.logout()
    _login(client, "lead_a")
    asked = client.get(reverse("team"))
    assert asked["Location"] == reverse("two_factor_verify") + "?next=%2Fclinic%2Fteam%2F"
    evil = client.post(
        reverse("two_factor_verify"), {"code": _code(device), "next": "https://evil.example/"}
    )
    assert evil["Location"] == reverse("client_list")


def test_turning_two_factor_off_needs_a_code(client: Any, lead_a: Any) -> None:
    client.force_login(lead_a)
    device = _turn_on(client, lead_a)
    refused = client.post(reverse("two_factor_off"), {"code": "000000"})
    assert refused.status_code == 400
    assert TOTPDevice.objects.filter(user=lead_a, confirmed=True).exists()
    client.post(reverse("two_factor_off"), {"code": _code(device)})
    assert not TOTPDevice.objects.filter(user=lead_a).exists()
    client.logout()
    _login(client, "lead_a")
    assert client.get(reverse("team")).status_code == 200


def test_a_password_reset_does_not_skip_two_factor(client: Any, lead_a: Any, smtp: Inbox) -> None:
    client.force_login(lead_a)
    _turn_on(client, lead_a)
    client.logout()
    lead_a.email = "lead@example.org"
    lead_a.save()
    client.post(reverse("password_reset"), {"email": "lead@example.org"})
    link = RESET_URL.search(mail_body(smtp.wait()[0]))[1]  # type: ignore[index]
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    new = "plum-orchard-lantern"
    client.post(set_url, {"new_password1": new, "new_password2": new})
    _login(client, "lead_a", new)
    assert client.get("/")["Location"].startswith(reverse("two_factor_verify"))


def test_accounts_migrations_are_committed() -> None:
    from django.core.management import call_command

    call_command("makemigrations", "accounts", "--check", "--dry-run", verbosity=0)
