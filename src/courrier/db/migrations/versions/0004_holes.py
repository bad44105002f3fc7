"""step locks: one compose of a wave, one reprint of a campaign, one reading of a job's results at a time

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from courrier.db.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "step_locks",
        sa.Column("name", sa.String(120)),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("acquired_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_step_locks"),
    )


def downgrade() -> None:
    op.drop_table("step_locks")
