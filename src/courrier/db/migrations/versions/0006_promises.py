"""campaigns keep their output folder; template versions list their files

Revision ID: 0006_promises
Revises: 0005_ledger
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_promises"
down_revision = "0005_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("output_folder", sa.Text))
    with op.batch_alter_table("template_versions") as batch:
        batch.add_column(sa.Column("files", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("template_versions") as batch:
        batch.drop_column("files")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("output_folder")
