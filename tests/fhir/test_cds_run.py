"""What each CDS server worker does at start (issue 10 §4): it answers one call in process,
touching no database, so what loads on first use is loaded before its heap is frozen; then it
freezes the heap and lets the collector's young generation grow to GC_YOUNG."""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clotsafe.web.settings")
os.environ.setdefault("CLOTSAFE_DATA_DIR", tempfile.mkdtemp(prefix="clotsafe-test-"))
os.environ.setdefault("CLOTSAFE_SECRET_KEY", "test-only-not-a-secret")
django = pytest.importorskip("django")
django.setup()

from clotsafe.fhir import service  # noqa: E402
from clotsafe.web.cds import run  # noqa: E402


@pytest.fixture
def gc_restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.django_db  # lets the query counter connect (PostgreSQL); it still asserts none
def test_the_warm_up_call_answers_a_card_without_the_database(
    monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    """A clot on the record: the card path (engine, scores, Markdown) runs, with no query."""
    levels = []
    real = service.handle

    def spy(*args: Any, **kwargs: Any) -> service.HookResult:
        result = real(*args, **kwargs)
        levels.append(result.level)
        return result

    monkeypatch.setattr(service, "handle", spy)
    with django_assert_num_queries(0):
        run._warm()
    assert levels == ["clearance_required"]


@pytest.mark.usefixtures("gc_restored")
def test_a_worker_freezes_its_heap_and_waits_for_gc_young_objects() -> None:
    run._freeze_heap()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == run.GC_YOUNG
