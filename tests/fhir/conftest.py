"""tests/fhir needs the `fhir` and `test-fhir` extras (pip install -e ".[test,fhir,test-fhir]").

Without them every test here is skipped with that reason rather than failing at import.
"""

from __future__ import annotations

import importlib.util

NEEDED = ("fhir.resources", "jwt", "httpx", "cryptography")
MISSING = [
    m
    for m in NEEDED
    if importlib.util.find_spec(m.split(".")[0]) is None
    or (m == "fhir.resources" and importlib.util.find_spec("fhir.resources") is None)
]

collect_ignore_glob = ["test_*.py"] if MISSING else []
if MISSING:
    print(
        f"tests/fhir skipped: missing {', '.join(MISSING)}; "
        'install with pip install -e ".[test,fhir,test-fhir]"'
    )
