"""each piece of a print job keeps the country it was addressed to when it was composed

Revision ID: 0008_destinations
Revises: 0007_web
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_destinations"
down_revision = "0007_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_pieces") as batch:
        batch.add_column(sa.Column("country", sa.String(length=2)))
    # Jobs composed before: a domestic job holds only home mail, a foreign job's bundle is the country
    # (presort.SortablePiece.bundle), both fixed when the job was cut, so this is what was printed.
    op.execute(
        "UPDATE job_pieces SET country = (SELECT CASE WHEN print_jobs.domestic THEN 'LU'"
        " ELSE job_pieces.bundle END FROM print_jobs WHERE print_jobs.id = job_pieces.job_id)"
        " WHERE job_pieces.error_code IS NULL AND job_pieces.pages IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("job_pieces") as batch:
        batch.drop_column("country")
