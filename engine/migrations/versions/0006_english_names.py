"""English names from the BPMN `name_en` property: of a process, kept per version, and of a
task, copied onto its row when the row is written

NULL means none was given: pages show the Chinese name. Rows written before this revision
have none (their definitions had no `name_en` either).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("process_definition", sa.Column("name_en", sa.String(length=200), nullable=True))
    op.add_column("task", sa.Column("title_en", sa.String(length=300), nullable=True))


def downgrade() -> None:
    op.drop_column("task", "title_en")
    op.drop_column("process_definition", "name_en")
