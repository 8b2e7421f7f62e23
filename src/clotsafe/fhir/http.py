"""The ONE place where errors of the FHIR/CDS edge become HTTP statuses and JSON bodies."""

from __future__ import annotations

from typing import Any

from clotsafe.fhir.auth import AuthError
from clotsafe.fhir.errors import FhirInputError, FhirServerError, NotJson, PrefetchMissing
from clotsafe.fhir.service import UnknownService

BAD_JSON = 400
TOO_LARGE = 413

#: most specific first
STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (AuthError, 401),
    (UnknownService, 404),
    (NotJson, BAD_JSON),
    (PrefetchMissing, 412),
    (FhirServerError, 412),
    (FhirInputError, 422),
)


def status_for(exc: Exception) -> int:
    for kind, status in STATUSES:
        if isinstance(exc, kind):
            return status
    raise TypeError(f"no HTTP mapping for {type(exc).__name__}")


def error_body(exc: Exception) -> dict[str, Any]:
    """JSON body: ``{"error": code, "message": ..., "errors": [{field, code, message}]}``."""
    if isinstance(exc, AuthError):
        return {"error": "unauthorized", "message": exc.message}
    if isinstance(exc, UnknownService):
        return {"error": "unknown_service", "message": f"no CDS service {exc.args[0]!r}"}
    if isinstance(exc, NotJson):
        return simple_error("invalid_json", "the body is not JSON")
    if isinstance(exc, FhirInputError):
        code = "prefetch_missing" if isinstance(exc, PrefetchMissing) else "invalid_input"
        return {"error": code, "message": str(exc)[:500], **exc.to_dict()}
    return {"error": "error", "message": str(exc)[:500]}


def simple_error(code: str, message: str) -> dict[str, Any]:
    return {"error": code, "message": message}
