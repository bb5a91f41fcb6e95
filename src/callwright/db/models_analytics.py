"""The analytics roll-up: sums over finished calls, kept so dashboards need not read every call.

A call is *final* once its status is terminal and its post-call analysis is done for good
(``success``, or ``not_enabled`` when there is none): nothing changes a final call's figures
afterwards. A final call is added to ``call_rollups`` exactly once, in the transaction that sets
its ``calls.rolled_up``; reads add the calls not rolled up yet from ``calls`` (see
``db/repositories/analytics.py``). The views, and how a call maps to a row of each, are in
``db/repositories/analytics_views.py``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from callwright.db.models import ID, Base, Call

ALL = ""  # in agent_id / bulk_list_id: the row sums every agent / every call (campaign or not)
KEY = ("workspace_id", "view", "bulk_list_id", "bucket_epoch_s", "agent_id", "status",
       "voicemail", "detail")  # fmt: skip

# Partial indexes over the calls not rolled up yet (a few in steady state): the roll-up's queue,
# and what reads add to the roll-up, covered so neither touches the wide call rows. SQLite uses
# a partial index only when the query repeats the index's WHERE term, so queries say
# ``Call.rolled_up == false()``, which renders as these do.
_UNROLLED: dict[str, Any] = {
    "sqlite_where": text("rolled_up = 0"),
    "postgresql_where": text("rolled_up = false"),
}
UNROLLED_STATS = (
    "agent_id", "bulk_list_id", "status", "voicemail_detected", "call_duration", "call_cost",
    "from_number", "sub_status", "platform_analysis_status",
)  # fmt: skip
Index("ix_calls_rollup_todo", Call.status, Call.platform_analysis_status, **_UNROLLED)
Index(
    "ix_calls_unrolled",
    Call.workspace_id,
    Call.created_at,
    *(getattr(Call, name) for name in UNROLLED_STATS),
    **_UNROLLED,
)


class CallRollup(Base):
    """Calls of one workspace, one view, one time bucket and one key, summed.

    The primary key starts with what every read pins (workspace, view, campaign scope) and then
    the bucket, so a window is one range of the key. It carries the sums too: SQLite keeps the
    rows in the key's b-tree (WITHOUT ROWID), PostgreSQL reads them from the key's index alone
    (INCLUDE) rather than from heap pages in the order the roll-up first met each key.
    """

    __tablename__ = "call_rollups"
    __table_args__ = (
        PrimaryKeyConstraint(*KEY, postgresql_include=["calls", "duration_s", "cost"]),
        {"sqlite_with_rowid": False},
    )

    workspace_id: Mapped[str] = mapped_column(ID)
    view: Mapped[str] = mapped_column(String(32))
    bulk_list_id: Mapped[str] = mapped_column(ID)  # ALL: every call
    bucket_epoch_s: Mapped[int] = mapped_column(BigInteger)  # UTC bucket start, Unix seconds
    agent_id: Mapped[str] = mapped_column(ID)  # ALL in views summing agents
    status: Mapped[str] = mapped_column(String(16))
    voicemail: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text)  # the view's own dimension
    calls: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float] = mapped_column(Float)
    cost: Mapped[float] = mapped_column(Float)
