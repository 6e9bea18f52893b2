"""Callers to our numbers waiting for an agent: each campaign's queue, in Redis.

The carrier holds the caller (`<Enqueue>`, app.dialer.inbound); this queue is our own order of
who came first, so that only the oldest caller takes an agent who frees up, and the pacer
knows how many agents to keep back for the callers waiting.

Keys:
  inbound-queue:{campaign}  zset  call ids scored by when the caller first joined: ms x 1000
                                  plus a sequence (inbound-seq), so that two callers of one ms
                                  keep their order (equal scores would sort by call id as text)
  inbound-alive:{call}      str   set at each poll of the caller's wait URL; a caller whose
                                  polls stopped (they hung up and the carrier's word of it was
                                  lost) drops out of the queue instead of blocking it
  inbound-leave:{call}      str   why the caller is leaving the queue, until the Enqueue's action
                                  URL hears it: "agent:<id>:<their score>" (told <Leave/> at a
                                  wait poll), "taking:<id>:<their score>" (taken by a REST
                                  redirect, app.dialer.inbound.hand_waiting_callers) or "wait";
                                  then "left", so that a repeated action or a late wait poll
                                  never queues them again
  inbound-queues            set   the campaigns whose queue may hold callers, for the sweep that
                                  hands them to agents as they free up
  inbound-said:{call}       hash  what the caller was last told: place, at (ms)
"""
from __future__ import annotations

from app.agents import state as rstate
from app.common.redis import get_redis

# A caller is gone when their wait URL has not been asked for this long: longer than the longest
# wait TwiML plays (the hold message may run a minute), as the carrier asks only after it.
ALIVE_SECONDS = 120
LEAVE_SECONDS = 120     # the action URL follows a <Leave/> at once; this only bounds a lost one
SAID_SECONDS = 3600


QUEUES_KEY = "inbound-queues"


def queue_key(campaign_id: int) -> str:
    return f"inbound-queue:{campaign_id}"


def _alive_key(call_id: int) -> str:
    return f"inbound-alive:{call_id}"


def _leave_key(call_id: int) -> str:
    return f"inbound-leave:{call_id}"


def _said_key(call_id: int) -> str:
    return f"inbound-said:{call_id}"


# The caller's place: when they joined (ms) x 1000, plus a sequence for the callers of one ms;
# written out as an integer (Lua would round a number passed as it is to 14 digits).
_SCORE = """
local function score()
  return string.format('%.0f', tonumber(ARGV[2]) * 1000 + redis.call('INCR', 'inbound-seq') % 1000)
end
"""

# KEYS: 1 inbound-queue:{campaign}, 2 inbound-queues
# ARGV: 1 call id, 2 now ms, 3 campaign id, 4 the caller's score ('' for a new place), 5 alive s
# The caller is alive and in the queue (at their score, or at the end), then the campaign in the
# set the sweep reads: after the caller, see _FORGET_IF_EMPTY.
_JOIN = _SCORE + """
redis.call('SET', 'inbound-alive:' .. ARGV[1], ARGV[2], 'EX', ARGV[5])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[1], 'NX', ARGV[4], ARGV[1])
elseif not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], score(), ARGV[1])
end
redis.call('SADD', KEYS[2], ARGV[3])
return 1
"""

# KEYS: 1 inbound-queue:{campaign}, 2 inbound-queues
# ARGV: 1 the asking call id ('' none), 2 now ms, 3 campaign id, 4 alive s
# The asking caller is alive (they ask), and put back at the end if they were taken out
# (unless they are leaving); callers whose polls stopped leave the queue. Returns {callers
# waiting, 0-based place of the asking call or -1, its score or ''}. A campaign whose queue
# holds the asking caller is in the set the sweep reads (a caller put back after the sweep
# forgot an empty queue).
_PRUNE = _SCORE + """
if ARGV[1] ~= '' then
  redis.call('SET', 'inbound-alive:' .. ARGV[1], ARGV[2], 'EX', ARGV[4])
  if redis.call('EXISTS', 'inbound-leave:' .. ARGV[1]) == 0
      and not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
    redis.call('ZADD', KEYS[1], score(), ARGV[1])
  end
end
local place = -1
local n = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if id ~= ARGV[1] and redis.call('EXISTS', 'inbound-alive:' .. id) == 0 then
    redis.call('ZREM', KEYS[1], id)
  else
    if id == ARGV[1] then place = n end
    n = n + 1
  end
end
local joined = ''
if place >= 0 then
  joined = redis.call('ZSCORE', KEYS[1], ARGV[1])
  redis.call('SADD', KEYS[2], ARGV[3])
end
return {n, place, joined}
"""


def join(campaign_id: int, call_id: int, now_ms: int, score: int | None = None) -> None:
    """The caller waits in the campaign's queue; one coming back with their `score` keeps their
    first place. One round trip."""
    rstate._script(_JOIN)(keys=[queue_key(campaign_id), QUEUES_KEY],
                          args=[call_id, now_ms, campaign_id, "" if score is None else score,
                                ALIVE_SECONDS])


def poll(campaign_id: int, call_id: int, now_ms: int) -> tuple[int, int | None]:
    """A wait-URL poll: the caller is still there. (their 0-based place, their score), or
    (-1, None) for a caller who is leaving the queue. One round trip."""
    _, place, joined = rstate._script(_PRUNE)(keys=[queue_key(campaign_id), QUEUES_KEY],
                                              args=[call_id, now_ms, campaign_id, ALIVE_SECONDS])
    return int(place), (int(float(joined)) if joined else None)


def waiting(campaign_id: int) -> int:
    """Callers waiting in the campaign's queue now (those whose polls stopped not counted)."""
    return int(rstate._script(_PRUNE)(keys=[queue_key(campaign_id), QUEUES_KEY],
                                      args=["", "", campaign_id, ALIVE_SECONDS])[0])


# KEYS: 1 inbound-queue:{campaign}, 2 inbound-leave:{call}  ARGV: 1 call id, 2 why, 3 ttl s
# Only a caller still in the queue is taken out: of a wait poll and the sweep reaching for one
# caller at once, one wins.
_CLAIM = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1
"""


def leave(campaign_id: int, call_id: int, why: str) -> bool:
    """The caller is taken out of the queue; `why` waits for the Enqueue's action URL. False
    when they were not in it (another request took them first)."""
    return bool(rstate._script(_CLAIM)(keys=[queue_key(campaign_id), _leave_key(call_id)],
                                       args=[call_id, why, LEAVE_SECONDS]))


def put_back(campaign_id: int, call_id: int, score: int) -> None:
    """A caller taken out for an agent who was lost meanwhile waits again at their first place."""
    pipe = get_redis().pipeline()
    pipe.delete(_leave_key(call_id))
    pipe.zadd(queue_key(campaign_id), {str(call_id): score}, nx=True)
    pipe.sadd(QUEUES_KEY, campaign_id)
    pipe.execute()


def leaving(call_id: int) -> str | None:
    """Why the caller is leaving the queue, while the Enqueue's action URL has not heard it."""
    return get_redis().get(_leave_key(call_id))


# KEYS: 1 inbound-queue:{campaign}, 2 inbound-queues  ARGV: 1 campaign id
# A caller joins the queue before the campaign joins the set, so a join racing this either
# finds the queue non-empty here or adds the campaign back after.
_FORGET_IF_EMPTY = """
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
"""


def first(campaign_id: int, n: int) -> list[tuple[int, int]]:
    """The `n` callers waiting longest, oldest first: (call id, score). A campaign whose queue
    is empty leaves the set the sweep reads."""
    if waiting(campaign_id) == 0:
        rstate._script(_FORGET_IF_EMPTY)(keys=[queue_key(campaign_id), QUEUES_KEY], args=[campaign_id])
        return []
    if n <= 0:
        return []
    found = get_redis().zrange(queue_key(campaign_id), 0, n - 1, withscores=True)
    return [(int(call_id), int(score)) for call_id, score in found]


def campaigns_with_callers() -> list[int]:
    """The campaigns whose queue may hold callers (an empty one leaves at its next `first`)."""
    return sorted(int(c) for c in get_redis().smembers(QUEUES_KEY))


LEFT = "left"


def left(campaign_id: int, call_id: int) -> str | None:
    """Why the caller left (said once: a repeated action request finds LEFT), and the caller is
    out of the queue whatever happened (a hang-up too) and kept out of it."""
    pipe = get_redis().pipeline()
    pipe.getdel(_leave_key(call_id))
    pipe.set(_leave_key(call_id), LEFT, ex=LEAVE_SECONDS)
    pipe.zrem(queue_key(campaign_id), str(call_id))
    pipe.delete(_alive_key(call_id), _said_key(call_id))
    return pipe.execute()[0]


def last_said(call_id: int) -> tuple[int | None, int | None]:
    """(place, at ms) the caller was last told, or (None, None)."""
    place, at = get_redis().hmget(_said_key(call_id), "place", "at")
    return (int(place) if place else None), (int(at) if at else None)


def said(call_id: int, place: int, now_ms: int) -> None:
    pipe = get_redis().pipeline()
    pipe.hset(_said_key(call_id), mapping={"place": place, "at": now_ms})
    pipe.expire(_said_key(call_id), SAID_SECONDS)
    pipe.execute()
