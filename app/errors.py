"""One error shape for the whole API: {"error": {"code", "message", "fields"}}."""
from __future__ import annotations

import logging
import math
import time

from flask import Flask, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """Raised by services; turned into the error shape by the handler below."""

    def __init__(self, status: int, message: str, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, "error")
        self.fields = fields or {}


def error_response(status: int, message: str, code: str | None = None, fields: dict | None = None,
                   headers: dict | None = None):
    body = {"error": {"code": code or CODES.get(status, "error"), "message": message,
                      "fields": fields or {}}}
    return jsonify(body), status, headers or {}


def _validation_fields(exc: HTTPException) -> dict:
    """webargs puts marshmallow messages under their location ("json", "query", ...); flatten it."""
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    fields: dict = {}
    for location_messages in messages.values():
        if isinstance(location_messages, dict):
            # A multipart part whose name cannot be read arrives as a None key: name it, so
            # the answer can be written (JSON keys are strings) instead of failing as a 500.
            fields.update({"(unnamed field)" if k is None else str(k): v for k, v in location_messages.items()})
    return fields


def _handle_api_error(exc: ApiError):
    return error_response(exc.status, exc.message, exc.code, exc.fields)


def _handle_rate_limited(exc: RateLimitExceeded):
    from app.extensions import limiter

    current = limiter.current_limit
    retry_after = max(1, math.ceil(current.reset_at - time.time())) if current else 60
    return error_response(
        429,
        f"Too many requests ({exc.description}); retry after {retry_after} seconds",
        "rate_limited",
        {"retry_after": retry_after},
        {"Retry-After": str(retry_after)},
    )


def _handle_csrf(exc: CSRFError):
    return error_response(403, f"CSRF check failed: {exc.description}", "csrf_failed")


# Addresses machines call (the API, Twilio, probes, sockets, the simulator's control): their
# errors are JSON. Anything else is a page a person opened: a 404 there is a page in words.
MACHINE_PATHS = ("/api/", "/twilio/", "/metrics", "/healthz", "/readyz", "/socket.io", "/_sim/", "/web-static/",
                 "/static/")


def _handle_http(exc: HTTPException):
    status = exc.code or 500
    if status == 404 and not request.path.startswith(MACHINE_PATHS):
        return render_template("web/error.html", status=404,
                               message="There is no page at this address."), 404
    if status == 422 or (status == 400 and _validation_fields(exc)):
        return error_response(422, "The request has invalid fields", "validation_error",
                              _validation_fields(exc))
    message = exc.description if status != 500 else "Internal server error"
    headers = {}
    if status == 405 and exc.get_response().headers.get("Allow"):
        headers["Allow"] = exc.get_response().headers["Allow"]
    return error_response(status, message, CODES.get(status, "error"), headers=headers)


def _handle_data_error(exc: DataError):
    """PostgreSQL refused a value (an id past the integer range, say): the input's fault, not ours."""
    from app.extensions import db

    db.session.rollback()
    log.info("database refused a value: %s", getattr(exc, "orig", exc))
    return error_response(422, "A value is out of range or malformed", "validation_error")


def _handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return _handle_http(exc)
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "Internal server error", "internal_error")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(RateLimitExceeded, _handle_rate_limited)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(DataError, _handle_data_error)
    app.register_error_handler(InternalServerError, _handle_unexpected)
    app.register_error_handler(Exception, _handle_unexpected)
