"""Twilio's webhooks under /twilio: signed, stored once, answered fast.

A plain Flask blueprint named "twilio": the CSRF guard exempts it (the carrier
signs its requests instead) and the general rate limit covers /api only.
"""
from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, request
from sqlalchemy.exc import DBAPIError

from app.extensions import db, limiter
from app.telephony import services, twiml
from app.telephony.factory import webhook_url

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/twilio")


@limiter.request_filter
def _carrier_callbacks() -> bool:
    """The carrier's signature is the gate here; a rate limit would only make Twilio retry real
    calls. (A request filter, unlike exempting the blueprint, skips the limiter's whole check.)"""
    return request.blueprint == "twilio"

XML = "text/xml"


@bp.before_request
def _check_signature():
    if not services.signature_is_valid():
        log.warning("rejected %s with a missing or wrong X-Twilio-Signature", request.path)
        return Response("invalid signature", status=403, mimetype="text/plain")
    return None


def _store_and_enqueue(kind: str) -> Response:
    try:
        event_id = services.store_event(kind, request.form, services.attempt_id())
    except DBAPIError:
        # The carrier retries on 5xx: nothing is lost while the database is away.
        log.error("database unavailable: %s callback not stored", kind, exc_info=True)
        return Response("database unavailable", status=503, mimetype="text/plain",
                        headers={"Retry-After": "1"})
    if event_id is not None:
        services.enqueue_processing(event_id)
    return Response(status=204)


@bp.post("/status")
def status():
    """Call progress: initiated, ringing, in-progress and the final status."""
    return _store_and_enqueue("status")


@bp.post("/agent-leg")
def agent_leg():
    """The end of an agent's browser leg rung into a call's conference (browser audio)."""
    return _store_and_enqueue("agent-leg")


@bp.post("/amd")
def amd():
    """Asynchronous answering-machine detection result (AnsweredBy)."""
    return _store_and_enqueue("amd")


@bp.post("/recording")
def recording():
    """A finished recording: its sid and URL."""
    return _store_and_enqueue("recording")


@bp.post("/voice")
def voice():
    """TwiML for an answered call: a person is bridged to an agent within 2 seconds, or hears
    the safe-harbour message (abandoned); a machine gets the campaign's machine action."""
    from app.calls.services import find_call, is_machine, voice_plan
    from app.dialer.routing import route_answered_call, safe_harbour_without_database

    answered = time.monotonic()
    attempt = services.attempt_id()
    call_sid = request.form.get("CallSid", "")
    answered_by = request.form.get("AnsweredBy")
    try:
        services.store_event("voice", request.form, attempt)
        plan = voice_plan(attempt, call_sid, answered_by)
        call = find_call(attempt, call_sid)
        if plan.action == "bridge" and call is not None and call.campaign_id is not None:
            decision = route_answered_call(call, answered_by, started=answered,
                                           opt_out_url=webhook_url("opt-out", call.id))
            return Response(decision.twiml, mimetype=XML)
    except DBAPIError:
        db.session.rollback()
        log.error("database unavailable while answering call %s: abandoning it", attempt,
                  exc_info=True)
        # No agent can be connected and recorded: a person hears the safe-harbour message the
        # dial worker left in Redis (the abandonment is recorded when the call's end is
        # applied: answered by a person, never connected); never an empty conference.
        fallback = None
        if attempt is not None and not is_machine(answered_by):
            fallback = safe_harbour_without_database(attempt, webhook_url("opt-out", attempt))
        return Response(fallback or twiml.hangup(), mimetype=XML)
    if plan.action == "bridge":
        return Response(twiml.bridge_to_conference(plan.conference), mimetype=XML)
    if plan.action == "message" and plan.message:
        return Response(twiml.say_and_hangup(plan.message), mimetype=XML)
    return Response(twiml.hangup(), mimetype=XML)


@bp.post("/opt-out")
def opt_out():
    """The safe-harbour message's <Gather> action: the opt-out key adds the callee to the DNC list."""
    from app.calls.services import callee_number

    digits = request.form.get("Digits", "")
    attempt = services.attempt_id()
    try:
        services.store_event("opt-out", request.form, attempt)
        if digits[:1] == services.OPT_OUT_DIGIT:
            number = callee_number(attempt) or request.form.get("To", "")
            if number:
                services.add_opt_out(number, request.form.get("CallSid", ""))
    except DBAPIError:
        db.session.rollback()
        log.error("database unavailable: opt-out not recorded", exc_info=True)
        return Response("database unavailable", status=503, mimetype="text/plain")
    if digits[:1] == services.OPT_OUT_DIGIT:
        return Response(twiml.say_and_hangup(
            "You have been added to our do-not-call list. Goodbye."), mimetype=XML)
    return Response(twiml.say_and_hangup("Goodbye."), mimetype=XML)
