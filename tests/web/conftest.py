"""Fixtures for the web app tests (pytest-django).

SQLite by default; set CLOTSAFE_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to
run the same suite against PostgreSQL (Django creates and drops a test_<name> database).
Settings come from clotsafe.web.settings with a throw-away data dir, set here so the rest of the
project's tests are unaffected.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from clotsafe.domain.questions import ALWAYS_REQUIRED, PREGNANCY_REQUIRED, RED_FLAG_TRI

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clotsafe.web.settings")
os.environ.setdefault("CLOTSAFE_DATA_DIR", tempfile.mkdtemp(prefix="clotsafe-test-"))
os.environ.setdefault("CLOTSAFE_SECRET_KEY", "test-only-not-a-secret")

try:  # the web stack comes with the `web` and `test-web` extras
    import django
    import pypdf  # noqa: F401
    import whitenoise  # noqa: F401
except ImportError as exc:  # pragma: no cover - only without the extras
    collect_ignore_glob = ["test_*.py"]
    MISSING = f"web tests not collected: pip install -e '.[web,test-web]' ({exc})"
else:
    MISSING = ""
    django.setup()  # test modules import models at collection time


def pytest_report_header() -> str | None:
    return MISSING or None


NO_FLAGS = dict.fromkeys(RED_FLAG_TRI, "no")
COMPLETE_NO = {
    **dict.fromkeys((*ALWAYS_REQUIRED, *PREGNANCY_REQUIRED), "no"),
    "age": 40,
    "sex": "female",
}


def days_ago(n: int) -> str:
    from django.utils import timezone

    return (timezone.localdate() - timedelta(days=n)).isoformat()


def dvt_answers(days: int = 30) -> dict[str, Any]:
    """A DVT in the left calf diagnosed ``days`` ago, on treatment: CLOT-ACTIVE within 90 days."""
    return {
        **COMPLETE_NO,
        "clot_ever": "yes",
        "clots": [
            {
                "kind": "dvt",
                "site": "left_calf",
                "diagnosed_on": days_ago(days),
                "treatment": "ongoing",
            }
        ],
    }


@pytest.fixture(autouse=True)
def _cheap_argon2(settings: Any) -> None:
    """Still Argon2 (tested), with tiny cost parameters so the suite stays fast."""
    settings.PASSWORD_HASHERS = ["tests.web.hashers.FastArgon2PasswordHasher"]


@pytest.fixture
def make_clinic(db: None) -> Callable[..., Any]:
    from clotsafe.web.clinics.models import Clinic

    def make(name: str = "Clinic A", **kw: Any) -> Clinic:
        return Clinic.objects.create(name=name, **kw)

    return make


@pytest.fixture
def make_member(db: None) -> Callable[..., Any]:
    from django.contrib.auth.models import User

    from clotsafe.web.clinics.models import Membership

    def make(
        clinic: Any, username: str, role: str = "therapist", password: str = "correct-horse-battery"
    ) -> User:
        user = User.objects.create_user(username, password=password)
        Membership.objects.create(user=user, clinic=clinic, role=role)
        return user

    return make


@pytest.fixture
def clinic_a(make_clinic: Callable[..., Any]) -> Any:
    return make_clinic("Clinic A", emergency_number="999", address="1 High Street")


@pytest.fixture
def clinic_b(make_clinic: Callable[..., Any]) -> Any:
    return make_clinic("Clinic B")


@pytest.fixture
def therapist_a(clinic_a: Any, make_member: Callable[..., Any]) -> Any:
    return make_member(clinic_a, "therapist_a")


@pytest.fixture
def lead_a(clinic_a: Any, make_member: Callable[..., Any]) -> Any:
    return make_member(clinic_a, "lead_a", role="lead")


@pytest.fixture
def therapist_b(clinic_b: Any, make_member: Callable[..., Any]) -> Any:
    return make_member(clinic_b, "therapist_b")


@pytest.fixture
def web(client: Any, therapist_a: Any) -> Any:
    """The Django test client, logged in as a therapist of clinic A."""
    client.force_login(therapist_a)
    return client


@pytest.fixture
def lead_web(client: Any, lead_a: Any) -> Any:
    client.force_login(lead_a)
    return client


@pytest.fixture
def make_client(db: None) -> Callable[..., Any]:
    from clotsafe.web.clients.models import Client
    from clotsafe.web.screenings import services
    from clotsafe.web.screenings.models import Screening

    def make(
        clinic: Any,
        name: str = "Client",
        answers: dict[str, Any] | None = None,
        on: date | None = None,
    ) -> Client:
        client = Client.objects.create(clinic=clinic, name=name)
        if answers is not None:
            services.record(client, answers, kind=Screening.Kind.INTAKE, by=None, on=on)
            client.refresh_from_db()
        return client

    return make


class Inbox:
    """Collects every message the SMTP server receives; while ``gate`` is clear the server
    holds each one (a slow server)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.gate = threading.Event()
        self.gate.set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        while not self.gate.is_set():
            await asyncio.sleep(0.01)
        msg = message_from_bytes(envelope.content)
        msg["X-Rcpt"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(msg)
        return "250 OK"

    def wait(self, count: int = 1) -> list[Message]:
        """Some mails go out in the background: wait (up to 10 s) until ``count`` arrived."""
        deadline = time.monotonic() + 10
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.messages


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) on a free local port; Django's SMTP backend pointed at it."""
    controller_module = pytest.importorskip("aiosmtpd.controller", reason="test-web extra")
    inbox = Inbox()
    with socket.socket() as s:  # a free port (aiosmtpd checks its port by connecting to it)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = controller_module.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()


def mail_body(msg: Message) -> str:
    """The decoded text of a plain (single-part) mail."""
    payload = msg.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


#: the browser tests' Chromium (test_browser*.py, test_accounts_browser.py)
CHROMIUM = Path(os.environ.get("CLOTSAFE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Playwright and one Chromium for the whole session (a second sync Playwright in the
    same thread fails with "Sync API inside the asyncio loop")."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api", reason="install the test-web extra")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe() -> Any:
    """axe-core, run in the page by the browser tests' ``check_axe``."""
    module = pytest.importorskip(
        "axe_playwright_python.sync_playwright", reason="install the test-web extra"
    )
    return module.Axe()
