"""tests/fhir needs the `fhir` and `test-fhir` extras (pip install -e ".[test,fhir,test-fhir]").

Without them the tests here are skipped (collection ignored, with a printed reason) rather than
failing at import; without Django or waitress only the live HTTP tests are.
"""

from __future__ import annotations

import importlib.util

import pytest

# the in-process CDS tests' Django set-up and fixtures (a module they import, then name in
# pytest_plugins): registered here, before they import it, so pytest does not warn about it
pytest.register_assert_rewrite("cds_django")


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
