"""The export from kick-off to files on disk, against the in-process fake server and clock.

Protects: a population export that completes on real servers' quirks (405 on POST, a repeated
_type refused, 5-hour Retry-After, 429/503 storms), files that are complete or visibly not,
a resume that fetches only what is missing, and an access token that never leaves the server.
"""

from __future__ import annotations

import email.utils
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from bulk_fake import (
    BASE,
    FILES,
    STATUS,
    FakeBulkServer,
    FakeClock,
    ServedFile,
    gz,
    ndjson,
)

from clotsafe.fhir.bulk.errors import BulkError
from clotsafe.fhir.bulk.export import run_export
from clotsafe.fhir.bulk.kickoff import ExportRequest
from clotsafe.fhir.bulk.progress import Reporter
from clotsafe.fhir.bulk.session import check_url
from clotsafe.fhir.bulk.timing import MAX_WAIT_SECONDS


class Recorder(Reporter):
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def waiting(self, status: int, progress: str | None, seconds: float) -> None:
        self.events.append(("waiting", status, progress, seconds))

    def file_done(self, name: str, lines: int, skipped: bool) -> None:
        self.events.append(("done", name, lines, skipped))

    def file_failed(self, name: str, message: str) -> None:
        self.events.append(("failed", name, message))


def run(server: FakeBulkServer, opts: Any, clock: FakeClock, rep: Reporter | None = None) -> Any:
    return run_export(opts, http=server.client(), clock=clock, reporter=rep)


def fails(server: FakeBulkServer, opts: Any, clock: FakeClock) -> BulkError:
    with pytest.raises(BulkError) as err:
        run(server, opts, clock)
    return err.value


# -- kick-off -----------------------------------------------------------------------------------
def test_post_kickoff_sends_parameters_with_one_type_value(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """POST Group/g1/$export: Prefer respond-async, fhir+json, _type once comma-separated."""
    req = ExportRequest(
        group="g1",
        patients=(),
        types=("Patient", "Condition"),
        since="2026-01-01T00:00:00Z",
        type_filters=("Condition?clinical-status=active,recurrence",),
    )
    run(server, options(request=req), clock)
    (k,) = server.kickoffs
    assert (k.method, str(k.url)) == ("POST", f"{BASE}/Group/g1/$export")
    assert k.headers["Prefer"] == "respond-async"
    assert k.headers["Accept"] == "application/fhir+json"
    params = json.loads(k.content)["parameter"]
    assert [p for p in params if p["name"] == "_type"] == [
        {"name": "_type", "valueString": "Patient,Condition"}
    ]
    assert {"name": "_since", "valueInstant": "2026-01-01T00:00:00Z"} in params
    assert {
        "name": "_typeFilter",
        "valueString": "Condition?clinical-status=active,recurrence",
    } in params


def test_patient_kickoff_sends_patient_references(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """Listed patients: POST Patient/$export with one patient Reference parameter each."""
    req = ExportRequest(group=None, patients=("p1", "p2"), types=("Patient",))
    run(server, options(request=req), clock)
    (k,) = server.kickoffs
    assert str(k.url) == f"{BASE}/Patient/$export"
    refs = [
        p["valueReference"] for p in json.loads(k.content)["parameter"] if p["name"] == "patient"
    ]
    assert refs == [{"reference": "Patient/p1"}, {"reference": "Patient/p2"}]


def test_405_on_post_falls_back_to_get_with_query_parameters(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """A server without POST kick-off (405): GET with _type ONE value, _typeFilter repeated."""
    server.post_allowed = False
    req = ExportRequest(
        group="g1",
        patients=(),
        types=("Patient", "Condition"),
        since="2026-01-01T00:00:00+01:00",
        type_filters=("A?x=1", "B?y=2"),
    )
    run(server, options(request=req), clock)
    post, get = server.kickoffs
    assert (post.method, get.method) == ("POST", "GET")
    query = parse_qsl(get.url.query.decode())
    assert [v for k, v in query if k == "_type"] == ["Patient,Condition"]
    assert [v for k, v in query if k == "_typeFilter"] == ["A?x=1", "B?y=2"]
    assert ("_since", "2026-01-01T00:00:00+01:00") in query
    assert get.headers["Prefer"] == "respond-async"


def test_405_with_patients_is_a_clear_error(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """Patient references cannot go in a GET: bulk_post_unsupported, not a silent full export."""
    server.post_allowed = False
    req = ExportRequest(group=None, patients=("p1",), types=("Patient",))
    err = fails(server, options(request=req), clock)
    assert err.code == "bulk_post_unsupported"
    assert [k.method for k in server.kickoffs] == ["POST"]


def test_status_url_on_another_origin_gets_no_token(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """A Content-Location off the FHIR server's origin is refused before any request to it."""
    server.content_location = "https://evil.example.net/status/1"
    err = fails(server, options(), clock)
    assert err.code == "bulk_off_origin"
    assert server.sent_to("https://evil.example.net") == []


def test_relative_content_location_is_resolved(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """A relative Content-Location is resolved against the kick-off URL."""
    server.location_header = "/fhir/bulkstatus/job-1"
    result = run(server, options(), clock)
    assert result.status_url == STATUS


def test_kickoff_network_error_after_sending_is_not_retried(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """A read timeout after the POST may have started an export: no second kick-off."""

    def timeout(request: httpx.Request) -> httpx.Response:
        server.kickoffs.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    server._kickoff = timeout  # type: ignore[method-assign]
    err = fails(server, options(), clock)
    assert err.code == "bulk_kickoff_failed" and "may have started" in err.message
    assert len(server.kickoffs) == 1


def test_revoked_token_gets_one_new_token(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """A 401 (token revoked on the server) makes the client fetch a new token and go on."""
    server.revoke_at_kickoff = True
    result = run(server, options(), clock)
    assert server.unauthorized == 1 and result.tokens_fetched == 2 and server.deleted


# -- polling ------------------------------------------------------------------------------------
def test_retry_after_seconds_and_x_progress(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """202 with Retry-After 10 and X-Progress: the client waits 10 s and reports the progress."""
    rep = Recorder()
    run(server, options(), clock, rep)
    assert ("waiting", 202, "40% done", 10.0) in rep.events
    assert clock.sleeps[0] == 10.0


def test_retry_after_http_date(server: FakeBulkServer, options: Any, clock: FakeClock) -> None:
    """Retry-After as an HTTP date 90 s ahead waits 90 s; 0 or a past date waits 1 s."""
    when = email.utils.formatdate(clock.now() + 90, usegmt=True)
    past = email.utils.formatdate(clock.now() - 900, usegmt=True)
    server.status_script = [
        (202, {"Retry-After": when}),
        (202, {"Retry-After": "0"}),
        (202, {"Retry-After": past}),
    ]
    run(server, options(), clock)
    assert clock.sleeps[0] == pytest.approx(90, abs=1)
    assert clock.sleeps[1:] == [1.0, 1.0]


def test_five_hour_retry_after_is_capped_at_five_minutes(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """A server asking for 5 hours is polled again after 5 minutes (some exports finish early)."""
    server.status_script = [
        (202, {"Retry-After": "18000"}),
        (202, {"Retry-After": email.utils.formatdate(clock.now() + 18000, usegmt=True)}),
    ]
    run(server, options(), clock)
    assert clock.sleeps[:2] == [MAX_WAIT_SECONDS, MAX_WAIT_SECONDS] == [300.0, 300.0]


def test_429_and_503_back_off_exponentially(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """429, 429, 503: waits 1, 2, 4 s; a 503's longer Retry-After is honoured; 202 resets."""
    server.status_script = [
        (429, {}),
        (429, {}),
        (503, {}),
        (503, {"Retry-After": "30"}),
        (202, {"Retry-After": "5"}),
        (503, {}),
    ]
    rep = Recorder()
    run(server, options(), clock, rep)
    assert clock.sleeps == [1.0, 2.0, 4.0, 30.0, 5.0, 1.0]
    assert [e[1] for e in rep.events if e[0] == "waiting"] == [429, 429, 503, 503, 202, 503]


def test_status_refusing_the_token_is_bulk_token_refused(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """403 at the status URL (after one new token): the token is refused, not 'export failed'."""
    server.status_script = [(403, {})]
    assert fails(server, options(), clock).code == "bulk_token_refused"


def test_endless_5xx_gives_up(server: FakeBulkServer, options: Any, clock: FakeClock) -> None:
    """A server that keeps failing: bulk_gave_up after --max-retries, the status URL kept."""
    server.status_script = [(500, {})] * 10
    err = fails(server, options(max_retries=3), clock)
    assert err.code == "bulk_gave_up" and not server.deleted
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_4xx_operation_outcome_is_a_clear_error(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """The export failed on the server: its OperationOutcome text (control chars removed)."""
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "processing",
                "diagnostics": "export job failed:\x1b[31m disk full",
            }
        ],
    }
    server.status_script = [(400, {}, outcome)]
    err = fails(server, options(), clock)
    assert err.code == "bulk_export_failed"
    assert "HTTP 400: export job failed: [31m disk full" in err.message
    assert "\x1b" not in err.message


def test_transient_outcome_is_retried(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """A 4xx whose OperationOutcome is 'transient' is a polling hiccup, not a failed export."""
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "transient"}],
    }
    server.status_script = [(404, {}, outcome)]
    run(server, options(), clock)
    assert server.deleted


def test_max_wait_bounds_the_whole_export(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """An export still running after --max-wait: bulk_gave_up saying how to keep waiting."""
    server.status_script = [(202, {"Retry-After": "300"})] * 100
    err = fails(server, options(max_wait=3600.0), clock)
    assert err.code == "bulk_gave_up" and "--resume" in err.message
    assert sum(clock.sleeps) <= 3600


# -- files --------------------------------------------------------------------------------------
def test_files_saved_with_manifest_and_status_deleted_last(
    server: FakeBulkServer, options: Any, clock: FakeClock, tmp_path: Path
) -> None:
    """<Type>.<n>.ndjson per output file, manifest.json as sent, DELETE after the last file."""
    result = run(server, options(), clock)
    out = tmp_path / "export"
    assert sorted(p.name for p in out.iterdir()) == [
        "Condition.1.ndjson",
        "Condition.2.ndjson",
        "Patient.1.ndjson",
        "export.json",
        "manifest.json",
    ]
    assert (out / "Condition.2.ndjson").read_bytes() == ndjson("Condition", 2, "b")
    assert json.loads((out / "manifest.json").read_text())["transactionTime"] == (
        "2026-11-30T06:00:00Z"
    )
    assert server.requests[-1].method == "DELETE" and str(server.requests[-1].url) == STATUS
    assert result.status_deleted
    state = json.loads((out / "export.json").read_text())
    assert state["complete"] and state["statusUrl"] == STATUS
    assert [f["lines"] for f in state["files"]] == [3, 4, 2]


def test_gzip_transfer_and_gzip_content(
    server: FakeBulkServer, options: Any, clock: FakeClock, tmp_path: Path
) -> None:
    """Content-Encoding gzip is decoded into .ndjson; gzip content is kept as .ndjson.gz."""
    body = ndjson("Observation", 5)
    server.files = [
        ServedFile(
            "output", "Observation", f"{BASE}/f/o1", gz(body), 5, {"Content-Encoding": "gzip"}
        ),
        ServedFile(
            "output",
            "Observation",
            f"{BASE}/f/o2.ndjson.gz",
            gz(body),
            5,
            {"Content-Type": "application/gzip"},
        ),
    ]
    run(server, options(), clock)
    out = tmp_path / "export"
    assert (out / "Observation.1.ndjson").read_bytes() == body
    assert (out / "Observation.2.ndjson.gz").read_bytes() == gz(body)
    assert all(r.headers.get("Accept-Encoding") == "gzip" for r in server.sent_to(f"{BASE}/f/"))


def test_count_mismatch_keeps_part_and_the_export(
    server: FakeBulkServer, options: Any, clock: FakeClock, tmp_path: Path
) -> None:
    """3 lines where the manifest says 4: bulk_count_mismatch, .part kept, no DELETE."""
    server.files[1].body = ndjson("Condition", 3)
    err = fails(server, options(), clock)
    assert err.code == "bulk_count_mismatch" and "3 lines, the manifest says 4" in err.message
    out = tmp_path / "export"
    assert (out / "Condition.1.ndjson.part").exists()
    assert not (out / "Condition.1.ndjson").exists()
    assert (out / "Condition.2.ndjson").exists()
    assert not server.deleted


def test_interrupted_download_then_resume_fetches_only_that_file(
    server: FakeBulkServer, options: Any, clock: FakeClock, tmp_path: Path
) -> None:
    """A dropped connection (past the retries) leaves .part; --resume downloads only that one."""
    server.files[1].break_times = 2
    err = fails(server, options(max_retries=1), clock)
    assert err.code == "bulk_download_failed" and "--resume" in err.message
    out = tmp_path / "export"
    assert (out / "Condition.1.ndjson.part").exists()
    assert (out / "Patient.1.ndjson").exists() and (out / "Condition.2.ndjson").exists()
    assert not server.deleted
    server.requests.clear()
    rep = Recorder()
    result = run(server, options(resume=STATUS), clock, rep)
    assert server.kickoffs[1:] == []  # no second kick-off
    assert server.file_gets() == [f"{BASE}/files/c1.ndjson"]
    assert (out / "Condition.1.ndjson").read_bytes() == ndjson("Condition", 4)
    assert not (out / "Condition.1.ndjson.part").exists()
    assert ("done", "Patient.1.ndjson", 3, True) in rep.events
    assert server.deleted and result.status_deleted


def test_a_dropped_connection_is_retried_from_the_start(
    server: FakeBulkServer, options: Any, clock: FakeClock, tmp_path: Path
) -> None:
    """One drop within the retry budget: the file is fetched again whole, lines correct."""
    server.files[0].break_times = 1
    run(server, options(), clock)
    assert (tmp_path / "export" / "Patient.1.ndjson").read_bytes() == ndjson("Patient", 3)


def test_resume_refuses_another_exports_dir(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """--resume into a DIR holding a different export (other transactionTime) is refused."""
    server.files[0].break_times = 9
    fails(server, options(max_retries=0), clock)
    server.manifest_extra = {"transactionTime": "2026-12-01T00:00:00Z"}
    err = fails(server, options(resume=STATUS), clock)
    assert err.code == "bulk_resume_mismatch"


def test_a_fresh_export_into_a_used_dir_is_refused(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """No silent mixing of two exports' files in one DIR."""
    run(server, options(), clock)
    err = fails(server, options(), clock)
    assert err.code == "bulk_bad_option" and "--resume" in err.message


def test_error_and_deleted_files_kept_and_counted(
    server: FakeBulkServer, options: Any, clock: FakeClock, tmp_path: Path
) -> None:
    """The server's error OperationOutcomes land in error/, deleted entries in deleted/."""
    server.files += [
        ServedFile(
            "error", "OperationOutcome", f"{BASE}/files/err1", ndjson("OperationOutcome", 2)
        ),
        ServedFile("deleted", "Bundle", f"{BASE}/files/del1", ndjson("Bundle", 1), 1),
    ]
    result = run(server, options(), clock)
    out = tmp_path / "export"
    assert (out / "error" / "OperationOutcome.1.ndjson").read_bytes() == ndjson(
        "OperationOutcome", 2
    )
    assert (out / "deleted" / "Bundle.1.ndjson").exists()
    from clotsafe.fhir.bulk.summary import summary

    s = summary(result, out)
    assert s["error"] == {"files": ["error/OperationOutcome.1.ndjson"], "lines": 2}
    assert s["deleted"] == {"files": ["deleted/Bundle.1.ndjson"], "lines": 1}
    assert s["output"]["Condition"] == {"files": 2, "resources": 6}


def test_manifest_type_cannot_escape_dir(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """A manifest type such as '../x' is refused (it would become a file name)."""
    server.files[0].type = "../../etc/x"
    err = fails(server, options(), clock)
    assert err.code == "bulk_bad_manifest" and "output[0].type" in err.message


# -- where the token goes -------------------------------------------------------------------------
def test_file_on_another_host_gets_no_token(
    server: FakeBulkServer, options: Any, clock: FakeClock, tmp_path: Path
) -> None:
    """requiresAccessToken, but the file is on another host: no Authorization header sent."""
    server.files.append(
        ServedFile("output", "Procedure", f"{FILES}/pr1.ndjson", ndjson("Procedure", 2), 2)
    )
    run(server, options(), clock)
    (other,) = server.sent_to(FILES)
    assert "Authorization" not in other.headers
    home = [r for r in server.sent_to(f"{BASE}/files/")]
    assert home and all(r.headers["Authorization"].startswith("Bearer ") for r in home)
    assert (tmp_path / "export" / "Procedure.1.ndjson").exists()


def test_redirect_off_origin_drops_the_token(
    server: FakeBulkServer, options: Any, clock: FakeClock, tmp_path: Path
) -> None:
    """A file at home that redirects to another host: token to the first, not to the second."""
    target = f"{FILES}/signed/c1.ndjson?X-Amz-Signature=abc"
    server.files[1].redirect_to = target
    server.files.append(ServedFile("output", "Condition", target, ndjson("Condition", 4), 4))
    server.files[-1].kind = "hidden"  # served, but not in the manifest
    run(server, options(), clock)
    first = [r for r in server.requests if str(r.url) == f"{BASE}/files/c1.ndjson"]
    (second,) = server.sent_to(FILES)
    assert first[0].headers["Authorization"].startswith("Bearer ")
    assert "Authorization" not in second.headers
    assert (tmp_path / "export" / "Condition.1.ndjson").read_bytes() == ndjson("Condition", 4)


def test_multi_member_gzip_counted_and_truncated_gzip_refused(
    server: FakeBulkServer, options: Any, clock: FakeClock, tmp_path: Path
) -> None:
    """Concatenated gzip members count every line; gzip content cut short is not 'complete'."""
    a, b = ndjson("Condition", 3), ndjson("Condition", 1, "z")
    server.files[1].body, server.files[1].count = gz(a) + gz(b), 4
    server.files[2].body = gz(a)[:-6]
    err = fails(server, options(), clock)
    out = tmp_path / "export"
    assert (out / "Condition.1.ndjson.gz").read_bytes() == gz(a) + gz(b)
    assert (
        err.code == "bulk_download_failed" and "Condition.2.ndjson: not valid gzip" in err.message
    )
    assert not (out / "Condition.2.ndjson.gz").exists()


def test_corrupt_gzip_is_a_download_failure(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """Content-Encoding gzip with bytes that are not gzip: bulk_download_failed, no DELETE."""
    server.files[0].headers = {"Content-Encoding": "gzip"}
    err = fails(server, options(), clock)
    assert err.code == "bulk_download_failed" and "gzip" in err.message
    assert not server.deleted


def test_no_token_to_files_when_the_manifest_does_not_require_it(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """requiresAccessToken false: files are fetched without Authorization, even at home."""
    server.requires_access_token = False
    run(server, options(), clock)
    assert all("Authorization" not in r.headers for r in server.sent_to(f"{BASE}/files/"))


def test_token_never_sent_off_origin_and_assertion_only_to_token_endpoint(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """Every request with a bearer token went to the FHIR server's origin."""
    server.files.append(
        ServedFile("output", "Procedure", f"{FILES}/pr1.ndjson", ndjson("Procedure", 1))
    )
    run(server, options(), clock)
    for r in server.requests:
        if "Authorization" in r.headers:
            assert str(r.url).startswith(BASE + "/")
        if b"client_assertion=" in (r.content or b""):
            assert str(r.url) == "https://auth.example.org/oauth/token"


def test_plain_http_fhir_server_refused_unless_loopback(options: Any, clock: FakeClock) -> None:
    """http:// is refused for a remote server (credentials in clear) before any request."""
    with pytest.raises(BulkError) as err:
        run_export(options(fhir_server="http://ehr.example.org/fhir"), clock=clock)
    assert err.value.code == "bulk_insecure_url"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/fhir", "http://localhost/fhir", "http://[::1]:9/fhir"]
)
def test_plain_http_allowed_to_this_machine(url: str) -> None:
    """Local test servers may use http on loopback."""
    assert check_url(url, "--fhir-server") == url


def test_url_errors_never_show_a_query_string() -> None:
    """A pre-signed URL's signature (its query string) stays out of messages."""
    with pytest.raises(BulkError) as err:
        check_url("http://files.example.org/x.ndjson?X-Amz-Signature=s3cr3t", "a file")
    assert err.value.code == "bulk_insecure_url" and "s3cr3t" not in str(err.value)
    with pytest.raises(BulkError) as err:
        check_url("ftp://files.example.org/x?sig=s3cr3t", "a file")
    assert err.value.code == "bulk_bad_option" and "s3cr3t" not in str(err.value)
