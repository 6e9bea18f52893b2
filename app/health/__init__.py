"""Liveness and readiness probes: GET /healthz and GET /readyz."""
