"""``clotsafe backup`` and ``clotsafe restore`` (docs/operations.md)."""

from __future__ import annotations

import click


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
def backup(path: str) -> None:
    """Write a backup of the web app's database to PATH."""
    raise click.ClickException("not built yet")


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
def restore(path: str) -> None:
    """Restore the web app's database from a backup at PATH."""
    raise click.ClickException("not built yet")
