"""ledger week totals: what proposed, held and confirmed bookings take per warehouse week

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Statuses with totals; cancelled bookings take nothing and have none.
COUNTED_STATUSES = ("proposed", "held", "confirmed")


def _weeks(first: str, last: str) -> list[str]:
    """ISO weeks ``first`` to ``last`` inclusive (written ``2026-W49``), as the ledger counts."""
    start = date.fromisocalendar(int(first[:4]), int(first[6:]), 1)
    end = date.fromisocalendar(int(last[:4]), int(last[6:]), 1)
    weeks = []
    while start <= end:
        year, number, _ = start.isocalendar()
        weeks.append(f"{year:04d}-W{number:02d}")
        start += timedelta(weeks=1)
    return weeks


def upgrade() -> None:
    """Create the totals table and fill it from the bookings already stored."""
    totals_table = op.create_table(
        "warehouse_week_booked",
        sa.Column("warehouse_id", sa.String(length=32), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("pallets", sa.BigInteger(), nullable=False),
        sa.Column("volume_litres", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["warehouse_id"], ["warehouses.id"]),
        sa.PrimaryKeyConstraint("warehouse_id", "week", "status"),
    )
    bookings = sa.table(
        "bookings",
        sa.column("warehouse_id", sa.String()),
        sa.column("status", sa.String()),
        sa.column("first_week", sa.String()),
        sa.column("last_week", sa.String()),
        sa.column("pallets", sa.Integer()),
        sa.column("volume_m3", sa.Double()),
    )
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    rows = op.get_bind().execute(sa.select(bookings).where(bookings.c.status.in_(COUNTED_STATUSES)))
    for warehouse_id, status, first, last, pallets, volume_m3 in rows:
        for week in _weeks(first, last):
            entry = totals[warehouse_id, week, status]
            entry[0] += pallets
            entry[1] += round(volume_m3 * 1000)
    if totals:
        op.bulk_insert(
            totals_table,
            [
                {"warehouse_id": w, "week": week, "status": s, "pallets": p, "volume_litres": v}
                for (w, week, s), (p, v) in sorted(totals.items())
            ],
        )


def downgrade() -> None:
    """Drop the totals table (the bookings still hold everything it summed)."""
    op.drop_table("warehouse_week_booked")
