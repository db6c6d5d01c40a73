"""A small in-process cache for the figures the public reads: dashboards and the reports
API compute an answer once per ``ttl`` seconds per process, however many people ask.

Per process on purpose: the rollups change every few seconds anyway, and a per-process
copy keeps the app servers stateless (any worker may answer; each holds its own copy).
Keys are built by the caller from everything the answer depends on (area, programme,
dates, language). Bounded: the oldest entries go first once ``max_entries`` is reached.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class FiguresCache:
    def __init__(self, max_entries: int = 2048, clock: Callable[[], float] = time.monotonic):
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._max, self._clock = max_entries, clock

    def get(self, key: Hashable, ttl: float, compute: Callable[[], Any]) -> Any:
        """The cached value of ``key`` if younger than ``ttl`` seconds, else ``compute()``
        (stored). ``ttl`` 0 computes every time. Two requests that miss at once may both
        compute; that costs a query, never a wrong answer."""
        if ttl <= 0:
            return compute()
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < ttl:
                self._entries.move_to_end(key)
                return hit[1]
        value = compute()
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


__all__ = ["FiguresCache"]
