"""GET /metrics for Prometheus: loopback callers, or a bearer METRICS_TOKEN when one is set."""
from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.auth.security import bearer_token
from app.errors import ApiError

bp = Blueprint("ops", __name__)


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def metrics_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    offered = bearer_token()
    if token and offered is not None:
        return hmac.compare_digest(offered.encode(), token.encode())
    return _is_loopback(request.remote_addr)


@bp.get("/metrics")
def metrics():
    """Prometheus exposition; not public (see app.ops.metrics for the access rule)."""
    if not metrics_allowed():
        raise ApiError(403, "Metrics are served to loopback, or with the METRICS_TOKEN bearer token",
                       "forbidden")
    body = generate_latest(current_app.extensions["metrics_registry"])
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})
