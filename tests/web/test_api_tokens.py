"""API tokens outside the API: `clotsafe api-token` (create prints the token once, alone on its
last line; only its hash is kept; list; revoke) and the operator's admin."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from django.contrib.auth.models import User
from django.test import Client as HttpClient

from clotsafe.cli import main
from clotsafe.web.api import tokens
from clotsafe.web.api.models import ApiToken
from clotsafe.web.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def run(*args: str) -> Any:
    return CliRunner().invoke(main, ["api-token", *args], catch_exceptions=False)


def test_create_prints_the_token_once_alone_on_its_last_line(therapist_a: Any) -> None:
    result = run("create", "--user", "therapist_a", "--name", "booking site")
    assert result.exit_code == 0, result.output
    secret = result.output.rstrip("\n").splitlines()[-1]
    assert secret.startswith("cs_") and " " not in secret and len(secret) == 46
    assert result.output.count(secret) == 1
    token = ApiToken.objects.get()
    assert token.token_hash == tokens.token_hash(secret) and token.name == "booking site"
    assert all(secret not in str(v) for v in ApiToken.objects.values().get().values())
    assert tokens.authenticate(secret) == token
    event = AuditEvent.objects.filter(target_type="apitoken").get()
    assert secret not in event.detail and "command line" in event.actor


def test_create_refuses_an_unknown_user_or_one_without_a_clinic(db: None) -> None:
    assert run("create", "--user", "nobody").exit_code == 1
    User.objects.create_user("loner", password="x" * 12)
    result = run("create", "--user", "loner")
    assert result.exit_code == 1 and "not an active member of a clinic" in result.output
    assert not ApiToken.objects.exists()


def test_list_and_revoke(therapist_a: Any) -> None:
    token, secret = tokens.create(therapist_a, name="script")
    listed = run("list").output
    assert token.prefix in listed and "script" in listed and "active" in listed
    assert secret not in listed and token.token_hash not in listed
    assert "revoked." in run("revoke", str(token.pk)).output
    assert tokens.authenticate(secret) is None
    assert "already revoked" in run("revoke", str(token.pk)).output
    assert run("revoke", "999999").exit_code == 1


def test_operator_admin_shows_tokens_without_their_hash(therapist_a: Any) -> None:
    token, _ = tokens.create(therapist_a, name="admin view")
    operator = User.objects.create_superuser("operator", password="x" * 12)
    http = HttpClient()
    http.force_login(operator)
    page = http.get(f"/admin/api/apitoken/{token.pk}/change/")
    assert page.status_code == 200
    assert token.token_hash not in page.content.decode()
