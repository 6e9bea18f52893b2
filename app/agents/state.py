"""Agent state in Redis: the truth the dialer routes by, changed only by atomic Lua scripts.

Keys (one Redis, no cluster: the scripts derive campaign keys from the agent's hash):
  agent:{id}          hash  state, since_ms, campaign_id, pause_code, call_id, ready_since_ms,
                            reserved_until_ms, connected_ms; the audio leg (app.agents.audio):
                            leg_sid, leg_via, leg_since_ms, room_sid
  ready:{campaign}    zset  ready agents scored by ready-since (ms): ZRANGE 0 0 is the longest idle
  members:{campaign}  set   agents working the campaign now (any state but offline)
  reservations        zset  reserved agents scored by reservation expiry (ms)
  heartbeats          zset  signed-in agents scored by their browser's last heartbeat (ms)
  pending:{campaign}  zset  agents whose pause or sign-off waits for calls placed for them to
                            settle, scored by when it was asked (ms); the request itself is on
                            agent:{id} as pending_target, pending_code, pending_code_id,
                            pending_reason, pending_since_ms, pending_ringing (app.agents.pending)
                            dialled_from_pause, the pause code an agent who dialled by hand while
                            paused goes back to (kept through reserved, on-call and wrap-up)

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
    # paused -> paused: a new pause code; paused -> reserved: the agent dials by hand while
    # paused (the dialer neither counts nor routes to them), and comes back to the pause after
    "paused": frozenset({"ready", "paused", "offline", "reserved"}),
}

RESERVATIONS = "reservations"
HEARTBEATS = "heartbeats"


def agent_key(agent_id: int) -> str:
    return f"agent:{agent_id}"


def ready_key(campaign_id: int) -> str:
    return f"ready:{campaign_id}"


def members_key(campaign_id: int) -> str:
    return f"members:{campaign_id}"


def pending_key(campaign_id: int) -> str:
    return f"pending:{campaign_id}"


PENDING_FIELDS = ("pending_target", "pending_code", "pending_code_id", "pending_reason",
                  "pending_since_ms", "pending_ringing")


# ARGV: 1 agent_id, 2 allowed from-states (comma list), 3 to-state, 4 now_ms, 5 campaign_id ('' keep),
# 6 pause_code, 7 call_id ('' keep), 8 require call_id match ('1'/''), 9 guard zset key ('' none),
# 10 guard: the agent's score in that zset must be <= this (a stale heartbeat / an expired reservation)
# Returns {1|0, previous state, previous since_ms, campaign_id, call_id, reason-if-refused,
#          previous campaign_id, previous call_id, 1 if a pending pause/sign-off was dropped}
# A pending pause or sign-off (app.agents.pending) ends with the agent paused or offline, or
# going ready other than back from a reservation (the agent asked for ready: it is cancelled).
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
if (to == 'ready' or to == 'on-call' or (to == 'reserved' and cur == 'paused'))
    and not redis.call('HGET', h, 'leg_sid') then
  return {0, cur, since, old_cid, old_call, 'audio'}
end
-- Dialled by hand while paused: remember the pause to come back to after the call.
if cur == 'paused' and to == 'reserved' then
  redis.call('HSET', h, 'dialled_from_pause', redis.call('HGET', h, 'pause_code') or '')
elseif to ~= 'reserved' and to ~= 'on-call' and to ~= 'wrap-up' then
  redis.call('HDEL', h, 'dialled_from_pause')
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
local dropped = 0
if redis.call('HEXISTS', h, 'pending_target') == 1
    and (to == 'paused' or to == 'offline' or (to == 'ready' and cur ~= 'reserved')) then
  redis.call('HDEL', h, 'pending_target', 'pending_code', 'pending_code_id', 'pending_reason',
             'pending_since_ms', 'pending_ringing')
  dropped = 1
end
if old_cid ~= '' and (dropped == 1 or redis.call('HEXISTS', h, 'pending_target') == 0) then
  redis.call('ZREM', 'pending:' .. old_cid, id)
end
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
return {1, cur, since, cid, call, '', old_cid, old_call, dropped}
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
-- An agent whose pause waits for the ringing calls gets one only when nobody else is ready.
if redis.call('ZCARD', KEYS[2]) > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if not redis.call('ZSCORE', KEYS[2], id) then
      local got = take(id)
      if got then return got end
    end
  end
end
while true do
  local ids = redis.call('ZRANGE', KEYS[1], 0, 0)
  if #ids == 0 then return false end
  local got = take(ids[1])
  if got then return got end
end
"""

# KEYS: 1 ready:{campaign}, 2 pending:{campaign}  ARGV: 1 an agent to leave out ('' none)
# Ready agents the pacer may count: those whose pause or sign-off is pending are not.
_READY_UNPENDING = """
local n = redis.call('ZCARD', KEYS[1])
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('ZSCORE', KEYS[1], id) then n = n - 1 end
end
if ARGV[1] ~= '' and redis.call('ZSCORE', KEYS[1], ARGV[1]) and not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  n = n - 1
end
return n
"""

# KEYS: 1 ready:{campaign}, 2 pending:{campaign}
# ARGV: 1 agent_id, 2 campaign_id, 3 calls ringing, 4 target, 5 pause code, 6 pause code id,
#       7 reason, 8 now_ms
# The agent (ready in this campaign) asks to pause or sign off: at once ('now') when the
# campaign's other ready agents, not counting those already pending, are at least the calls
# still ringing; else the request is recorded as pending ('pending'). Returns {verdict, state,
# other ready agents}; verdict 'state' when the agent is not ready in this campaign.
_PEND = """
local id = ARGV[1]
local h = 'agent:' .. id
local cur = redis.call('HGET', h, 'state') or 'offline'
if cur ~= 'ready' or (redis.call('HGET', h, 'campaign_id') or '') ~= ARGV[2] then
  return {'state', cur, 0}
end
local others = redis.call('ZCARD', KEYS[1])
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('ZSCORE', KEYS[1], m) then others = others - 1 end
end
if redis.call('ZSCORE', KEYS[1], id) and not redis.call('ZSCORE', KEYS[2], id) then others = others - 1 end
if others >= tonumber(ARGV[3]) then return {'now', cur, others} end
redis.call('HSET', h, 'pending_target', ARGV[4], 'pending_code', ARGV[5], 'pending_code_id', ARGV[6],
           'pending_reason', ARGV[7], 'pending_since_ms', ARGV[8], 'pending_ringing', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[8], id)
return {'pending', cur, others}
"""

# KEYS: 1 pending:{campaign}  ARGV: 1 agent_id, 2 the request's since_ms ('' any)
# The agent asked for ready again: their pending pause or sign-off is dropped. 1 if there was one.
_CANCEL_PENDING = """
local h = 'agent:' .. ARGV[1]
local since = redis.call('HGET', h, 'pending_since_ms')
if not since or (ARGV[2] ~= '' and since ~= ARGV[2]) then return 0 end
redis.call('HDEL', h, 'pending_target', 'pending_code', 'pending_code_id', 'pending_reason',
           'pending_since_ms', 'pending_ringing')
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
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
    pending_dropped: bool = False


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
                            _int_or_none(out[7]) if ok else _int_or_none(out[4]),
                            ok and bool(out[8]))


def reserve(campaign_id: int, call_id: int, now_ms: int, ttl_ms: int,
            prefer: int | None = None) -> tuple[int, int | None] | None:
    """(agent_id, ready-since ms) of the agent now reserved for `call_id`, or None if none is
    ready: `prefer` if that agent is ready in this campaign, else the longest idle."""
    out = _script(_RESERVE)(keys=[ready_key(campaign_id), pending_key(campaign_id)],
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
        # The pause code (possibly "") to go back to after a call dialled by hand while paused.
        "dialled_from_pause": data.get("dialled_from_pause"),
        "pending": None if not data.get("pending_target") else {
            "target": data["pending_target"], "pause_code": data.get("pending_code") or None,
            "pause_code_id": _int_or_none(data.get("pending_code_id")),
            "by": data.get("pending_reason") or None,
            "since_ms": _int_or_none(data.get("pending_since_ms")),
            "calls_ringing": _int_or_none(data.get("pending_ringing")),
        },
    }


def campaign_members(campaign_id: int) -> list[int]:
    return sorted(int(m) for m in get_redis().smembers(members_key(campaign_id)))


def ready_count(campaign_id: int) -> int:
    """Every ready agent of the campaign, pending or not (all of them can be given a call)."""
    return get_redis().zcard(ready_key(campaign_id))


def ready_unpending(campaign_id: int, leave_out: int | None = None) -> int:
    """Ready agents of the campaign the pacer may count: not those whose pause or sign-off is
    pending, nor `leave_out`."""
    return int(_script(_READY_UNPENDING)(keys=[ready_key(campaign_id), pending_key(campaign_id)],
                                         args=["" if leave_out is None else leave_out]))


def pend(agent_id: int, campaign_id: int, calls_ringing: int, target: str, pause_code: str | None,
         pause_code_id: int | None, reason: str, now_ms: int) -> tuple[str, str, int]:
    """(verdict, state, other ready agents): see _PEND."""
    out = _script(_PEND)(keys=[ready_key(campaign_id), pending_key(campaign_id)], args=[
        agent_id, campaign_id, calls_ringing, target, pause_code or "",
        "" if pause_code_id is None else pause_code_id, reason, now_ms])
    return out[0], out[1], int(out[2])


def cancel_pending(agent_id: int, campaign_id: int, since_ms: int | None = None) -> bool:
    return bool(_script(_CANCEL_PENDING)(keys=[pending_key(campaign_id)],
                                         args=[agent_id, "" if since_ms is None else since_ms]))


def pending_agents(campaign_id: int) -> dict[int, int]:
    """Agents of the campaign with a pending pause or sign-off -> when it was asked (ms)."""
    return {int(m): int(s) for m, s in get_redis().zrange(pending_key(campaign_id), 0, -1, withscores=True)}


def set_pending_ringing(agent_id: int, since_ms: int, calls_ringing: int) -> bool:
    """Record the calls still ringing on the agent's pending request (if it is still that one)."""
    return bool(_script(_SET_RINGING)(args=[agent_id, since_ms, calls_ringing]))


def drop_stale_pending(agent_id: int, campaign_id: int) -> bool:
    """Take the agent out of `pending:{campaign}` if they hold no request there any more."""
    return bool(_script(_DROP_STALE)(keys=[pending_key(campaign_id)], args=[agent_id, campaign_id]))


_DROP_STALE = """
local h = 'agent:' .. ARGV[1]
if redis.call('HGET', h, 'pending_since_ms') and redis.call('HGET', h, 'campaign_id') == ARGV[2] then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
"""

_SET_RINGING = """
local h = 'agent:' .. ARGV[1]
if redis.call('HGET', h, 'pending_since_ms') ~= ARGV[2] then return 0 end
if redis.call('HGET', h, 'pending_ringing') == ARGV[3] then return 0 end
redis.call('HSET', h, 'pending_ringing', ARGV[3])
return 1
"""


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
