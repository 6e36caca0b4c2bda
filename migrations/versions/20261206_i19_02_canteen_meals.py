"""canteen meals (全城通): canteens' hours and prices, meals with their flags, elder cards

Revision ID: i19_02
Revises: i19_01
Create Date: 2026-12-06 09:39:15.934433
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i19_02"
down_revision: str | None = "i19_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canteens",
        sa.Column("service_point_id", sa.Integer(), nullable=False),
        sa.Column("slots", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_point_id"],
            ["service_points.id"],
            name=op.f("fk_canteens_service_point_id_service_points"),
        ),
        sa.PrimaryKeyConstraint("service_point_id", name=op.f("pk_canteens")),
    )
    op.create_table(
        "meals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("canteen_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "slot",
            sa.Enum("breakfast", "lunch", "dinner", name="mealslot", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column(
            "method",
            sa.Enum("card", "face", "manual", name="mealmethod", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("subsidy_fen", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("recorded", "flagged", name="mealstatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("billing_batch_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "subsidy_fen >= 0 AND subsidy_fen <= price_fen", name=op.f("ck_meals_subsidy_in_price")
        ),
        sa.ForeignKeyConstraint(
            ["billing_batch_id"],
            ["billing_batches.id"],
            name=op.f("fk_meals_billing_batch_id_billing_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["canteen_id"], ["service_points.id"], name=op.f("fk_meals_canteen_id_service_points")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_meals_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_meals_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_meals_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_meals_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meals")),
        sa.UniqueConstraint(
            "canteen_id", "idempotency_key", name=op.f("uq_meals_canteen_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("meals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meals_billing_batch_id"), ["billing_batch_id"], unique=False
        )
        batch_op.create_index("ix_meals_canteen_day", ["canteen_id", "day"], unique=False)
        batch_op.create_index(
            "ix_meals_client_day_slot", ["client_id", "day", "slot"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_meals_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "meal_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meal_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("other_meal_id", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "severity",
            sa.Enum("block", "review", "info", name="severity", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open", "overridden", "closed", name="flagstatus", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["meal_id"], ["meals.id"], name=op.f("fk_meal_flags_meal_id_meals")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["users.id"], name=op.f("fk_meal_flags_resolved_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meal_flags")),
        sa.UniqueConstraint(
            "meal_id",
            "code",
            "other_meal_id",
            name=op.f("uq_meal_flags_meal_id_code_other_meal_id"),
        ),
    )
    with op.batch_alter_table("meal_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meal_flags_meal_id"), ["meal_id"], unique=False)

    with op.batch_alter_table("allowance_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_no", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("face_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_allowance_accounts_card_no"), ["card_no"])
        batch_op.create_unique_constraint(batch_op.f("uq_allowance_accounts_face_id"), ["face_id"])


def downgrade() -> None:
    with op.batch_alter_table("allowance_accounts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_allowance_accounts_face_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_allowance_accounts_card_no"), type_="unique")
        batch_op.drop_column("face_id")
        batch_op.drop_column("card_no")

    with op.batch_alter_table("meal_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meal_flags_meal_id"))

    op.drop_table("meal_flags")
    with op.batch_alter_table("meals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meals_provider_id"))
        batch_op.drop_index("ix_meals_client_day_slot")
        batch_op.drop_index("ix_meals_canteen_day")
        batch_op.drop_index(batch_op.f("ix_meals_billing_batch_id"))

    op.drop_table("meals")
    op.drop_table("canteens")
