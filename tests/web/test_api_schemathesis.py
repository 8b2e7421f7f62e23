"""Schemathesis against the API's own OpenAPI document (/api/v1/openapi.json), in process
through WSGI: requests generated from the document, valid ones and invalid ones, with a real
token and real objects. Every response must be no 5xx and exactly what the document says
(status declared, content type, body schema, headers).

Bounded: CASES_PER_RUN examples per operation and mode (no example database, no shrinking
past the first failure), at least MIN_CASES requests in all, which the test counts and checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clotsafe.web.api import tokens
from clotsafe.web.clients.services import create_link
from tests.web.conftest import dvt_answers

pytestmark = pytest.mark.django_db

MIN_CASES = 2000
CASES_PER_RUN = 60
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> Iterator[None]:
    settings.CLOTSAFE_API_RATE = "1000000/min"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # as Django's test client does: the WSGI handler must not close the test's connection
    # (inside the test transaction; PostgreSQL would lose it at the first request's end)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def real_ids(clinic: Any, make_client: Any) -> dict[str, int]:
    """Path parameters naming real objects of the token's clinic (beside the generated ones)."""
    client = make_client(clinic, "Schema Client", dvt_answers())
    link, _ = create_link(client, by=None)
    return {"client_id": client.pk, "link_id": link.pk, "screening_id": client.latest_screening.pk}


def runs(operation: Any, ids: dict[str, int]) -> list[tuple[GenerationMode, dict[str, int]]]:
    """Generated valid and invalid requests; with real ids too where the path takes one."""
    out = [(GenerationMode.POSITIVE, {}), (GenerationMode.NEGATIVE, {})]
    names = {p.name for p in operation.path_parameters}
    if names:
        out.append((GenerationMode.POSITIVE, {n: ids[n] for n in names}))
    return out


def run(
    operation: Any, mode: GenerationMode, path: dict[str, int], call: Callable[[Any], None]
) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path or None)

    @hsettings(
        max_examples=CASES_PER_RUN,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def test(case: Any) -> None:
        call(case)

    test()


def test_api_conforms_to_its_openapi_document(
    clinic_a: Any, therapist_a: Any, make_client: Any
) -> None:
    """No request, valid or not, gets a server error or an answer outside the document."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    _, secret = tokens.create(therapist_a, name="schemathesis")
    headers = {"Authorization": f"Bearer {secret}"}
    ids = real_ids(clinic_a, make_client)
    counted: dict[str, int] = {}
    statuses: dict[int, int] = {}

    def call(case: Any) -> None:
        key = f"{case.operation.method.upper()} {case.operation.path}"
        counted[key] = counted.get(key, 0) + 1
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode, path in runs(operation, ids):
            run(operation, mode, path, call)
    assert len(counted) == len(operations) >= 14
    assert sum(counted.values()) >= MIN_CASES, counted
    assert statuses.keys() >= {200, 201, 400, 404, 422}, statuses  # real work and real refusals
