"""Hardening of the web app (issue 9 §3): what a hostile or unlucky request must never do.

Each test failed before its fix. The intake link is the client's only key to their health
answers: it is sent once, never logged, its pages close when it expires, and opening and
sending it are audited.
"""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.clients.models import IntakeLink
from clotsafe.web.clients.services import create_link
from clotsafe.web.intake import steps
from clotsafe.web.screenings.models import Screening
from tests.web.conftest import COMPLETE_NO

LAST = steps.STEPS[-1]
ROOT = Path(__file__).resolve().parents[2]
SENDERS = 10


def _ready_to_send(clinic: Any, make_client: Any) -> tuple[IntakeLink, str]:
    """A link with every answer given: Next on the last step sends it."""
    link, token = create_link(make_client(clinic, "Pat"), by=None)
    IntakeLink.objects.filter(pk=link.pk).update(answers=dict(COMPLETE_NO))
    return link, token


def _last_step_post(link: IntakeLink) -> dict[str, str]:
    qids = steps.enabled(LAST, link.answers)
    return {**dict.fromkeys(qids, "no"), "shown": ",".join(qids)}


def _post_at_once(url: str, data: dict[str, str], n: int) -> list[Any]:
    """n clients press Send at the same moment, each thread with its own database connection."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def send(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = Client().post(url, data).status_code
        except Exception as exc:  # reported by the assertion of the caller
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def _send_ten_times_at_once(clinic: Any, make_client: Any) -> dict[str, Any]:
    """The outcome of SENDERS simultaneous Sends of one complete intake link."""
    link, token = _ready_to_send(clinic, make_client)
    link.refresh_from_db()
    url = reverse("intake_step", args=[token, LAST.key])
    results = _post_at_once(url, _last_step_post(link), SENDERS)
    submits = AuditEvent.objects.filter(action="submit", target_id=str(link.pk),
                                        detail__startswith="intake submitted")  # fmt: skip
    link.refresh_from_db()
    return {"statuses": [r if isinstance(r, int) else repr(r) for r in results],
            "screenings": Screening.objects.filter(client=link.client).count(),
            "submits": submits.count(), "sent": link.submitted_at is not None}  # fmt: skip


def _assert_sent_once(outcome: dict[str, Any]) -> None:
    assert all(s in (200, 302) for s in outcome["statuses"]), outcome
    assert (outcome["screenings"], outcome["submits"], outcome["sent"]) == (1, 1, True), outcome


#: the same test on a SQLite file (as deployed: WAL, immediate transactions). The test database
#: of pytest-django is SQLite in memory with a shared cache, whose table locks fail at once
#: instead of waiting, so the SQLite run gets a file database of its own in a subprocess.
SQLITE_FILE_RUN = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from clotsafe.web.clients.models import Client
from clotsafe.web.clinics.models import Clinic
from tests.web import test_hardening as t
clinic = Clinic.objects.create(name="A")
make = lambda clinic, name: Client.objects.create(clinic=clinic, name=name)
print(json.dumps(t._send_ten_times_at_once(clinic, make)))
"""


def test_a_link_sent_ten_times_at_once_makes_exactly_one_screening_sqlite(
    tmp_path: Path,
) -> None:
    """A double tap or a retry on a slow phone must not give the therapist several screenings
    of one intake (and several "submitted" entries): the link is locked and re-read."""
    env = {**os.environ, "CLOTSAFE_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE":
           "clotsafe.web.settings", "CLOTSAFE_SECRET_KEY": "test-only"}  # fmt: skip
    env["CLOTSAFE_ALLOWED_HOSTS"] = "testserver"
    env.pop("CLOTSAFE_DATABASE_URL", None)
    run = subprocess.run([sys.executable, "-c", SQLITE_FILE_RUN], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    _assert_sent_once(json.loads(run.stdout.strip().splitlines()[-1]))


@pytest.mark.django_db(transaction=True)
def test_a_link_sent_ten_times_at_once_makes_exactly_one_screening(
    clinic_a: Any, make_client: Any
) -> None:
    """The same on the test database (PostgreSQL: ``select_for_update`` row locks)."""
    if connections["default"].vendor == "sqlite":
        pytest.skip("SQLite: the in-memory test database cannot wait for a lock (see above)")
    _assert_sent_once(_send_ten_times_at_once(clinic_a, make_client))


@pytest.mark.django_db
def test_a_second_send_after_the_first_goes_to_the_end_page(
    client: Any, clinic_a: Any, make_client: Any
) -> None:
    """The second of two sends (the page was still open) changes nothing and shows the end."""
    link, token = _ready_to_send(clinic_a, make_client)
    link.refresh_from_db()
    url = reverse("intake_step", args=[token, LAST.key])
    data = _last_step_post(link)
    client.post(url, data)
    answers = IntakeLink.objects.get(pk=link.pk).answers
    again = client.post(url, {**data, "health_more": "yes"})
    assert again.status_code in (200, 302)
    assert IntakeLink.objects.get(pk=link.pk).answers == answers
    assert Screening.objects.filter(client=link.client).count() == 1


# --- the end page expires with the link -------------------------------------------------------


@pytest.mark.django_db
def test_the_end_page_of_a_sent_link_closes_when_the_link_expires(
    client: Any, clinic_a: Any, make_client: Any
) -> None:
    """Whoever finds the link later (a shared phone, a forwarded e-mail) must not read the
    client's result: the end page and the emergency screen close with the link (410)."""
    link, token = _ready_to_send(clinic_a, make_client)
    link.refresh_from_db()
    client.post(reverse("intake_step", args=[token, LAST.key]), _last_step_post(link))
    done = reverse("intake_done", args=[token])
    assert client.get(done).status_code == 200
    IntakeLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for url in (done, reverse("intake_emergency", args=[token])):
        response = client.get(url)
        assert response.status_code == 410
        assert b"This link has expired" in response.content
    response = client.post(done, {"name": "Pat", "confirm": "on"})
    assert response.status_code == 410 and not hasattr(link, "consent")


# --- no token in a log line -----------------------------------------------------------------


@pytest.fixture
def console_log() -> Iterator[io.StringIO]:
    """What the app's own console handler (settings.LOGGING, with its filter) writes."""
    (handler,) = [h for h in logging.getLogger("django").handlers
                  if isinstance(h, logging.StreamHandler)]  # fmt: skip
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(old)


@pytest.mark.django_db
def test_a_422_on_a_step_logs_no_token(
    client: Any, clinic_a: Any, make_client: Any, console_log: io.StringIO, caplog: Any
) -> None:
    """Django logs 4xx responses with their path; the token is the key to the client's
    answers and must never reach a log (issue 9 §3)."""
    _, token = create_link(make_client(clinic_a, "Pat"), by=None)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.post(reverse("intake_step", args=[token, "you"]),
                               {"age": "1e80", "shown": "age,sex"})  # fmt: skip
    assert response.status_code == 422
    written = console_log.getvalue()
    assert "Unprocessable" in written and "/i/[redacted]/step/you/" in written
    assert token not in written
    assert caplog.records and all(token not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("logger", "msg", "args"),
    [
        ("django.request", "%s: %s", ("Not Found", "/i/SECRETtoken_-123/step/you/")),
        ("django.server", '"%s" %s %s', ("GET /i/SECRETtoken_-123/ HTTP/1.1", "200", "512")),
        ("django.server", '"%s" %s %s', ("GET /i/SECRETtoken_-123/done/?x=1 HTTP/1.1", 200, 9)),
        ("clotsafe", "letter %s", ("/cds-services/letters/SECRETtoken_-123.pdf",)),
        ("clotsafe", "reset at %(url)s", {"url": "/reset/MQ/SECRETtoken_-123/"}),
        ("django.request", "%s: %s", ("Not Found", "/password-reset/MQ/SECRETtoken_-123/")),
        ("clotsafe", "GET /x/?token=SECRETtoken_-123&y=1", ()),
    ],
)
def test_secrets_in_urls_are_redacted_from_every_record(
    logger: str, msg: str, args: Any, console_log: io.StringIO
) -> None:
    """Request lines (runserver's django.server), 4xx/5xx paths (django.request) and any
    message with a link: the secret part is replaced, the rest is kept for the operator."""
    from clotsafe.web.logfilters import RedactSecrets

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    log = logging.getLogger(logger)
    log.addHandler(handler)
    try:
        log.warning(msg, args) if isinstance(args, dict) else log.warning(msg, *args)
    finally:
        log.removeHandler(handler)
    written = stream.getvalue() + console_log.getvalue()
    assert "SECRETtoken" not in written and "[redacted]" in written


def test_django_server_records_are_redacted_before_any_handler() -> None:
    """runserver's request lines go to Django's own "django.server" handler, which
    settings.LOGGING does not configure: the logger itself is filtered."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    log = logging.getLogger("django.server")
    log.addHandler(handler)
    try:
        log.info('"%s" %s %s', "GET /i/SECRETtoken/ HTTP/1.1", 200, 10, extra={"status_code": 200})
    finally:
        log.removeHandler(handler)
    assert "SECRETtoken" not in stream.getvalue()


def test_an_exception_text_is_redacted() -> None:
    from clotsafe.web.logfilters import RedactSecrets

    try:
        raise ValueError("bad link /i/SECRETtoken/")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, "f", 1, "boom", (),
                                                   sys.exc_info())  # fmt: skip
    RedactSecrets().filter(record)
    assert "SECRETtoken" not in logging.Formatter().format(record)


# --- the database files are the owner's only ---------------------------------------------------

#: a new install: migrate and write, then (the connection still open, so the -wal and -shm
#: files exist: SQLite removes them with the last connection) list the files with their modes
MIGRATE_AND_WRITE = """
import json, os, stat
os.umask(0o022)
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
call_command("migrate", verbosity=0)
from clotsafe.web.clinics.models import Clinic
Clinic.objects.create(name="A")
data = settings.DATA_DIR
print(json.dumps({p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in [data, *data.iterdir()]
                  if p == data or p.name.startswith("clotsafe.sqlite3")}))
"""


def test_a_fresh_sqlite_database_and_its_wal_are_mode_0600(tmp_path: Path) -> None:
    """The database holds clients' health answers: a new install makes the data folder 0700
    and the database, -wal and -shm files 0600, whatever the umask."""
    data = tmp_path / "data"
    env = {**os.environ, "CLOTSAFE_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE":
           "clotsafe.web.settings", "CLOTSAFE_SECRET_KEY": "test-only"}  # fmt: skip
    env.pop("CLOTSAFE_DATABASE_URL", None)
    run = subprocess.run([sys.executable, "-c", MIGRATE_AND_WRITE], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    modes = json.loads(run.stdout.strip().splitlines()[-1])
    assert modes == {"data": "0o700", "clotsafe.sqlite3": "0o600",
                     "clotsafe.sqlite3-wal": "0o600", "clotsafe.sqlite3-shm": "0o600"}  # fmt: skip


def test_an_existing_database_left_readable_is_tightened(tmp_path: Path) -> None:
    from clotsafe.web.dbfiles import private_files

    db = tmp_path / "clotsafe.sqlite3"
    for name in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        name.write_bytes(b"")
        name.chmod(0o644)
    private_files(db)
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in tmp_path.iterdir()} == {oct(0o600)}


# --- clinic settings nested too deeply ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [500, 5_000])
@pytest.mark.parametrize("shape", ["array", "table"])
def test_clinic_settings_nested_too_deeply_are_a_field_error(
    lead_web: Any, clinic_a: Any, depth: int, shape: str
) -> None:
    """Deeply nested TOML used to raise RecursionError (a 500); it is a message next to the
    TOML box, and the stored settings stay as they were."""
    before = clinic_a.settings_toml
    if shape == "array":
        toml = "x = " + "[" * depth + "]" * depth
    else:
        toml = "x = " + "{ a = " * depth + "1" + " }" * depth
    response = lead_web.post(reverse("clinic_settings"), {
        "emergency_number": "999", "units": "metric", "settings_toml": toml})  # fmt: skip
    assert response.status_code in (200, 400, 422)
    page = response.content.decode()
    assert 'aria-invalid="true"' in page and "nested too deeply" in page
    clinic_a.refresh_from_db()
    assert clinic_a.settings_toml == before


# --- audit: the client's own actions -------------------------------------------------------------

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) test-agent"


@pytest.mark.django_db
def test_opening_and_sending_the_link_are_audited_with_address_and_browser(
    clinic_a: Any, make_client: Any
) -> None:
    """Who opened the client's form and sent it, from where (issue 9): the first view and the
    submission are in the audit log with the client's address and user agent."""
    link, token = _ready_to_send(clinic_a, make_client)
    link.refresh_from_db()
    phone = Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=BROWSER)
    phone.get(reverse("intake_start", args=[token]))
    phone.get(reverse("intake_start", args=[token]))
    phone.post(reverse("intake_step", args=[token, LAST.key]), _last_step_post(link))
    events = AuditEvent.objects.filter(target_type="intakelink", target_id=str(link.pk))
    (opened,) = events.filter(action=AuditEvent.Action.VIEW)
    (sent,) = events.filter(action=AuditEvent.Action.SUBMIT)
    for event in (opened, sent):
        assert event.clinic == clinic_a
        assert (event.ip_address, event.user_agent) == ("203.0.113.7", BROWSER)


# --- the public intake form: bad numbers and unstorable text are field errors -------------------

BAD_NUMBERS = ["nan", "inf", "-inf", "1e309", "1e80", "-0", "99999999999999999999"]


@pytest.mark.django_db
@pytest.mark.parametrize("bad", BAD_NUMBERS)
@pytest.mark.parametrize(("units", "key", "name"), [
    ("metric", "you", "age"), ("metric", "pregnancy", "pregnancy_weeks"),
    ("metric", "body", "height_cm"), ("metric", "body", "weight_kg"),
    ("us", "body", "height_cm-ft"), ("us", "body", "height_cm-in"),
    ("us", "body", "weight_kg-lb")])  # fmt: skip
def test_a_bad_number_on_any_number_field_is_never_a_500(
    client: Any, clinic_a: Any, make_client: Any, units: str, key: str, name: str, bad: str
) -> None:
    """nan/inf/1e309 used to reach the database as JSON it refuses, 1e80 overflowed an
    integer: each is a field error (or, for -0, a plain answer), on the autosave and on Next."""
    clinic_a.units = units
    clinic_a.save()
    link, token = create_link(make_client(clinic_a, "Pat"), by=None)
    IntakeLink.objects.filter(pk=link.pk).update(answers={"sex": "female", "pregnant": "yes"})
    qid = name.split("-")[0]
    saved = client.post(reverse("intake_save", args=[token, key]), {name: bad, "shown": qid})
    assert saved.status_code == 200
    step = client.post(reverse("intake_step", args=[token, key]), {name: bad, "shown": qid})
    assert step.status_code in (200, 302, 422)
    value = IntakeLink.objects.get(pk=link.pk).answers.get(qid)
    assert value is None or value == 0 or float(value) == float(value)  # never nan


@pytest.mark.django_db
def test_nul_bytes_typed_into_the_intake_are_kept_without_them(
    client: Any, clinic_a: Any, make_client: Any
) -> None:
    """What the client typed is kept on screen with its error; a NUL byte in it made
    PostgreSQL refuse the draft (a 500). It is dropped, the rest is kept."""
    link, token = create_link(make_client(clinic_a, "Pat"), by=None)
    IntakeLink.objects.filter(pk=link.pk).update(answers={"clot_ever": "yes"})
    response = client.post(reverse("intake_save", args=[token, "clots"]), {
        "clot_ever": "yes", "clots-count": "1", "clots-0-site": "le\x00g",
        "clots-0-diagnosed_on": "20\x0024-99-99", "shown": "clot_ever,clots"})  # fmt: skip
    assert response.status_code == 200
    typed = {"age": "4\x002", "sex": "fe\x00male", "seq-age": "9" * 400}
    response = client.post(reverse("intake_save", args=[token, "you"]), typed)
    assert response.status_code == 200
    state = link.draft_state
    state.refresh_from_db()
    assert state.raw == {"age": "42", "sex": "female"}
    assert state.clot_drafts["rows"][0]["diagnosed_on"] == "2024-99-99"
    assert "age" not in state.seqs
