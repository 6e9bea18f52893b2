"""Agent state in Redis: the truth the dialer routes by, changed only by atomic Lua scripts.

Keys (one Redis, no cluster: the scripts derive campaign keys from the agent's hash):
  agent:{id}          hash  state, since_ms, campaign_id, pause_code, call_id, ready_since_ms,
                            reserved_until_ms, connected_ms; the audio leg (app.agents.audio):
                            leg_sid, leg_via, leg_since_ms, room_sid
  ready:{campaign}    zset  ready agents scored by ready-since (ms): ZRANGE 0 0 is the longest idle
  members:{campaign}  set   agents working the campaign now (any state but offline)
  reservations        zset  reserved agents scored by reservation expiry (ms)
  heartbeats          zset  signed-in agents scored by their browser's last heartbeat (ms)

Every function takes `now_ms` from the caller so tests can drive the clock.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.common.redis import get_redis

IDLE_STATES = frozenset({"ready", "paused", "wrap-up"})

# Legal transitions: from-state -> the states it may go to. Which door leads where (agent API,
# supervisor, dialer, sweepers) is decided in services; this table is the state machine itself.
TRANSITIONS: dict[str, frozenset[str]] = {
    "offline": frozenset({"ready", "paused"}),
    "ready": frozenset({"reserved", "paused", "offline"}),
    # offline: access taken away; paused: the agent's audio went before the call was bridged
    "reserved": frozenset({"on-call", "ready", "offline", "paused"}),
    "on-call": frozenset({"wrap-up"}),
    "wrap-up": frozenset({"ready", "paused", "offline"}),
    "paused": frozenset({"ready", "paused", "offline"}),  # paused -> paused: a new pause code
}

RESERVATIONS = "reservations"
HEARTBEATS = "heartbeats"


def agent_key(agent_id: int) -> str:
    return f"agent:{agent_id}"


def ready_key(campaign_id: int) -> str:
    return f"ready:{campaign_id}"


def members_key(campaign_id: int) -> str:
    return f"members:{campaign_id}"


# ARGV: 1 agent_id, 2 allowed from-states (comma list), 3 to-state, 4 now_ms, 5 campaign_id ('' keep),
# 6 pause_code, 7 call_id ('' keep), 8 require call_id match ('1'/''), 9 guard zset key ('' none),
# 10 guard: the agent's score in that zset must be <= this (a stale heartbeat / an expired reservation)
# Returns {1|0, previous state, previous since_ms, campaign_id, call_id, reason-if-refused,
#          previous campaign_id, previous call_id}
_TRANSITION = """
local id = ARGV[1]
local h = 'agent:' .. id
local cur = redis.call('HGET', h, 'state') or 'offline'
local since = redis.call('HGET', h, 'since_ms') or ''
local old_cid = redis.call('HGET', h, 'campaign_id') or ''
local old_call = redis.call('HGET', h, 'call_id') or ''
local allowed = false
for s in string.gmatch(ARGV[2], '[^,]+') do if s == cur then allowed = true end end
if not allowed then return {0, cur, since, old_cid, old_call, 'state'} end
if ARGV[8] == '1' and old_call ~= ARGV[7] then return {0, cur, since, old_cid, old_call, 'call'} end
if ARGV[9] ~= '' then
  local score = redis.call('ZSCORE', ARGV[9], id)
  if (not score) or tonumber(score) > tonumber(ARGV[10]) then
    return {0, cur, since, old_cid, old_call, 'guard'}
  end
end
local to = ARGV[3]
local now = ARGV[4]
-- No audio, no ready: only an agent whose audio leg is in their room can be given a call,
-- and a call is bridged (on-call) only while it is still there.
if (to == 'ready' or to == 'on-call') and not redis.call('HGET', h, 'leg_sid') then
  return {0, cur, since, old_cid, old_call, 'audio'}
end
if cur == 'ready' and old_cid ~= '' then redis.call('ZREM', 'ready:' .. old_cid, id) end
if cur == 'reserved' then
  redis.call('ZREM', 'reservations', id)
  redis.call('HDEL', h, 'reserved_until_ms')
end
local cid = old_cid
if ARGV[5] ~= '' then cid = ARGV[5] end
if cid ~= old_cid and old_cid ~= '' then redis.call('SREM', 'members:' .. old_cid, id) end
local call = old_call
if ARGV[7] ~= '' then call = ARGV[7] end
if to == 'offline' then
  if old_cid ~= '' then redis.call('SREM', 'members:' .. old_cid, id) end
  redis.call('HDEL', h, 'campaign_id')
  redis.call('ZREM', 'heartbeats', id)
  cid = ''
elseif cid ~= '' then
  redis.call('SADD', 'members:' .. cid, id)
  redis.call('HSET', h, 'campaign_id', cid)
end
if to == 'paused' then redis.call('HSET', h, 'pause_code', ARGV[6]) else redis.call('HDEL', h, 'pause_code') end
if to == 'ready' then
  -- back from an unconfirmed reservation: keep the place in the queue earned by idling
  local ready_since = now
  if cur == 'reserved' then ready_since = redis.call('HGET', h, 'ready_since_ms') or now end
  redis.call('HSET', h, 'ready_since_ms', ready_since)
  redis.call('ZADD', 'ready:' .. cid, ready_since, id)
else
  redis.call('HDEL', h, 'ready_since_ms')
end
-- a call belongs to reserved, on-call and wrap-up; its connection time to on-call and wrap-up
if to == 'reserved' or to == 'on-call' or to == 'wrap-up' then
  if call ~= '' then redis.call('HSET', h, 'call_id', call) end
else
  redis.call('HDEL', h, 'call_id')
  call = ''
end
if to == 'on-call' then redis.call('HSET', h, 'connected_ms', now)
elseif to ~= 'wrap-up' then redis.call('HDEL', h, 'connected_ms') end
redis.call('HSET', h, 'state', to, 'since_ms', now)
return {1, cur, since, cid, call, '', old_cid, old_call}
"""

# KEYS: 1 ready:{campaign}  ARGV: 1 now_ms, 2 expires_at_ms, 3 call_id, 4 preferred agent or ''
# Takes the preferred agent if ready here, else pops the longest-idle ready agent, and marks it
# reserved, in one step: nobody else can get it.
_RESERVE = """
local function take(id)
  redis.call('ZREM', KEYS[1], id)
  local h = 'agent:' .. id
  if redis.call('HGET', h, 'state') ~= 'ready' then return nil end
  if not redis.call('HGET', h, 'leg_sid') then return nil end
  local since = redis.call('HGET', h, 'since_ms') or ''
  redis.call('HSET', h, 'state', 'reserved', 'since_ms', ARGV[1], 'call_id', ARGV[3],
             'reserved_until_ms', ARGV[2])
  redis.call('ZADD', 'reservations', ARGV[2], id)
  return {id, since}
end
if ARGV[4] ~= '' and redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  local got = take(ARGV[4])
  if got then return got end
end
while true do
  local ids = redis.call('ZRANGE', KEYS[1], 0, 0)
  if #ids == 0 then return false end
  local got = take(ids[1])
  if got then return got end
end
"""


@dataclass(frozen=True)
class TransitionResult:
    ok: bool
    previous_state: str
    previous_since_ms: int | None
    campaign_id: int | None
    call_id: int | None
    refused_because: str = ""
    previous_campaign_id: int | None = None
    previous_call_id: int | None = None


def _int_or_none(value) -> int | None:
    return int(value) if value not in (None, "", b"") else None


_scripts: dict[tuple[int, str], object] = {}


def _script(source: str):
    r = get_redis()
    key = (id(r), source)
    if key not in _scripts:
        _scripts[key] = r.register_script(source)
    return _scripts[key]


def transition(agent_id: int, allowed_from, to_state: str, now_ms: int, *, campaign_id: int | None = None,
               pause_code: str | None = None, call_id: int | None = None, require_call: bool = False,
               guard_key: str = "", guard_max_ms: int = 0) -> TransitionResult:
    out = _script(_TRANSITION)(args=[
        agent_id, ",".join(allowed_from), to_state, now_ms,
        "" if campaign_id is None else campaign_id, pause_code or "",
        "" if call_id is None else call_id, "1" if require_call else "", guard_key, guard_max_ms,
    ])
    ok = bool(out[0])
    return TransitionResult(ok, out[1], _int_or_none(out[2]), _int_or_none(out[3]), _int_or_none(out[4]),
                            out[5], _int_or_none(out[6]) if ok else _int_or_none(out[3]),
                            _int_or_none(out[7]) if ok else _int_or_none(out[4]))


def reserve(campaign_id: int, call_id: int, now_ms: int, ttl_ms: int,
            prefer: int | None = None) -> tuple[int, int | None] | None:
    """(agent_id, ready-since ms) of the agent now reserved for `call_id`, or None if none is
    ready: `prefer` if that agent is ready in this campaign, else the longest idle."""
    out = _script(_RESERVE)(keys=[ready_key(campaign_id)],
                            args=[now_ms, now_ms + ttl_ms, call_id, "" if prefer is None else prefer])
    if not out:
        return None
    return int(out[0]), _int_or_none(out[1])


def snapshot(agent_id: int) -> dict:
    """The agent's state as Redis holds it (an agent never seen is offline)."""
    data = get_redis().hgetall(agent_key(agent_id))
    return _decode(data)


def snapshots(agent_ids) -> dict[int, dict]:
    agent_ids = list(agent_ids)
    pipe = get_redis().pipeline(transaction=False)
    for agent_id in agent_ids:
        pipe.hgetall(agent_key(agent_id))
    return {agent_id: _decode(data) for agent_id, data in zip(agent_ids, pipe.execute())}


def _decode(data: dict) -> dict:
    return {
        "state": data.get("state", "offline"),
        "since_ms": _int_or_none(data.get("since_ms")),
        "campaign_id": _int_or_none(data.get("campaign_id")),
        "pause_code": data.get("pause_code") or None,
        "call_id": _int_or_none(data.get("call_id")),
        "connected_ms": _int_or_none(data.get("connected_ms")),
        "reserved_until_ms": _int_or_none(data.get("reserved_until_ms")),
        "audio": data.get("leg_via") if data.get("leg_sid") else None,
    }


def campaign_members(campaign_id: int) -> list[int]:
    return sorted(int(m) for m in get_redis().smembers(members_key(campaign_id)))


def ready_count(campaign_id: int) -> int:
    return get_redis().zcard(ready_key(campaign_id))


def beat(agent_id: int, now_ms: int) -> None:
    get_redis().zadd(HEARTBEATS, {str(agent_id): now_ms})


def mark_silent(agent_id: int) -> None:
    """As if the console had never beaten: the next sweep signs the agent off once it may."""
    get_redis().zadd(HEARTBEATS, {str(agent_id): 0})


def silent_since(cutoff_ms: int) -> list[int]:
    """Agents whose last heartbeat is at or before `cutoff_ms`."""
    return [int(m) for m in get_redis().zrangebyscore(HEARTBEATS, "-inf", cutoff_ms)]


def expired_reservations(now_ms: int) -> list[int]:
    return [int(m) for m in get_redis().zrangebyscore(RESERVATIONS, "-inf", now_ms)]
