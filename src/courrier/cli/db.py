"""``courrier db``: the database schema."""

from __future__ import annotations

from pathlib import Path

import click

from courrier.cli.common import database_engine, echo_json, json_option
from courrier.db import current_revision, head_revision, upgrade
from courrier.errors import DatabaseNotMigratedError


@click.group()
def db() -> None:
    """Create and migrate the database (COURRIER_DATABASE_URL)."""


@db.command("upgrade")
def upgrade_command() -> None:
    """Apply all pending migrations; safe to run again."""
    engine = database_engine(create=True)
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"{where}: already at revision {after}")
    else:
        click.echo(f"{where}: migrated from {before or 'empty'} to revision {after}")


@db.command("status")
@json_option
def status_command(as_json: bool) -> None:
    """Show the database's schema revision and the code's; exit 1 when it needs `courrier db upgrade`."""
    engine = database_engine()
    state = {
        "database": engine.url.render_as_string(hide_password=True),
        "current": current_revision(engine),
        "head": head_revision(),
    }
    current = state["current"] == state["head"]
    if as_json:
        echo_json(state | {"up_to_date": current})
    else:
        up_to_date = "up to date" if current else "needs `courrier db upgrade`"
        click.echo(f"{state['database']}: revision {state['current']} (code: {state['head']}), {up_to_date}")
    if not current:
        raise DatabaseNotMigratedError(f"database {state['database']} needs `courrier db upgrade`")


@db.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(target: Path) -> None:
    """Write a consistent copy of the database to TARGET while it is in use: SQLite's online backup
    (a plain SQLite file), or pg_dump's custom format for PostgreSQL (restore with pg_restore). Never
    over an existing file. How to restore: docs/operations.md."""
    from courrier.db.backup import backup_database

    engine = database_engine()
    how = backup_database(engine, target)
    size = target.stat().st_size
    click.echo(f"{engine.url.render_as_string(hide_password=True)}: {how} to {target} ({size:,} bytes)")
