"""register: persons and register imports

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from courrier.db.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "register_imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("chunk_rows", sa.Integer, nullable=False),
        sa.Column("chunks_done", sa.Integer, nullable=False),
        sa.Column("rows_read", sa.Integer, nullable=False),
        sa.Column("inserted", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("national_id", sa.String(13), nullable=False, unique=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("family_name", sa.Text, nullable=False),
        sa.Column("given_names", sa.Text, nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("care_of", sa.Text, nullable=False),
        sa.Column("house_number", sa.Text, nullable=False),
        sa.Column("street", sa.Text, nullable=False),
        sa.Column("postcode", sa.String(16), nullable=False),
        sa.Column("locality", sa.Text, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("commune", sa.Text, nullable=False),
        sa.Column("deceased", sa.Boolean, nullable=False),
        sa.Column("address_unknown", sa.Boolean, nullable=False),
        sa.Column("last_import_id", sa.Integer, sa.ForeignKey("register_imports.id"), nullable=False),
        sa.Column("imported_at", UTCDateTime, nullable=False),
        sa.Column("changed_at", UTCDateTime, nullable=False),
        sa.Column("changed_fields", sa.Text, nullable=False),
    )
    op.create_table(
        "register_rejects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("register_imports.id"), nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("national_id", sa.String(13), nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_register_rejects_import_id", "register_rejects", ["import_id"])


def downgrade() -> None:
    op.drop_table("register_rejects")
    op.drop_table("persons")
    op.drop_table("register_imports")
