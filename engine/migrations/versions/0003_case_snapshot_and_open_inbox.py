"""Case data snapshot beside the workflow state; partial index for the open inbox

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('ready', 'claimed')")


def upgrade() -> None:
    with op.batch_alter_table("case_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data", sa.JSON(), nullable=True))
    op.create_index(
        "ix_task_open_due",
        "task",
        ["department", "due_at", "id"],
        unique=False,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_task_open_due", table_name="task")
    with op.batch_alter_table("case_state", schema=None) as batch_op:
        batch_op.drop_column("data")
