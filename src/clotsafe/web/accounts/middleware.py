"""The steps a logged-in user must finish before any other page: the two-factor code (when
the account has two-factor on) and, after a temporary password, a new password.

A middleware rather than a view decorator so that no URL is left out: every page, the API with
a session, the admin. Only the pages that finish the step, log-out and static files pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

from clotsafe.web.accounts import services, twofactor

#: URL names open while a step is pending (each step also opens its own page)
ALWAYS_OPEN = frozenset({"logout", "login"})
TWO_FACTOR_STEP = "two_factor_verify"
PASSWORD_STEP = "password_change"


class AccountGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        step = pending_step(request)
        if step is None or _url_name(request) in ALWAYS_OPEN | {step}:
            return self.get_response(request)
        if request.path.startswith("/static/"):
            return self.get_response(request)
        query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
        return HttpResponseRedirect(reverse(step) + (f"?{query}" if query else ""))


def pending_step(request: HttpRequest) -> str | None:
    """The URL name of the step this session has still to finish, if any."""
    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    verified = getattr(user, "is_verified", None)  # set by django-otp's OTPMiddleware
    if not (verified and verified()) and twofactor.confirmed_device(user) is not None:
        return TWO_FACTOR_STEP
    if services.must_change_password(user):
        return PASSWORD_STEP
    return None


def _url_name(request: HttpRequest) -> str | None:
    try:
        return resolve(request.path_info).url_name
    except Resolver404:
        return None
