"""ledger: code_uses, one row per use of a code (use number and idempotency nonce unique per code)

Revision ID: 0005_ledger
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from courrier.db.types import UTCDateTime

revision = "0005_ledger"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "code_uses",
        sa.Column("id", sa.Integer),
        sa.Column("code_id", sa.Integer, nullable=False),
        sa.Column("use_number", sa.Integer, nullable=False),
        sa.Column("nonce", sa.String(64)),
        sa.Column("piece_id", sa.Integer),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("used_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_code_uses"),
        sa.UniqueConstraint("code_id", "use_number", name="uq_code_uses_use_number"),
        sa.UniqueConstraint("code_id", "nonce", name="uq_code_uses_nonce"),
        sa.ForeignKeyConstraint(["code_id"], ["codes.id"], name="fk_code_uses_code_id_codes"),
        sa.ForeignKeyConstraint(["piece_id"], ["pieces.id"], name="fk_code_uses_piece_id_pieces"),
    )


def downgrade() -> None:
    op.drop_table("code_uses")
