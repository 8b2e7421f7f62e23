"""What every route needs: the caller's token and clinic, objects scoped to that clinic, the
raw JSON body through the engine's strict decoder, and Django form errors in the API's shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Path
from ninja.parser import Parser

from clotsafe.domain import strictjson
from clotsafe.domain.errors import ClotsafeInputError, FieldError
from clotsafe.web.api.errors import ApiError
from clotsafe.web.api.models import ApiToken
from clotsafe.web.clients.models import Client
from clotsafe.web.clinics.models import Clinic

#: the largest id a database key holds (PostgreSQL bigint); a larger one is a 422, not a 500
MAX_ID = 2**63 - 1


def IdPath(description: str) -> Any:
    return Path(..., ge=1, le=MAX_ID, description=description)


class ApiInputError(ClotsafeInputError):
    """A request body the API refuses, with the engine's codes and paths."""


def token(request: HttpRequest) -> ApiToken:
    return cast(ApiToken, request.auth)  # type: ignore[attr-defined]


def clinic(request: HttpRequest) -> Clinic:
    return token(request).clinic


def user(request: HttpRequest) -> User:
    return cast(User, token(request).user)


def client_of(request: HttpRequest, client_id: int) -> Client:
    """The client with this id in the caller's clinic; 404 otherwise (another clinic's too)."""
    return get_object_or_404(
        Client.objects.select_related("latest_screening", "clinic"),
        pk=client_id,
        clinic=clinic(request),
    )


def _body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        raise ApiError(413, "too_large", "the request body is too large") from None


def raw_json(request: HttpRequest) -> bytes:
    """The body as JSON text the engine accepts (see :func:`decode`), for a route that hands
    the text itself on to the engine's parser."""
    raw = _body(request)
    decode(raw)
    return raw


def json_body(request: HttpRequest) -> Any:
    """The body decoded once (see :func:`decode`)."""
    return decode(_body(request))


def decode(raw: bytes) -> Any:
    """JSON through the engine's strict decoder: a repeated key is refused (``duplicate_key``,
    never "the last one wins"), as are NaN, deep nesting, bad UTF-8 and a NUL in any string."""
    try:
        value = strictjson.loads(raw)
    except strictjson.JsonInputError as exc:
        raise ApiInputError(exc.errors) from None
    if b"\\u0000" in raw:  # the only way JSON text can hold a NUL
        refuse_nul(value)
    return value


def refuse_nul(value: Any) -> None:
    """Refuse any string (key or value) holding a NUL: no database column can store one."""
    found = [
        FieldError(path, "not_allowed_value", "a NUL character is not allowed here")
        for path in _nul_paths(value)
    ]
    if found:
        raise ApiInputError(found[:20])


def _nul_paths(value: Any) -> Iterator[str]:
    stack: list[tuple[str, Any]] = [("", value)]  # no recursion: JSON may nest 1,000 deep
    while stack:
        path, v = stack.pop()
        if isinstance(v, str) and "\x00" in v:
            yield path
        elif isinstance(v, dict):
            for k, item in v.items():
                child = f"{path}.{k}" if path else str(k)
                if "\x00" in k:
                    yield child
                stack.append((child, item))
        elif isinstance(v, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(v))


#: Django's form error codes -> the engine's
_FORM_CODES = {
    "required": "missing_field",
    "max_length": "out_of_range",
    "min_length": "missing_field",
    "null_characters_not_allowed": "not_allowed_value",
}


def form_errors(form: forms.BaseForm, *, date_fields: tuple[str, ...] = ()) -> ApiInputError:
    """A Django form's errors as the API's field errors (the same rules as the web pages)."""
    out = []
    for name, errors in form.errors.as_data().items():
        for e in errors:
            code = _FORM_CODES.get(e.code or "")
            if code is None:
                code = (
                    ("bad_date" if e.code == "invalid" else "impossible_date")
                    if name in date_fields
                    else "not_allowed_value"
                )
            message = next(iter(e), "not allowed")
            out.append(FieldError("" if name == "__all__" else name, code, str(message)))
    return ApiInputError(out)


class StrictParser(Parser):
    """ninja's request bodies through :func:`decode` (its errors leave as the engine's)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        value: dict[str, Any] = decode(request.body)
        return value
