"""Which create requests get a 429 (Twilio code 20429)."""
from __future__ import annotations

import threading
import time
from typing import Callable

from carrier_sim.config import SimConfig


class CreateThrottle:
    def __init__(self, chance: Callable[[float], bool]):
        self._chance = chance
        self._lock = threading.Lock()
        self._reject_next = 0
        self._epoch = time.monotonic()
        self._tokens: float | None = None  # the bucket starts full
        self._refilled = time.monotonic()

    def reject_next(self, count: int) -> None:
        """Reject the next ``count`` creates, whatever the other knobs say."""
        with self._lock:
            self._reject_next = max(0, int(count))
            self._epoch = time.monotonic()

    def admit(self, config: SimConfig) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._reject_next > 0:
                self._reject_next -= 1
                return False
            period, burst = config.rate_limit_period_seconds, config.rate_limit_burst_seconds
            if period > 0 and burst > 0 and (now - self._epoch) % period < burst:
                return False
            if config.max_cps > 0:
                capacity = max(1.0, config.max_cps)
                tokens = capacity if self._tokens is None else self._tokens
                self._tokens = min(capacity, tokens + (now - self._refilled) * config.max_cps)
                self._refilled = now
                if self._tokens < 1.0:
                    return False
                self._tokens -= 1.0
        return not self._chance(config.rate_limit_probability)
