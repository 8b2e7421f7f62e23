"""The Team page's side of API tokens: a clinic lead revokes one (session login, CSRF)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from clotsafe.web.access import ClinicRequest, lead_view
from clotsafe.web.api import tokens
from clotsafe.web.api.models import ApiToken


@lead_view
@require_POST
def token_revoke(request: ClinicRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, clinic=request.clinic)
    if tokens.revoke(token, by=request.user):
        messages.success(request, f"API token {token.prefix}… revoked: it no longer works.")
    return redirect("team")
