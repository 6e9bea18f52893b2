"""The dial queue ("hopper"): per campaign, in Redis, claimed atomically with a lease.

Keys per campaign:
  dq:{cid}:ready   ZSET contact id -> priority (lower first: callbacks, then new, then retries)
  dq:{cid}:leases  ZSET contact id -> lease expiry (epoch seconds) while a worker dials it
  dq:{cid}:held    HASH reason -> contacts held back at the last refill

A claim moves ids from ready to leases in one Lua call, so two workers never get the same
contact. A worker that commits the attempt's call row acks the lease; one that dies leaves it to
expire, and `requeue_expired` puts the contact back. The row lock and the unique
(contact_id, attempt_no) in PostgreSQL are the final word at the moment of dialling.
"""
from __future__ import annotations

import time

from datetime import datetime, timedelta

from flask import current_app
from redis import Redis
from sqlalchemy import and_, func, or_, select

from app.calls.models import Call
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.extensions import db

PRIORITY_CALLBACK = 0
PRIORITY_NEW = 1
PRIORITY_RETRY = 2
# Why a queued contact was not dialled: its list was switched off (app.contacts.lists).
LIST_SWITCHED_OFF = "list_switched_off"
_CLASS_SPAN = 1e13  # epoch seconds and ids both fit below this

_CLAIM = """
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZADD', KEYS[2], ARGV[2], id)
end
return ids
"""

_ADD = """
local added = 0
for i = 1, #ARGV, 2 do
  local id = ARGV[i + 1]
  if not redis.call('ZSCORE', KEYS[2], id) then
    added = added + redis.call('ZADD', KEYS[1], 'NX', ARGV[i], id)
  end
end
return added
"""

_REQUEUE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[1], 'NX', 0, id)
end
return ids
"""


def ready_key(campaign_id: int) -> str:
    return f"dq:{campaign_id}:ready"


def leases_key(campaign_id: int) -> str:
    return f"dq:{campaign_id}:leases"


def held_key(campaign_id: int) -> str:
    return f"dq:{campaign_id}:held"


def priority(kind: int, order_value: float) -> float:
    """Score for the ready set: the class first, then due time (or id) within the class."""
    return kind * _CLASS_SPAN + order_value


class Hopper:
    def __init__(self, redis: Redis):
        self.redis = redis
        self._claim = redis.register_script(_CLAIM)
        self._add = redis.register_script(_ADD)
        self._requeue = redis.register_script(_REQUEUE)

    def add(self, campaign_id: int, scored_ids: list[tuple[int, float]]) -> int:
        """Queue contacts not already queued or leased; returns how many were new."""
        if not scored_ids:
            return 0
        args: list = []
        for contact_id, score in scored_ids:
            args += [score, contact_id]
        return int(self._add(keys=[ready_key(campaign_id), leases_key(campaign_id)], args=args))

    def claim(self, campaign_id: int, n: int, lease_seconds: float, now: float | None = None) -> list[int]:
        if n <= 0:
            return []
        until = (time.time() if now is None else now) + lease_seconds
        ids = self._claim(keys=[ready_key(campaign_id), leases_key(campaign_id)], args=[n, until])
        return [int(i) for i in ids]

    def remove(self, campaign_id: int, contact_ids: list[int]) -> int:
        """Take waiting contacts out of the queue (their list switched off); claimed ones are left
        to the moment of dialling, which refuses them. Returns how many were waiting."""
        removed = 0
        for start in range(0, len(contact_ids), 1000):
            removed += self.redis.zrem(ready_key(campaign_id), *contact_ids[start:start + 1000])
        return removed

    def ack(self, campaign_id: int, contact_id: int) -> None:
        """The attempt is committed (or the contact turned out not dialable): drop the lease."""
        self.redis.zrem(leases_key(campaign_id), contact_id)

    def requeue_expired(self, campaign_id: int, now: float | None = None) -> list[int]:
        now = time.time() if now is None else now
        ids = self._requeue(keys=[ready_key(campaign_id), leases_key(campaign_id)], args=[now])
        return [int(i) for i in ids]

    def depth(self, campaign_id: int) -> dict:
        pipe = self.redis.pipeline()
        pipe.zcard(ready_key(campaign_id))
        pipe.zcard(leases_key(campaign_id))
        pipe.hgetall(held_key(campaign_id))
        ready, leased, held = pipe.execute()
        return {"ready": ready, "leased": leased, "held_back": {k: int(v) for k, v in held.items()}}

    def set_held(self, campaign_id: int, counts: dict[str, int]) -> None:
        pipe = self.redis.pipeline()
        pipe.delete(held_key(campaign_id))
        if counts:
            pipe.hset(held_key(campaign_id), mapping=counts)
        pipe.execute()

    def clear(self, campaign_id: int) -> None:
        self.redis.delete(ready_key(campaign_id), leases_key(campaign_id), held_key(campaign_id))


def ready_depths(redis: Redis, campaign_ids: list[int]) -> dict[int, int]:
    """Contacts waiting (queued, not claimed) in each campaign's dial queue; one round trip."""
    pipe = redis.pipeline(transaction=False)
    for campaign_id in campaign_ids:
        pipe.zcard(ready_key(campaign_id))
    return dict(zip(campaign_ids, pipe.execute()))


RINGING_STATUSES = ("queued", "initiated", "ringing")
# An answered call is being routed (the 2-second search for an agent) for at most this long.
ROUTING_WINDOW_SECONDS = 5


def calls_ringing(campaign, since: datetime | None = None, *,
                  each: list[datetime | None] | None = None) -> int | list[int]:
    """What a pending pause waits for (app.agents.pending): the calls the pacer placed for the
    campaign's agents and not yet settled (ringing, or answered and still being routed to an
    agent), and the contacts claimed to be dialled now (an active campaign's leases). With
    `since`, only those placed or claimed by then: calls placed later were placed for the
    agents counted later, never for the one whose pause is waiting. With `each`, the counts
    for each of those `since`s at once (a list): one query and one Redis read however many
    pending pauses a campaign has (app.agents.pending.settle)."""
    if each is None:
        return _ringing(campaign, [since])[0]
    return _ringing(campaign, each) if each else []


def _ringing(campaign, sinces: list[datetime | None]) -> list[int]:
    now = utcnow()
    routing = and_(Call.status == "in-progress", Call.connected_at.is_(None), Call.abandoned.is_not(True),
                   Call.answered_at >= now - timedelta(seconds=ROUTING_WINDOW_SECONDS))
    where = [Call.campaign_id == campaign.id, Call.kind == "auto", or_(Call.status.in_(RINGING_STATUSES), routing)]
    columns = [func.count() if s is None else func.count().filter(Call.created_at <= s) for s in sinces]
    row = db.session.execute(select(*columns).select_from(Call).where(*where)).one()
    counts = [n or 0 for n in row]
    if campaign.status == "active":
        leases = leases_key(campaign.id)
        if len(sinces) == 1 and sinces[0] is None:
            counts[0] += get_redis().zcard(leases)
        else:  # a lease's score is its expiry: claimed by `since` means expiring by since + lease
            lease = current_app.config["DIAL_LEASE_SECONDS"]
            expiries = [score for _, score in get_redis().zrange(leases, 0, -1, withscores=True)]
            counts = [n + (len(expiries) if s is None else
                           sum(1 for e in expiries if e <= s.timestamp() + lease))
                      for n, s in zip(counts, sinces)]
    return counts
