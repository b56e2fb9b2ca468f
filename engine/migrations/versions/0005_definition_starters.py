"""Who may start a process: the start event's `starters` property, kept per version

NULL means anyone who starts cases (enterprises, officers, admins), as before.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("process_definition", sa.Column("starters", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("process_definition", "starters")
