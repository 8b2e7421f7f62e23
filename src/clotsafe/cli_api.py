"""``clotsafe api-token``: per-clinic API tokens for the JSON API (docs/api.md).

The commands use the same Django setup as ``clotsafe serve`` (the data directory and
CLOTSAFE_DATABASE_URL apply). Django is imported only when a command runs, so the CLI works
without the ``web`` extra."""

from __future__ import annotations

from typing import Any

import click

ACTOR = "command line"


def _django() -> None:
    from clotsafe.cli import web_setup

    web_setup()


@click.group("api-token")
def api_token() -> None:
    """API tokens for the JSON API (/api/v1/)."""


@api_token.command("create")
@click.option(
    "--user",
    "username",
    required=True,
    metavar="USERNAME",
    help="The therapist or lead the token acts as (in their clinic).",
)
@click.option("--name", default="", help="What the token is for, e.g. 'booking site'.")
def create(username: str, name: str) -> None:
    """Make a token and print it once (alone on the last line); only its hash is kept."""
    _django()
    from django.contrib.auth.models import User

    from clotsafe.web.api import tokens

    user = User.objects.filter(username=username).first()
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    try:
        token, secret = tokens.create(user, name=name, actor=f"{username} ({ACTOR})")
    except tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"API token {token.prefix}… for {username} at {token.clinic.name}"
        f"{f' ({name})' if name else ''}. It is shown only now: store it safely."
    )
    click.echo("Send it as 'Authorization: Bearer <token>'; revoke it on the Team page.")
    click.echo(secret)


@api_token.command("list")
@click.option("--user", "username", default=None, metavar="USERNAME", help="Only this user's.")
def list_tokens(username: str | None) -> None:
    """The tokens (never the secrets): id, prefix, clinic, user, name, created, last used."""
    _django()
    from clotsafe.web.api.models import ApiToken

    qs = ApiToken.objects.select_related("clinic", "user").order_by("id")
    if username:
        qs = qs.filter(user__username=username)
    for t in qs:
        click.echo("\t".join(_row(t)))


def _row(t: Any) -> list[str]:
    state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
    used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
    return [
        str(t.pk),
        f"{t.prefix}…",
        t.clinic.name,
        t.user.get_username(),
        t.name or "-",
        f"{t.created_at:%Y-%m-%d %H:%M}",
        used,
        state,
    ]


@api_token.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Revoke the token with this id (see `list`): it stops working at once."""
    _django()
    from clotsafe.web.api import tokens
    from clotsafe.web.api.models import ApiToken

    token = ApiToken.objects.select_related("clinic", "user").filter(pk=token_id).first()
    if token is None:
        raise click.ClickException(f"no API token with id {token_id}")
    if tokens.revoke(token, by=None, actor=ACTOR):
        click.echo(f"API token {token.prefix}… revoked.")
    else:
        click.echo(f"API token {token.prefix}… was already revoked.")
