"""operator tasks: long work started from the operator's page (operator_tasks, operator_task_files,
task_workers)

Revision ID: 0014_operator_tasks
Revises: 0013_statements
"""

import sqlalchemy as sa
from alembic import op

from courrier.db.types import UTCDateTime

revision = "0014_operator_tasks"
down_revision = "0013_statements"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("active_key", sa.String(length=160), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=True),
        sa.Column("heartbeat_at", UTCDateTime, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("worker", sa.Text(), nullable=True),
        sa.Column("host", sa.Text(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("current", sa.Text(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("jobs_done", sa.Integer(), nullable=False),
        sa.Column("jobs_total", sa.Integer(), nullable=True),
        sa.Column("counting_since", UTCDateTime, nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_facts", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_operator_tasks_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_tasks")),
        sa.UniqueConstraint("active_key", name=op.f("uq_operator_tasks_active_key")),
    )
    op.create_table(
        "operator_task_files",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["operator_tasks.id"], name=op.f("fk_operator_task_files_task_id_operator_tasks")
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_operator_task_files")),
    )
    op.create_table(
        "task_workers",
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("seen_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_task_workers")),
    )


def downgrade() -> None:
    op.drop_table("task_workers")
    op.drop_table("operator_task_files")
    op.drop_table("operator_tasks")
