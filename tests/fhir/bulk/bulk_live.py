"""The fake Bulk Data server (``bulk_fake``) behind a real HTTP socket, with the real clock.

The other export tests hand the fake to the client through httpx's MockTransport. Here the
``clotsafe`` command runs in a process of its own, with its own HTTP client, and talks to
``http://127.0.0.1:<port>``: real sockets, real chunks, a real Content-Encoding, a connection
that really drops. The fake's origins (``bulk_fake.BASE``, ``TOKEN_URL``, ``FILES``) are paths
of that one local origin; the adapter maps request URLs to the fake's and the URLs in the
fake's answers (headers, JSON bodies) back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from bulk_fake import BASE, FILES, TOKEN_URL, FakeBulkServer, FakeClock

#: the fake's origins, and the path each has on the local server
ROUTES = ((BASE, "/fhir"), (TOKEN_URL, "/token"), (FILES, "/files"))
#: the answers whose URLs are rewritten (a file's NDJSON is passed on as it is)
_JSON = ("application/json", "application/fhir+json")


class RealClock(FakeClock):
    """The fake's clock, reading the wall clock: the client checks its token's lifetime with
    the real one, in another process."""

    def now(self) -> float:
        return time.time()


class LiveBulkServer:
    """Serves ``fake`` on 127.0.0.1 until :meth:`close`; ``url(fake_url)`` gives the local URL."""

    def __init__(self, fake: FakeBulkServer) -> None:
        self.fake = fake
        self.lock = threading.Lock()  # the fake is not thread-safe
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, fake_url: str) -> str:
        for fake, path in ROUTES:
            fake_url = fake_url.replace(fake, self.origin + path)
        return fake_url

    def fake_url(self, path: str) -> str:
        for fake, local in ROUTES:
            if path == local or path.startswith(local + "/") or path.startswith(local + "?"):
                return fake + path[len(local) :]
        return BASE + "/no-route" + path

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes
               ) -> httpx.Response:  # fmt: skip
        request = httpx.Request(method, self.fake_url(path), headers=headers, content=body)
        with self.lock:
            return self.fake.handle(request)


def _handler(live: LiveBulkServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test reads what the fake recorded

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            reply = live.answer(self.command, self.path, headers, body)
            self._send(reply)

        def _send(self, reply: httpx.Response) -> None:
            chunks, broken = _body(reply)
            data = b"".join(chunks)
            if reply.headers.get("content-type", "").split(";")[0] in _JSON:
                data = live.url(data.decode()).encode()
            self.send_response(reply.status_code)
            for name, value in reply.headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, live.url(value))
            # a dropped transfer promises the whole body, sends half of it, then hangs up
            whole = len(data) * 2 if broken else len(data)
            self.send_header("Content-Length", str(whole))
            self.end_headers()
            self.wfile.write(data)
            if broken:
                self.close_connection = True

    return Handler


def _body(reply: httpx.Response) -> tuple[list[bytes], bool]:
    """The fake's body as sent: its chunks, and whether the fake drops the connection after
    them (``bulk_fake.BrokenStream``)."""
    chunks: list[bytes] = []
    try:
        for chunk in reply.stream:  # type: ignore[union-attr]
            chunks.append(chunk)
    except httpx.ReadError:
        return chunks, True
    return chunks, False


@contextmanager
def live(fake: FakeBulkServer) -> Iterator[LiveBulkServer]:
    server = LiveBulkServer(fake)
    try:
        yield server
    finally:
        server.close()
