"""The webhook fast path: check the signature, store the raw event once, hand it on.

Processing (the call state machine) happens on the ``telephony`` Celery queue;
here we only do what must happen before answering the carrier.
"""
from __future__ import annotations

import json
import logging
import zlib

from flask import current_app, request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.telephony.factory import get_carrier

log = logging.getLogger(__name__)

# The key the safe-harbour message announces: "press 9 to be added to our do-not-call list".
OPT_OUT_DIGIT = "9"
# The form field kept in call_events.status for each kind of callback.
STATUS_FIELD = {"status": "CallStatus", "amd": "AnsweredBy", "recording": "RecordingStatus",
                "opt-out": "Digits", "voice": "CallStatus"}

_INSERT_EVENT = text(
    "INSERT INTO call_events (call_id, call_sid, kind, sequence_number, status, payload) "
    "VALUES ((SELECT id FROM calls WHERE id = :attempt), :call_sid, :kind, :seq, :status, "
    "CAST(:payload AS jsonb)) "
    "ON CONFLICT DO NOTHING RETURNING id"
)
def signed_url() -> str:
    """The URL the carrier was given (and signed): public base + path + query string."""
    full_path = request.full_path
    if full_path.endswith("?"):
        full_path = full_path[:-1]
    return current_app.config["PUBLIC_BASE_URL"] + full_path


def signature_is_valid() -> bool:
    return get_carrier().validate_webhook(signed_url(), request.form,
                                          request.headers.get("X-Twilio-Signature"))


def attempt_id() -> int | None:
    """The calls.id we put in the callback URL, if it is a sane number."""
    raw = request.args.get("attempt", "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def _sequence(form) -> int | None:
    raw = form.get("SequenceNumber", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def recording_sequence(form) -> int | None:
    """A stable number per (recording, status), so the call-event store keeps in-progress and
    completed apart but drops a duplicate of either."""
    sid, status = form.get("RecordingSid", ""), form.get("RecordingStatus", "")
    if not sid:
        return None
    return zlib.crc32(f"{sid}:{status}".encode()) & 0x7FFFFFFF


def store_event(kind: str, form, attempt: int | None) -> int | None:
    """Store one callback; return its id, or None when it was a duplicate.

    Raises SQLAlchemy's DBAPIError when the database is unreachable.
    """
    status = form.get(STATUS_FIELD.get(kind, "CallStatus"))
    params = {
        "attempt": attempt,
        "call_sid": form.get("CallSid", "")[:64],
        "kind": kind,
        "seq": _sequence(form) if kind == "status" else recording_sequence(form) if kind == "recording" else None,
        "status": (status or None) and status[:32],
        "payload": json.dumps(form.to_dict(flat=True)),
    }
    try:
        return _insert_event(params)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        # A pooled connection PostgreSQL dropped (it restarted): SQLAlchemy has discarded the
        # pool's connections, so once more on a fresh one.
        return _insert_event(params)


def _insert_event(params: dict) -> int | None:
    try:
        # Core on the session's connection: the same transaction, without the ORM's path
        event_id = db.session.connection().execute(_INSERT_EVENT, params).scalar()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return event_id


def enqueue_processing(event_id: int) -> None:
    """Hand the event to the telephony workers (the inbox); if Redis is down the sweep finds it."""
    from app.telephony import inbox

    inbox.push(event_id)
