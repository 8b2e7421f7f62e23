"""One export from kick-off (or ``--resume``) to files safe on disk and the status URL deleted.

What lands in DIR (docs/bulk.md): ``export.json`` (the server, the status URL, the request; at the
end the files and their line counts), ``manifest.json`` (the server's manifest as it came, with
``transactionTime``), ``<Type>.<n>.ndjson[.gz]``, ``error/`` and ``deleted/``. ``.part`` files are
downloads that did not complete; ``--resume`` fetches exactly those again (and any missing).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx  # type: ignore[import-not-found, unused-ignore]
import orjson

from clotsafe.domain import strictjson
from clotsafe.fhir.bulk import download as dl
from clotsafe.fhir.bulk.errors import BulkError
from clotsafe.fhir.bulk.kickoff import ExportRequest, kick_off
from clotsafe.fhir.bulk.manifest import FileEntry, Manifest, parse_manifest
from clotsafe.fhir.bulk.poll import DEFAULT_MAX_WAIT, poll
from clotsafe.fhir.bulk.progress import Reporter
from clotsafe.fhir.bulk.session import RETRY_STATUSES, Session, check_url, safe_url
from clotsafe.fhir.bulk.smart import TokenSource, discover, load_key
from clotsafe.fhir.bulk.timing import Clock, SystemClock

STATE = "export.json"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ExportOptions:
    """Everything ``clotsafe bulk export`` was given (validated by the CLI)."""

    fhir_server: str
    request: ExportRequest
    client_id: str
    key_path: Path
    out: Path
    kid: str | None = None
    scope: str | None = None
    resume: str | None = None
    max_retries: int = 6
    max_wait: float = DEFAULT_MAX_WAIT


@dataclass
class ExportResult:
    status_url: str
    manifest: Manifest
    saved: list[dl.Saved] = field(default_factory=list)
    status_deleted: bool = False
    tokens_fetched: int = 0


def run_export(
    options: ExportOptions,
    *,
    http: httpx.Client | None = None,
    clock: Clock | None = None,
    reporter: Reporter | None = None,
) -> ExportResult:
    """Run the export; BulkError (with its code) on anything that stops it."""
    base = check_url(options.fhir_server.rstrip("/"), "--fhir-server")
    key = load_key(options.key_path, options.kid)
    _prepare(options.out, options.resume)
    reporter = reporter or Reporter()
    client = http or httpx.Client(timeout=httpx.Timeout(30.0, read=300.0))
    try:
        session = Session(client, base, None, clock or SystemClock(), options.max_retries)
        config = discover(session, key, options.scope)
        tokens = TokenSource(session, config, key, options.client_id)
        session.tokens = tokens
        result = _export(session, options, reporter)
        result.tokens_fetched = tokens.fetched
        return result
    finally:
        if http is None:
            client.close()


def _export(session: Session, options: ExportOptions, reporter: Reporter) -> ExportResult:
    out = options.out
    status_url = options.resume or kick_off(session, options.request)
    if not session.at_home(status_url):
        raise BulkError(
            "bulk_off_origin",
            f"the status URL {safe_url(status_url)} is not on the "
            "FHIR server's origin; clotsafe will not send the access token there",
        )
    state = _state(out, options, status_url)
    reporter.kicked_off(status_url)
    raw = poll(session, status_url, reporter, options.max_wait)
    manifest = parse_manifest(raw)
    _check_same_export(out, raw, options.resume)
    _write_json(out / MANIFEST, raw)
    reporter.manifest(len(manifest.files))
    result = ExportResult(status_url, manifest)
    result.saved = _download_all(session, manifest, out, reporter)
    result.status_deleted = _delete(session, status_url, reporter)
    _write_json(out / STATE, {**state, **_summary(result)})
    return result


def _prepare(out: Path, resume: str | None) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BulkError("bulk_io_error", f"cannot create {out}: {exc.strerror}") from None
    if resume is None and ((out / STATE).exists() or (out / MANIFEST).exists()):
        raise BulkError(
            "bulk_bad_option",
            f"{out} already holds an export: continue it with "
            "--resume STATUS_URL, or give an empty --out directory",
        )


def _state(out: Path, options: ExportOptions, status_url: str) -> dict[str, Any]:
    path = out / STATE
    if options.resume and path.exists():
        saved = _read_json(path)
        if saved.get("statusUrl") not in (None, status_url):
            raise BulkError(
                "bulk_resume_mismatch",
                f"{path} records another status URL than --resume; give the DIR of that export",
            )
        return saved
    r = options.request
    state = {
        "fhirServer": options.fhir_server,
        "statusUrl": status_url,
        "group": r.group,
        "patients": list(r.patients),
        "types": list(r.types),
        "since": r.since,
        "typeFilters": list(r.type_filters),
        "complete": False,
    }
    _write_json(path, state)
    return state


def _check_same_export(out: Path, raw: Any, resume: str | None) -> None:
    path = out / MANIFEST
    if not (resume and path.exists()):
        return
    saved = _read_json(path)
    keys = ("transactionTime", "request")
    if any(saved.get(k) != raw.get(k) for k in keys):
        raise BulkError(
            "bulk_resume_mismatch",
            f"{path} is from another export (transactionTime "
            f"{saved.get('transactionTime')!r}, the server says "
            f"{raw.get('transactionTime')!r})",
        )


def _download_all(
    session: Session, manifest: Manifest, out: Path, reporter: Reporter
) -> list[dl.Saved]:
    saved, failed = [], []
    for entry in manifest.files:
        done = dl.existing(out, entry)
        try:
            item = (
                _already(out, entry, done)
                if done
                else dl.download(session, entry, out, manifest.requires_access_token, reporter)
            )
        except BulkError as exc:
            if exc.code not in ("bulk_download_failed", "bulk_count_mismatch", "bulk_gave_up"):
                raise
            reporter.file_failed(entry.ndjson, exc.message)
            failed.append(exc)
            continue
        reporter.file_done(item.path, item.lines, skipped=bool(done))
        saved.append(item)
    if failed:
        raise _not_all(failed, len(manifest.files))
    return saved


def _already(out: Path, entry: FileEntry, name: str) -> dl.Saved:
    return dl.Saved(entry, name, dl.count_lines(out / name))


def _not_all(failed: list[BulkError], total: int) -> BulkError:
    codes = {e.code for e in failed}
    code = "bulk_count_mismatch" if codes == {"bulk_count_mismatch"} else "bulk_download_failed"
    reasons = "; ".join(e.message for e in failed[:5])
    return BulkError(
        code,
        f"{len(failed)} of {total} files are not complete ({reasons}); the "
        "status URL was kept: rerun with --resume STATUS_URL to fetch only those",
    )


def _delete(session: Session, status_url: str, reporter: Reporter) -> bool:
    """DELETE the status URL (the files are safe); a failure is reported, not fatal."""
    try:
        resp = session.send(
            "DELETE", status_url, auth=True, retry=RETRY_STATUSES, what="the status URL DELETE"
        )
    except BulkError as exc:
        reporter.note(f"the export was not deleted on the server: {exc.message}")
        return False
    if resp.status_code >= 300:
        reporter.note(f"the export was not deleted on the server: HTTP {resp.status_code}")
        return False
    return True


def _summary(result: ExportResult) -> dict[str, Any]:
    m = result.manifest
    files = [
        {
            "kind": s.entry.kind,
            "type": s.entry.type,
            "path": s.path,
            "lines": s.lines,
            "count": s.entry.count,
        }
        for s in result.saved
    ]
    return {
        "complete": True,
        "transactionTime": m.transaction_time,
        "files": files,
        "statusDeleted": result.status_deleted,
    }


def _read_json(path: Path) -> dict[str, Any]:
    try:
        obj = strictjson.loads(path.read_bytes())
    except (OSError, strictjson.JsonInputError) as exc:
        raise BulkError("bulk_io_error", f"cannot read {path}: {exc}") from None
    return obj if isinstance(obj, dict) else {}


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(orjson.dumps(obj, option=orjson.OPT_INDENT_2) + b"\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise BulkError("bulk_io_error", f"cannot write {path}: {exc.strerror}") from None
