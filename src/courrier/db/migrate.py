"""Alembic, driven from code: no alembic.ini to find, the engine comes from our settings."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from courrier.errors import DatabaseNotMigratedError

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def require_current(engine: Engine) -> None:
    """Fail in one line when the database is not at the code's schema revision."""
    current = current_revision(engine)
    if current != head_revision():
        where = engine.url.render_as_string(hide_password=True)
        state = "not migrated" if current is None else f"at revision {current}, code needs newer"
        raise DatabaseNotMigratedError(f"database {where} is {state}: run `courrier db upgrade` first")
