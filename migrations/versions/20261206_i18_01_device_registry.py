"""device registry: pendants, phones, sensors and canteen terminals with a hashed key

Revision ID: i18_01
Revises: i14_01
Create Date: 2026-12-06 04:41:01.983939
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i18_01"
down_revision: str | None = "i14_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "pendant",
                "phone",
                "sensor",
                "canteen_terminal",
                name="devicekind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("service_point_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(client_id IS NULL AND service_point_id IS NOT NULL) OR (client_id IS NOT NULL AND service_point_id IS NULL)",
            name=op.f("ck_devices_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_devices_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_devices_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_devices_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["users.id"], name=op.f("fk_devices_revoked_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["service_point_id"],
            ["service_points.id"],
            name=op.f("fk_devices_service_point_id_service_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_devices_key_hash")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_devices_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_devices_service_point_id"), ["service_point_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_service_point_id"))
        batch_op.drop_index(batch_op.f("ix_devices_provider_id"))
        batch_op.drop_index(batch_op.f("ix_devices_client_id"))

    op.drop_table("devices")
