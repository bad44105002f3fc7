"""Helpers shared by the command modules."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import Engine

from courrier.app import App
from courrier.codes.keys import Keys

_APP = "courrier.app"


def current_app(*, scheduler: str | None = None, workers: int | None = None) -> App:
    """The command's application object, built once (settings read once, one engine, one cluster)
    and closed when the command ends."""
    context = click.get_current_context()
    root = context.find_root()
    app = root.meta.get(_APP)
    if app is None:
        app = root.meta[_APP] = App(scheduler=scheduler, workers=workers)
        # Close the pool and the cluster when the command ends, not whenever the garbage collector runs.
        root.call_on_close(app.close)
    return app


def database_engine(*, create: bool = False) -> Engine:
    """The configured database, closed when the command ends. Only ``create`` (``db upgrade``) may
    bring a new SQLite file into being: looking at a database never creates an empty one."""
    from courrier.db import make_engine
    from courrier.db.engine import missing_sqlite_file
    from courrier.errors import DatabaseNotMigratedError

    engine = make_engine(current_app().settings.database_url)
    missing = None if create else missing_sqlite_file(engine)
    if missing is not None:
        engine.dispose()
        raise DatabaseNotMigratedError(
            f"database file {missing} does not exist: run `courrier db upgrade` first"
        )
    context = click.get_current_context(silent=True)
    if context is not None:
        # Close the pool's connections when the command ends, not whenever the garbage collector runs.
        context.call_on_close(engine.dispose)
    return engine


def open_database() -> Engine:
    """The configured database, checked to be migrated (one-line error otherwise)."""
    return current_app().engine


def configured_keys() -> Keys:
    """The code keys from COURRIER_KEYS or the key file (one-line error when there are none)."""
    return current_app().keys


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False))


json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
