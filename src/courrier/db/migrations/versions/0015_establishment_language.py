"""establishments have a language (their statements are printed in it); a statement keeps the language
it was issued in

Revision ID: 0015_establishment_language
Revises: 0014_operator_tasks
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_establishment_language"
down_revision = "0014_operator_tasks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # French for the rows there already: the language their statements were printed in until now, so a
    # statement issued before is made again with the same bytes.
    with op.batch_alter_table("establishments") as batch:
        batch.add_column(sa.Column("language", sa.String(length=2), nullable=False, server_default="fr"))
    with op.batch_alter_table("statements") as batch:
        batch.add_column(
            sa.Column("payee_language", sa.String(length=2), nullable=False, server_default="fr")
        )


def downgrade() -> None:
    with op.batch_alter_table("statements") as batch:
        batch.drop_column("payee_language")
    with op.batch_alter_table("establishments") as batch:
        batch.drop_column("language")
