"""``{% api_tokens as tokens %}``: the clinic's API tokens for the Team page (leads only)."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import User

from clotsafe.web.api import tokens as service
from clotsafe.web.api.models import ApiToken
from clotsafe.web.clinics.services import membership_of

register = template.Library()


@register.simple_tag(takes_context=True)
def api_tokens(context: dict[str, Any]) -> list[ApiToken]:
    """The tokens of the viewer's clinic, newest first; empty unless the viewer is its lead."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if not isinstance(user, User):
        return []
    membership = membership_of(user)
    if membership is None or not membership.is_lead:
        return []
    return list(service.of_clinic(membership.clinic))
