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
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import pickle
import secrets
from dataclasses import dataclass

from redis import Redis

from app.dialer.pacing import make_pacer

STREAM_MAXLEN = 20_000
STATE_TTL_SECONDS = 3600  # an idle campaign's pacer starts over from the stream after this
STATE_SCHEMA = 1  # raise when the pacer's classes change shape: older states are then dropped

log = logging.getLogger(__name__)


def stream_key(campaign_id: int) -> str:
    return f"pacer:{campaign_id}"


def state_key(campaign_id: int) -> str:
    return f"pacer-state:{campaign_id}"


def record_dial_result(redis: Redis, campaign_id: int, at: float, outcome: str, ring_seconds: float) -> None:
    redis.xadd(stream_key(campaign_id), {"e": "dial", "at": at, "outcome": outcome, "s": ring_seconds},
               maxlen=STREAM_MAXLEN, approximate=True)


def record_human_answer(redis: Redis, campaign_id: int, at: float, connected: bool, wait_seconds: float) -> None:
    redis.xadd(stream_key(campaign_id), {"e": "answer", "at": at, "c": int(connected), "s": wait_seconds},
               maxlen=STREAM_MAXLEN, approximate=True)


def record_agent_free(redis: Redis, campaign_id: int, at: float, handle_seconds: float) -> None:
    redis.xadd(stream_key(campaign_id), {"e": "free", "at": at, "s": handle_seconds},
               maxlen=STREAM_MAXLEN, approximate=True)


@dataclass
class _Entry:
    pacer: object
    mode: str
    target: float
    last_id: str = "0-0"
    version: str | None = None  # of the handed-over state this copy matches


class PacerRegistry:
    """This process's pacers, one per campaign, kept in step with the shared stream and with
    the state the campaign's last tick handed over."""

    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}

    def pacer_for(self, redis: Redis, campaign_id: int, mode: str, abandon_target: float,
                  secret: bytes | None = None):
        """The campaign's pacer, up to date. With `secret`, the state the last tick handed over
        (in any process) is taken up first; call `hand_over` after deciding."""
        entry = self._entries.get(campaign_id)
        if secret is not None:
            entry = self._take_over(redis, campaign_id, entry, secret)
        if entry is None or entry.mode != mode or entry.target != abandon_target:
            entry = _Entry(make_pacer(mode, abandon_target=abandon_target), mode, abandon_target)
        self._entries[campaign_id] = entry
        self._catch_up(redis, campaign_id, entry)
        return entry.pacer

    def hand_over(self, redis: Redis, campaign_id: int, secret: bytes) -> None:
        """Publish the campaign's pacer for whichever process ticks it next."""
        entry = self._entries[campaign_id]
        blob = base64.b64encode(pickle.dumps(
            (STATE_SCHEMA, entry.mode, entry.target, entry.last_id, entry.pacer),
            protocol=pickle.HIGHEST_PROTOCOL)).decode()
        version = secrets.token_hex(8)
        pipe = redis.pipeline(transaction=True)
        pipe.hset(state_key(campaign_id),
                  mapping={"v": version, "sig": _sign(secret, version, blob), "blob": blob})
        pipe.expire(state_key(campaign_id), STATE_TTL_SECONDS)
        pipe.execute()
        entry.version = version

    @staticmethod
    def _take_over(redis: Redis, campaign_id: int, entry: _Entry | None, secret: bytes):
        key = state_key(campaign_id)
        version = redis.hget(key, "v")
        if version is None or (entry is not None and entry.version == version):
            return entry  # nothing handed over, or this process ticked last
        version, signature, blob = redis.hmget(key, "v", "sig", "blob")
        if version is None or signature is None or blob is None:
            return entry
        if not hmac.compare_digest(_sign(secret, version, blob), signature):
            # Not written by this deployment: never unpickled. Go on with this process's own
            # pacer, or learn afresh from the stream.
            log.error("pacer state for campaign %s has a bad signature; ignored", campaign_id)
            redis.delete(key)
            return entry
        try:
            schema, mode, target, last_id, pacer = pickle.loads(base64.b64decode(blob))  # noqa: S301 - signed by us
            if schema != STATE_SCHEMA or not hasattr(pacer, "calls_to_place"):
                raise ValueError(f"state schema {schema!r}")
        except Exception as exc:  # noqa: BLE001 - a release with other pacer classes: start over
            log.warning("pacer state for campaign %s not taken up (%s); learning afresh", campaign_id, exc)
            redis.delete(key)
            return entry
        return _Entry(pacer, mode, target, last_id, version)

    @staticmethod
    def _catch_up(redis: Redis, campaign_id: int, entry: _Entry) -> None:
        while True:
            batch = redis.xrange(stream_key(campaign_id), min=f"({entry.last_id}", count=2000)
            if not batch:
                return
            for event_id, fields in batch:
                _apply(entry.pacer, fields)
                entry.last_id = event_id


def _sign(secret: bytes, version: str, blob: str) -> str:
    # A key of its own, derived from the app's secret: nothing else it signs can pass for this.
    key = hmac.new(secret, b"omnivox pacer state", hashlib.sha256).digest()
    return hmac.new(key, f"{version}|{blob}".encode(), hashlib.sha256).hexdigest()


def _apply(pacer, fields: dict) -> None:
    at, seconds = float(fields["at"]), float(fields["s"])
    kind = fields["e"]
    if kind == "dial":
        pacer.on_dial_result(at, fields["outcome"], seconds)
    elif kind == "answer":
        pacer.on_human_answer(at, fields["c"] == "1", seconds)
    elif kind == "free":
        pacer.on_agent_free(at, seconds)


registry = PacerRegistry()
