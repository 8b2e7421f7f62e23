"""Web app security: authentication, clinic scoping, intake links, lockout, headers, audit."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from clotsafe.web.audit.models import AppendOnlyError, AuditEvent
from clotsafe.web.clients.models import IntakeLink
from clotsafe.web.clients.services import create_link, find_link, token_hash
from clotsafe.web.clinics.models import Membership
from tests.web import isolation_accounts, isolation_rights
from tests.web.conftest import COMPLETE_NO, dvt_answers

pytestmark = pytest.mark.django_db

#: therapist URLs that take an id, and how to fill each id from a clinic's objects
ID_URLS = {
    "client_detail": ("get", lambda o: [o["client"].pk]),
    "client_edit": ("get", lambda o: [o["client"].pk]),
    "client_archive": ("post", lambda o: [o["client"].pk]),
    "link_create": ("post", lambda o: [o["client"].pk]),
    "link_email": ("post", lambda o: [o["client"].pk, o["link"].pk]),
    "link_remind": ("post", lambda o: [o["client"].pk, o["link"].pk]),
    "link_revoke": ("post", lambda o: [o["client"].pk, o["link"].pk]),
    "recheck": ("get", lambda o: [o["client"].pk]),
    "clearance_new": ("get", lambda o: [o["client"].pk]),
    "screening_detail": ("get", lambda o: [o["screening"].pk]),
    "screening_json": ("get", lambda o: [o["screening"].pk]),
    "screening_answers": ("get", lambda o: [o["screening"].pk]),
    "screening_acknowledge": ("post", lambda o: [o["screening"].pk]),
    "letter_pdf": ("get", lambda o: [o["screening"].pk]),
    "team_active": ("post", lambda o: [o["membership"].pk]),
    **isolation_accounts.ID_URLS,
    **isolation_rights.ID_URLS,
}
PUBLIC = {
    "login",
    "logout",
    "intake_start",
    "intake_step",
    "intake_save",
    "intake_emergency",
    "intake_urgent",
    "intake_done",
    *isolation_accounts.PUBLIC,
    *isolation_rights.PUBLIC,
}
#: mounted apps with their own guards: the JSON API (tests/web/test_api_isolation.py), the
#: operator's Django admin (superusers only) and the CDS service (JWT, tests/fhir)
OWN_GUARDS = ("api/v1/", "admin/")
OWN_GUARD_MODULES = ("clotsafe.web.cds.urls",)


def _own_guard(resolver: URLResolver) -> bool:
    module = getattr(resolver.urlconf_name, "__name__", resolver.urlconf_name)
    return str(resolver.pattern) in OWN_GUARDS or module in OWN_GUARD_MODULES


def _patterns() -> list[URLPattern]:
    """Every named URL of the therapist pages, through includes (not the API and admin)."""
    found: list[URLPattern] = []

    def walk(patterns: list[Any]) -> None:
        for p in patterns:
            if isinstance(p, URLPattern):
                found.append(p)
            elif isinstance(p, URLResolver) and not _own_guard(p):
                walk(p.url_patterns)

    walk(get_resolver().url_patterns)
    return found


def _objects(clinic: Any, make_client: Any, make_member: Any, name: str) -> dict[str, Any]:
    client = make_client(clinic, "Other clinic's client", dvt_answers())
    link, _ = create_link(client, by=None)
    member = make_member(clinic, f"lead_{name}", role="lead")
    objects = {
        "client": client,
        "link": link,
        "screening": client.latest_screening,
        "membership": Membership.objects.get(user=member),
    }
    for extra in (isolation_accounts, isolation_rights):
        objects.update(extra.extra_objects(clinic, objects))
    return objects


def test_every_url_with_an_id_is_in_the_cross_clinic_test() -> None:
    """A new URL that takes an id must be added to the cross-clinic 404 test."""
    with_ids = {p.name for p in _patterns() if p.pattern.converters and p.name not in PUBLIC}
    assert with_ids == set(ID_URLS)


@pytest.mark.parametrize("name", sorted(ID_URLS))
def test_other_clinics_ids_give_404(
    name: str, client: Any, clinic_b: Any, make_client: Any, make_member: Any, make_clinic: Any
) -> None:
    """A therapist (here: a lead) of clinic A asking for anything of clinic B gets 404."""
    clinic_a = make_clinic("A")
    lead = make_member(clinic_a, "lead_of_a", role="lead")
    other = _objects(clinic_b, make_client, make_member, "b")
    client.force_login(lead)
    method, args = ID_URLS[name]
    url = reverse(name, args=args(other))
    response = getattr(client, method)(url)
    assert response.status_code == 404
    other["link"].refresh_from_db()
    assert other["link"].revoked_at is None


@pytest.mark.parametrize("name", sorted(ID_URLS))
def test_own_clinic_ids_work(
    name: str, client: Any, clinic_a: Any, make_client: Any, make_member: Any
) -> None:
    """The same URLs answer for the user's own clinic (so the 404s above are about scoping)."""
    own = _objects(clinic_a, make_client, make_member, "a")
    me = make_member(clinic_a, "me", role="lead")
    client.force_login(me)
    method, args = ID_URLS[name]
    response = getattr(client, method)(reverse(name, args=args(own)))
    assert response.status_code in (200, 302)


def test_every_therapist_page_needs_login(
    client: Any, clinic_a: Any, make_client: Any, make_member: Any
) -> None:
    """Anonymous requests to any therapist page or API redirect to the login page."""
    own = _objects(clinic_a, make_client, make_member, "a")
    for p in _patterns():
        if p.name in PUBLIC:
            continue
        args = ID_URLS[p.name][1](own) if p.name in ID_URLS else []
        url = reverse(p.name, args=args)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/login/"), url


def test_user_without_clinic_is_refused(client: Any, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("loner", password="x-very-long-pass")
    client.force_login(user)
    assert client.get("/").status_code == 403


def test_therapist_cannot_use_lead_pages(web: Any) -> None:
    for name in ("team", "clinic_settings", "audit_csv"):
        assert web.get(reverse(name)).status_code == 403


# --- intake links -----------------------------------------------------------------------------


def test_intake_token_has_at_least_128_random_bits(clinic_a: Any, make_client: Any) -> None:
    link, token = create_link(make_client(clinic_a), by=None)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert len(token) * math.log2(64) >= 128
    assert link.token_hash == token_hash(token) and token not in link.token_hash
    assert not IntakeLink.objects.filter(token_hash=token).exists()


def test_intake_link_expires_after_14_days_by_default(clinic_a: Any, make_client: Any) -> None:
    link, _ = create_link(make_client(clinic_a), by=None)
    assert abs((link.expires_at - timezone.now()) - timedelta(days=14)) < timedelta(minutes=1)


def test_unknown_token_gets_a_clear_page(client: Any) -> None:
    response = client.get("/i/not-a-real-token/")
    assert response.status_code == 410
    assert b"ask your therapist for a new link" in response.content


def test_expired_link_get_and_post_get_a_clear_page(
    client: Any, clinic_a: Any, make_client: Any
) -> None:
    """Submitting after expiry gets a clear page, never a crash."""
    link, token = create_link(make_client(clinic_a), by=None)
    IntakeLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for response in (
        client.get(f"/i/{token}/"),
        client.post(f"/i/{token}/step/rf_lungs/", {"rf_breathless": "no"}),
        client.get(f"/i/{token}/done/"),
    ):
        assert response.status_code == 410
        assert b"This link has expired" in response.content
    saved = client.post(f"/i/{token}/step/rf_lungs/save/", {"rf_breathless": "no"})
    assert saved.status_code == 410
    link.refresh_from_db()
    assert link.answers == {}


def test_revoked_link_is_closed(web: Any, clinic_a: Any, make_client: Any, client: Any) -> None:
    c = make_client(clinic_a)
    link, token = create_link(c, by=None)
    assert web.post(reverse("link_revoke", args=[c.pk, link.pk])).status_code == 302
    response = web.get(f"/i/{token}/")
    assert response.status_code == 410
    assert b"no longer works" in response.content


def test_link_opens_only_its_own_clients_form(client: Any, clinic_a: Any, make_client: Any) -> None:
    """The intake pages show nothing of other clients, and answers go to the link's client."""
    mine = make_client(clinic_a, "Mine")
    other = make_client(clinic_a, "Zed Other", dvt_answers())
    _, token = create_link(mine, by=None)
    page = client.get(f"/i/{token}/step/rf_lungs/").content.decode()
    assert "Zed Other" not in page and "Mine" not in page
    client.post(f"/i/{token}/step/rf_lungs/save/", {"rf_breathless": "no"})
    assert find_link(token).answers == {"rf_breathless": "no"}
    assert other.intake_links.count() == 0


# --- accounts, sessions, headers -----------------------------------------------------------


def test_passwords_are_hashed_with_argon2(therapist_a: Any) -> None:
    from clotsafe.web import settings as app_settings

    assert app_settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    assert therapist_a.password.startswith("argon2")


def test_login_lockout_after_repeated_failures(client: Any, therapist_a: Any) -> None:
    """django-axes locks the username from this address after 5 failures; even the right
    password is refused (other addresses: tests/web/test_accounts_lockout.py)."""
    for _ in range(5):
        client.post("/login/", {"username": "therapist_a", "password": "wrong"})
    response = client.post(
        "/login/", {"username": "therapist_a", "password": "correct-horse-battery"}
    )
    assert response.status_code == 429
    assert b"Too many failed log-ins" in response.content
    assert "_auth_user_id" not in client.session


def test_login_works_and_is_audited(client: Any, therapist_a: Any) -> None:
    response = client.post(
        "/login/", {"username": "therapist_a", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="login", actor="therapist_a").exists()


def test_session_expires_when_idle(settings: Any) -> None:
    assert settings.SESSION_COOKIE_AGE <= 60 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_HTTPONLY


def test_security_headers(web: Any, clinic_a: Any, make_client: Any) -> None:
    for url in ("/", "/login/", "/i/unknown/"):
        r = web.get(url)
        csp = r["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r["X-Frame-Options"] == "DENY"
        assert r["X-Content-Type-Options"] == "nosniff"
        assert r["Referrer-Policy"] == "same-origin"
        assert "camera=()" in r["Permissions-Policy"]
        assert r["Cache-Control"] == "no-store"


def test_debug_is_off_and_no_secret_in_repository(settings: Any) -> None:
    """DEBUG defaults off; the secret key comes from the environment or a generated file."""
    from clotsafe.web import settings as mod

    assert mod._env_flag("CLOTSAFE_DEBUG_UNSET_FOR_TEST") is False
    source = Path(mod.__file__).read_text()
    assert 'SECRET_KEY = "' not in source and "SECRET_KEY = '" not in source


def test_secret_key_file_is_generated_private(tmp_path: Path, monkeypatch: Any) -> None:
    from clotsafe.web import settings as mod

    monkeypatch.delenv("CLOTSAFE_SECRET_KEY", raising=False)
    monkeypatch.setenv("CLOTSAFE_DATA_DIR", str(tmp_path))
    key = mod._secret_key()
    assert len(key) >= 50 and mod._secret_key() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_every_asset_is_served_by_the_app(web: Any) -> None:
    """No CDN: every script and stylesheet is a local /static/ file that the app serves."""
    page = web.get("/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
    assert any("htmx-2.0.11.min.js" in a for a in assets)
    for asset in assets:
        assert asset.startswith("/static/")
        response = web.get(asset)
        assert response.status_code == 200
        b"".join(response.streaming_content) if response.streaming else response.content


# --- audit -------------------------------------------------------------------------------


def test_audit_log_is_append_only(lead_web: Any, clinic_a: Any, make_client: Any) -> None:
    make_client(clinic_a, "A", COMPLETE_NO)
    event = AuditEvent.objects.first()
    assert event is not None
    event.detail = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(detail="x")


def test_views_and_exports_are_audited(lead_web: Any, clinic_a: Any, make_client: Any) -> None:
    c = make_client(clinic_a, "Casey", dvt_answers())
    lead_web.get(reverse("client_detail", args=[c.pk]))
    lead_web.get(reverse("screening_detail", args=[c.latest_screening.pk]))
    lead_web.get(reverse("letter_pdf", args=[c.latest_screening.pk]))
    response = lead_web.get(reverse("audit_csv"))
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    assert (
        body.splitlines()[0]
        == "at,clinic,actor,action,target_type,target_id,detail,ip_address,user_agent,changes"
    )
    assert ",lead_a,view,client," in body and ",lead_a,view,screening," in body
    assert "consultation letter PDF" in body
    assert AuditEvent.objects.filter(action="export", target_type="audit_log").exists()


def test_database_follows_clotsafe_database_url(settings: Any) -> None:
    """The same suite runs on PostgreSQL when CLOTSAFE_DATABASE_URL names it (CI does both)."""
    import os

    from django.db import connection

    url = os.environ.get("CLOTSAFE_DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected


def test_cds_hooks_app_is_mounted_when_present(client: Any, settings: Any) -> None:
    """The CDS Hooks app (another engineer's) is added only once its package exists."""
    if not settings.HAS_CDS:
        pytest.skip("clotsafe.web.cds is not installed in this tree")
    assert "clotsafe.web.cds" in settings.INSTALLED_APPS
    assert client.get("/cds-services").status_code == 200


def test_migrations_are_committed() -> None:
    """Every model change has its migration in the repository."""
    from django.core.management import call_command

    apps = [
        "clotsafe_clinics",
        "clotsafe_clients",
        "clotsafe_screenings",
        "clotsafe_clearances",
        "clotsafe_audit",
    ]
    call_command("makemigrations", *apps, "--check", "--dry-run", verbosity=0)
