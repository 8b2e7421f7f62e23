"""Issue 8 §2: intake links go out by e-mail through Django's mail framework. These tests send
through a real SMTP server started here (aiosmtpd, on localhost); without a mail server set, the
embedded default writes each mail to a folder under the data directory and the page says where.
A reload never makes a second link (POST/redirect/GET); a reminder for an unfinished intake
carries a fresh link to the same saved answers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from clotsafe.web.clients.models import Client, IntakeLink
from clotsafe.web.clients.services import find_link
from tests.web.conftest import Inbox, mail_body

pytestmark = pytest.mark.django_db
URL = re.compile(r"http://testserver/i/([A-Za-z0-9_-]{43,})/")


def test_link_is_emailed_through_smtp_and_opens_the_form(
    web: Any, clinic_a: Any, smtp: Inbox
) -> None:
    client = Client.objects.create(clinic=clinic_a, name="Robin", email="robin@example.org")
    response = web.post(reverse("link_create", args=[client.pk]), {"email": "robin@example.org"})
    assert response.status_code == 302  # POST/redirect/GET
    assert len(smtp.messages) == 1
    msg = smtp.messages[0]
    assert msg["X-Rcpt"] == "robin@example.org"
    assert "Clinic A" in msg["Subject"]
    token = URL.search(mail_body(msg))[1]  # type: ignore[index]
    assert find_link(token) == IntakeLink.objects.get(client=client)
    page = web.get(response["Location"]).content.decode()
    assert "e-mailed to robin@example.org" in page
    assert web.get(f"/i/{token}/").status_code == 200


def test_reload_after_creating_a_link_makes_no_second_link(web: Any, clinic_a: Any) -> None:
    client = Client.objects.create(clinic=clinic_a, name="Robin")
    response = web.post(reverse("link_create", args=[client.pk]))
    first = web.get(response["Location"]).content.decode()
    again = web.get(response["Location"]).content.decode()  # a reload is a GET
    assert IntakeLink.objects.filter(client=client).count() == 1
    url = re.search(r'id="intake-link" class="wide" readonly value="([^"]+)"', first)[1]  # type: ignore[index]
    assert url in again  # still shown, and the same link
    assert "<svg" in first and "QR code" in first


def test_reminder_sends_a_fresh_link_to_the_same_answers(
    web: Any, clinic_a: Any, smtp: Inbox
) -> None:
    client = Client.objects.create(clinic=clinic_a, name="Robin", email="robin@example.org")
    web.post(reverse("link_create", args=[client.pk]), {"email": "robin@example.org"})
    link = IntakeLink.objects.get(client=client)
    link.answers = {"rf_breathless": "no"}
    link.save()
    old = URL.search(mail_body(smtp.messages[0]))[1]  # type: ignore[index]
    web.post(reverse("link_remind", args=[client.pk, link.pk]), {"email": "robin@example.org"})
    assert len(smtp.messages) == 2
    reminder = smtp.messages[1]
    assert reminder["Subject"].startswith("Reminder")
    new = URL.search(mail_body(reminder))[1]  # type: ignore[index]
    assert new != old and find_link(old) is None
    found = find_link(new)
    assert found is not None and found.pk == link.pk and found.answers == {"rf_breathless": "no"}
    link.refresh_from_db()
    assert link.reminded_at is not None


def test_without_a_mail_server_mails_go_to_a_folder_and_the_page_says_where(
    web: Any, clinic_a: Any, settings: Any, tmp_path: Path
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    client = Client.objects.create(clinic=clinic_a, name="Robin")
    response = web.post(reverse("link_create", args=[client.pk]), {"email": "r@example.org"},
                        follow=True)  # fmt: skip
    page = response.content.decode()
    assert f"written to the folder {tmp_path / 'mail'}" in page
    files = list((tmp_path / "mail").iterdir())
    assert len(files) == 1 and "r@example.org" in files[0].read_text()


def test_a_bad_address_makes_no_link(web: Any, clinic_a: Any) -> None:
    client = Client.objects.create(clinic=clinic_a, name="Robin")
    response = web.post(reverse("link_create", args=[client.pk]), {"email": "not an address"},
                        follow=True)  # fmt: skip
    assert "enter a valid e-mail address" in response.content.decode()
    assert not IntakeLink.objects.filter(client=client).exists()


def test_default_settings_write_mail_under_the_data_dir() -> None:
    """The embedded default (no CLOTSAFE_SMTP_HOST): a folder under the data directory."""
    from django.conf import settings

    if settings.EMAIL_HOST:
        pytest.skip("CLOTSAFE_SMTP_HOST is set in this environment")
    from clotsafe.web import settings as web_settings

    assert web_settings.EMAIL_BACKEND.endswith("filebased.EmailBackend")
    assert web_settings.EMAIL_FILE_PATH == web_settings.DATA_DIR / "mail"
