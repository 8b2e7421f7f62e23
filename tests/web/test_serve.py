"""`clotsafe serve`: migrate, demo clinic (idempotent, every level), print URL and login, serve."""

from __future__ import annotations

from typing import Any

import pytest

from clotsafe.web.clients.models import Client
from clotsafe.web.demo import ensure_demo

pytestmark = pytest.mark.django_db


def test_demo_clinic_is_idempotent_and_covers_every_level() -> None:
    user, password = ensure_demo()
    assert ensure_demo() == (user, password)
    clients = Client.objects.filter(clinic__name="Demo Massage Clinic")
    assert clients.count() == 7
    levels = set(clients.values_list("level", flat=True))
    assert {"standard", "adapt", "clearance_required", "urgent_referral", "emergency"} <= levels
    assert clients.filter(latest_screening__complete=False).exists()
    assert clients.filter(latest_screening=None, intake_links__isnull=False).exists()


def test_demo_login_works(client: Any) -> None:
    user, password = ensure_demo()
    response = client.post("/login/", {"username": user, "password": password})
    assert response.status_code == 302
    assert "Emery Emergency (demo)" in client.get("/").content.decode()


def test_run_migrates_prints_url_and_login_then_serves(monkeypatch: Any, capsys: Any) -> None:
    import waitress

    from clotsafe.web import serve

    served: dict[str, Any] = {}
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: served.update(kw, app=app))
    serve.run(port=8765)
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8765/" in out
    user, password = ensure_demo()
    assert repr(user) in out and repr(password) in out
    assert served["host"] == "127.0.0.1" and served["port"] == 8765


def test_no_demo_serves_without_the_demo_clinic(monkeypatch: Any) -> None:
    """`clotsafe serve --no-demo` (a real deployment): no demo clinic, login or made-up clients;
    with no clinic yet it says how to create one."""
    import waitress
    from click.testing import CliRunner

    from clotsafe.cli import main
    from clotsafe.web.clinics.models import Clinic

    served: dict[str, Any] = {}
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: served.update(kw, app=app))
    result = CliRunner().invoke(main, ["serve", "--no-demo", "--port", "8766"])
    assert result.exit_code == 0, result.output
    assert not Clinic.objects.exists() and not Client.objects.exists()
    assert "demo" not in result.stdout.replace("--no-demo", "")
    assert "clotsafe createclinic NAME --lead USERNAME" in result.stdout
    assert served["port"] == 8766


def test_no_demo_with_a_clinic_asks_for_its_own_login(monkeypatch: Any) -> None:
    import waitress

    from clotsafe.web import serve
    from clotsafe.web.clinics.models import Clinic

    Clinic.objects.create(name="Harbour Massage")
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: None)
    lines: list[str] = []
    monkeypatch.setattr("builtins.print", lambda *a, **kw: lines.append(" ".join(map(str, a))))
    serve.run(port=8767, demo=False)
    assert "Log in with your clinic account (no demo clinic)." in lines
    assert Clinic.objects.count() == 1
