"""`clotsafe createclinic NAME --lead USERNAME`: the first clinic and lead of a real deployment.

The lead's password is asked twice (or read from standard input), checked by Django's password
validators with the username in view, and the creation is written to the audit log. A taken
name, a username outside letters, digits and . _ -, or a weak password creates nothing.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from django.contrib.auth.models import User

from clotsafe.cli import main
from clotsafe.web.audit.models import AuditEvent
from clotsafe.web.clinics.models import Clinic, Membership
from clotsafe.web.provision import ACTOR

pytestmark = pytest.mark.django_db

GOOD = "tide-pool-lantern-42"


@pytest.fixture(autouse=True)
def _migrated(monkeypatch: Any) -> None:
    """The test database is migrated already (the subprocess test below runs the migrations)."""
    from clotsafe.web import serve

    monkeypatch.setattr(serve, "prepare", serve.setup)


def _ok(*args: str, input: str) -> None:
    result = _create(*args, input=input)
    assert result.exit_code == 0, result.output


def _create(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(main, ["createclinic", *args], input=input)


def test_creates_the_clinic_and_its_lead_who_can_log_in(client: Any) -> None:
    """The lead logs in with the password typed twice and works in the new clinic."""
    result = _create("Harbour Massage", "--lead", "sam.lee", input=f"{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "Created the clinic 'Harbour Massage' with its lead 'sam.lee'" in result.stdout
    assert "clotsafe serve --no-demo" in result.stdout
    assert GOOD not in result.output  # the prompt hides what is typed
    membership = Membership.objects.get(user__username="sam.lee")
    assert membership.clinic.name == "Harbour Massage" and membership.is_lead
    assert membership.clinic.emergency_number == "911"
    response = client.post("/login/", {"username": "sam.lee", "password": GOOD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_password_prompt_repeats_until_both_entries_match() -> None:
    result = _create("Harbour Massage", "--lead", "sam", input=f"{GOOD}\ntypo\n{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert User.objects.get(username="sam").check_password(GOOD)


def test_password_from_standard_input() -> None:
    result = _create("Harbour Massage", "--lead", "sam", "--password-stdin", "--emergency-number",
                     "999", input=f"{GOOD}\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output  # no prompt
    assert User.objects.get(username="sam").check_password(GOOD)
    assert Clinic.objects.get(name="Harbour Massage").emergency_number == "999"


def test_password_too_similar_to_the_username_is_refused() -> None:
    """UserAttributeSimilarityValidator sees the username: 'harbourlead1' (long enough, not
    common, not numeric) is refused only because it repeats the lead's username."""
    result = _create("Harbour Massage", "--lead", "harbourlead", "--password-stdin",
                     input="harbourlead1\n")  # fmt: skip
    assert result.exit_code == 1
    assert "error: password: The password is too similar to the username." in result.stderr
    assert not Clinic.objects.exists() and not User.objects.exists()


@pytest.mark.parametrize("password", ["short1", "password123", "12345678901234"])
def test_weak_password_is_refused_and_nothing_is_created(password: str) -> None:
    result = _create("Harbour Massage", "--lead", "sam", "--password-stdin", input=password)
    assert result.exit_code == 1
    assert "error: password:" in result.stderr
    assert not Clinic.objects.exists() and not User.objects.exists()


BAD_USERNAMES = ["sam lee", "sam@example.org", "säm", "", "ab", "a" * 31, "-sam", ".sam",
                 "sam\x00", "<b>sam</b>", "sam\n"]  # fmt: skip


@pytest.mark.parametrize("username", BAD_USERNAMES)
def test_username_outside_letters_digits_dot_underscore_dash_is_refused(username: str) -> None:
    """The team page's rule (3 to 30 of a-z, digits, . _ -, starting with a letter or digit),
    refused before the password is asked for."""
    result = _create("Harbour Massage", "--lead", username, input=f"{GOOD}\n{GOOD}\n")
    assert result.exit_code == 1
    assert "Use 3 to 30 letters (a-z), digits, dots, dashes or underscores" in result.stderr
    assert "Password" not in result.output
    assert not Clinic.objects.exists() and not User.objects.exists()


def test_existing_clinic_or_user_is_refused_with_a_clear_message() -> None:
    assert (
        _create("Harbour Massage", "--lead", "sam", "--password-stdin", input=GOOD).exit_code == 0
    )
    again = _create("harbour massage ", "--lead", "alex", input=f"{GOOD}\n{GOOD}\n")
    assert again.exit_code == 1
    assert "error: a clinic named 'harbour massage' already exists" in again.stderr
    assert "Password" not in again.output
    taken = _create("Lighthouse Massage", "--lead", "SAM", "--password-stdin", input=GOOD)
    assert taken.exit_code == 1
    assert "error: the username 'SAM' is already taken" in taken.stderr
    assert Clinic.objects.count() == 1 and User.objects.count() == 1


@pytest.mark.parametrize(("args", "message"), [
    (["   ", "--lead", "sam"], "the clinic name must be 1 to 200 printable characters"),
    (["A\x00B", "--lead", "sam"], "the clinic name must be 1 to 200 printable characters"),
    (["X" * 201, "--lead", "sam"], "the clinic name must be 1 to 200 printable characters"),
    (["Harbour", "--lead", "sam", "--emergency-number", "9-1-1"],
     "the emergency number must be 2 to 6 digits"),
])  # fmt: skip
def test_bad_name_or_emergency_number_is_refused(args: list[str], message: str) -> None:
    result = _create(*args, "--password-stdin", input=GOOD)
    assert result.exit_code == 1
    assert f"error: {message}" in result.stderr
    assert not Clinic.objects.exists()


def test_creation_is_in_the_audit_log() -> None:
    """Who made the clinic and its lead: the command line, named as the actor."""
    assert (
        _create("Harbour Massage", "--lead", "sam", "--password-stdin", input=GOOD).exit_code == 0
    )
    clinic = Clinic.objects.get()
    events = AuditEvent.objects.filter(clinic=clinic).order_by("id")
    assert [(e.actor, e.action, e.target_type) for e in events] == [
        (ACTOR, "create", "clinic"),
        (ACTOR, "create", "membership"),
    ]
    assert "sam" in events[0].detail and GOOD not in " ".join(e.detail for e in events)


@pytest.mark.django_db(transaction=True)
def test_uses_the_data_dir_and_database_of_serve(tmp_path: Path) -> None:
    """A real process: with CLOTSAFE_DATA_DIR set, the clinic lands in that data dir's SQLite
    database (migrated first), which `clotsafe serve` uses; running it again is refused."""
    env = {**os.environ, "CLOTSAFE_DATA_DIR": str(tmp_path)}
    env.pop("CLOTSAFE_DATABASE_URL", None)
    env.pop("CLOTSAFE_SECRET_KEY", None)
    argv = [sys.executable, "-m", "clotsafe", "createclinic", "Harbour Massage", "--lead", "sam",
            "--password-stdin"]  # fmt: skip
    first = subprocess.run(argv, input=GOOD + "\n", capture_output=True, text=True, env=env,
                           timeout=300)  # fmt: skip
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(tmp_path / "clotsafe.sqlite3") as db:
        rows = db.execute("select c.name, m.role from clotsafe_clinics_clinic c"
                          " join clotsafe_clinics_membership m"
                          " on m.clinic_id = c.id").fetchall()  # fmt: skip
    assert rows == [("Harbour Massage", "lead")]
    second = subprocess.run(argv, input=GOOD + "\n", capture_output=True, text=True, env=env,
                            timeout=300)  # fmt: skip
    assert second.returncode == 1
    assert "already exists" in second.stderr and "Traceback" not in second.stderr


@pytest.mark.parametrize("command", [["createclinic", "Harbour", "--lead", "sam",
                                      "--password-stdin"], ["serve", "--no-demo"]])  # fmt: skip
def test_a_database_that_cannot_be_reached_is_one_clear_line(
    tmp_path: Path, command: list[str]
) -> None:
    """A wrong CLOTSAFE_DATABASE_URL: exit 1, the reason in one line, no driver traceback."""
    env = {**os.environ, "CLOTSAFE_DATA_DIR": str(tmp_path),
           "CLOTSAFE_DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere"}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "clotsafe", *command], input=GOOD + "\n",
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("error: the database could not be used: ")
    assert "CLOTSAFE_DATABASE_URL" in done.stderr and "Traceback" not in done.stderr
