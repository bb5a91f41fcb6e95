"""analytics: covering indexes for the /analytics/* aggregates

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 14:30:00

Each index starts with the columns the analytics queries filter on (workspace, then the
creation window, or the campaign then the window) and carries every column they group or sum,
so both SQLite and PostgreSQL answer from the index alone (PostgreSQL: index-only scan) instead
of reading the wide call rows (transcripts, analysis JSON). Plain key columns rather than
PostgreSQL's INCLUDE, because SQLite has no INCLUDE and must cover with the key.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STATS = ("agent_id", "status", "voicemail_detected", "call_duration", "call_cost")


def upgrade() -> None:
    op.create_index(
        "ix_calls_ws_created_stats",
        "calls",
        ["workspace_id", "created_at", *STATS, "from_number"],
    )
    op.create_index(
        "ix_calls_ws_list_stats",
        "calls",
        ["workspace_id", "bulk_list_id", "created_at", *STATS, "sub_status"],
    )


def downgrade() -> None:
    op.drop_index("ix_calls_ws_list_stats", table_name="calls")
    op.drop_index("ix_calls_ws_created_stats", table_name="calls")
