"""day plans: a stable code for why a plan failed (PLAN_STALE, PLAN_JOB_LOST, ...)

Revision ID: i14_03
Revises: i14_02
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i14_03"
down_revision: str | None = "i14_02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("day_plans") as batch:
        batch.add_column(sa.Column("error_code", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("day_plans") as batch:
        batch.drop_column("error_code")
