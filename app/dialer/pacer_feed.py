"""Observations for the pacer, shared by every process through a Redis stream per campaign.

Call results are seen by telephony workers, answers by the web process and agent hand-offs by
whoever records the disposition, but the pacing tick runs in a dial worker. Each observation
is appended to `pacer:{campaign_id}`; each process that ticks keeps its own pacer and replays
the stream from where it left off (a new process learns from the recent history at once).
"""
from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

from app.dialer.pacing import make_pacer

STREAM_MAXLEN = 20_000


def stream_key(campaign_id: int) -> str:
    return f"pacer:{campaign_id}"


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


class PacerRegistry:
    """This process's pacers, one per campaign, kept in step with the shared stream."""

    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}

    def pacer_for(self, redis: Redis, campaign_id: int, mode: str, abandon_target: float):
        entry = self._entries.get(campaign_id)
        if entry is None or entry.mode != mode or entry.target != abandon_target:
            entry = _Entry(make_pacer(mode, abandon_target=abandon_target), mode, abandon_target)
            self._entries[campaign_id] = entry
        self._catch_up(redis, campaign_id, entry)
        return entry.pacer

    @staticmethod
    def _catch_up(redis: Redis, campaign_id: int, entry: _Entry) -> None:
        while True:
            batch = redis.xrange(stream_key(campaign_id), min=f"({entry.last_id}", count=2000)
            if not batch:
                return
            for event_id, fields in batch:
                _apply(entry.pacer, fields)
                entry.last_id = event_id


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
