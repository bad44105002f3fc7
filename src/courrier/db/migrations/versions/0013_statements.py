"""vouchers: reimbursement statements (statement_runs, statements, statement_lines)

Revision ID: 0013_statements
Revises: 0012_vouchers
"""

import sqlalchemy as sa
from alembic import op

from courrier.db.types import UTCDateTime

revision = "0013_statements"
down_revision = "0012_vouchers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statement_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("issued_at", UTCDateTime, nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("execution_date", sa.Date(), nullable=False),
        sa.Column("payer_name", sa.Text(), nullable=False),
        sa.Column("payer_iban", sa.String(length=34), nullable=False),
        sa.Column("payer_bic", sa.String(length=11), nullable=False),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("statements", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("sepa_sha256", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_runs")),
        sa.UniqueConstraint("period_from", "period_to", name="uq_statement_runs_period"),
    )
    op.create_table(
        "statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("establishment_id", sa.String(length=32), nullable=False),
        sa.Column("payee_name", sa.Text(), nullable=False),
        sa.Column("payee_iban", sa.String(length=34), nullable=False),
        sa.Column("payee_licence", sa.String(length=32), nullable=False),
        sa.Column("payee_address", sa.Text(), nullable=False),
        sa.Column("payee_postcode", sa.String(length=8), nullable=False),
        sa.Column("payee_locality", sa.Text(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("csv_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["statement_runs.id"], name=op.f("fk_statements_run_id_statement_runs")
        ),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishments.id"],
            name=op.f("fk_statements_establishment_id_establishments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statements")),
        sa.UniqueConstraint("number", name=op.f("uq_statements_number")),
        sa.UniqueConstraint("run_id", "establishment_id", name="uq_statements_run_id_establishment_id"),
    )
    op.create_index(op.f("ix_statements_establishment_id"), "statements", ["establishment_id"])
    op.create_table(
        "statement_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("redemption_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("stay_from", sa.Date(), nullable=False),
        sa.Column("stay_to", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("corrects", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"], ["statements.id"], name=op.f("fk_statement_lines_statement_id_statements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_lines")),
        sa.UniqueConstraint("statement_id", "line", name="uq_statement_lines_statement_id_line"),
        sa.UniqueConstraint("redemption_id", "kind", name="uq_statement_lines_redemption_id_kind"),
    )


def downgrade() -> None:
    op.drop_table("statement_lines")
    op.drop_index(op.f("ix_statements_establishment_id"), table_name="statements")
    op.drop_table("statements")
    op.drop_table("statement_runs")
