"""calls

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 12:09:08.024921
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import callwright.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "dial_ledger",
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("dialed_at", callwright.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("call_id", "attempt"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column(
            "response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", callwright.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "key"),
    )
    op.create_table(
        "calls",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("agent_version_id", sa.String(length=36), nullable=False),
        sa.Column("bulk_list_id", sa.String(length=36), nullable=True),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("sub_status", sa.String(length=64), nullable=False),
        sa.Column("to_number", sa.String(length=20), nullable=False),
        sa.Column("from_number", sa.String(length=20), nullable=True),
        sa.Column(
            "from_numbers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("telephony_account_id", sa.String(length=36), nullable=True),
        sa.Column("callee_name", sa.String(length=200), nullable=False),
        sa.Column(
            "custom_args_values",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "call_config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("voice_id", sa.String(length=36), nullable=True),
        sa.Column("call_category", sa.String(length=100), nullable=True),
        sa.Column("parent_call_id", sa.String(length=36), nullable=True),
        sa.Column("due_at", callwright.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", callwright.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "next_attempt_time", callwright.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("retry_count", sa.Integer(), nullable=False),
        sa.Column(
            "attempts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("provider_call_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", callwright.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("initiated_at", callwright.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", callwright.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", callwright.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("call_duration", sa.Float(), nullable=False),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column(
            "transcript",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "turn_latencies",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("recording_path", sa.String(length=500), nullable=True),
        sa.Column("recording_duration", sa.Float(), nullable=False),
        sa.Column("voicemail_detected", sa.Boolean(), nullable=False),
        sa.Column("locked_credits", sa.Float(), nullable=False),
        sa.Column("call_cost", sa.Float(), nullable=False),
        sa.Column("credits_processed", sa.Boolean(), nullable=False),
        sa.Column("platform_analysis_status", sa.String(length=16), nullable=False),
        sa.Column(
            "platform_analysis",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("client_analysis_status", sa.String(length=16), nullable=False),
        sa.Column(
            "client_analysis",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index("ix_calls_status_due", ["status", "due_at"], unique=False)
        batch_op.create_index(
            "ix_calls_ws_agent_created", ["workspace_id", "agent_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_calls_ws_created", ["workspace_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_calls_ws_list_created", ["workspace_id", "bulk_list_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_calls_ws_status_created", ["workspace_id", "status", "created_at"], unique=False
        )
        batch_op.create_index("ix_calls_ws_to_number", ["workspace_id", "to_number"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_ws_to_number")
        batch_op.drop_index("ix_calls_ws_status_created")
        batch_op.drop_index("ix_calls_ws_list_created")
        batch_op.drop_index("ix_calls_ws_created")
        batch_op.drop_index("ix_calls_ws_agent_created")
        batch_op.drop_index("ix_calls_status_due")

    op.drop_table("calls")
    op.drop_table("idempotency_keys")
    op.drop_table("dial_ledger")
