"""campaigns and codes: template versions, campaigns, waves, codes, pieces, events

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from courrier.db.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "template_versions",
        sa.Column("id", sa.Integer),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_template_versions"),
        sa.UniqueConstraint("path", "sha256", name="uq_template_versions_path"),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("template_version_id", sa.Integer, nullable=False),
        sa.Column("languages", sa.Text, nullable=False),
        sa.Column("validity_days", sa.Integer),
        sa.Column("valid_until", sa.Date),
        sa.Column("max_uses", sa.Integer, nullable=False),
        sa.Column("qr_content", sa.Text, nullable=False),
        sa.Column("qr_signed", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.UniqueConstraint("name", name="uq_campaigns_name"),
        sa.ForeignKeyConstraint(
            ["template_version_id"],
            ["template_versions.id"],
            name="fk_campaigns_template_version_id_template_versions",
        ),
    )
    op.create_table(
        "waves",
        sa.Column("id", sa.Integer),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("send_date", sa.Date),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_waves"),
        sa.UniqueConstraint("campaign_id", "number", name="uq_waves_campaign_id"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name="fk_waves_campaign_id_campaigns"),
    )
    op.create_table(
        "codes",
        sa.Column("id", sa.Integer),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("person_id", sa.Integer, nullable=False),
        sa.Column("piece_id", sa.Integer, nullable=False),
        sa.Column("hmac", sa.LargeBinary(16), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("key_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("uses", sa.Integer, nullable=False),
        sa.Column("max_uses", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_until", sa.Date),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_codes"),
        sa.UniqueConstraint("piece_id", name="uq_codes_piece_id"),
        sa.UniqueConstraint("hmac", name="uq_codes_hmac"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name="fk_codes_campaign_id_campaigns"),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name="fk_codes_person_id_persons"),
    )
    op.create_table(
        "pieces",
        sa.Column("id", sa.Integer),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("wave_id", sa.Integer),
        sa.Column("person_id", sa.Integer, nullable=False),
        sa.Column("sequence", sa.Integer),
        sa.Column("reissue_number", sa.Integer, nullable=False),
        sa.Column("reissue_of", sa.Integer),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("code_id", sa.Integer),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pieces"),
        sa.UniqueConstraint("campaign_id", "person_id", "reissue_number", name="uq_pieces_campaign_id"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name="fk_pieces_campaign_id_campaigns"),
        sa.ForeignKeyConstraint(["wave_id"], ["waves.id"], name="fk_pieces_wave_id_waves"),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name="fk_pieces_person_id_persons"),
        sa.ForeignKeyConstraint(["reissue_of"], ["pieces.id"], name="fk_pieces_reissue_of_pieces"),
        sa.ForeignKeyConstraint(["code_id"], ["codes.id"], name="fk_pieces_code_id_codes"),
    )
    op.create_index("ix_pieces_wave_id", "pieces", ["wave_id"])
    op.create_index("ix_pieces_code_id", "pieces", ["code_id"])
    op.create_index("ix_pieces_person_id", "pieces", ["person_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("campaign_id", sa.Integer),
        sa.Column("piece_id", sa.Integer),
        sa.Column("code_id", sa.Integer),
        sa.Column("reason", sa.Text),
        sa.Column("details", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name="fk_events_campaign_id_campaigns"),
        sa.ForeignKeyConstraint(["piece_id"], ["pieces.id"], name="fk_events_piece_id_pieces"),
        sa.ForeignKeyConstraint(["code_id"], ["codes.id"], name="fk_events_code_id_codes"),
    )
    op.create_index("ix_events_campaign_id", "events", ["campaign_id"])
    op.create_index("ix_events_piece_id", "events", ["piece_id"])
    op.create_index("ix_events_code_id", "events", ["code_id"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("pieces")
    op.drop_table("codes")
    op.drop_table("waves")
    op.drop_table("campaigns")
    op.drop_table("template_versions")
