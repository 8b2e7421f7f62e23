"""Issue 9 §1: a lockout that cannot be turned against users.

Behind the documented reverse proxy every request used to come from the proxy's address, so five
wrong passwords typed by anyone locked the named user out for 15 minutes, while one guess sprayed
over many usernames was never limited. Now the client's address comes from X-Forwarded-For as
written by CLOTSAFE_TRUSTED_PROXIES proxies, a username is locked only from the address that
failed, and an address is limited across usernames too.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from clotsafe.web.accounts.clientip import client_ip

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
PROXY = "10.0.0.2"


def _login(client: Any, username: str, password: str, via: str | None = None) -> Any:
    """POST the login form as if through one reverse proxy that added ``via`` to the header."""
    extra = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": via} if via else {}
    return client.post("/login/", {"username": username, "password": password}, **extra)


@pytest.fixture
def one_proxy(settings: Any) -> None:
    settings.TRUSTED_PROXIES = 1


def test_an_attacker_behind_the_proxy_cannot_lock_a_user_out(
    client: Any, therapist_a: Any, one_proxy: None
) -> None:
    """Five wrong passwords from one visitor lock that visitor out of the account, not the
    therapist, who comes through the same proxy from another address."""
    for _ in range(5):
        _login(client, "therapist_a", "wrong", via="203.0.113.9")
    assert _login(client, "therapist_a", PASSWORD, via="203.0.113.9").status_code == 429
    client.cookies.clear()
    response = _login(client, "therapist_a", PASSWORD, via="198.51.100.7")
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_a_forged_forwarded_header_does_not_escape_the_lockout(
    client: Any, therapist_a: Any, one_proxy: None
) -> None:
    """What the client writes into X-Forwarded-For itself (left of the proxy's entry) is ignored."""
    for n in range(5):
        _login(client, "therapist_a", "wrong", via=f"192.0.2.{n}, 203.0.113.9")
    assert _login(client, "therapist_a", PASSWORD, via="192.0.2.99, 203.0.113.9").status_code == 429


def test_spraying_one_address_over_many_usernames_is_limited(
    client: Any, therapist_a: Any, one_proxy: None
) -> None:
    """30 failures from one address over 30 usernames lock that address (even for a right
    password), and only that address."""
    for n in range(30):
        _login(client, f"guess{n}", "Summer2026!", via="203.0.113.9")
    assert _login(client, "therapist_a", PASSWORD, via="203.0.113.9").status_code == 429
    response = _login(client, "therapist_a", PASSWORD, via="198.51.100.7")
    assert response.status_code == 302


def test_a_few_failures_over_usernames_do_not_lock_the_address(
    client: Any, therapist_a: Any, one_proxy: None
) -> None:
    """A shared office address with a few typos across colleagues is not locked."""
    for n in range(29):
        _login(client, f"colleague{n}", "typo", via="203.0.113.9")
    assert _login(client, "therapist_a", PASSWORD, via="203.0.113.9").status_code == 302


def test_without_trusted_proxies_the_forwarded_header_is_ignored(
    client: Any, therapist_a: Any, settings: Any
) -> None:
    """With no proxy configured a client cannot pick its own address with the header."""
    settings.TRUSTED_PROXIES = 0
    for n in range(5):
        client.post(
            "/login/",
            {"username": "therapist_a", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    assert _login(client, "therapist_a", PASSWORD).status_code == 429


@pytest.mark.parametrize(
    ("proxies", "header", "expected"),
    [
        (0, "192.0.2.1", "10.0.0.2"),
        (1, "192.0.2.1", "192.0.2.1"),
        (1, "6.6.6.6, 192.0.2.1", "192.0.2.1"),
        (2, "6.6.6.6, 192.0.2.1, 10.0.0.1", "192.0.2.1"),
        (2, "192.0.2.1", "10.0.0.2"),  # fewer hops than proxies: not through the proxies
        (1, "not-an-address", "10.0.0.2"),
        (1, "", "10.0.0.2"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address_from_trusted_proxy_count(
    settings: Any, proxies: int, header: str, expected: str
) -> None:
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=header)
    assert client_ip(request) == expected


def test_a_tls_deployment_without_trusted_proxies_is_warned_about(settings: Any) -> None:
    """Behind the TLS proxy with CLOTSAFE_TRUSTED_PROXIES unset, all visitors would share the
    proxy's address: `manage.py check` says so."""
    from clotsafe.web.accounts.checks import trusted_proxies_check

    settings.HTTPS, settings.TRUSTED_PROXIES = True, 0
    assert [w.id for w in trusted_proxies_check()] == ["clotsafe.accounts.W001"]
    settings.TRUSTED_PROXIES = 1
    assert trusted_proxies_check() == []


def test_hostile_login_input_gets_the_form_back_not_a_crash(client: Any, one_proxy: None) -> None:
    """NUL bytes, a huge username and a forged header: the log-in form answers, never a 500."""
    for username, via in (("rob\x00in", "203.0.113.9"), ("x" * 100_000, "203.0.113.9\x00"),
                          ("therapist_a", "1.2.3.4, " * 1000 + "203.0.113.9")):  # fmt: skip
        response = _login(client, username, "wrong\x00", via=via)
        assert response.status_code == 200
