"""letter requests keep the piece they gave (re-issue or waiting-list piece), and are found by state

Revision ID: 0009_requests
Revises: 0008_destinations
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_requests"
down_revision = "0008_destinations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("letter_requests") as batch:
        batch.add_column(sa.Column("piece_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_letter_requests_piece_id_pieces"), "pieces", ["piece_id"], ["id"])
        batch.create_index(op.f("ix_letter_requests_state"), ["state"])


def downgrade() -> None:
    with op.batch_alter_table("letter_requests") as batch:
        batch.drop_index(op.f("ix_letter_requests_state"))
        batch.drop_constraint(op.f("fk_letter_requests_piece_id_pieces"), type_="foreignkey")
        batch.drop_column("piece_id")
