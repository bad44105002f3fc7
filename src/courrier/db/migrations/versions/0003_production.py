"""print production: print jobs, the pieces in each job, inserter results

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from courrier.db.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "print_jobs",
        sa.Column("id", sa.Integer),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("wave_id", sa.Integer),
        sa.Column("reprint_of", sa.Integer),
        sa.Column("template_version_id", sa.Integer, nullable=False),
        sa.Column("domestic", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("pieces", sa.Integer, nullable=False),
        sa.Column("sheets", sa.Integer, nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("pdf_sha256", sa.String(64)),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_print_jobs"),
        sa.UniqueConstraint("name", name="uq_print_jobs_name"),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_print_jobs_campaign_id_campaigns"
        ),
        sa.ForeignKeyConstraint(["wave_id"], ["waves.id"], name="fk_print_jobs_wave_id_waves"),
        sa.ForeignKeyConstraint(
            ["reprint_of"], ["print_jobs.id"], name="fk_print_jobs_reprint_of_print_jobs"
        ),
        sa.ForeignKeyConstraint(
            ["template_version_id"],
            ["template_versions.id"],
            name="fk_print_jobs_template_version_id_template_versions",
        ),
    )
    op.create_index("ix_print_jobs_campaign_id", "print_jobs", ["campaign_id"])
    op.create_index("ix_print_jobs_wave_id", "print_jobs", ["wave_id"])
    op.create_table(
        "job_pieces",
        sa.Column("id", sa.Integer),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.Column("piece_id", sa.Integer, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("bundle", sa.String(16), nullable=False),
        sa.Column("pages", sa.Integer),
        sa.Column("sheets", sa.Integer),
        sa.Column("error_code", sa.String(40)),
        sa.Column("error_message", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_job_pieces"),
        sa.UniqueConstraint("job_id", "sequence", name="uq_job_pieces_job_id"),
        sa.UniqueConstraint("job_id", "piece_id", name="uq_job_pieces_job_id_piece_id"),
        sa.ForeignKeyConstraint(["job_id"], ["print_jobs.id"], name="fk_job_pieces_job_id_print_jobs"),
        sa.ForeignKeyConstraint(["piece_id"], ["pieces.id"], name="fk_job_pieces_piece_id_pieces"),
    )
    op.create_index("ix_job_pieces_piece_id", "job_pieces", ["piece_id"])
    op.create_table(
        "inserter_results",
        sa.Column("id", sa.Integer),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("job_id", sa.Integer),
        sa.Column("piece_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reported_at", sa.Text, nullable=False),
        sa.Column("machine", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inserter_results"),
        sa.ForeignKeyConstraint(["job_id"], ["print_jobs.id"], name="fk_inserter_results_job_id_print_jobs"),
    )
    op.create_index("ix_inserter_results_job_id", "inserter_results", ["job_id"])


def downgrade() -> None:
    op.drop_table("inserter_results")
    op.drop_table("job_pieces")
    op.drop_table("print_jobs")
