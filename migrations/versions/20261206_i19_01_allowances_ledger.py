"""allowances: schemes, each elder's account, the append-only ledger and closed months

Revision ID: i19_01
Revises: i14_03
Create Date: 2026-12-06 09:26:27.348929
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i19_01"
down_revision: str | None = "i14_03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "allowance_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("hardship", sa.String(length=32), nullable=True),
        sa.Column("balance_fen", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "balance_fen >= 0", name=op.f("ck_allowance_accounts_balance_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_allowance_accounts_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_allowance_accounts_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allowance_accounts")),
        sa.UniqueConstraint("client_id", name=op.f("uq_allowance_accounts_client_id")),
    )
    with op.batch_alter_table("allowance_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_allowance_accounts_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "allowance_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("expired_fen", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["users.id"], name=op.f("fk_allowance_months_closed_by_users")
        ),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_allowance_months")),
    )
    op.create_table(
        "allowance_schemes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("age_min", sa.Integer(), nullable=True),
        sa.Column("age_max", sa.Integer(), nullable=True),
        sa.Column("care_levels", sa.JSON(), nullable=True),
        sa.Column("hardship", sa.String(length=32), nullable=True),
        sa.Column("monthly_amount_fen", sa.Integer(), nullable=False),
        sa.Column("meal_subsidy_fen", sa.Integer(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("carry_over_months", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "carry_over_months >= 0", name=op.f("ck_allowance_schemes_carry_over_not_negative")
        ),
        sa.CheckConstraint(
            "meal_subsidy_fen >= 0", name=op.f("ck_allowance_schemes_meal_subsidy_not_negative")
        ),
        sa.CheckConstraint(
            "monthly_amount_fen >= 0", name=op.f("ck_allowance_schemes_amount_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_allowance_schemes_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allowance_schemes")),
    )
    op.create_table(
        "allowance_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "grant", "debit", "credit", "expiry", name="entrykind", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("copay_fen", sa.Integer(), nullable=False),
        sa.Column("order_amount_fen", sa.Integer(), nullable=True),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("scheme_id", sa.Integer(), nullable=True),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("expires_after", sa.Date(), nullable=True),
        sa.Column("balance_after_fen", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["allowance_accounts.id"],
            name=op.f("fk_allowance_entries_account_id_allowance_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_allowance_entries_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["allowance_entries.id"],
            name=op.f("fk_allowance_entries_reverses_id_allowance_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["allowance_schemes.id"],
            name=op.f("fk_allowance_entries_scheme_id_allowance_schemes"),
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_allowance_entries_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allowance_entries")),
        sa.UniqueConstraint(
            "account_id",
            "month",
            "kind",
            "scheme_id",
            name=op.f("uq_allowance_entries_account_id_month_kind_scheme_id"),
        ),
    )
    with op.batch_alter_table("allowance_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_allowance_entries_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index("ix_allowance_entries_month_kind", ["month", "kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_allowance_entries_work_order_id"), ["work_order_id"], unique=False
        )

    # The ledger is append-only in the database too: a credit corrects, nothing rewrites.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION allowance_entries_append_only() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION 'allowance_entries is append-only';
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        op.execute(
            "CREATE TRIGGER allowance_entries_no_change BEFORE UPDATE OR DELETE "
            "ON allowance_entries FOR EACH ROW EXECUTE FUNCTION allowance_entries_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER allowance_entries_no_{verb.lower()} BEFORE {verb} "
                "ON allowance_entries BEGIN SELECT RAISE(ABORT, 'allowance_entries is "
                "append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER allowance_entries_no_change ON allowance_entries")
        op.execute("DROP FUNCTION allowance_entries_append_only()")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER allowance_entries_no_{verb}")
    with op.batch_alter_table("allowance_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allowance_entries_work_order_id"))
        batch_op.drop_index("ix_allowance_entries_month_kind")
        batch_op.drop_index(batch_op.f("ix_allowance_entries_account_id"))

    op.drop_table("allowance_entries")
    op.drop_table("allowance_schemes")
    op.drop_table("allowance_months")
    with op.batch_alter_table("allowance_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allowance_accounts_provider_id"))

    op.drop_table("allowance_accounts")
