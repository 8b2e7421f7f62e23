"""``clotsafe api-token``: per-clinic API tokens for the JSON API (docs/api.md)."""

from __future__ import annotations

import click


@click.group("api-token")
def api_token() -> None:
    """API tokens for the JSON API (/api/v1/)."""
