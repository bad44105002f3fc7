"""The database: engine factory, Core schema, Alembic migrations.

Only this package knows SQL dialects (SQLite embedded default, PostgreSQL in production).
"""

from courrier.db.engine import make_engine
from courrier.db.migrate import current_revision, head_revision, require_current, upgrade
from courrier.db.transaction import read_connection, write_transaction

__all__ = [
    "current_revision",
    "head_revision",
    "make_engine",
    "read_connection",
    "require_current",
    "upgrade",
    "write_transaction",
]
