"""Process settings for a media process (called by the composition root, never at import).

CPython's cyclic garbage collector periodically walks every tracked object; in a process
holding hundreds of calls a full collection can stall the event loop for tens of
milliseconds, which shows up as late 20 ms frames. After start-up we move everything that
exists into the permanent generation (``gc.freeze``: long-lived modules, models and caches
are never walked again) and collect the young generation less often. Reference cycles are
still collected.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 20_000  # default 700: the media path allocates ~10k small objects/s per 100 calls


def tune_gc_for_media() -> None:
    """Freeze the start-up heap and raise the young-generation threshold. Idempotent."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, max(gen1, 20), max(gen2, 20))
