"""Django for the CDS Hooks tests that run in process (Django's test client), set up once on the
web app's settings: SQLite, or PostgreSQL when CLOTSAFE_DATABASE_URL is set. Importing it also
provides the two fixtures every such test uses: ``keys``, a key set the service trusts, and
``cds`` (autouse), the service's settings pointing at it::

    import cds_django  # noqa: F401  (sets Django up: before the imports below)

    pytest_plugins = ("cds_django",)  # the fixtures keys and cds

Without Django or WeasyPrint (the web extra), the importing test module is skipped."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clotsafe.web.settings")
os.environ.setdefault("CLOTSAFE_DATA_DIR", tempfile.mkdtemp(prefix="clotsafe-test-"))
os.environ.setdefault("CLOTSAFE_SECRET_KEY", "test-only-not-a-secret")
django = pytest.importorskip("django")
pytest.importorskip("weasyprint")
django.setup()

from cds_live import Keys  # noqa: E402

from clotsafe.web.cds.conf import cds_settings  # noqa: E402


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(autouse=True)
def cds(settings: Any, tmp_path: Any, keys: Keys) -> Iterator[None]:
    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps(keys.jwks()))
    settings.CLOTSAFE_CDS = {"CLOTSAFE_CDS_ISSUERS": str(issuers)}
    cds_settings.cache_clear()
    yield
    cds_settings.cache_clear()
