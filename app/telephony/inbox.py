"""The hand-off from the webhook fast path to the ``telephony`` workers.

A stored callback's id is pushed onto one Redis list (one round trip, no Celery message
per callback). A ``drain`` task on the ``telephony`` queue pops ids and applies them until
the list is empty. Drainers are woken, not polled:

* the push that finds the inbox empty always sends one (so no id waits for nothing);
* a push that sees the backlog reach a multiple of ``WAKE_EVERY`` sends another, so more
  workers join in as a backlog builds (one per ``WAKE_EVERY`` waiting callbacks);
* a drainer that has run for ``DRAIN_SLICE_SECONDS`` hands over to a fresh task rather
  than holding its worker for ever;
* the beat sweep wakes a drainer whenever the inbox is not empty (a lost wake-up, e.g.
  a worker killed while its task was queued, costs seconds, not a callback).

The inbox is only a doorbell: the events are in PostgreSQL. If Redis loses the list, or a
worker dies holding a popped id, ``sweep_unprocessed_events`` applies the stored event
within seconds; applying one twice changes nothing (``processed_at``, row lock).
"""
from __future__ import annotations

import logging
import time

from flask import current_app

from app.common import tasks

log = logging.getLogger(__name__)

INBOX_KEY = "telephony:inbox"
DRAIN_TASK = tasks.DRAIN_CALL_EVENTS
WAKE_EVERY = 4
DRAIN_SLICE_SECONDS = 5.0


def _redis():
    return current_app.extensions["redis"]


def wake_drainer() -> None:
    tasks.send(DRAIN_TASK)


def push(event_id: int) -> None:
    """Queue a stored callback for processing; never raises (the sweep is the fallback)."""
    try:
        depth = _redis().rpush(INBOX_KEY, event_id)
        if depth == 1 or depth % WAKE_EVERY == 0:
            wake_drainer()
    except Exception:  # noqa: BLE001 - stored already; sweep_unprocessed_events applies it
        log.warning("could not queue call event %s; the sweep will apply it", event_id,
                    exc_info=True)


def depth() -> int:
    return int(_redis().llen(INBOX_KEY))


def drain(apply, *, slice_seconds: float = DRAIN_SLICE_SECONDS, clock=time.monotonic) -> int:
    """Pop and apply queued event ids until the inbox is empty or the slice is used up.

    ``apply(event_id)`` processes one event. Returns how many ids were popped. When the
    slice ends with work left, a fresh drainer is sent so the backlog keeps moving.
    """
    redis = _redis()
    deadline = clock() + slice_seconds
    popped = 0
    while True:
        raw = redis.lpop(INBOX_KEY)
        if raw is None:
            return popped
        popped += 1
        try:
            apply(int(raw))
        except Exception:  # noqa: BLE001 - one bad event must not stall the others
            log.exception("applying call event %s failed; the sweep will retry it", raw)
        if clock() >= deadline:
            if redis.llen(INBOX_KEY):
                wake_drainer()
            return popped
