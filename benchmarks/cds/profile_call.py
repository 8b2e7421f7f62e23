"""Server CPU of one patient-view call, in process (no HTTP server, no load generator).

    .venv/bin/python benchmarks/cds/profile_call.py [--calls 300] [--profile]
    SORT=tottime .venv/bin/python benchmarks/cds/profile_call.py --profile   # self time
    .venv/bin/python benchmarks/cds/profile_call.py --stages [--threads 8]   # CPU per step

Runs the CDS view through Django's WSGI handler with the standalone settings (SQLite in a temp
directory, JWT auth ON with an ES384 key made for the run, tokens signed before timing) on the
225 KB prefetch of the Synthea patient 5aa60e91, and prints the process CPU time per call
(best of 5 rounds, after a warm-up). ``--profile`` prints the top of a cProfile instead
(sorted by ``SORT``, default cumulative). ``--stages`` prints the CPU time (of the calling
thread) spent in each step of the call instead, without cProfile's overhead (steps nest: the
reader is inside ``handle``, the duplicate-key check inside ``_read_body``), and ``--threads
N`` makes the calls from N threads at once, as a server worker does. The workers' start-up is
done as the server does it (``_freeze_heap``: one call in process, gc.freeze, the collector's
young generation).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import jwt  # noqa: E402
from bench_patient_view import ISS, PATIENT, prefetch  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

URL = "/cds-services/clotsafe-patient-view"


def setup(tmp: Path, key: Any) -> Any:
    pub = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    issuers = tmp / "issuers.json"
    issuers.write_text(json.dumps({ISS: {"keys": [{**pub, "kid": "k1", "alg": "ES384"}]}}))
    settings = "clotsafe.web.cds.standalone_settings"
    os.environ.update({"CLOTSAFE_CDS_ISSUERS": str(issuers), "DJANGO_SETTINGS_MODULE": settings,
                       "CLOTSAFE_CDS_DB": str(tmp / "cds.sqlite3")})  # fmt: skip
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    from clotsafe.web.cds.run import _freeze_heap

    call_command("migrate", interactive=False, verbosity=0)
    app = get_wsgi_application()
    _freeze_heap()  # as each server worker does at start
    return app


def environ(body: bytes, token: str) -> dict[str, Any]:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": URL, "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8765", "HTTP_HOST": "127.0.0.1:8765", "wsgi.url_scheme": "http",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Bearer {token}", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "SCRIPT_NAME": ""}  # fmt: skip


def tokens(key: Any, n: int) -> list[str]:
    now = int(time.time())
    aud = f"http://127.0.0.1:8765{URL}"
    return [jwt.encode({"iss": ISS, "aud": aud, "iat": now, "exp": now + 290,
                        "jti": str(uuid.uuid4())}, key, algorithm="ES384",
                       headers={"kid": "k1"}) for _ in range(n)]  # fmt: skip


def calls(app: Any, body: bytes, toks: list[str]) -> None:
    status: list[str] = []
    for tok in toks:
        status.clear()
        out = b"".join(app(environ(body, tok), lambda s, h: status.append(s)))
        if not status[0].startswith("200") or b'"cards": [{' not in out:
            raise SystemExit(f"bad answer {status[0]}: {out[:300]!r}")


#: the steps timed by --stages: (module, attribute); each is the CPU of its calls, callees included
STAGES = [
    ("clotsafe.web.cds.views", "_authenticate"),
    ("clotsafe.fhir.auth.jwt", "decode"),
    ("clotsafe.web.cds.models.DbJtiStore", "add_if_new"),
    ("clotsafe.web.cds.views", "_read_body"),
    ("clotsafe.domain.strictjson", "_surely_unique"),
    ("clotsafe.web.cds.views", "handle"),
    ("clotsafe.fhir.service", "unread_conditions_dropped"),
    ("clotsafe.fhir.service", "derive_prefetch"),
    ("clotsafe.rules.screener.Screener", "screen_one"),
    ("clotsafe.fhir.service", "score_findings"),
    ("clotsafe.fhir.service", "_letter"),
    ("clotsafe.fhir.service", "build_card"),
    ("clotsafe.fhir.cds", "render"),
    ("clotsafe.web.cds.views", "record_call"),
    ("clotsafe.web.cds.batch.GroupCommit", "_write_all"),
]


def _owner(dotted: str) -> Any:
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise SystemExit(f"no module in {dotted}")


def timed_stages() -> dict[str, float]:
    """Wrap each step of :data:`STAGES` to add its thread CPU time to the returned dict."""
    spent: dict[str, float] = defaultdict(float)
    lock = threading.Lock()

    def wrap(owner: Any, name: str, label: str) -> None:
        real = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.thread_time()
            try:
                return real(*args, **kwargs)
            finally:
                with lock:
                    spent[label] += time.thread_time() - t0

        setattr(owner, name, timed)

    for dotted, name in STAGES:
        wrap(_owner(dotted), name, f"{dotted.rsplit('.', 1)[-1]}.{name}")
    return spent


def run_threads(run: Callable[[list[str]], None], toks: list[str], threads: int) -> None:
    workers = [threading.Thread(target=run, args=(toks[i::threads],)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def stages(app: Any, body: bytes, key: Any, calls_n: int, threads: int) -> None:
    spent = timed_stages()
    best: tuple[float, dict[str, float]] | None = None
    for _ in range(5):
        spent.clear()
        toks = tokens(key, calls_n)
        t0 = time.process_time()
        run_threads(lambda part: calls(app, body, part), toks, threads)
        total = (time.process_time() - t0) / calls_n * 1000
        if best is None or total < best[0]:
            best = (total, {k: v / calls_n * 1000 for k, v in spent.items()})
    assert best is not None
    print(json.dumps({"calls": calls_n, "threads": threads, "cpu_ms_per_call": round(best[0], 3),
                      "steps_ms_per_call": {k: round(v, 3) for k, v in
                                            sorted(best[1].items(), key=lambda kv: -kv[1])}},
                     indent=1))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--stages", action="store_true", help="CPU per step of the call")
    ap.add_argument("--threads", type=int, default=1, help="with --stages: calls from N threads")
    args = ap.parse_args()
    pid, pre = prefetch(json.loads(PATIENT.read_text()))
    hook = {"hook": "patient-view", "hookInstance": "bench",
            "context": {"userId": "Practitioner/1", "patientId": pid}, "prefetch": pre}  # fmt: skip
    body = json.dumps(hook).encode()
    key = ec.generate_private_key(ec.SECP384R1())
    with tempfile.TemporaryDirectory() as tmp:
        app = setup(Path(tmp), key)
        calls(app, body, tokens(key, 50))
        if args.stages:
            stages(app, body, key, args.calls, args.threads)
            return
        if args.profile:
            prof = cProfile.Profile()
            toks = tokens(key, args.calls)
            prof.enable()
            calls(app, body, toks)
            prof.disable()
            pstats.Stats(prof).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(45)
            return
        best = []
        for _ in range(5):
            toks = tokens(key, args.calls)
            t0 = time.process_time()
            calls(app, body, toks)
            best.append((time.process_time() - t0) / args.calls * 1000)
        print(json.dumps({"calls": args.calls, "body_bytes": len(body),
                          "cpu_ms_per_call_rounds": [round(b, 2) for b in best],
                          "cpu_ms_per_call_best": round(min(best), 2)}))  # fmt: skip


if __name__ == "__main__":
    main()
