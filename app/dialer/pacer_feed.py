"""Observations for the pacer, shared by every process through a Redis stream per campaign.

Call results are seen by telephony workers, answers by the web process and agent hand-offs by
whoever records the disposition, but the pacing tick runs in a dial worker. Each observation
is appended to `pacer:{campaign_id}`; each process that ticks keeps its own pacer and replays
the stream from where it left off (a new process learns from the recent history at once).

The pacer also learns from its own decisions (what it forecast for the calls it placed, the
price it steers), and a campaign's ticks land on whichever `dial` process is free. So after
each tick (single-flight per campaign) its pacer is handed over through Redis, signed with the
app's secret key: the next tick, in whatever process, goes on from exactly that state, and a
process that ticked last keeps its own copy without reading it back. Split across eight
processes without the hand-over, each pacer saw every abandonment but forecast only an
eighth of the calls, read itself as eight times too optimistic and dialled far too little.

The state handed over is the pacer's own versioned JSON (`app.dialer.pacing.dump_state`), not
a serialised Python object: renaming a class or attribute cannot silently reset every
campaign's learning, and a state of another schema version, mode or target is dropped in the
open (the pacer relearns from the stream). The signature still guards it: Redis is shared.

A person's answer is one dial result the pacer must hear at once: it is a call no longer in
flight, a person waiting for an agent, and the answer rate of the second it was placed in (a
second's results are counted once its calls have had time to end, about half a minute). The
end of the call comes a whole talk time later. So the answer, recorded by routing at the
answer, may carry the ring time (`ring_seconds`): it is then replayed as the person's dial
result followed by the answer, in the pacer's contract order, and the same call's dial result
recorded at its end is not counted again (the next person-answered result at an end is
skipped for each answer that carried one). An answer without a ring time is replayed as
before, and that call's result counts at its end.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass

from redis import Redis

from app.dialer.pacing import StateRejected, dump_state, load_state, make_pacer

STREAM_MAXLEN = 20_000
STATE_TTL_SECONDS = 3600  # an idle campaign's pacer starts over from the stream after this

log = logging.getLogger(__name__)


def stream_key(campaign_id: int) -> str:
    return f"pacer:{campaign_id}"


def state_key(campaign_id: int) -> str:
    # States of earlier releases (another format) lie under `pacer-state:`: never read, they expire.
    return f"pacer-handover:{campaign_id}"


def record_dial_result(redis: Redis, campaign_id: int, at: float, outcome: str, ring_seconds: float) -> None:
    redis.xadd(stream_key(campaign_id), {"e": "dial", "at": at, "outcome": outcome, "s": ring_seconds},
               maxlen=STREAM_MAXLEN, approximate=True)


def record_human_answer(redis: Redis, campaign_id: int, at: float, connected: bool, wait_seconds: float,
                        ring_seconds: float | None = None) -> None:
    """A person answered at `at` (and was connected, or not, after `wait_seconds`). With the
    call's `ring_seconds`, this is also the call's dial result: the one at its end is skipped."""
    fields = {"e": "answer", "at": at, "c": int(connected), "s": wait_seconds}
    if ring_seconds is not None:
        fields["r"] = ring_seconds
    redis.xadd(stream_key(campaign_id), fields, maxlen=STREAM_MAXLEN, approximate=True)


def record_agent_free(redis: Redis, campaign_id: int, at: float, handle_seconds: float) -> None:
    redis.xadd(stream_key(campaign_id), {"e": "free", "at": at, "s": handle_seconds},
               maxlen=STREAM_MAXLEN, approximate=True)


@dataclass
class _Entry:
    pacer: object
    mode: str
    target: float
    last_id: str = "0-0"
    token: str | None = None  # of the handed-over state this copy matches
    answered_ahead: int = 0  # answers that carried their dial result, whose end is still to come


class PacerRegistry:
    """This process's pacers, one per campaign, kept in step with the shared stream and with
    the state the campaign's last tick handed over."""

    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}

    def pacer_for(self, redis: Redis, campaign_id: int, mode: str, abandon_target: float,
                  secret: bytes | None = None, time_scale: float = 1.0):
        """The campaign's pacer, up to date. With `secret`, the state the last tick handed over
        (in any process) is taken up first; call `hand_over` after deciding. The stream holds
        wall-clock times and durations; the pacer is fed them divided by `time_scale` (wall
        seconds per carrier second, 1 but against a time-scaled simulator)."""
        entry = self._entries.get(campaign_id)
        if secret is not None:
            entry = self._take_over(redis, campaign_id, entry, secret, mode, abandon_target)
        if entry is None or entry.mode != mode or entry.target != abandon_target:
            entry = _Entry(make_pacer(mode, abandon_target=abandon_target), mode, abandon_target)
        self._entries[campaign_id] = entry
        self._catch_up(redis, campaign_id, entry, time_scale)
        return entry.pacer

    def hand_over(self, redis: Redis, campaign_id: int, secret: bytes) -> None:
        """Publish the campaign's pacer for whichever process ticks it next."""
        entry = self._entries[campaign_id]
        key = state_key(campaign_id)
        try:
            state = json.dumps({"last_id": entry.last_id, "ahead": entry.answered_ahead,
                                "pacer": dump_state(entry.pacer)},
                               separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError):
            # Not expressible in JSON (a non-finite figure): better no state than an older one,
            # so each process goes on with its own copy.
            log.exception("pacer state for campaign %s not handed over", campaign_id)
            redis.delete(key)
            return
        token = secrets.token_hex(8)
        pipe = redis.pipeline(transaction=True)
        pipe.hset(key, mapping={"token": token, "sig": _sign(secret, token, state), "state": state})
        pipe.expire(key, STATE_TTL_SECONDS)
        pipe.execute()
        entry.token = token

    @staticmethod
    def _take_over(redis: Redis, campaign_id: int, entry: _Entry | None, secret: bytes,
                   mode: str, abandon_target: float) -> _Entry | None:
        key = state_key(campaign_id)
        token = redis.hget(key, "token")
        if token is None or (entry is not None and entry.token == token):
            return entry  # nothing handed over, or this process ticked last
        token, signature, state = redis.hmget(key, "token", "sig", "state")
        if token is None or signature is None or state is None:
            return entry
        if not hmac.compare_digest(_sign(secret, token, state), signature):
            # Not written by this deployment: never read. Go on with this process's own
            # pacer, or learn afresh from the stream.
            log.error("pacer state for campaign %s has a bad signature; ignored", campaign_id)
            redis.delete(key)
            return entry
        try:
            handed = json.loads(state)
            pacer = load_state(handed["pacer"], mode=mode, abandon_target=abandon_target)
            last_id = str(handed["last_id"])
            ahead = int(handed.get("ahead", 0))
        except (StateRejected, ValueError, KeyError, TypeError, AttributeError) as exc:
            # Another schema version (a release before or after this one), or the campaign's
            # mode or target changed since: this process's own copy is older still.
            log.warning("pacer state for campaign %s dropped (%s); learning afresh from the stream",
                        campaign_id, exc)
            redis.delete(key)
            return None
        return _Entry(pacer, mode, abandon_target, last_id, token, ahead)

    @staticmethod
    def _catch_up(redis: Redis, campaign_id: int, entry: _Entry, time_scale: float = 1.0) -> None:
        while True:
            batch = redis.xrange(stream_key(campaign_id), min=f"({entry.last_id}", count=2000)
            if not batch:
                return
            for event_id, fields in batch:
                _apply(entry, fields, time_scale)
                entry.last_id = event_id


def _sign(secret: bytes, token: str, state: str) -> str:
    # A key of its own, derived from the app's secret: nothing else it signs can pass for this.
    key = hmac.new(secret, b"omnivox pacer state", hashlib.sha256).digest()
    return hmac.new(key, f"{token}|{state}".encode(), hashlib.sha256).hexdigest()


def _apply(entry: _Entry, fields: dict, time_scale: float = 1.0) -> None:
    pacer = entry.pacer
    at, seconds = float(fields["at"]) / time_scale, float(fields["s"]) / time_scale
    kind = fields["e"]
    if kind == "dial":
        if fields["outcome"] == "human" and entry.answered_ahead > 0:
            entry.answered_ahead -= 1  # heard at its answer already
            return
        pacer.on_dial_result(at, fields["outcome"], seconds)
    elif kind == "answer":
        if "r" in fields:
            pacer.on_dial_result(at, "human", float(fields["r"]) / time_scale)
            entry.answered_ahead += 1
        pacer.on_human_answer(at, fields["c"] == "1", seconds)
    elif kind == "free":
        pacer.on_agent_free(at, seconds)


registry = PacerRegistry()
