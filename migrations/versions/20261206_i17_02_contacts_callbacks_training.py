"""supervision records: five-colour contacts, call-backs, caregivers' grade and training

Revision ID: i17_02
Revises: i17_01
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i17_02"
down_revision: str | None = "i17_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_client_contacts_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_client_contacts_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_client_contacts_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_contacts")),
    )
    op.create_index("ix_client_contacts_client_id_at", "client_contacts", ["client_id", "at"])
    op.create_index(op.f("ix_client_contacts_provider_id"), "client_contacts", ["provider_id"])
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=True),
        sa.Column("took_place", sa.String(length=24), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("sampled_by", sa.Integer(), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by"], ["users.id"], name=op.f("fk_callbacks_answered_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_callbacks_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_callbacks_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["sampled_by"], ["users.id"], name=op.f("fk_callbacks_sampled_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_callbacks_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
        sa.UniqueConstraint("work_order_id", name=op.f("uq_callbacks_work_order_id")),
    )
    op.create_index(op.f("ix_callbacks_client_id"), "callbacks", ["client_id"])
    op.create_index("ix_callbacks_status_provider_id", "callbacks", ["status", "provider_id"])
    op.create_table(
        "caregiver_trainings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caregiver_id", sa.Integer(), nullable=False),
        sa.Column("course", sa.String(length=200), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=6, scale=1), nullable=False),
        sa.Column("provider_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["caregiver_id"],
            ["caregivers.id"],
            name=op.f("fk_caregiver_trainings_caregiver_id_caregivers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caregiver_trainings")),
    )
    op.create_index(
        op.f("ix_caregiver_trainings_caregiver_id"), "caregiver_trainings", ["caregiver_id"]
    )
    with op.batch_alter_table("caregivers") as batch:
        batch.add_column(sa.Column("grade", sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("caregivers") as batch:
        batch.drop_column("grade")
    op.drop_table("caregiver_trainings")
    op.drop_table("callbacks")
    op.drop_table("client_contacts")
