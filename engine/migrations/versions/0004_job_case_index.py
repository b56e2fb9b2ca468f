"""Index the jobs of a case: a step reads its case's live jobs

Before it, the only index leading with status was ix_job_due (status, due_at), so the read
searched the live jobs of every case.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_job_case", "job", ["case_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_job_case", table_name="job")
