"""Authentication and clinic scoping for every therapist page: one place, used by every view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from clotsafe.web.clinics.models import Clinic, Membership
from clotsafe.web.clinics.services import CLINIC_DEACTIVATED, membership_of, refusal


class ClinicRequest(HttpRequest):
    """A request from a logged-in member of a clinic (set by :func:`clinic_view`)."""

    user: User
    clinic: Clinic
    membership: Membership


View = Callable[..., HttpResponseBase]


class ClinicDeactivated(PermissionDenied):
    """The user's clinic is deactivated (the 403 page then offers no way into the app)."""


def refuse_if_deactivated(user: User) -> None:
    """For the account pages open without a clinic (password change, the two-factor step): a
    member of a deactivated clinic is refused there too."""
    if user.is_authenticated and refusal(user) == CLINIC_DEACTIVATED:
        raise ClinicDeactivated(CLINIC_DEACTIVATED)


def _refuse(user: User) -> PermissionDenied:
    reason = refusal(user)
    return ClinicDeactivated(reason) if reason == CLINIC_DEACTIVATED else PermissionDenied(reason)


def clinic_view(view: View) -> View:
    """Login required; the user must belong to an active clinic; ``request.clinic`` scopes every
    query."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        membership = membership_of(cast(User, request.user))
        if membership is None:
            raise _refuse(cast(User, request.user))
        req = cast(ClinicRequest, request)
        req.membership = membership
        req.clinic = membership.clinic
        return view(req, *args, **kwargs)

    return wrapper


def lead_view(view: View) -> View:
    """Like :func:`clinic_view`, for the clinic lead only."""

    @wraps(view)
    def inner(request: ClinicRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.membership.is_lead:
            raise PermissionDenied("Only the clinic lead can do this.")
        return view(request, *args, **kwargs)

    return clinic_view(inner)
