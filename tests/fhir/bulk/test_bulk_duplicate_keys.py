"""A bulk export's JSON from the server is decoded like every other input (POLICY 1.1 §8.1): a
completion manifest naming ``output`` twice would keep only the last list of files, and the
patients in the others would silently never be screened."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from bulk_fake import FakeBulkServer, FakeClock

from clotsafe.fhir.bulk.errors import BulkError
from clotsafe.fhir.bulk.export import run_export


def test_a_manifest_with_a_repeated_key_is_refused(
    server: FakeBulkServer, options: Any, clock: FakeClock
) -> None:
    """The export stops with bulk_bad_manifest naming the repeated key; no file is taken
    from a manifest that says two things, and the status URL is kept for a retry."""
    real = server.handle

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and "status" in str(request.url):
            m = server.manifest()
            first = orjson.dumps(m["output"][:1]).decode()
            rest = orjson.dumps(m["output"][1:]).decode()
            body = orjson.dumps(m).decode().replace(
                '"output":', f'"output":{first},"output":', 1
            ).replace(f'"output":{first},"output":{orjson.dumps(m["output"]).decode()}',
                      f'"output":{first},"output":{rest}')  # fmt: skip
            return httpx.Response(200, content=body.encode(), headers={"content-type": "json"})
        return real(request)

    server.handle = handle  # type: ignore[method-assign]
    with pytest.raises(BulkError) as err:
        run_export(options(), http=server.client(), clock=clock, reporter=None)
    assert err.value.code == "bulk_bad_manifest"
    assert "output" in str(err.value) and "more than once" in str(err.value)
    assert not server.deleted
