"""The JSON API for integrators, under /api/v1/ (docs/api.md).

Every API call is audited here, in one place, with its outcome (who, which route, the status):
each route's view is wrapped before it is mounted. The token revoke view of the Team page
lives here too, as a plain Django view (session login, CSRF)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver, path, re_path
from django.views.decorators.csrf import csrf_exempt

from clotsafe.web.api import errors, views
from clotsafe.web.api.api import api
from clotsafe.web.api.models import ApiToken
from clotsafe.web.audit.services import log

#: not API calls on data: the OpenAPI document (public) and ninja's root
UNAUDITED = frozenset({"openapi-json", "api-root"})


def audited(view: Callable[..., HttpResponseBase], name: str) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            response = view(request, *args, **kwargs)
        except Exception:  # Django turns it into a 500: the call is still in the log
            _audit(request, name, 500)
            raise
        if response.status_code == 405:  # ninja answers a wrong method in plain text
            response = _json_405(response)
        _audit(request, name, response.status_code)
        return response

    return wrapper


def _json_405(response: HttpResponseBase) -> HttpResponse:
    out = JsonResponse(
        errors.one("method_not_allowed", "this route does not take this method"), status=405
    )
    out["Allow"] = response.get("Allow", "")
    return out


def _audit(request: HttpRequest, name: str, status: int) -> None:
    token = getattr(request, "auth", None)
    detail = f"API {request.method} {request.path} ({name}): {status}"
    if isinstance(token, ApiToken):
        log(
            token.clinic,
            token.user,
            "api",
            target_type="api",
            detail=detail,
            actor=f"{token.user.get_username()} (API token {token.prefix})",
            request=request,
        )
    else:
        log(
            None,
            None,
            "api",
            target_type="api",
            detail=detail,
            actor="API, no valid token",
            request=request,
        )


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /api/v1/: a JSON 404 (never the HTML page)."""
    return JsonResponse(errors.one("not_found", "there is no such API route"), status=404)


def _mount() -> tuple[list[URLPattern | URLResolver], str, str]:
    patterns, app_name, namespace = api.urls
    for p in patterns:
        if isinstance(p, URLPattern) and p.name not in UNAUDITED:
            p.callback = audited(p.callback, p.name or "")
    return patterns, app_name, namespace


urlpatterns: list[URLPattern | URLResolver] = [
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="api_token_revoke"),
    path("", not_found, name="api_not_found"),  # before ninja's root view (an HTML 404)
    path("", _mount()),
    re_path(r"^(?P<rest>.*)$", not_found, name="api_not_found"),
]
