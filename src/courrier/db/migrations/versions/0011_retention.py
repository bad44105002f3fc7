"""retention: campaigns remember when their personal data was purged; campaign_stats keeps the counts

Revision ID: 0011_retention
Revises: 0010_checkin
"""

import sqlalchemy as sa
from alembic import op

from courrier.db.types import UTCDateTime

revision = "0011_retention"
down_revision = "0010_checkin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("purged_at", UTCDateTime, nullable=True))
    op.create_table(
        "campaign_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=24), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("wave", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(length=32), nullable=True),
        sa.Column("dose", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_stats_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_stats")),
    )
    op.create_index(op.f("ix_campaign_stats_campaign_id"), "campaign_stats", ["campaign_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_campaign_stats_campaign_id"), table_name="campaign_stats")
    op.drop_table("campaign_stats")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("purged_at")
