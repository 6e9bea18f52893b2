"""Calls-per-second limit: one token bucket per carrier account in Redis, shared by all workers.

A caller reserves the next slot and is told how long to wait for it, so workers pace
themselves instead of meeting the carrier's 429s. The bucket uses Redis's own clock, so
workers on different machines agree on time.
"""
from __future__ import annotations

import time

from redis import Redis

_RESERVE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + (now - ts) * rate) - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""


class CpsBucket:
    def __init__(self, redis: Redis, account: str, rate: float | None, burst: float | None = None):
        self.redis = redis
        self.key = f"cps:{account}"
        self.rate = rate
        self.burst = burst if burst is not None else 1.0  # evenly spaced: what carriers enforce
        self._reserve = redis.register_script(_RESERVE)

    def reserve(self, now: float | None = None) -> float:
        """Take the next slot; returns the seconds to wait before using it (0 = go now).

        `now` (epoch seconds) replaces Redis's clock, for callers that must be exact (tests)."""
        if not self.rate:
            return 0.0
        args = [self.rate, self.burst] + ([] if now is None else [repr(float(now))])
        return float(self._reserve(keys=[self.key], args=args))

    def acquire(self, sleep=time.sleep) -> float:
        """Block until this caller's slot comes; returns how long it waited."""
        wait = self.reserve()
        if wait > 0:
            sleep(wait)
        return wait
