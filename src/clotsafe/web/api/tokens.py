"""Create, find, list and revoke API tokens (the CLI, the Team page and the API's auth)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from clotsafe.web.api.models import ApiToken
from clotsafe.web.audit.services import log
from clotsafe.web.clinics.models import Clinic
from clotsafe.web.clinics.services import membership_of

#: every token starts with this, so a leaked one is easy to recognise (and to scan for)
SCHEME = "cs_"
TOKEN_BYTES = 32  # 256 random bits
PREFIX_CHARS = 10
MAX_TOKEN_CHARS = 200
#: last_used_at is written at most this often per token (one write per call would be wasted)
LAST_USED_STEP = timedelta(minutes=1)


class TokenError(ValueError):
    """A token cannot be created or revoked (unknown user, no clinic, ...): the message says why."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(user: User, *, name: str = "", actor: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user`` in their clinic; returns it and the secret (shown once)."""
    membership = membership_of(user)
    if membership is None:
        raise TokenError(f"{user.get_username()} is not an active member of a clinic")
    secret = SCHEME + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken.objects.create(
        clinic=membership.clinic,
        user=user,
        name=name[:100],
        token_hash=token_hash(secret),
        prefix=secret[:PREFIX_CHARS],
    )
    log(
        membership.clinic,
        user,
        "create",
        token,
        actor=actor,
        detail=f"API token {token.prefix} for {user.get_username()}",
    )
    return token, secret


def authenticate(secret: str) -> ApiToken | None:
    """The live token for this secret: not revoked, its user active and still in its clinic."""
    if not secret.startswith(SCHEME) or len(secret) > MAX_TOKEN_CHARS:
        return None
    token = (
        ApiToken.objects.select_related("clinic", "user")
        .filter(token_hash=token_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    membership = membership_of(token.user)
    if membership is None or membership.clinic_id != token.clinic_id:
        return None
    _touch(token)
    return token


def _touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_STEP:
        token.last_used_at = now
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


def of_clinic(clinic: Clinic) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(clinic=clinic).select_related("user")


def revoke(token: ApiToken, *, by: User | None, actor: str = "") -> bool:
    """Revoke the token (it stops working at once); False if it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    log(token.clinic, by, "change", token, actor=actor, detail=f"API token {token.prefix} revoked")
    return True
