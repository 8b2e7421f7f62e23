"""Load with faults: a bounded load on `clotsafe serve` (127.0.0.1) while the server is killed
with SIGKILL and restarted several times; then every acknowledged write is looked up in the
database.

    .venv/bin/python benchmarks/web/loadfault.py [--seconds 90] [--kills 4] [--json out.json]
    CLOTSAFE_DATABASE_URL=postgres://... .venv/bin/python benchmarks/web/loadfault.py --postgres

The server is the real one (`python -m clotsafe serve --no-demo`, waitress, 8 threads) in a
subprocess with a temporary CLOTSAFE_DATA_DIR: SQLite there, or the PostgreSQL database of
CLOTSAFE_DATABASE_URL (a scratch database: the run adds its own clinic, users and clients).
Load (closed loop, a fixed number of client threads, until --seconds have passed):

- intake: clients walk their real intake links step by step (GET the step, POST the answers,
  follow the redirect) to the end; a failed request is retried from the same step, as a person
  would press again. Acknowledged writes: each step POST answered 302 (its answers saved), and
  each last step answered with the redirect to the end page (the intake submitted).
- pages: a logged-in lead reads screening pages and the client list.
- API (when /api/v1/openapi.json answers and `clotsafe api-token create` gives a token):
  POST /api/v1/screen (stateless), and in turn a client added (POST /api/v1/clients), an intake
  link made for it (POST .../links) and its red flags re-checked, which stores a screening
  (POST .../recheck), each route when the API has it; acknowledged: a 201 with the new id.
  The API's rate limit is lifted for the run (CLOTSAFE_API_RATE). Reported as skipped when
  there is no API.

Every --seconds/(kills+1) the server gets `kill -9` and is started again at once. At the end the
server is stopped and the database is read: an acknowledged write that is not there is *lost*
(exit status 1). Also reported: requests and errors by kind (connection refused or reset while
the server is down, 5xx, unexpected 4xx), p50/p95 latency of the answered requests, restart
times, writes stored without an acknowledgement (in flight at a kill), and duplicate screenings.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SHOWN = re.compile(r'name="shown" value="([^"]*)"')
FIRST_STEP = "rf_lungs"
ANSWERS = {"age": "40", "sex": "female"}  # every yes/no question is answered "no"
PASSWORD = "load-fault-lantern-2026"


# --- recording -------------------------------------------------------------------------------


@dataclass
class Tally:
    """Requests and acknowledged writes, from all client threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    step_acks: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    submit_acks: set[str] = field(default_factory=set)
    api_acks: list[tuple[str, int]] = field(default_factory=list)
    first_error: dict[str, str] = field(default_factory=dict)

    def ok(self, kind: str, started: float) -> None:
        with self.lock:
            self.latency[kind].append((time.perf_counter() - started) * 1000)

    def error(self, kind: str, what: str) -> None:
        with self.lock:
            self.errors[kind][what] += 1

    def ack(self, bucket: str, item: Any) -> None:
        with self.lock:
            target = getattr(self, bucket)
            target.add(item) if isinstance(target, set) else target.append(item)


def _error_class(exc: Exception) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    return "connection reset"  # the server died while answering


class Http:
    """One person's browser: cookies kept, redirects not followed, every request recorded."""

    def __init__(self, base: str, tally: Tally) -> None:
        self.client = httpx.Client(base_url=base, follow_redirects=False, timeout=20)
        self.tally = tally

    def call(self, kind: str, method: str, url: str, ok: tuple[int, ...],
             **kw: Any) -> httpx.Response | None:  # fmt: skip
        started = time.perf_counter()
        try:
            response = self.client.request(method, url, **kw)
        except httpx.TransportError as exc:
            self.tally.error(kind, _error_class(exc))
            return None
        if response.status_code not in ok:
            self.tally.error(kind, f"HTTP {response.status_code}")
            self.tally.first_error.setdefault(kind, response.text[:300])
            return response
        self.tally.ok(kind, started)
        return response


# --- the server ------------------------------------------------------------------------------


class Server:
    """`clotsafe serve --no-demo` in a subprocess; killed with SIGKILL, started again."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready_seconds: list[float] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        argv = [sys.executable, "-m", "clotsafe", "serve", "--no-demo", "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(argv, env=self.env, stdout=log, stderr=log,
                                         start_new_session=True)  # fmt: skip
        self.ready_seconds.append(self._wait_ready())

    def _wait_ready(self, limit: float = 120) -> float:
        started = time.perf_counter()
        while time.perf_counter() - started < limit:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited ({self.proc.returncode}): see {self.log}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/login/", timeout=2).status_code == 200:
                    return round(time.perf_counter() - started, 2)
            except httpx.TransportError:
                time.sleep(0.05)
        raise SystemExit(f"the server did not answer within {limit} s: see {self.log}")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- the data (in this process, through Django, before the server starts) ---------------------


@dataclass(frozen=True)
class Fixture:
    run: str
    username: str
    clinic_id: int
    tokens: list[str]
    screening_ids: list[int]


def prepare(links: int) -> Fixture:
    """Migrate; one clinic with its lead (through `createclinic`'s code), clients with open
    intake links, and a few screened clients for the pages."""
    from django.core.management import call_command

    from clotsafe.web.clients.models import Client
    from clotsafe.web.clients.services import create_link
    from clotsafe.web.provision import create_clinic
    from clotsafe.web.screenings import services as screenings

    call_command("migrate", interactive=False, verbosity=0)
    run = time.strftime("%Y%m%d%H%M%S") + f"-{os.getpid()}"
    lead = create_clinic(f"Load fault {run}", f"lead-{run}", PASSWORD).user
    clinic = lead.membership.clinic
    new = lambda name: Client.objects.create(clinic=clinic, name=name, created_by=lead)  # noqa: E731
    tokens = [create_link(new(f"Intake {i:04d}"), by=lead)[1] for i in range(links)]
    screened = [screenings.record(new(f"Screened {i}"), _complete_no(), kind="demo", by=lead)
                for i in range(5)]  # fmt: skip
    return Fixture(run, lead.username, clinic.pk, tokens, [s.pk for s in screened])


def _complete_no() -> dict[str, Any]:
    from clotsafe.domain.questions import ALWAYS_REQUIRED, PREGNANCY_REQUIRED

    return {**dict.fromkeys((*ALWAYS_REQUIRED, *PREGNANCY_REQUIRED), "no"), "age": 40,
            "sex": "female"}  # fmt: skip


def api_token(env: dict[str, str], username: str) -> tuple[str | None, str]:
    """A Bearer token from `clotsafe api-token create` (its last line), or why there is none."""
    argv = [sys.executable, "-m", "clotsafe", "api-token", "create", "--user", username]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return None, f"`clotsafe api-token create` failed: {done.stderr.strip()[-200:]}"
    return lines[-1].strip(), ""


# --- the load ------------------------------------------------------------------------------


def _answers(page: str) -> dict[str, str]:
    from clotsafe.domain.questions import BY_ID

    shown = SHOWN.search(page)
    qids = [q for q in (shown.group(1).split(",") if shown else []) if q]
    data = {q: ANSWERS.get(q, "no") for q in qids if q in ANSWERS or BY_ID[q].type == "tri"}
    return {"shown": ",".join(qids), **data}


def intake_worker(http: Http, tokens: Iterator[str], until: float) -> None:
    """Walk intake links until the time is up (the last walk may stop half way)."""
    for token in tokens:
        if time.monotonic() >= until:
            return
        _walk(http, token, until)


def _walk(http: Http, token: str, until: float) -> None:
    url, failures = f"/i/{token}/step/{FIRST_STEP}/", 0
    while time.monotonic() < until and failures < 20:
        page = http.call("intake step (GET)", "GET", url, (200,))
        if page is not None and page.status_code == 200 and "csrfmiddlewaretoken" not in page.text:
            return  # "already sent": by a request that was in flight at a kill
        if page is None or page.status_code != 200:
            failures += 1
            time.sleep(0.2)
            continue
        next_url = _post_step(http, token, url, page.text)
        if next_url is None:
            failures += 1
            time.sleep(0.2)
        elif next_url.endswith("/done/"):
            return
        else:
            url = next_url


def _post_step(http: Http, token: str, url: str, page: str) -> str | None:
    from clotsafe.web.intake.steps import STEPS

    data = _answers(page)
    csrf = CSRF.search(page)
    last = url.endswith(f"/{STEPS[-1].key}/")  # the last step, which sends the intake
    kind = "intake submit (POST)" if last else "intake step (POST)"
    data["csrfmiddlewaretoken"] = csrf.group(1) if csrf else ""
    response = http.call(kind, "POST", url, (302,), data=data)
    if response is None or response.status_code != 302:
        return None
    location = response.headers["location"]
    answered = {k: v for k, v in data.items() if k not in ("shown", "csrfmiddlewaretoken")}
    http.tally.ack("step_acks", (token, answered))
    if location.endswith("/done/"):
        http.tally.ack("submit_acks", token)
    elif "/urgent/" in location or "/emergency/" in location:
        http.tally.error(kind, "unexpected red-flag screen")
        return None
    return location


def login(http: Http, username: str, until: float) -> bool:
    while time.monotonic() < until:
        page = http.call("login", "GET", "/login/", (200,))
        csrf = CSRF.search(page.text) if page is not None else None
        if csrf:
            done = http.call("login", "POST", "/login/", (302,), data={
                "username": username, "password": PASSWORD,
                "csrfmiddlewaretoken": csrf.group(1)})  # fmt: skip
            if done is not None and done.status_code == 302:
                return True
        time.sleep(0.2)
    return False


def page_worker(http: Http, username: str, screening_ids: list[int], until: float) -> None:
    """A logged-in lead reading screening pages and the client list."""
    if not login(http, username, until):
        return
    i = 0
    while time.monotonic() < until:
        i += 1
        url = f"/screenings/{screening_ids[i % len(screening_ids)]}/" if i % 3 else "/"
        kind = "screening page" if i % 3 else "client list"
        response = http.call(kind, "GET", url, (200,))
        if response is not None and response.status_code == 302:  # the session is gone
            login(http, username, until)
        if response is None:
            time.sleep(0.2)


FLOOR = "floor: static file"


def floor_worker(http: Http, until: float) -> None:
    """The floor, sampled through the run: a static file (waitress and WhiteNoise, no view, no
    database), four times a second. Latencies are also given as multiples of its p50."""
    while time.monotonic() < until:
        http.call(FLOOR, "GET", "/static/clotsafe/app.css", (200,))
        time.sleep(0.25)


# --- the API (used when /api/v1/openapi.json answers) -----------------------------------------


@dataclass(frozen=True)
class Api:
    screen: bool  # POST /api/v1/screen (stateless: nothing stored but the audit line)
    clients: bool  # POST /api/v1/clients
    links: bool  # POST /api/v1/clients/{client_id}/links
    recheck: bool  # POST /api/v1/clients/{client_id}/recheck (stores a screening)


def discover_api(base: str) -> tuple[Api | None, str]:
    try:
        response = httpx.get(f"{base}/api/v1/openapi.json", timeout=10)
        paths = response.json().get("paths", {}) if response.status_code == 200 else None
    except (httpx.TransportError, ValueError):
        paths = None
    if not paths:
        return None, "no /api/v1/openapi.json"
    posts = {re.sub(r"\{[^}]+\}", "{}", p.rstrip("/")) for p, ops in paths.items() if "post" in ops}
    api = Api(*(f"/api/v1/{p}" in posts for p in ("screen", "clients", "clients/{}/links",
                                                  "clients/{}/recheck")))  # fmt: skip
    return (api, "") if api.screen or api.clients else (None, "no screen or clients route")


def api_worker(http: Http, api: Api, token: str, name: str, until: float) -> None:
    """In turn: screen an intake (POST /screen); add a client (POST /clients), make it an
    intake link (POST /clients/{id}/links) and re-check its red flags, which stores a
    screening (POST /clients/{id}/recheck). Acknowledged: a 201 with the new object's id."""
    headers = {"Authorization": f"Bearer {token}"}
    i = 0
    while time.monotonic() < until:
        i += 1
        if api.screen and (i % 2 or not api.clients):
            body = {"screened_on": time.strftime("%Y-%m-%d"), "answers": _complete_no()}
            r = http.call("api screen", "POST", "/api/v1/screen", (200,), json=body,
                          headers=headers)  # fmt: skip
        else:
            r = _api_client(http, api, headers, f"{name} {i}")
        if r is None:
            time.sleep(0.2)


def _api_client(http: Http, api: Api, headers: dict[str, str],
                name: str) -> httpx.Response | None:  # fmt: skip
    r = http.call("api add client", "POST", "/api/v1/clients", (201,), json={"name": name},
                  headers=headers)  # fmt: skip
    if r is None or r.status_code != 201:
        return r
    client = r.json()["id"]
    http.tally.ack("api_acks", ("client", client))
    if api.links:
        r = http.call("api make link", "POST", f"/api/v1/clients/{client}/links", (201,),
                      json={}, headers=headers)  # fmt: skip
        if r is not None and r.status_code == 201:
            http.tally.ack("api_acks", ("link", r.json()["link"]["id"]))
    if api.recheck:
        from clotsafe.domain.questions import RED_FLAG_TRI

        body = {"answers": dict.fromkeys(RED_FLAG_TRI, "no")}
        r = http.call("api recheck (screening)", "POST", f"/api/v1/clients/{client}/recheck",
                      (201,), json=body, headers=headers)  # fmt: skip
        if r is not None and r.status_code == 201:
            http.tally.ack("api_acks", ("screening", r.json()["id"]))
    return r


# --- faults --------------------------------------------------------------------------------


def fault_loop(server: Server, kills: int, seconds: float, start: float,
               log: list[dict[str, Any]]) -> None:  # fmt: skip
    """kill -9 the server at evenly spaced times and start it again at once."""
    for k in range(1, kills + 1):
        time.sleep(max(0.0, start + seconds * k / (kills + 1) - time.monotonic()))
        at = time.monotonic() - start
        server.kill9()
        try:
            server.start()
        except SystemExit as exc:  # it did not come back: the report says so (exit status 1)
            log.append({"at_s": round(at, 1), "down_s": None, "failed": str(exc)})
            return
        log.append({"at_s": round(at, 1), "down_s": server.ready_seconds[-1]})


# --- what was stored -----------------------------------------------------------------------


def stored(tally: Tally, fx: Fixture) -> dict[str, Any]:
    """Look up every acknowledged write in the database (after the server has stopped)."""
    from django.db import connections

    connections.close_all()
    return {"intake_steps": _steps(tally), "intake_submissions": _submissions(tally, fx),
            "api_writes": _api_writes(tally, fx)}  # fmt: skip


def _steps(tally: Tally) -> dict[str, int]:
    from clotsafe.web.clients.models import IntakeLink
    from clotsafe.web.clients.services import token_hash

    tokens = {t for t, _ in tally.step_acks}
    links = IntakeLink.objects.filter(token_hash__in=[token_hash(t) for t in tokens])
    answers = {lnk.token_hash: lnk.answers for lnk in links}
    kept = sum(all(str(answers.get(token_hash(t), {}).get(q)) == v for q, v in a.items())
               for t, a in tally.step_acks)  # fmt: skip
    return {"acknowledged": len(tally.step_acks), "stored": kept,
            "lost": len(tally.step_acks) - kept}  # fmt: skip


def _submissions(tally: Tally, fx: Fixture) -> dict[str, int]:
    """A submission is stored when its link is marked sent and its client has the screening."""
    from clotsafe.web.clients.models import IntakeLink
    from clotsafe.web.clients.services import token_hash
    from clotsafe.web.screenings.models import Screening

    screenings = Counter(Screening.objects.filter(clinic_id=fx.clinic_id, kind="intake")
                         .values_list("client_id", flat=True))  # fmt: skip
    links = IntakeLink.objects.filter(client__clinic_id=fx.clinic_id)
    sent = {h for h, client, at in links.values_list("token_hash", "client_id", "submitted_at")
            if at is not None and screenings[client] > 0}  # fmt: skip
    acked = {token_hash(t) for t in tally.submit_acks}
    return {"acknowledged": len(acked), "stored": len(acked & sent), "lost": len(acked - sent),
            "stored_unacknowledged": len(sent - acked),
            "duplicate_screenings": sum(n - 1 for n in screenings.values() if n > 1)}  # fmt: skip


def _api_writes(tally: Tally, fx: Fixture) -> dict[str, int]:
    """Each acknowledged client, intake link and screening made through the API, looked up by
    its id in the run's clinic."""
    from clotsafe.web.clients.models import Client, IntakeLink
    from clotsafe.web.screenings.models import Screening

    ids: dict[str, set[int]] = defaultdict(set)
    for kind, i in tally.api_acks:
        ids[kind].add(i)
    kept = (
        Client.objects.filter(clinic_id=fx.clinic_id, pk__in=ids["client"]).count()
        + IntakeLink.objects.filter(client__clinic_id=fx.clinic_id, pk__in=ids["link"]).count()
        + Screening.objects.filter(clinic_id=fx.clinic_id, pk__in=ids["screening"]).count()
    )
    acked = sum(len(v) for v in ids.values())
    api_clients = Client.objects.filter(clinic_id=fx.clinic_id, name__startswith="API ")
    return {"acknowledged": acked, "stored": kept, "lost": acked - kept,
            "stored_unacknowledged": api_clients.exclude(pk__in=ids["client"]).count()}  # fmt: skip


# --- the report ----------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))], 1)


def requests_report(tally: Tally) -> dict[str, Any]:
    kinds = sorted(set(tally.latency) | set(tally.errors))
    out = {}
    for k in kinds:
        ok, errs = tally.latency.get(k, []), tally.errors.get(k, Counter())
        out[k] = {"requests": len(ok) + sum(errs.values()), "answered_ok": len(ok),
                  "errors": dict(errs),
                  "p50_ms": round(statistics.median(ok), 1) if ok else None,
                  "p95_ms": _pct(ok, 0.95) if ok else None}  # fmt: skip
    floor = out.get(FLOOR, {}).get("p50_ms")
    for r in out.values():
        r["p50_x_floor"] = round(r["p50_ms"] / floor, 1) if floor and r["p50_ms"] else None
    every = [v for k in kinds if k != FLOOR for v in tally.latency.get(k, [])]
    by_class: Counter[str] = Counter()
    for kind, errs in tally.errors.items():
        if kind != FLOOR:
            by_class.update(errs)
    out["all"] = {"requests": sum(r["requests"] for k, r in out.items() if k != FLOOR),
                  "errors": sum(by_class.values()), "errors_by_class": dict(by_class),
                  "p50_ms": round(statistics.median(every), 1) if every else None,
                  "p95_ms": _pct(every, 0.95) if every else None}  # fmt: skip
    return out


# --- main ----------------------------------------------------------------------------------


def _environment(args: argparse.Namespace, data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOTSAFE_")}
    env.update(
        CLOTSAFE_DATA_DIR=data_dir,
        DJANGO_SETTINGS_MODULE="clotsafe.web.settings",
        CLOTSAFE_API_RATE="1000000/min",
    )  # measure the server, not the API rate limit
    if args.postgres:
        url = os.environ.get("CLOTSAFE_DATABASE_URL", "")
        if not url.startswith("postgres"):
            raise SystemExit("--postgres needs CLOTSAFE_DATABASE_URL=postgres://... (scratch)")
        env["CLOTSAFE_DATABASE_URL"] = url
    return env


def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = tempfile.mkdtemp(prefix="clotsafe-loadfault-")
    env = _environment(args, data_dir)
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections

    fx = prepare(args.links)
    connections.close_all()
    token, api_note = api_token(env, fx.username)
    server = Server(args.port or _free_port(), env, Path(data_dir) / "server.log")
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    api, why = discover_api(base)
    api_note = api_note or why
    tally = Tally()
    kills: list[dict[str, Any]] = []
    start = time.monotonic()
    until = start + args.seconds
    threads = _threads(args, fx, base, tally, until, api if token else None, token or "")
    threads.append(threading.Thread(target=fault_loop, args=(server, args.kills, args.seconds,
                                                             start, kills)))  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    server.stop()
    writes = stored(tally, fx)
    if not (token and api):
        writes["api_writes"] = {"skipped": api_note}
    return {
        "database": "postgresql" if args.postgres else "sqlite",
        "seconds": round(elapsed, 1), "kills": kills,
        "first_start_s": server.ready_seconds[0],
        "api": f"used: {api}" if token and api else "skipped: " + api_note,
        "requests": requests_report(tally), "writes": writes,
        "first_error_bodies": tally.first_error,
        "server_log": str(server.log),
    }  # fmt: skip


def _threads(args: argparse.Namespace, fx: Fixture, base: str, tally: Tally, until: float,
             api: Api | None, token: str) -> list[threading.Thread]:  # fmt: skip
    tokens = iter(fx.tokens)
    lock = threading.Lock()

    def next_token() -> Iterator[str]:
        while True:
            with lock:
                t = next(tokens, None)
            if t is None:
                return
            yield t

    def start(fn: Callable[..., None], *a: Any) -> threading.Thread:
        return threading.Thread(target=fn, args=(Http(base, tally), *a))

    out = [start(floor_worker, until)]
    out += [start(intake_worker, next_token(), until) for _ in range(args.intake_workers)]
    out += [start(page_worker, fx.username, fx.screening_ids, until)
            for _ in range(args.page_workers)]  # fmt: skip
    if api is not None:
        out += [start(api_worker, api, token, f"API {fx.run} w{w}", until)
                for w in range(args.api_workers)]  # fmt: skip
    return out


def markdown(report: dict[str, Any]) -> str:
    """The report as the Markdown tables of benchmarks/web/README.md."""
    rows = ["| requests | n | answered | errors | p50 | p95 | p50 × floor |",
            "|---|---|---|---|---|---|---|"]  # fmt: skip
    for kind, r in report["requests"].items():
        errs = r.get("errors_by_class", {}) if kind == "all" else r["errors"]
        text = ", ".join(f"{n} {what}" for what, n in sorted(errs.items())) or "0"
        answered = r["requests"] - sum(errs.values())
        rows.append(f"| {kind} | {r['requests']} | {answered} | {text} | {r['p50_ms']} ms | "
                    f"{r['p95_ms']} ms | {r.get('p50_x_floor')} |")  # fmt: skip
    rows += ["", "| writes | acknowledged | stored | lost | stored, not acknowledged "
             "| duplicates |", "|---|---|---|---|---|---|"]  # fmt: skip
    for kind, w in report["writes"].items():
        if "skipped" in w:
            rows.append(f"| {kind} | skipped: {w['skipped']} | | | | |")
            continue
        rows.append(f"| {kind} | {w['acknowledged']} | {w['stored']} | {w['lost']} | "
                    f"{w.get('stored_unacknowledged', '')} | "
                    f"{w.get('duplicate_screenings', '')} |")  # fmt: skip
    downs = ", ".join("never" if "failed" in k else f"{k['down_s']} s" for k in report["kills"])
    rows += ["", f"{report['database']}: {report['seconds']} s, {len(report['kills'])} kills "
             f"(back up after {downs}; first start {report['first_start_s']} s)"]  # fmt: skip
    return "\n".join(rows) + "\n"


def lost(report: dict[str, Any]) -> int:
    return sum(w.get("lost", 0) for w in report["writes"].values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90, help="how long the load runs")
    parser.add_argument("--kills", type=int, default=4, help="kill -9 and restarts, spread out")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="use CLOTSAFE_DATABASE_URL (a scratch PostgreSQL database)",
    )
    parser.add_argument("--intake-workers", type=int, default=3)
    parser.add_argument("--page-workers", type=int, default=1)
    parser.add_argument("--api-workers", type=int, default=1)
    parser.add_argument("--links", type=int, default=1500, help="intake links made beforehand")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--json", help="write the report here too")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the data dir (SQLite file, server log); kept anyway on failure",
    )
    parser.add_argument("--markdown", action="store_true", help="print tables, not JSON")
    args = parser.parse_args()
    report = run(args)
    text = json.dumps(report, indent=2)
    print(markdown(report) if args.markdown else text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    restarted = all("failed" not in k for k in report["kills"])
    failed = bool(lost(report)) or not restarted
    if not (failed or args.keep):  # the data dir (database, server log) is kept to look into
        shutil.rmtree(Path(report["server_log"]).parent, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
