"""vouchers: establishments and redemptions

Revision ID: 0012_vouchers
Revises: 0011_retention
"""

import sqlalchemy as sa
from alembic import op

from courrier.db.types import UTCDateTime

revision = "0012_vouchers"
down_revision = "0011_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "establishments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("licence_number", sa.String(length=32), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column("commune", sa.Text(), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_establishments")),
        sa.UniqueConstraint("licence_number", name=op.f("uq_establishments_licence_number")),
    )
    op.create_table(
        "redemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.String(length=32), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("stay_from", sa.Date(), nullable=False),
        sa.Column("stay_to", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("redeemed_by", sa.String(length=64), nullable=False),
        sa.Column("redeemed_at", UTCDateTime, nullable=False),
        sa.Column("undone_at", UTCDateTime, nullable=True),
        sa.Column("undone_by", sa.String(length=64), nullable=True),
        sa.Column("live_code_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["code_id"], ["codes.id"], name=op.f("fk_redemptions_code_id_codes")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_redemptions_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishments.id"],
            name=op.f("fk_redemptions_establishment_id_establishments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
        sa.UniqueConstraint("nonce", name=op.f("uq_redemptions_nonce")),
        sa.UniqueConstraint("live_code_id", name=op.f("uq_redemptions_live_code_id")),
    )
    op.create_index(op.f("ix_redemptions_code_id"), "redemptions", ["code_id"])
    op.create_index(op.f("ix_redemptions_establishment_id"), "redemptions", ["establishment_id"])
    op.create_index(op.f("ix_redemptions_redeemed_at"), "redemptions", ["redeemed_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_redemptions_redeemed_at"), table_name="redemptions")
    op.drop_index(op.f("ix_redemptions_establishment_id"), table_name="redemptions")
    op.drop_index(op.f("ix_redemptions_code_id"), table_name="redemptions")
    op.drop_table("redemptions")
    op.drop_table("establishments")
