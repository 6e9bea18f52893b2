"""gunicorn entry point for the live pacing bench: the web app with two stand-ins for routing.

The simulator runs calls at `DIALER_TIME_SCALE` wall seconds per carrier second, so a person who
answers waits 2 carrier seconds for an agent in 2 x scale wall seconds. Routing's deadline is a
wall-clock constant (`app.dialer.routing`: TWO_SECOND_RULE - TRANSIT_MARGIN, polled every
POLL_INTERVAL); unscaled, a 0.1 run would let a person wait 20 carrier seconds and abandonment
would read near zero. Here, and only here, the deadline and the poll are scaled.

Routing passes the call's ring time with a person's answer (app.dialer.pacer_feed explains
why); for measuring an older routing that did not, the stand-in below adds it (it switches
itself off when routing does it).
"""
from __future__ import annotations

import logging
import os
import threading

from wsgi import app  # noqa: F401  (gunicorn serves this)

log = logging.getLogger(__name__)


def _scale_routing(scale: float) -> bool:
    from app.dialer import routing

    defaults = getattr(routing.route_answered_call, "__kwdefaults__", None) or {}
    if "deadline_seconds" not in defaults:
        log.error("live bench: routing has no deadline_seconds default; the 2-second rule runs unscaled")
        return False
    defaults["deadline_seconds"] = (routing.TWO_SECOND_RULE - routing.TRANSIT_MARGIN) * scale
    routing.POLL_INTERVAL = max(0.005, routing.POLL_INTERVAL * scale)
    return True


def _ring_at_answer() -> bool:
    import inspect

    from app.dialer import routing

    if "ring_seconds" in inspect.getsource(routing):
        return False  # routing does it itself
    if not hasattr(routing, "_connect_or_abandon") or not hasattr(routing, "record_human_answer"):
        log.error("live bench: routing changed shape; answers go to the pacer without ring times")
        return False
    local = threading.local()
    connect, record = routing._connect_or_abandon, routing.record_human_answer

    def connect_noting_ring(call, *args, **kwargs):
        start = call.ringing_at or call.initiated_at
        local.start = start.timestamp() if start is not None else None
        try:
            return connect(call, *args, **kwargs)
        finally:
            local.start = None

    def record_with_ring(redis, campaign_id, at, connected, wait_seconds, ring_seconds=None):
        start = getattr(local, "start", None)
        if ring_seconds is None and start is not None:
            ring_seconds = max(0.0, at - start)
        return record(redis, campaign_id, at, connected, wait_seconds, ring_seconds=ring_seconds)

    routing._connect_or_abandon, routing.record_human_answer = connect_noting_ring, record_with_ring
    return True


SCALE = float(os.environ.get("DIALER_TIME_SCALE") or 1.0)
if os.environ.get("LIVE_BENCH_RING_AT_ANSWER", "1") == "1":
    _ring_at_answer()
if SCALE != 1.0 and os.environ.get("LIVE_BENCH_SCALE_ROUTING", "1") == "1":
    _scale_routing(SCALE)
