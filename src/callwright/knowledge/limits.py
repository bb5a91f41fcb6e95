"""Knowledge-base limits: Ringg's documented ones (ringg-api.md §2.9) and ours, and the
per-workspace request windows behind its 429s."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class KnowledgeLimits:
    """Ringg's documented limits (§2.9) and ours where it documents none."""

    max_files: int = 10
    max_file_bytes: int = 2 * MB
    max_total_bytes: int = 5 * MB
    max_urls: int = 20
    max_faqs: int = 500  # ours
    max_faq_chars: int = 4000  # ours, per question + answer
    max_url_bytes: int = 2 * MB  # ours: a fetched page is held to the file limit
    max_text_chars: int = 2_000_000  # ours: extracted text per source (embedding time)
    # requests per workspace: (limit, period_s)
    create_rate: tuple[int, float] = (10, 3600.0)
    edit_rate: tuple[int, float] = (20, 3600.0)
    get_rate: tuple[int, float] = (60, 3600.0)
    list_rate: tuple[int, float] = (60, 3600.0)
    delete_rate: tuple[int, float] = (10, 60.0)


class WindowLimiter:
    """At most ``limit`` requests per workspace and action in any rolling window.
    In-process, like the per-key limiter: each API node limits what it serves."""

    def __init__(self, limits: KnowledgeLimits) -> None:
        self._rates = {
            "create": limits.create_rate,
            "edit": limits.edit_rate,
            "get": limits.get_rate,
            "list": limits.list_rate,
            "delete": limits.delete_rate,
        }
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def take(self, workspace_id: str, action: str, *, now: float | None = None) -> int:
        """Record one request; 0 when allowed, else whole seconds until one is."""
        limit, period_s = self._rates[action]
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault((workspace_id, action), deque())
        while hits and hits[0] <= now - period_s:
            hits.popleft()
        if len(hits) >= limit:
            return max(1, math.ceil(hits[0] + period_s - now))
        hits.append(now)
        return 0
