"""Poll the status URL until the manifest arrives.

- 202: in progress; ``X-Progress`` is shown; the next poll waits ``Retry-After`` (seconds or an
  HTTP date) or, without it, a growing interval; never more than 5 minutes (MAX_WAIT_SECONDS),
  whatever the server asks for.
- 429, 5xx, a network error, or a 4xx whose OperationOutcome is only transient: exponential
  back-off (Retry-After honoured when longer), up to ``max_retries`` in a row.
- 200: the completion manifest (JSON).
- 401/403 (after one new token): ``bulk_token_refused``;
- any other 4xx: the export failed (``bulk_export_failed``, with the OperationOutcome's text).
The whole wait is bounded by ``max_wait`` seconds (some servers take days: the default is 7).
"""

from __future__ import annotations

from typing import Any

import httpx  # type: ignore[import-not-found, unused-ignore]

from clotsafe.domain import strictjson
from clotsafe.fhir.bulk.errors import BulkError, clean
from clotsafe.fhir.bulk.kickoff import outcome_text, transient
from clotsafe.fhir.bulk.progress import Reporter
from clotsafe.fhir.bulk.session import RETRY_STATUSES, Session
from clotsafe.fhir.bulk.timing import MAX_WAIT_SECONDS, Backoff, retry_after

DEFAULT_MAX_WAIT = 7 * 24 * 3600.0
MIN_POLL_SECONDS = 1.0  # a Retry-After of 0 (or a past date) must not make a busy loop
STATUS_HEADERS = {"Accept": "application/json"}


def poll(
    session: Session, status_url: str, reporter: Reporter, max_wait: float = DEFAULT_MAX_WAIT
) -> Any:
    """The manifest JSON once the export is complete."""
    started = session.clock.now()
    interval, errors = Backoff(first=2.0), Backoff()
    while True:
        # network errors are retried (and given up on) inside send; statuses are decided here
        resp = session.send("GET", status_url, auth=True, headers=STATUS_HEADERS, retry=())
        if resp.status_code == 200:
            return _manifest_json(resp)
        if resp.status_code == 202:
            errors.reset()
            wait = _in_progress_wait(resp, interval, session.clock.now())
            reporter.waiting(202, _progress(resp), wait)
            _sleep(session, wait, started, max_wait)
        elif resp.status_code in RETRY_STATUSES or transient(resp):
            wait = session.next_wait(errors, resp, "the status URL", f"HTTP {resp.status_code}")
            reporter.waiting(resp.status_code, None, wait)
            session.clock.sleep(wait)
        elif resp.status_code in (401, 403):
            raise BulkError(
                "bulk_token_refused",
                f"the status URL refused the access token: HTTP {resp.status_code}"
                f"{outcome_text(resp)}",
            )
        else:
            raise BulkError(
                "bulk_export_failed",
                f"the export failed: HTTP {resp.status_code}{outcome_text(resp)}",
            )


def _in_progress_wait(resp: httpx.Response, interval: Backoff, now: float) -> float:
    asked = retry_after(resp.headers.get("Retry-After"), now)
    if asked is not None:
        return max(asked, MIN_POLL_SECONDS)
    return min(interval.next(), MAX_WAIT_SECONDS)


def _progress(resp: httpx.Response) -> str | None:
    value = resp.headers.get("X-Progress")
    return clean(value, 100) if value else None


def _sleep(session: Session, wait: float, started: float, max_wait: float) -> None:
    if session.clock.now() + wait - started > max_wait:
        hours = max_wait / 3600
        raise BulkError(
            "bulk_gave_up",
            f"the export was still in progress after {hours:g} hours "
            "(--max-wait); --resume with the status URL to keep waiting",
        )
    session.clock.sleep(wait)


def _manifest_json(resp: httpx.Response) -> Any:
    try:
        return strictjson.loads(resp.content)
    except strictjson.JsonInputError as exc:
        # a manifest naming "output" twice would silently drop files, and with them patients
        raise BulkError("bulk_bad_manifest", f"the completion manifest: {exc.errors[0]}") from None
