"""English legal basis of a task from the BPMN `legal_basis_en` property, copied onto its row
when the row is written, beside `legal_basis`

NULL means none was given: pages show the Chinese legal basis. Rows written before this
revision have none (their definitions had no `legal_basis_en` either). 500 characters, where
`legal_basis` has 300: a citation in English runs two to three times its Chinese.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("task", sa.Column("legal_basis_en", sa.String(length=500), nullable=True))


def downgrade() -> None:
    op.drop_column("task", "legal_basis_en")
