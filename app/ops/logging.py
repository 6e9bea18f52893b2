"""Structured logs: one JSON object per line, from the web process and from Celery workers.

Every line has ``ts`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``; inside a request
also ``request_id`` (the caller's ``X-Request-ID`` when it is sane, else a fresh one, echoed in
the response's ``X-Request-ID``) and ``user_id`` once the caller is known; inside a Celery task
``task_id`` and ``task_name``; and whatever the code bound with ``log_context``::

    with log_context(call_sid=sid, call_id=call.id):
        log.info("status callback applied")

Fields passed as ``extra={...}`` are kept too. Nothing is set up at import: ``create_app`` calls
``configure_logging`` when ``LOG_JSON`` is on (the default outside tests) and connects the Celery
signals, whose ``after_setup_logger`` / ``after_setup_task_logger`` put the same formatter on the
handlers Celery installs in a worker.
"""
from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import time
import traceback
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_bound: ContextVar[dict] = ContextVar("omnivox_log_context", default={})
# LogRecord's own attributes: everything else on a record came from `extra=`.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
request_log = logging.getLogger("omnivox.request")


@contextlib.contextmanager
def log_context(**fields):
    """Add `fields` (call_sid, call_id, campaign_id, ...) to every line logged inside the block."""
    token = _bound.set({**_bound.get(), **fields})
    try:
        yield
    finally:
        _bound.reset(token)


def bind_log_fields(**fields):
    """Like log_context without a block; returns the token for `unbind_log_fields`."""
    return _bound.set({**_bound.get(), **fields})


def unbind_log_fields(token) -> None:
    _bound.reset(token)


def _current_user_id():
    """The signed-in user's id, only if Flask-Login already loaded it (never triggers a load)."""
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        from sqlalchemy import inspect

        identity = inspect(user).identity  # no query, even when the object is expired
        return identity[0] if identity else None
    except Exception:  # noqa: BLE001
        return None


class ContextFilter(logging.Filter):
    """Stamps request and bound context on each record, in the thread that logs it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id")
            record.user_id = _current_user_id()
        for key, value in _bound.get().items():
            if not hasattr(record, key):  # `extra=` wins over bound context
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_") and value is not None:
                out[key] = value
        if record.exc_info:
            out["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            out["exc"] = "".join(traceback.format_exception(*record.exc_info))
        elif record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, default=str, ensure_ascii=False)


def _mark(handler: logging.Handler) -> logging.Handler:
    handler._omnivox_json = True  # type: ignore[attr-defined]
    return handler


def make_json_handler(stream=None, level: int | str = logging.NOTSET) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    handler.setLevel(level)
    return _mark(handler)


def jsonify_handlers(logger: logging.Logger) -> None:
    """Give handlers someone else installed (Celery, gunicorn) our formatter and context."""
    for handler in logger.handlers:
        handler.setFormatter(JsonFormatter())
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())


def configure_logging(level: str = "INFO", stream=None) -> logging.Handler:
    """Root logs one JSON object per line to stdout; idempotent (replaces our previous handler)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_omnivox_json", False):
            root.removeHandler(handler)
    handler = make_json_handler(stream)
    root.addHandler(handler)
    root.setLevel(level)
    jsonify_handlers(logging.getLogger("gunicorn.error"))  # gunicorn's own lines, when under it
    return handler


# --- the web process: request ids and one access line per request ---------------------------


def _start_request() -> None:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = offered if _SANE_REQUEST_ID.match(offered) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response):
    from app.ops import metrics

    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    seconds = time.perf_counter() - started if started is not None else 0.0
    metrics.observe_http_request(request.method, response.status_code)
    if request.blueprint == "twilio":
        metrics.observe_webhook_latency(seconds, request.path.rstrip("/").rsplit("/", 1)[-1])
    # Probes, scrapes and the carrier's accepted callbacks (five or so per call, each stored in
    # call_events with its payload and arrival time) are access-logged at DEBUG; a refused or
    # failed one is still logged.
    quiet = request.path in ("/healthz", "/readyz", "/metrics") or request.blueprint == "twilio"
    request_log.log(
        logging.DEBUG if quiet and response.status_code < 400 else logging.INFO,
        "%s %s %s", request.method, request.path, response.status_code,
        extra={"method": request.method, "path": request.path, "status": response.status_code,
               "duration_ms": round(seconds * 1000, 2), "remote_addr": request.remote_addr},
    )
    return response


def init_request_logging(app: Flask) -> None:
    app.before_request(_start_request)
    app.after_request(_finish_request)


# --- Celery workers ---------------------------------------------------------------------------


def _celery_after_setup_logger(logger=None, **kwargs) -> None:
    if logger is not None:
        jsonify_handlers(logger)


def _celery_task_prerun(task_id=None, task=None, **kwargs) -> None:
    _bound.set({**_bound.get(), "task_id": task_id, "task_name": getattr(task, "name", None)})


def _celery_task_postrun(**kwargs) -> None:
    fields = {k: v for k, v in _bound.get().items() if k not in ("task_id", "task_name")}
    _bound.set(fields)


def connect_celery_logging() -> None:
    from celery import signals

    signals.after_setup_logger.connect(_celery_after_setup_logger, weak=False,
                                       dispatch_uid="omnivox-json-logger")
    signals.after_setup_task_logger.connect(_celery_after_setup_logger, weak=False,
                                            dispatch_uid="omnivox-json-task-logger")
    signals.task_prerun.connect(_celery_task_prerun, weak=False, dispatch_uid="omnivox-log-task-prerun")
    signals.task_postrun.connect(_celery_task_postrun, weak=False, dispatch_uid="omnivox-log-task-postrun")
