"""a failed or interrupted task can be marked as dealt with (by whom, when)

Revision ID: 0016_task_acknowledged
Revises: 0015_establishment_language
"""

import sqlalchemy as sa
from alembic import op

from courrier.db.types import UTCDateTime

revision = "0016_task_acknowledged"
down_revision = "0015_establishment_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operator_tasks") as batch:
        batch.add_column(sa.Column("acknowledged_at", UTCDateTime, nullable=True))
        batch.add_column(sa.Column("acknowledged_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operator_tasks") as batch:
        batch.drop_column("acknowledged_by")
        batch.drop_column("acknowledged_at")
