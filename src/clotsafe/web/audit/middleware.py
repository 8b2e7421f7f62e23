"""Audit every view of client data and every page of the operator's admin.

While a request is served, :mod:`clotsafe.web.audit.services` knows it (so every event written
carries the address and user agent) and counts its events. After the view:

- a successful GET of a page that shows client or clinic data (:data:`PAGES`) is recorded as a
  ``view``, unless the view recorded an event itself (no duplicates);
- every successful GET in the Django admin is recorded as a ``view`` (its changes are recorded
  by the admin classes, :mod:`clotsafe.web.audit.adminlog`).

The JSON API audits every call itself, in one place (``clotsafe.web.api.urls``). The event
names the page and the id in the URL, never the query string (a search could hold a name).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from clotsafe.web.audit import services

#: URL name -> (target type, what the page is)
PAGES = {
    "client_list": ("client", "client list"),
    "client_detail": ("client", "client page"),
    "client_edit": ("client", "client details form"),
    "recheck": ("client", "before-session re-check"),
    "clearance_new": ("client", "clearance form"),
    "screening_detail": ("screening", "screening page"),
    "screening_answers": ("screening", "answers read back"),
    "screening_json": ("screening", "decision JSON"),
    "letter_pdf": ("screening", "consultation letter"),
    "client_export_json": ("client", "client record JSON"),
    "client_export_pdf": ("client", "client record PDF"),
    "client_erase": ("client", "erase client form"),
    "team": ("team", "team page"),
    "clinic_settings": ("clinic", "settings page"),
    "audit_csv": ("audit_log", "audit log export"),
}


class AuditViewMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state, token = services.begin(request)
        try:
            response = self.get_response(request)
            if state.events == 0:
                _record(request, response)
        finally:
            services.end(token)
        return response


def _record(request: HttpRequest, response: HttpResponse) -> None:
    match = request.resolver_match
    if request.method != "GET" or response.status_code != 200 or match is None:
        return
    if not request.user.is_authenticated:
        return
    if match.url_name in PAGES:
        target_type, what = PAGES[match.url_name]
        _log(request, "view", target_type, match.kwargs.get("pk"), what)
    elif match.app_name == "admin":
        _log(request, "view", "admin", match.kwargs.get("object_id"),
             f"admin page {match.url_name or match.route}")  # fmt: skip


def _log(request: HttpRequest, action: str, target_type: str, target_id: Any, what: str) -> None:
    event_target = _Target(target_id) if target_id is not None else None
    services.log(_clinic(request), request.user, action, event_target, target_type=target_type,
                 detail=what, request=request)  # fmt: skip


class _Target:
    """An id from the URL, standing in for the object (the view has already checked it)."""

    def __init__(self, pk: Any) -> None:
        self.pk = pk


def _clinic(request: HttpRequest) -> Any:
    """The clinic the view scoped the request to; for the admin, the operator's own (if any)."""
    clinic = getattr(request, "clinic", None)
    if clinic is None and request.user.pk is not None:
        from clotsafe.web.audit.signals import clinic_of

        clinic = clinic_of(request.user)
    return clinic
