"""Every error of the API as JSON in the engine's shape (docs/errors.md, docs/api.md):

    {"errors": [{"field": "answers.age", "code": "wrong_type", "message": "...", "got": "58"}]}

Input errors keep the engine's codes and paths; the API adds a few codes of its own
(:data:`API_ERROR_CODES`) for what is not about a field: no token, not found, too many calls.
This module is the one place that maps errors to HTTP statuses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from clotsafe.domain.errors import ClotsafeInputError, FieldError

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger("django.request")

#: the API's own codes (the engine's are in clotsafe.domain.errors.ERROR_CODES)
API_ERROR_CODES: dict[str, str] = {
    "unauthorized": "no API token, or one that is unknown, revoked or whose user left the clinic",
    "not_found": "no such object in the token's clinic (or no such API route)",
    "method_not_allowed": "the route exists but not with this HTTP method",
    "link_closed": "the intake link is submitted, revoked or expired: make a new one",
    "too_large": "the request body is larger than the server accepts",
    "rate_limited": "too many calls with this token: wait the seconds in Retry-After",
    "bad_request": "a request the API cannot read at all",
    "mail_failed": "the mail server did not take the e-mail (the link is made: send it again)",
    "server_error": "a fault in clotsafe or a service it needs (logged for the operator)",
}
#: malformed bodies are 400 (not JSON, a repeated key, not an object at the top); JSON with
#: wrong fields is 422
MALFORMED = frozenset({"invalid_json", "duplicate_key"})
_GOT_MAX = 80


def body(errors: Iterable[FieldError]) -> dict[str, Any]:
    return {"errors": [e.to_dict() for e in errors]}


def one(code: str, message: str, field: str = "") -> dict[str, Any]:
    return body([FieldError(field, code, message)])


def input_status(errors: Iterable[FieldError]) -> int:
    malformed = any(e.code in MALFORMED or (e.code == "not_an_object" and not e.field)
                    for e in errors)  # fmt: skip
    return 400 if malformed else 422


class ApiError(Exception):
    """An error a route raises with its status and code (not about one input field)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# --- ninja's validation errors in the engine's shape ---------------------------------------

_PYDANTIC_CODES = {
    "missing": "missing_field",
    "extra_forbidden": "unknown_field",
    "literal_error": "not_allowed_value",
    "enum": "not_allowed_value",
    "string_pattern_mismatch": "not_allowed_value",
    "greater_than": "out_of_range",
    "greater_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "less_than_equal": "out_of_range",
    "string_too_long": "out_of_range",
    "string_too_short": "missing_field",
    "too_long": "out_of_range",
    "too_short": "missing_field",
    "date_from_datetime_parsing": "bad_date",
    "date_from_datetime_inexact": "bad_date",
    "date_parsing": "bad_date",
    "date_type": "bad_date",
}


def field_path(loc: Iterable[Any]) -> str:
    """``("body", "payload", "clots", 0, "kind")`` -> ``clots[0].kind`` (the engine's style)."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[2:] if parts[0] == "body" and len(parts) > 1 else parts[1:]
    out = ""
    for p in parts:
        if p == "[key]":  # pydantic's marker for a dict key that failed: the path names the key
            continue
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def from_pydantic(err: Mapping[str, Any]) -> FieldError:
    kind = str(err.get("type", ""))
    code = _PYDANTIC_CODES.get(kind)
    if code is None:
        code = "wrong_type" if kind.endswith(("_type", "_parsing")) else "not_allowed_value"
    return FieldError(field_path(err.get("loc", ())), code, _message(err), _got(err, code))


def _message(err: Mapping[str, Any]) -> str:
    msg = str(err.get("msg", "not allowed")).removeprefix("Value error, ")
    return msg[0].lower() + msg[1:] if msg else msg


def _got(err: Mapping[str, Any], code: str) -> Any:
    value = err.get("input")
    if code == "missing_field" or isinstance(value, (dict, list)) or value is None:
        return None
    if isinstance(value, str):
        return value if len(value) <= _GOT_MAX and "\x00" not in value else None
    return value if isinstance(value, (bool, int, float)) and abs(value) < 1e15 else None


# --- exception handlers: one place maps errors to statuses ----------------------------------


Respond = Callable[[HttpRequest, int, dict[str, Any]], HttpResponse]


def install(api: NinjaAPI) -> None:
    """Replace ninja's default handlers: every error leaves as JSON in the shape above."""

    def respond(request: HttpRequest, status: int, data: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, data, status=status)

    def on_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 422, body(from_pydantic(e) for e in exc.errors))

    def on_input(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, input_status(exc.errors), exc.to_dict())

    def on_api(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, exc.status, one(exc.code, exc.message))

    def on_auth(request: HttpRequest, exc: Any) -> HttpResponse:
        response = respond(request, 401, one("unauthorized", UNAUTHORIZED, "Authorization"))
        response["WWW-Authenticate"] = 'Bearer realm="clotsafe"'
        return response

    def on_404(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 404, one("not_found", "there is no such object in your clinic"))

    def on_http(request: HttpRequest, exc: Any) -> HttpResponse:
        return http_error(request, exc, respond)

    def on_crash(request: HttpRequest, exc: Any) -> HttpResponse:
        """A bug: logged with its traceback for the operator; the caller gets JSON without it
        (ninja would answer the traceback itself with DEBUG on)."""
        logger.error("API error: %s %s", request.method, request.path, exc_info=exc)
        return respond(request, 500, one("server_error", SERVER_ERROR))

    api.add_exception_handler(Exception, on_crash)
    api.add_exception_handler(ValidationError, on_validation)
    api.add_exception_handler(ClotsafeInputError, on_input)
    api.add_exception_handler(ApiError, on_api)
    api.add_exception_handler(AuthenticationError, on_auth)
    api.add_exception_handler(Http404, on_404)
    api.add_exception_handler(HttpError, on_http)


UNAUTHORIZED = (
    "a valid API token is required: send the header 'Authorization: Bearer <token>' "
    "(tokens: `clotsafe api-token create`)"
)


def http_error(request: HttpRequest, exc: HttpError, respond: Respond) -> HttpResponse:
    """ninja's own HttpErrors: a body it could not parse (with the decoder's errors), throttling."""
    cause = exc.__cause__
    if isinstance(cause, ClotsafeInputError):
        return respond(request, input_status(cause.errors), cause.to_dict())
    if isinstance(cause, RequestDataTooBig):
        return respond(request, 413, one("too_large", "the request body is too large"))
    if isinstance(exc, Throttled):
        return respond(request, 429, one("rate_limited", RATE_LIMITED))
    return respond(request, exc.status_code, one("bad_request", str(exc)))


SERVER_ERROR = "something went wrong on the server (it is logged): check the state before retrying"
RATE_LIMITED = "too many calls with this API token: wait the seconds in the Retry-After header"
