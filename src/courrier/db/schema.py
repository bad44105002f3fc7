"""Core tables. Each area owns a section; migrations in ``migrations/versions`` create them.

A test compares this metadata with the migrated database, so the two cannot drift apart.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from courrier.db.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# --- register -------------------------------------------------------------------------------------

register_imports = Table(
    "register_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("source", String(8), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    # An import commits chunk by chunk; an interrupted one is resumed after its last committed chunk.
    Column("chunk_rows", Integer, nullable=False),
    Column("chunks_done", Integer, nullable=False, default=0),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("inserted", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
)

persons = Table(
    "persons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("national_id", String(13), nullable=False, unique=True),
    Column("source", String(8), nullable=False),
    Column("family_name", Text, nullable=False),
    Column("given_names", Text, nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("sex", String(1), nullable=False),
    Column("language", String(2), nullable=False),
    Column("care_of", Text, nullable=False),
    Column("house_number", Text, nullable=False),
    Column("street", Text, nullable=False),
    Column("postcode", String(16), nullable=False),
    Column("locality", Text, nullable=False),
    Column("country", String(2), nullable=False),
    # The Luxembourg commune the postcode belongs to (empty abroad or when unknown): cohorts filter on it.
    Column("commune", Text, nullable=False, default=""),
    Column("deceased", Boolean, nullable=False, default=False),
    Column("address_unknown", Boolean, nullable=False, default=False),
    Column("last_import_id", Integer, ForeignKey("register_imports.id"), nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    # Comma-separated names of the fields the last import changed; empty when it inserted the row.
    Column("changed_fields", Text, nullable=False, default=""),
)

# What an import rejected, kept so an interrupted import can be resumed and its report written again.
register_rejects = Table(
    "register_rejects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("import_id", Integer, ForeignKey("register_imports.id"), nullable=False, index=True),
    Column("line", Integer, nullable=False),
    Column("national_id", String(13), nullable=False),
    Column("field", Text, nullable=False),
    Column("reason", Text, nullable=False),
)
