"""Operations: Prometheus metrics (`metrics`), structured logs (`logging`), health probes."""
from __future__ import annotations


def init_ops(app) -> None:
    """Request ids and access lines, JSON logs when LOG_JSON, and GET /metrics."""
    from app.ops import logging as ops_logging
    from app.ops.metrics import build_registry
    from app.ops.routes import bp

    ops_logging.init_request_logging(app)
    if app.config.get("LOG_JSON"):
        ops_logging.configure_logging(app.config.get("LOG_LEVEL", "INFO"))
        ops_logging.connect_celery_logging()
    app.extensions["metrics_registry"] = build_registry()
    app.register_blueprint(bp)
