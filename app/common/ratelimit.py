"""Rate-limit tiers beyond the general API tier (which applies to every /api route)."""
from flask import current_app

from app.extensions import limiter

creation_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_CREATE"], scope="creation", override_defaults=False,
    methods=["POST"],
)
reporting_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_REPORTING"], scope="reporting", override_defaults=False,
)
