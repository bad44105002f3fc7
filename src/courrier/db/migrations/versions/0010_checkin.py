"""the centre: check-in policies, check-ins, vaccination records; bookings keep when they were checked in
and done

Revision ID: 0010_checkin
Revises: 0009_requests
"""

import sqlalchemy as sa
from alembic import op

from courrier.db.types import UTCDateTime

revision = "0010_checkin"
down_revision = "0009_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("checked_in_at", UTCDateTime, nullable=True))
        batch.add_column(sa.Column("done_at", UTCDateTime, nullable=True))
    op.create_table(
        "checkin_policies",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("early_minutes", sa.Integer(), nullable=False),
        sa.Column("late_minutes", sa.Integer(), nullable=False),
        sa.Column("walk_ins", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_checkin_policies_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_checkin_policies")),
    )
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("centre_id", sa.String(length=32), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("dose", sa.Integer(), nullable=False),
        sa.Column("walk_in_dose", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("desk", sa.String(length=32), nullable=False),
        sa.Column("checked_in_by", sa.String(length=64), nullable=False),
        sa.Column("checked_in_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"], name=op.f("fk_checkins_centre_id_centres")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_checkins_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_checkins_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(["code_id"], ["codes.id"], name=op.f("fk_checkins_code_id_codes")),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_checkins_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
        sa.UniqueConstraint("centre_id", "nonce", name="uq_checkins_centre_id_nonce"),
        sa.UniqueConstraint("code_id", "walk_in_dose", name="uq_checkins_code_id_walk_in_dose"),
    )
    op.create_index(op.f("ix_checkins_booking_id"), "checkins", ["booking_id"])
    op.create_index(op.f("ix_checkins_code_id"), "checkins", ["code_id"])
    op.create_index(op.f("ix_checkins_person_id"), "checkins", ["person_id"])
    op.create_table(
        "vaccinations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.String(length=32), nullable=False),
        sa.Column("product", sa.String(length=32), nullable=False),
        sa.Column("manufacturer", sa.String(length=32), nullable=False),
        sa.Column("prophylaxis", sa.String(length=32), nullable=False),
        sa.Column("lot", sa.String(length=32), nullable=False),
        sa.Column("dose_number", sa.Integer(), nullable=False),
        sa.Column("series_doses", sa.Integer(), nullable=False),
        sa.Column("given_at", UTCDateTime, nullable=False),
        sa.Column("physician", sa.String(length=64), nullable=False),
        sa.Column("supersedes", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["checkin_id"], ["checkins.id"], name=op.f("fk_vaccinations_checkin_id_checkins")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_vaccinations_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_vaccinations_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(["code_id"], ["codes.id"], name=op.f("fk_vaccinations_code_id_codes")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_vaccinations_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_vaccinations_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes"], ["vaccinations.id"], name=op.f("fk_vaccinations_supersedes_vaccinations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vaccinations")),
        sa.UniqueConstraint("nonce", name=op.f("uq_vaccinations_nonce")),
        sa.UniqueConstraint("supersedes", name=op.f("uq_vaccinations_supersedes")),
    )
    op.create_index(op.f("ix_vaccinations_checkin_id"), "vaccinations", ["checkin_id"])
    op.create_index(op.f("ix_vaccinations_person_id"), "vaccinations", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_vaccinations_person_id"), table_name="vaccinations")
    op.drop_index(op.f("ix_vaccinations_checkin_id"), table_name="vaccinations")
    op.drop_table("vaccinations")
    op.drop_index(op.f("ix_checkins_person_id"), table_name="checkins")
    op.drop_index(op.f("ix_checkins_code_id"), table_name="checkins")
    op.drop_index(op.f("ix_checkins_booking_id"), table_name="checkins")
    op.drop_table("checkins")
    op.drop_table("checkin_policies")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("done_at")
        batch.drop_column("checked_in_at")
