"""gunicorn entry point for a time-scaled live bench: the web app with the 2-second rule scaled.

The simulator runs calls at `DIALER_TIME_SCALE` wall seconds per carrier second, so a person who
answers waits 2 carrier seconds for an agent in 2 x scale wall seconds. Routing's deadline is a
wall-clock constant (`app.dialer.routing`: TWO_SECOND_RULE - TRANSIT_MARGIN, polled every
POLL_INTERVAL); unscaled, a 0.1 run would let a person wait 20 carrier seconds and abandonment
would read near zero. Here, and only here, the deadline and the poll are scaled.
"""
from __future__ import annotations

import logging
import os

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


SCALE = float(os.environ.get("DIALER_TIME_SCALE") or 1.0)
if SCALE != 1.0 and os.environ.get("LIVE_BENCH_SCALE_ROUTING", "1") == "1":
    _scale_routing(SCALE)
