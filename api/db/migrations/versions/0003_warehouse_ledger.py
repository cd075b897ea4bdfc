"""warehouse capacity ledger: warehouses, weekly capacity overrides, bookings, audit trail

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the ledger tables."""
    op.create_table(
        "warehouses",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("pallets_per_week", sa.Integer(), nullable=False),
        sa.Column("volume_m3_per_week", sa.Double(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "name", name="uq_warehouses_org_name"),
    )
    op.create_index(
        op.f("ix_warehouses_organisation_id"), "warehouses", ["organisation_id"], unique=False
    )
    op.create_index(op.f("ix_warehouses_node_id"), "warehouses", ["node_id"], unique=False)
    op.create_table(
        "warehouse_week_capacities",
        sa.Column("warehouse_id", sa.String(length=32), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("pallets", sa.Integer(), nullable=False),
        sa.Column("volume_m3", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(["warehouse_id"], ["warehouses.id"]),
        sa.PrimaryKeyConstraint("warehouse_id", "week"),
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("warehouse_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("first_week", sa.String(length=8), nullable=False),
        sa.Column("last_week", sa.String(length=8), nullable=False),
        sa.Column("pallets", sa.Integer(), nullable=False),
        sa.Column("volume_m3", sa.Double(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("job_id", sa.String(length=32), nullable=True),
        sa.Column("created_by_key_id", sa.String(length=32), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["warehouse_id"], ["warehouses.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"]),
        sa.ForeignKeyConstraint(["created_by_key_id"], ["api_keys.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "organisation_id", "idempotency_key", name="uq_bookings_org_idempotency_key"
        ),
    )
    op.create_index(
        "ix_bookings_warehouse_status_weeks",
        "bookings",
        ["warehouse_id", "status", "first_week"],
        unique=False,
    )
    op.create_index(
        "ix_bookings_org_created", "bookings", ["organisation_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_bookings_warehouse_created",
        "bookings",
        ["warehouse_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "ledger_audit",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("warehouse_id", sa.String(length=32), nullable=False),
        sa.Column("booking_id", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("api_key_id", sa.String(length=32), nullable=True),
        sa.Column("organisation_id", sa.String(length=32), nullable=True),
        sa.Column("job_id", sa.String(length=32), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["warehouse_id"], ["warehouses.id"]),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_ledger_audit_warehouse_created",
        "ledger_audit",
        ["warehouse_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_ledger_audit_booking_created",
        "ledger_audit",
        ["booking_id", "created_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    """Drop the ledger tables."""
    op.drop_index("ix_ledger_audit_booking_created", table_name="ledger_audit")
    op.drop_index("ix_ledger_audit_warehouse_created", table_name="ledger_audit")
    op.drop_table("ledger_audit")
    op.drop_index("ix_bookings_warehouse_created", table_name="bookings")
    op.drop_index("ix_bookings_org_created", table_name="bookings")
    op.drop_index("ix_bookings_warehouse_status_weeks", table_name="bookings")
    op.drop_table("bookings")
    op.drop_table("warehouse_week_capacities")
    op.drop_index(op.f("ix_warehouses_node_id"), table_name="warehouses")
    op.drop_index(op.f("ix_warehouses_organisation_id"), table_name="warehouses")
    op.drop_table("warehouses")
