"""Analytics bodies. Ringg documents only the top-level keys (``performance_metrics``,
``metrics_summary``, ``number_analytics``, ``duration_distribution``,
``classification_analytics``, ``cached``); the insides are ours, derived from the metrics the
Ringg dashboard shows.

Definitions used throughout:

- a call is *connected* when its status is ``completed`` and no voicemail was detected;
- ``connectivity`` is connected ÷ total calls, in percent (0-100, two decimals);
- ``total_duration`` sums ``call_duration`` (seconds) of every counted call; ``average_duration``
  is the mean ``call_duration`` of connected calls (0 when there are none);
- ``total_cost`` sums ``call_cost`` (credits).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from callwright.api.schemas.common import iso
from callwright.db.repositories.analytics import DayRow, Tally
from callwright.db.repositories.analytics_views import DURATION_EDGES_S
from callwright.services import analytics as svc

STATUSES = (
    "registered", "ongoing", "retry", "completed", "failed", "error", "cancelled", "forwarded"
)  # fmt: skip


class Period(BaseModel):
    """The window the figures cover: ``[start, end)``, with the offset days are counted at."""

    start: str = Field(description="ISO 8601, inclusive")
    end: str = Field(description="ISO 8601, exclusive")
    utc_offset: str = Field(description="Offset of calls_per_day's days, e.g. +05:30")

    @classmethod
    def of(cls, w: svc.Window) -> Period:
        sign = "-" if w.utc_offset_min < 0 else "+"
        hours, minutes = divmod(abs(w.utc_offset_min), 60)
        return cls(
            start=iso(w.start), end=iso(w.end), utc_offset=f"{sign}{hours:02d}:{minutes:02d}"
        )


class StatusDistribution(BaseModel):
    """Calls per status (every status listed, zeros included)."""

    registered: int = 0
    ongoing: int = 0
    retry: int = 0
    completed: int = 0
    failed: int = 0
    error: int = 0
    cancelled: int = 0
    forwarded: int = 0


class Totals(BaseModel):
    total_calls: int
    connected_calls: int
    connectivity: float = Field(description="connected_calls / total_calls, percent")
    total_duration: float = Field(description="seconds, all counted calls")
    average_duration: float = Field(description="seconds, mean over connected calls")
    total_cost: float = Field(description="credits")


class _Acc:
    """Folds tallies into totals, a status distribution and a voicemail count."""

    def __init__(self) -> None:
        self.calls = self.connected = self.voicemail = 0
        self.duration = self.connected_duration = self.cost = 0.0
        self.by_status: dict[str, int] = defaultdict(int)

    def add(self, status: str, voicemail: bool, t: Tally) -> None:
        self.calls += t.calls
        self.duration += t.duration_s
        self.cost += t.cost
        self.by_status[status] += t.calls
        if voicemail:
            self.voicemail += t.calls
        elif status == "completed":
            self.connected += t.calls
            self.connected_duration += t.duration_s

    def totals(self) -> dict[str, Any]:
        return {
            "total_calls": self.calls,
            "connected_calls": self.connected,
            "connectivity": round(100 * self.connected / self.calls, 2) if self.calls else 0.0,
            "total_duration": round(self.duration, 2),
            "average_duration": round(self.connected_duration / self.connected, 2)
            if self.connected
            else 0.0,
            "total_cost": round(self.cost, 4),
        }

    def statuses(self) -> StatusDistribution:
        known = {s: n for s, n in self.by_status.items() if s in STATUSES}
        return StatusDistribution(**known)


class DayMetrics(BaseModel):
    date: str = Field(description="YYYY-MM-DD at the period's utc_offset")
    total_calls: int
    connected_calls: int
    total_duration: float
    total_cost: float


class AgentMetrics(Totals):
    agent_id: str
    agent_name: str = Field(description="empty when the agent no longer exists")


class MetricsSummary(Totals):
    voicemail_detected: int
    workspace_numbers: int = Field(description="live numbers of the workspace")


class PlatformPerformance(BaseModel):
    status_distribution: StatusDistribution
    calls_per_day: list[DayMetrics] = Field(description="days with calls, oldest first")
    agents: list[AgentMetrics] = Field(description="per agent, most calls first")


def _per_day(rows: Iterable[DayRow]) -> list[DayMetrics]:
    days: dict[str, _Acc] = defaultdict(_Acc)
    for r in rows:
        days[r.day].add(r.status, r.voicemail, r.tally)
    return [
        DayMetrics(
            date=d,
            total_calls=a.calls,
            connected_calls=a.connected,
            total_duration=round(a.duration, 2),
            total_cost=round(a.cost, 4),
        )
        for d, a in sorted(days.items())
    ]


class PlatformAnalytics(BaseModel):
    performance_metrics: PlatformPerformance
    metrics_summary: MetricsSummary
    period: Period
    cached: bool = Field(
        default=False, description="always false: figures are computed per request"
    )

    @classmethod
    def of(cls, p: svc.Platform) -> PlatformAnalytics:
        total = _Acc()
        agents: dict[str, _Acc] = defaultdict(_Acc)
        for r in p.breakdown:
            total.add(r.status, r.voicemail, r.tally)
            agents[r.agent_id].add(r.status, r.voicemail, r.tally)
        agent_rows = [
            AgentMetrics(agent_id=a, agent_name=p.agent_names.get(a, ""), **acc.totals())
            for a, acc in agents.items()
        ]
        agent_rows.sort(key=lambda m: (-m.total_calls, m.agent_id))
        return cls(
            performance_metrics=PlatformPerformance(
                status_distribution=total.statuses(),
                calls_per_day=_per_day(p.days),
                agents=agent_rows,
            ),
            metrics_summary=MetricsSummary(
                **total.totals(),
                voicemail_detected=total.voicemail,
                workspace_numbers=p.workspace_numbers,
            ),
            period=Period.of(p.window),
        )


class DrillDownPerformance(Totals):
    bulk_list_id: str
    voicemail_detected: int
    status_distribution: StatusDistribution
    sub_status_distribution: dict[str, dict[str, int]] = Field(
        description="status → sub_status → calls (failure causes, end reasons)"
    )
    calls_per_day: list[DayMetrics]


class DrillDownAnalytics(BaseModel):
    performance_metrics: DrillDownPerformance
    period: Period
    cached: bool = False

    @classmethod
    def of(cls, bulk_list_id: str, d: svc.DrillDown) -> DrillDownAnalytics:
        total = _Acc()
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for r in d.rows:
            total.add(r.status, r.voicemail, r.tally)
            counts[(r.status, r.sub_status)] += r.tally.calls
        subs: dict[str, dict[str, int]] = defaultdict(dict)
        for (status, sub), n in sorted(counts.items()):
            subs[status][sub] = n
        return cls(
            performance_metrics=DrillDownPerformance(
                bulk_list_id=bulk_list_id,
                **total.totals(),
                voicemail_detected=total.voicemail,
                status_distribution=total.statuses(),
                sub_status_distribution=dict(subs),
                calls_per_day=_per_day(d.days),
            ),
            period=Period.of(d.window),
        )


class NumberMetrics(Totals):
    from_number: str | None = Field(description="the caller number; null when none was used")
    number_id: str | None = Field(description="the workspace number's id, if still live")
    status_distribution: StatusDistribution


class NumberAnalytics(BaseModel):
    number_analytics: list[NumberMetrics] = Field(description="per caller number, busiest first")
    period: Period

    @classmethod
    def of(cls, n: svc.Numbers) -> NumberAnalytics:
        per: dict[str | None, _Acc] = defaultdict(_Acc)
        for r in n.rows:
            per[r.from_number].add(r.status, r.voicemail, r.tally)
        rows = [
            NumberMetrics(
                from_number=num,
                number_id=n.number_ids.get(num) if num else None,
                status_distribution=acc.statuses(),
                **acc.totals(),
            )
            for num, acc in per.items()
        ]
        rows.sort(key=lambda m: (-m.total_calls, m.from_number or ""))
        return cls(number_analytics=rows, period=Period.of(n.window))


class DurationBucket(BaseModel):
    label: str
    min_seconds: int = Field(description="inclusive")
    max_seconds: int | None = Field(description="exclusive; null for the top bucket")
    count: int


class DurationDistributionBody(BaseModel):
    buckets: list[DurationBucket]
    total_calls: int = Field(description="completed calls counted")
    total_duration: float
    average_duration: float


def _label(seconds: int) -> str:
    return f"{seconds}s" if seconds < 60 else f"{seconds // 60}m"


class DurationDistribution(BaseModel):
    duration_distribution: DurationDistributionBody
    period: Period

    @classmethod
    def of(cls, d: svc.Durations) -> DurationDistribution:
        lows = (0, *DURATION_EDGES_S)
        highs: tuple[int | None, ...] = (*DURATION_EDGES_S, None)
        buckets = [
            DurationBucket(
                label=f"{_label(lo)}-{_label(hi)}" if hi is not None else f"{_label(lo)}+",
                min_seconds=lo,
                max_seconds=hi,
                count=count,
            )
            for lo, hi, count in zip(lows, highs, d.counts, strict=True)
        ]
        t = d.tally
        return cls(
            duration_distribution=DurationDistributionBody(
                buckets=buckets,
                total_calls=t.calls,
                total_duration=round(t.duration_s, 2),
                average_duration=round(t.duration_s / t.calls, 2) if t.calls else 0.0,
            ),
            period=Period.of(d.window),
        )


class ClassificationBody(BaseModel):
    counts: dict[str, int] = Field(
        description="calls per classification label; with agent_id, every label of the agent"
    )
    total_analysed: int = Field(description="calls whose post-call analysis succeeded")
    unclassified: int = Field(description="analysed calls without a label")
    pending_analysis: int
    failed_analysis: int


class ClassificationAnalytics(BaseModel):
    classification_analytics: ClassificationBody
    period: Period

    @classmethod
    def of(cls, c: svc.Classifications) -> ClassificationAnalytics:
        counts = dict.fromkeys(c.labels, 0)
        analysed = unclassified = pending = failed = 0
        for (status, label), n in c.counts.items():
            if status == "pending":
                pending += n
            elif status == "failed":
                failed += n
            else:
                analysed += n
                if label is None or label == "":
                    unclassified += n
                else:
                    counts[label] = counts.get(label, 0) + n
        ordered = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return cls(
            classification_analytics=ClassificationBody(
                counts=ordered,
                total_analysed=analysed,
                unclassified=unclassified,
                pending_analysis=pending,
                failed_analysis=failed,
            ),
            period=Period.of(c.window),
        )
