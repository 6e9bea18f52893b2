"""Operations: Prometheus metrics (`metrics`), structured logs (`logging`), health probes."""
from __future__ import annotations


def init_ops(app, abandon_counts) -> None:
    """Request ids and access lines, and GET /metrics. `abandon_counts(campaign_ids, since,
    until)`: {campaign: (abandoned, person answers)} counted as the pacer's governor counts
    them, which the abandonment gauges export (the app factory passes
    `app.kpi.queries.abandon_counts_many`; ops sits below kpi). (Nothing process-wide: the
    entry points configure logging, see `configure_process_logging`.)"""
    from app.ops import logging as ops_logging
    from app.ops.metrics import build_registry
    from app.ops.routes import bp

    ops_logging.init_request_logging(app)
    app.extensions["metrics_registry"] = build_registry(abandon_counts)
    app.register_blueprint(bp)


def configure_process_logging(app) -> None:
    """JSON log lines for this whole process when LOG_JSON is on. Called once by each entry
    point (wsgi.py, celery_app.py), never by the app factory: building an app (a test, a CLI
    command, a second app in one process) leaves the process's logging alone."""
    from app.ops import logging as ops_logging

    if app.config.get("LOG_JSON"):
        ops_logging.configure_logging(app.config.get("LOG_LEVEL", "INFO"))
        ops_logging.connect_celery_logging()
