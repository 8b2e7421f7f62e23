"""Web benchmark: server time of the client list (2,000 clients, 10,000 screenings) with and
without a search, a screening page, its read-back page, a client page, and the consultation
letter PDF.

    .venv/bin/python benchmarks/web/bench_web.py [--requests 200] [--json out.json]

Uses a fresh SQLite database in a temporary data dir (or CLOTSAFE_DATABASE_URL, whose database
it fills: use a scratch one). Times are measured in-process around Django's full request
handling (middleware, view, ORM, template), i.e. server time without the network.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

N_CLIENTS = 2000
N_SCREENINGS = 10000


def _setup_django() -> None:
    os.environ.setdefault("CLOTSAFE_DATA_DIR", tempfile.mkdtemp(prefix="clotsafe-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clotsafe.web.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _vignettes() -> list[dict[str, Any]]:
    from django.utils import timezone

    from clotsafe.domain.questions import ALWAYS_REQUIRED, PREGNANCY_REQUIRED

    today = timezone.localdate()
    no = dict.fromkeys((*ALWAYS_REQUIRED, *PREGNANCY_REQUIRED), "no")
    dvt = {
        "kind": "dvt",
        "site": "left_calf",
        "diagnosed_on": (today - timedelta(days=30)).isoformat(),
        "treatment": "ongoing",
    }
    return [
        {**no, "age": 35},
        {**no, "anticoagulant": "yes", "rf_unusual_bleeding": "no", "age": 62},
        {**no, "clot_ever": "yes", "clots": [dvt], "age": 50},
        {**no, "rf_limb_swelling": "yes", "age": 44},
        {**no, "rf_breathless": "yes", "age": 70},
    ]


def build() -> tuple[Any, Any]:
    """One clinic, 2,000 clients, 10,000 screenings (5 per client), evaluated by the engine."""
    from django.contrib.auth.models import User

    from clotsafe.web import engine
    from clotsafe.web.clients.models import Client
    from clotsafe.web.clinics.models import Clinic, Membership
    from clotsafe.web.screenings.models import Screening
    from clotsafe.web.screenings.services import today

    clinic = Clinic.objects.create(name="Benchmark Clinic", address="1 Bench Road")
    user = User.objects.create_user("bench", password="bench-password-1")
    Membership.objects.create(user=user, clinic=clinic, role="lead")
    results = [engine.run(a, today()) for a in _vignettes()]
    clients = Client.objects.bulk_create(
        [
            Client(clinic=clinic, name=f"Client {i:05d}", reference=f"R-{i:05d}")
            for i in range(N_CLIENTS)
        ]
    )
    per = N_SCREENINGS // N_CLIENTS
    rows = []
    for i, c in enumerate(clients):
        for j in range(per):
            r = results[(i + j) % len(results)]
            rows.append(
                Screening(
                    clinic=clinic,
                    client=c,
                    kind="intake",
                    screened_on=today(),
                    intake=r.intake,
                    decision=r.decision,
                    level=r.level,
                    complete=r.complete,
                    policy_version=r.policy_version,
                )
            )
    Screening.objects.bulk_create(rows, batch_size=1000)
    latest = {}
    for s in (
        Screening.objects.filter(clinic=clinic).order_by("id").only("id", "client_id", "level")
    ):
        latest[s.client_id] = s
    for c in clients:
        c.latest_screening_id = latest[c.pk].pk
        c.level = latest[c.pk].level
    Client.objects.bulk_update(clients, ["latest_screening", "level"], batch_size=1000)
    return clinic, user


def timed(fn: Callable[[], Any], n: int) -> dict[str, float]:
    """Wall time and this process's CPU time per request (the CPU time is what the server
    spends; on a shared, loaded machine the wall time also counts waiting for a core)."""
    fn()  # warm up
    wall, cpu = [], []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    wall.sort()
    cpu.sort()
    return {
        "n": n,
        "median_ms": round(statistics.median(wall), 2),
        "p95_ms": round(wall[int(0.95 * (n - 1))], 2),
        "max_ms": round(wall[-1], 2),
        "cpu_median_ms": round(statistics.median(cpu), 2),
        "cpu_p95_ms": round(cpu[int(0.95 * (n - 1))], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pdf-requests", type=int, default=20)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    _setup_django()
    from django.test import Client as HttpClient

    from clotsafe.web.screenings.models import Screening

    # no setup_test_environment(): its instrumented template rendering would distort the times
    t0 = time.perf_counter()
    clinic, user = build()
    build_s = time.perf_counter() - t0
    http = HttpClient(SERVER_NAME="localhost")
    http.force_login(user)
    clearance = Screening.objects.filter(clinic=clinic, level="clearance_required").first()
    assert clearance is not None

    def get(url: str) -> Callable[[], Any]:
        def call() -> None:
            response = http.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return call

    figures = {
        "clients": N_CLIENTS,
        "screenings": Screening.objects.filter(clinic=clinic).count(),
        "build_seconds": round(build_s, 1),
        "client_list": timed(get("/"), args.requests),
        "client_list_filtered": timed(get("/?level=clearance_required"), args.requests),
        "client_list_page_10": timed(get("/?page=10"), args.requests),
        "client_list_search_name": timed(get("/?q=client+001"), args.requests),
        "client_list_search_reference": timed(get("/?q=R-01234"), args.requests),
        "screening_page": timed(get(f"/screenings/{clearance.pk}/"), args.requests),
        "read_back_page": timed(get(f"/screenings/{clearance.pk}/answers/"), args.requests),
        "client_page": timed(get(f"/clients/{clearance.client_id}/"), args.requests),
        "letter_pdf": timed(get(f"/screenings/{clearance.pk}/letter.pdf"), args.pdf_requests),
        "python": sys.version.split()[0],
        "database": os.environ.get("CLOTSAFE_DATABASE_URL", "sqlite (temporary file)").split("@")[
            -1
        ],
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()
