"""supervisor areas: a user's district and streets, a caregiver's street

Revision ID: i17_01
Revises: i19_03
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i17_01"
down_revision: str | None = "i19_03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("area_district", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("area_streets", sa.JSON(), nullable=True))
    with op.batch_alter_table("caregivers") as batch:
        batch.add_column(sa.Column("street", sa.String(length=100), nullable=True))
    op.create_index(op.f("ix_caregivers_street"), "caregivers", ["street"])


def downgrade() -> None:
    op.drop_index(op.f("ix_caregivers_street"), table_name="caregivers")
    with op.batch_alter_table("caregivers") as batch:
        batch.drop_column("street")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("area_streets")
        batch.drop_column("area_district")
