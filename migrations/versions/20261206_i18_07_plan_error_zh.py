"""day plans: why a plan failed in Chinese too (error_zh beside error)

Revision ID: i18_07
Revises: i18_03
Create Date: 2026-12-06 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i18_07"
down_revision: str | None = "i18_03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("day_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_zh", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("day_plans", schema=None) as batch_op:
        batch_op.drop_column("error_zh")
