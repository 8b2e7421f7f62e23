"""Streamed download of one manifest file to ``<stem>.ndjson.part``, renamed when complete.

- ``Accept-Encoding: gzip``: a gzip *transfer* (Content-Encoding) is decoded on the fly and the
  file stored as ``<stem>.ndjson``; a file whose *content* is gzip (an object store serving
  ``.ndjson.gz``) is kept as it came, ``<stem>.ndjson.gz``, its lines counted through zlib;
- non-blank lines are counted and checked against the manifest's ``count`` when it gives one; a
  mismatch leaves the ``.part`` (never a final name) so that ``--resume`` fetches it again;
- the token goes with the request only when the manifest says ``requiresAccessToken`` AND the
  file is on the FHIR server's origin; redirects are followed by hand, up to 5, and the token
  never follows one off the origin;
- the file is fsync'ed before the rename: a final name means the bytes are on disk.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx  # type: ignore[import-not-found, unused-ignore]

from clotsafe.fhir.bulk.errors import BulkError
from clotsafe.fhir.bulk.manifest import FileEntry
from clotsafe.fhir.bulk.progress import Reporter
from clotsafe.fhir.bulk.session import RETRY_STATUSES, Session, check_url, safe_url
from clotsafe.fhir.bulk.timing import Backoff

GZIP_MAGIC = b"\x1f\x8b"
FILE_HEADERS = {"Accept": "application/fhir+ndjson", "Accept-Encoding": "gzip"}
MAX_REDIRECTS = 5
CHUNK = 1 << 16


@dataclass(frozen=True)
class Saved:
    """A file safe on disk: its manifest entry, path relative to DIR, and line count."""

    entry: FileEntry
    path: str
    lines: int


class LineCounter:
    """Counts non-blank lines of a byte stream fed in chunks.

    ``gzipped`` content is inflated as it comes (every member of a multi-member gzip); a gzip
    stream that ends early raises ``zlib.error`` at :meth:`close`.
    """

    def __init__(self) -> None:
        self.lines = 0
        self._open = False
        self._inflate: zlib._Decompress | None = None

    def feed(self, data: bytes, *, gzipped: bool = False) -> None:
        parts = (self._inflated(data) if gzipped else data).split(b"\n")
        for part in parts[:-1]:
            self.lines += self._open or bool(part.strip())
            self._open = False
        self._open = self._open or bool(parts[-1].strip())

    def _inflated(self, data: bytes) -> bytes:
        out = []
        while data:
            if self._inflate is None or self._inflate.eof:
                self._inflate = zlib.decompressobj(wbits=31)
            out.append(self._inflate.decompress(data))
            data = self._inflate.unused_data if self._inflate.eof else b""
        return b"".join(out)

    def close(self) -> int:
        if self._inflate is not None and not self._inflate.eof:
            raise zlib.error("the gzip stream ends early")
        self.lines += self._open
        self._open = False
        return self.lines


def existing(out: Path, entry: FileEntry) -> str | None:
    """The relative path of ``entry`` when an earlier run completed it."""
    for name in (entry.ndjson, entry.ndjson + ".gz"):
        if (out / name).is_file():
            return name
    return None


def count_lines(path: Path) -> int:
    counter = LineCounter()
    gz = path.suffix == ".gz"
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            counter.feed(chunk, gzipped=gz)
    return counter.close()


def download(
    session: Session, entry: FileEntry, out: Path, token: bool, reporter: Reporter
) -> Saved:
    """Fetch ``entry`` into ``out``, retrying a broken transfer from the start; BulkError if not."""
    check_url(entry.url, f"the manifest's {entry.kind} file")
    part = out / f"{entry.ndjson}.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    backoff = Backoff()
    while True:
        try:
            return _attempt(session, entry, out, part, token, reporter)
        except OSError as exc:
            raise BulkError("bulk_io_error", f"cannot write {part}: {exc.strerror}") from None
        except (zlib.error, httpx.DecodingError):
            raise BulkError("bulk_download_failed", f"{entry.ndjson}: not valid gzip") from None
        except (httpx.TransportError, _Retry) as exc:
            why = str(exc) if isinstance(exc, _Retry) else f"network error: {type(exc).__name__}"
            session.wait_or_give_up(backoff, getattr(exc, "response", None), entry.ndjson, why)


class _Retry(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def _attempt(
    session: Session, entry: FileEntry, out: Path, part: Path, token: bool, reporter: Reporter
) -> Saved:
    url = entry.url
    for _ in range(MAX_REDIRECTS + 1):
        sent = token and session.at_home(url)
        headers = {**FILE_HEADERS, **(session.auth_headers(url) if sent else {})}
        resp = session.http.send(
            session.http.build_request("GET", url, headers=headers), stream=True
        )
        try:
            if resp.is_redirect and "Location" in resp.headers:
                url = check_url(urljoin(url, resp.headers["Location"]), "a redirect")
                continue
            _check_status(session, resp, entry, sent, off_origin=token and not sent)
            return _save(resp, entry, out, part, reporter)
        finally:
            resp.close()
    raise BulkError("bulk_download_failed", f"{entry.ndjson}: more than {MAX_REDIRECTS} redirects")


def _check_status(
    session: Session, resp: httpx.Response, entry: FileEntry, sent: bool, off_origin: bool
) -> None:
    if resp.status_code == 401 and sent and session.tokens:
        session.tokens.invalidate()
        raise _Retry(resp)
    if resp.status_code in RETRY_STATUSES:
        raise _Retry(resp)
    if resp.status_code == 200:
        return
    hint = ""
    if off_origin and resp.status_code in (401, 403):
        hint = (
            " (the manifest says requiresAccessToken, but the file is not on the FHIR "
            "server's origin and clotsafe never sends the access token elsewhere)"
        )
    raise BulkError(
        "bulk_download_failed",
        f"{entry.ndjson}: {safe_url(str(resp.url))} answered HTTP {resp.status_code}{hint}",
    )


def _save(
    resp: httpx.Response, entry: FileEntry, out: Path, part: Path, reporter: Reporter
) -> Saved:
    length = resp.headers.get("Content-Length")
    plain = resp.headers.get("Content-Encoding", "identity").lower() == "identity"
    size = int(length) if length and length.isdigit() and plain else None
    reporter.file_started(entry.ndjson, size)
    counter, gz = LineCounter(), None
    with part.open("wb") as f:
        for chunk in resp.iter_bytes(CHUNK):
            gz = chunk[:2] == GZIP_MAGIC if gz is None else gz
            counter.feed(chunk, gzipped=gz)
            f.write(chunk)
            reporter.file_bytes(entry.ndjson, len(chunk))
        f.flush()
        os.fsync(f.fileno())
    return _finish(entry, out, part, counter.close(), bool(gz))


def _finish(entry: FileEntry, out: Path, part: Path, lines: int, gz: bool) -> Saved:
    if entry.count is not None and lines != entry.count:
        raise BulkError(
            "bulk_count_mismatch",
            f"{entry.ndjson}: {lines} lines, the manifest "
            f"says {entry.count} (kept as {part.name}; --resume fetches it again)",
        )
    name = entry.ndjson + (".gz" if gz else "")
    os.replace(part, out / name)
    return Saved(entry, name, lines)
