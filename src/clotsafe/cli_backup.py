"""``clotsafe backup`` and ``clotsafe restore`` (docs/operations.md).

The same database as ``clotsafe serve`` (CLOTSAFE_DATA_DIR's SQLite file, or
CLOTSAFE_DATABASE_URL); the work is in :mod:`clotsafe.web.backup`.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """Write a backup of the web app's database to PATH (a new file, owner-only).

    SQLite: an online copy (the server may keep running). PostgreSQL: pg_dump's custom format.
    """
    from clotsafe.cli import web_setup

    web_setup()
    from clotsafe.web.backup import BackupError
    from clotsafe.web.backup import backup as run

    try:
        done = run(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{done.what} ({done.database}).")


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(path: Path, yes: bool) -> None:
    """Replace the web app's database with the backup at PATH (stop the server first).

    Everything stored since the backup is lost. A backup from an older clotsafe is migrated;
    one from a newer clotsafe is refused.
    """
    from clotsafe.cli import web_setup

    web_setup()
    from django.db import connections

    from clotsafe.web.backup import BackupError, describe
    from clotsafe.web.backup import restore as run

    target = describe(dict(connections["default"].settings_dict))
    if not yes:
        click.confirm(f"Replace everything in the {target} with {path}?", abort=True)
    try:
        done = run(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{done.what} ({done.database}).")
