"""A Redis lock held by one owner (a token), kept alive by its owner, released only by it."""
from __future__ import annotations

import secrets

from app.common.redis import get_redis

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class TokenLock:
    def __init__(self, key: str, ttl: int):
        self.key, self.ttl, self.token = key, ttl, secrets.token_hex(8)

    def acquire(self) -> bool:
        return bool(get_redis().set(self.key, self.token, nx=True, ex=self.ttl))

    def refresh(self) -> None:
        get_redis().expire(self.key, self.ttl)

    def release(self) -> None:
        get_redis().eval(_RELEASE, 1, self.key, self.token)
