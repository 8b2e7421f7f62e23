"""The floor for bench_patient_view.py: the same HTTP server doing nothing but HTTP.

    python benchmarks/cds/floor_server.py --port 8792 --workers 2 --answer-bytes 4000

Serves, like ``python -m clotsafe.web.cds.run`` (waitress, ``--workers`` processes forked on
one socket, 8 threads each, the same read size), a WSGI app that reads the whole request body
and answers 200 with a fixed JSON body of ``--answer-bytes`` bytes starting like a card answer.
No Django, no parsing, no token, no database: what any Python service on this server pays per
call for the 225 KB request. Loopback only. SIGTERM stops the workers too.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import sys
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from clotsafe.web.cds.run import RECV_BYTES, _listen


def app_for(size: int) -> Callable[..., Iterable[bytes]]:
    head, tail = b'{"cards": [{"uuid": "floor", "detail": "', b'"}]}'
    answer = head + b"x" * max(0, size - len(head) - len(tail)) + tail

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"].read(length)
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(answer)))])  # fmt: skip
        return [answer]

    return app


def _serve(sock: Any, threads: int, size: int) -> None:
    from waitress import serve  # type: ignore[import-untyped, import-not-found, unused-ignore]

    serve(
        app_for(size),
        sockets=[sock],
        threads=threads,
        ident="clotsafe-cds-floor",
        recv_bytes=RECV_BYTES,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=8792)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--answer-bytes", type=int, default=4000)
    args = ap.parse_args()
    sock = _listen("127.0.0.1", args.port)
    ctx = multiprocessing.get_context("fork")
    children = [ctx.Process(target=_serve, args=(sock, args.threads, args.answer_bytes),
                            daemon=True) for _ in range(max(0, args.workers - 1))]  # fmt: skip
    for child in children:
        child.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        for child in children:
            child.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _serve(sock, args.threads, args.answer_bytes)


if __name__ == "__main__":
    main()
