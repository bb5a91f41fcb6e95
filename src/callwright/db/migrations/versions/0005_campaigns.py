"""campaigns, do-not-call list, capacity caps

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import callwright.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = callwright.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("list_id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("country_code", sa.String(length=8), nullable=False),
        sa.Column("call_config", JSON, nullable=False),
        sa.Column("variables_map", JSON, nullable=False),
        sa.Column("start_at", WHEN, nullable=True),
        sa.Column("end_at", WHEN, nullable=True),
        sa.Column("from_number_ids", JSON, nullable=False),
        sa.Column("number_pool_id", sa.String(length=36), nullable=True),
        sa.Column("max_concurrent_calls", sa.Integer(), nullable=True),
        sa.Column("concurrency_percentage", sa.Integer(), nullable=False),
        sa.Column("total_contacts", sa.Integer(), nullable=False),
        sa.Column("required_credits", sa.Float(), nullable=False),
        sa.Column("pacer_generation", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_campaigns_ws_created", "campaigns", ["workspace_id", "created_at"])
    op.create_index("ix_campaigns_status", "campaigns", ["status"])
    op.create_table(
        "do_not_call",
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
        sa.PrimaryKeyConstraint("workspace_id", "number"),
    )
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("max_concurrent_calls", sa.Integer(), nullable=True))
    with op.batch_alter_table("telephony_accounts") as batch:
        batch.add_column(sa.Column("max_concurrent_calls", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("calls_per_second", sa.Float(), nullable=True))
    with op.batch_alter_table("dial_ledger") as batch:
        batch.add_column(sa.Column("telephony_account_id", sa.String(length=36), nullable=True))
    op.create_index(
        "ix_dial_ledger_account_dialed", "dial_ledger", ["telephony_account_id", "dialed_at"]
    )
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("dispatches", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_calls_list_due", "calls", ["bulk_list_id", "status", "due_at"])
    op.create_index("ix_calls_status_dispatched", "calls", ["status", "dispatched_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_status_dispatched", table_name="calls")
    op.drop_index("ix_calls_list_due", table_name="calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("dispatches")
    op.drop_index("ix_dial_ledger_account_dialed", table_name="dial_ledger")
    with op.batch_alter_table("dial_ledger") as batch:
        batch.drop_column("telephony_account_id")
    with op.batch_alter_table("telephony_accounts") as batch:
        batch.drop_column("calls_per_second")
        batch.drop_column("max_concurrent_calls")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("max_concurrent_calls")
    op.drop_table("do_not_call")
    op.drop_index("ix_campaigns_status", table_name="campaigns")
    op.drop_index("ix_campaigns_ws_created", table_name="campaigns")
    op.drop_table("campaigns")
