"""tests/fhir needs the `fhir` and `test-fhir` extras (pip install -e ".[test,fhir,test-fhir]").

Without them the tests here are skipped (collection ignored, with a printed reason) rather than
failing at import; without Django or waitress only the live HTTP tests are.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from typing import Any

import pytest


def _missing(*modules: str) -> list[str]:
    out = []
    for m in modules:
        try:
            found = importlib.util.find_spec(m) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            out.append(m)
    return out


MISSING = _missing("fhir.resources", "jwt", "httpx", "cryptography")
MISSING_WEB = _missing("django", "waitress")

collect_ignore_glob = ["test_*.py"] if MISSING else []
if MISSING_WEB:
    collect_ignore_glob.append("test_fhir_cds_live.py")
if MISSING or MISSING_WEB:
    print(
        f"tests/fhir partly skipped: missing {', '.join(MISSING + MISSING_WEB)}; "
        'install with pip install -e ".[test,fhir,test-fhir]"'
    )


@pytest.fixture(scope="module")
def keys() -> Any:
    """A key set for signing hook JWTs (``cds_live.Keys``)."""
    from cds_live import Keys

    return Keys()


@pytest.fixture
def cds(settings: Any, tmp_path: Any, keys: Any) -> Iterator[None]:
    """The CDS service's settings trusting ``keys`` (in-process tests: ``cds_django``)."""
    from clotsafe.web.cds.conf import cds_settings

    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps(keys.jwks()))
    settings.CLOTSAFE_CDS = {"CLOTSAFE_CDS_ISSUERS": str(issuers)}
    cds_settings.cache_clear()
    yield
    cds_settings.cache_clear()
