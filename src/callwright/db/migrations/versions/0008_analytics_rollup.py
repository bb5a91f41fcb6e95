"""analytics roll-up: call_rollups, calls.rolled_up and the partial indexes of calls not rolled up

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 22:00:00

Every existing call starts not rolled up: the server's roll-up loop adds the final ones in
batches after the upgrade (the analytics figures are exact meanwhile, only slower). The two
partial indexes hold every call at first and only the few not rolled up once it has caught up.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# As in models_analytics.py: SQLite matches a partial index by the query's literal WHERE term.
KEY = ("workspace_id", "view", "bulk_list_id", "bucket_epoch_s", "agent_id", "status",
       "voicemail", "detail")  # fmt: skip
UNROLLED: dict[str, Any] = {
    "sqlite_where": sa.text("rolled_up = 0"),
    "postgresql_where": sa.text("rolled_up = false"),
}
UNROLLED_STATS = (
    "agent_id", "bulk_list_id", "status", "voicemail_detected", "call_duration", "call_cost",
    "from_number", "sub_status", "platform_analysis_status",
)  # fmt: skip


def upgrade() -> None:
    op.add_column(
        "calls",
        sa.Column("rolled_up", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "call_rollups",
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("view", sa.String(length=32), nullable=False),
        sa.Column("bulk_list_id", sa.String(length=36), nullable=False),
        sa.Column("bucket_epoch_s", sa.BigInteger(), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("voicemail", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, postgresql_include=["calls", "duration_s", "cost"]),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_calls_rollup_todo", "calls", ["status", "platform_analysis_status"], **UNROLLED
    )
    op.create_index(
        "ix_calls_unrolled", "calls", ["workspace_id", "created_at", *UNROLLED_STATS], **UNROLLED
    )


def downgrade() -> None:
    op.drop_index("ix_calls_unrolled", table_name="calls")
    op.drop_index("ix_calls_rollup_todo", table_name="calls")
    op.drop_table("call_rollups")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("rolled_up")
