"""Per-key token buckets, in process: the login form (per IP) and the API (per token) share them.

Several app servers each keep their own buckets; behind a proxy, limit there too (docs/web.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """``capacity`` calls at once per key, refilled at ``per_minute``.

    ``clock`` returns seconds (monotonic); tests pass their own to step time.
    """

    capacity: int = 20
    per_minute: float = 20.0
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, key: str) -> float:
        """Spend one token for ``key``: 0.0 when allowed, else the seconds until one is free."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.capacity), now))
            tokens = min(float(self.capacity), tokens + (now - last) * self.per_minute / 60.0)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            if len(self._buckets) > 10_000:  # forget the fullest buckets: they are idle
                for stale in [k for k, (t, _) in self._buckets.items() if t >= self.capacity - 1][:5000]:
                    del self._buckets[stale]
            return 0.0 if allowed else (1.0 - tokens) * 60.0 / self.per_minute

    def take(self, key: str) -> bool:
        """Spend one token for ``key``; False when the bucket is empty."""
        return self.wait(key) == 0.0
