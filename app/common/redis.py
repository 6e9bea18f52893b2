"""The app's Redis client (created lazily: redis-py connects on first command)."""
from __future__ import annotations

import redis
from flask import Flask, current_app


def init_redis(app: Flask) -> None:
    app.extensions["redis"] = redis.Redis.from_url(
        app.config["REDIS_URL"], decode_responses=True, health_check_interval=30
    )


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]


def db_number(url: str | None) -> int:
    """The db a Redis URL names, read as redis-py reads it (`/3`, `?db=3`, a unix socket's
    `?db=3`); 0 when it names none."""
    from redis.connection import parse_url

    return int(parse_url(url).get("db") or 0) if url else 0
