"""Django for the CDS Hooks tests that run in process (Django's test client), set up once on the
web app's settings: SQLite, or PostgreSQL when CLOTSAFE_DATABASE_URL is set. A test module
imports it before anything of the web app::

    import cds_django  # noqa: F401  (sets Django up: before the imports below)

and asks for the fixtures of tests/fhir/conftest.py it needs (``keys``; ``cds``, the service's
settings pointing at those keys). Without Django or WeasyPrint (the web extra), the importing
test module is skipped."""

from __future__ import annotations

import os
import tempfile

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clotsafe.web.settings")
os.environ.setdefault("CLOTSAFE_DATA_DIR", tempfile.mkdtemp(prefix="clotsafe-test-"))
os.environ.setdefault("CLOTSAFE_SECRET_KEY", "test-only-not-a-secret")
django = pytest.importorskip("django")
pytest.importorskip("weasyprint")
django.setup()
