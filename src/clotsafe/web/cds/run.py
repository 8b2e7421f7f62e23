"""Run the CDS service alone: ``python -m clotsafe.web.cds.run --port 8765 [--workers 2]``.

Uses the standalone settings unless DJANGO_SETTINGS_MODULE says otherwise, migrates its SQLite
database, then serves with waitress on 127.0.0.1. ``--workers N`` forks N processes that share
one listening socket (the GIL limits one process to one core); SIGTERM/SIGINT to the parent
stops them all.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import signal
import socket
import sys
from types import FrameType
from typing import Any


def _serve(sock: socket.socket, threads: int) -> None:
    from django.core.wsgi import get_wsgi_application
    from waitress import serve  # type: ignore[import-untyped, import-not-found, unused-ignore]

    app = get_wsgi_application()
    _freeze_heap()
    serve(app, sockets=[sock], threads=threads, ident="clotsafe-cds", recv_bytes=RECV_BYTES)


#: waitress reads a request in pieces of this size (its default, 8 KB, takes ~28 reads and
#: parser steps for a 225 KB prefetch)
RECV_BYTES = 65_536

#: container objects allocated (net) before the collector runs. With Python's 700 it ran ~5-6
#: times a call at 20 concurrent calls, and ~4 in 100 of those were full collections walking
#: every call in flight (each prefetch's ~4,400 dicts and lists, none in a cycle, all freed
#: when its call ends): 0.45 ms of CPU a call, measured with gc.callbacks; with 50,000 it
#: almost never runs (benchmarks/cds/README.md). Cyclic garbage is still collected.
GC_YOUNG = 50_000


def _freeze_heap() -> None:
    """Move everything alive at start (Django, the code lists, the rules) out of the cyclic
    garbage collector's reach: each full collection would otherwise walk the whole start-up
    heap again (~4 ms a call under load before). Nothing of a request lives on, so the frozen
    heap does not grow. The URL patterns are loaded and one call is answered first
    (:func:`_warm`), so the views, the code lists, the rules and the texts they load on first
    use are in the frozen part."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (imports the views, the engine, the code lists)
    _warm()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])


def _warm() -> None:
    """Answer one patient-view call in process (no HTTP, no token, no database): what loads
    on first use (code lists, rules, texts, the card's models) is loaded now, before the
    heap is frozen, and not by the first 8 concurrent calls at once."""
    from datetime import date

    from clotsafe.fhir.cds import PREFETCH
    from clotsafe.fhir.codes import SNOMED, code_lists
    from clotsafe.fhir.service import handle
    from clotsafe.web.cds.conf import cds_settings

    cds_settings()
    clot = next(code for code, (concept, _entry) in code_lists().snomed_conditions.items()
                if concept.effect == "clot")  # fmt: skip
    patient = {"resourceType": "Patient", "id": "warm", "birthDate": "1970-01-01"}
    coding = {"system": SNOMED, "code": clot}
    condition = {"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/warm"},
                 "code": {"coding": [coding]}}  # fmt: skip
    prefetch: dict[str, Any] = {key: None for key in PREFETCH}  # null: nothing found
    prefetch.update(patient=patient, conditions={"resourceType": "Bundle",
                                                 "entry": [{"resource": condition}]})  # fmt: skip
    body = {"hook": "patient-view", "hookInstance": "warm", "context": {"patientId": "warm"},
            "prefetch": prefetch}  # fmt: skip
    handle("clotsafe-patient-view", body, today=date(2026, 1, 1))


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(256)
    return sock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clotsafe.web.cds.standalone_settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    sock = _listen(args.host, args.port)
    ctx = multiprocessing.get_context("fork")
    children = [ctx.Process(target=_serve, args=(sock, args.threads), daemon=True)
                for _ in range(max(0, args.workers - 1))]  # fmt: skip
    for child in children:
        child.start()

    def stop(signum: int, frame: FrameType | None) -> Any:
        for child in children:
            child.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"clotsafe CDS service on http://{args.host}:{args.port}/cds-services", flush=True)
    _serve(sock, args.threads)


if __name__ == "__main__":
    main()
