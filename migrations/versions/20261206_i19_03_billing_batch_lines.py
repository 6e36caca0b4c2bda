"""billing batch lines: allowance, co-payment, meal count and meal subsidy

Revision ID: i19_03
Revises: i19_02
Create Date: 2026-12-06 09:46:32.896256
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i19_03"
down_revision: str | None = "i19_02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("billing_batches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "allowance", sa.Numeric(precision=14, scale=2), server_default="0", nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "copay", sa.Numeric(precision=14, scale=2), server_default="0", nullable=False
            )
        )
        batch_op.add_column(sa.Column("meals", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column(
                "meal_subsidy",
                sa.Numeric(precision=14, scale=2),
                server_default="0",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("billing_batches", schema=None) as batch_op:
        batch_op.drop_column("meal_subsidy")
        batch_op.drop_column("meals")
        batch_op.drop_column("copay")
        batch_op.drop_column("allowance")
