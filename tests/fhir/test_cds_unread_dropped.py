"""The hook view leaves out the prefetched Conditions the service passes over as soon as the
body has been checked (issue 10 §4: ~170 of a Synthea record's 174 Conditions are then freed
at once instead of being held for the whole call, which costs CPU with 8 calls in flight).
It changes no answer: the service is handed exactly what it would have read after its own
filter, the card is the same as the service gives for the untouched body, and a body the
filter does not apply to is passed on as it came."""

from __future__ import annotations

import json
from typing import Any

import cds_django  # noqa: F401  (sets Django up: before the imports below)
import pytest
from cds_live import Keys
from tests.fhir.test_cds_body_json import full_hook, post

from clotsafe.fhir import service
from clotsafe.fhir.service import unread_conditions_dropped
from clotsafe.web.cds import views

# the fixtures keys and cds: tests/fhir/conftest.py
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cds")]


def _answer(resp: Any) -> tuple[int, Any]:
    """Status and JSON, without what is new on every call (a card's uuid, the sealed token in
    its letter link)."""
    data = resp.json()
    for card in data.get("cards", []):
        card["uuid"] = None
        card["links"] = [link["label"] for link in card.get("links", [])]
    return resp.status_code, data


def _both(client: Any, keys: Keys, monkeypatch: pytest.MonkeyPatch, raw: bytes) -> list[Any]:
    """The answers to ``raw`` with the view's early filter, then without it."""
    with_filter = _answer(post(client, keys, raw))
    with monkeypatch.context() as m:
        m.setattr(views, "_unread_dropped", lambda body: body)
        without = _answer(post(client, keys, raw))
    return [with_filter, without]


def test_the_view_hands_the_service_what_its_own_filter_leaves(
    client: Any, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body ``handle`` receives is the body with the service's own filter applied once
    (unread Conditions as ``{}``, every path unchanged), and applying it again changes
    nothing; the answer is the one given without the view's filter."""
    hook = full_hook()
    seen: list[Any] = []
    real = service.handle

    def spy(service_id: str, body: Any, **kwargs: Any) -> service.HookResult:
        seen.append(body)
        return real(service_id, body, **kwargs)

    monkeypatch.setattr(views, "handle", spy)
    raw = json.dumps(hook).encode()
    answers = _both(client, keys, monkeypatch, raw)
    assert answers[0] == answers[1] and answers[0][0] == 200
    handed, untouched = seen
    pid = hook["context"]["patientId"]
    assert untouched == hook
    assert handed == {**hook, "prefetch": unread_conditions_dropped(hook["prefetch"], pid)}
    assert list(handed) == list(hook)
    entries = handed["prefetch"]["conditions"]["entry"]
    assert len(entries) == len(hook["prefetch"]["conditions"]["entry"])
    assert sum(1 for e in entries if e == {}) > 150
    assert unread_conditions_dropped(handed["prefetch"], pid) == handed["prefetch"]


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        "text",
        {"hook": "patient-view", "context": {"patientId": 7}, "prefetch": {"conditions": {}}},
        {"hook": "patient-view", "context": "p1", "prefetch": {}},
        {"hook": "patient-view", "context": {"patientId": "p1"}, "prefetch": None},
        {"hook": "patient-view", "context": {"patientId": "p1"}},
    ],
)
def test_a_body_the_filter_does_not_apply_to_is_passed_on_as_it_came(body: Any) -> None:
    assert views._unread_dropped(body) is body


def _variant(name: str) -> dict[str, Any]:
    hook = full_hook()
    entries = hook["prefetch"]["conditions"]["entry"]
    extra = json.loads(json.dumps(entries[5]))
    if name == "another patient's":  # the service stops the call (422)
        extra["resource"]["subject"] = {"reference": "Patient/someone-else"}
    elif name == "unknown system":  # the card warns about it
        extra["resource"]["code"]["coding"][0]["system"] = "http://example.org/local-codes"
    elif name == "wrong hook":  # refused before the prefetch is read
        hook["hook"] = "order-select"
    elif name == "bad context":  # a 422 naming context.selections
        hook["context"]["selections"] = 5
    entries.append(extra)
    return hook


@pytest.mark.parametrize(
    "name", ["another patient's", "unknown system", "wrong hook", "bad context"]
)
def test_answers_are_the_same_with_and_without_the_views_filter(
    client: Any, keys: Keys, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A Condition about another patient, one from an unknown code system, a wrong hook, a
    context of the wrong type: the same status and JSON whether or not the view left the
    unread Conditions out first."""
    raw = json.dumps(_variant(name)).encode()
    with_filter, without = _both(client, keys, monkeypatch, raw)
    assert with_filter == without
    status, data = with_filter
    if name == "unknown system":
        assert status == 200 and "example.org" in data["cards"][0]["detail"]
    else:
        assert status == 422, data
