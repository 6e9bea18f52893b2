"""Twilio's webhooks under /twilio: adapters that check the signature, parse, call one service
and answer.

Status, detection and recording callbacks are stored once and handed to the
telephony workers (app.telephony.services, app.telephony.inbox); an answered call's TwiML comes
from the dialer (app.dialer.routing.answer_call); the opt-out key from the safe-harbour message
(app.calls.safe_harbour); an agent's own audio leg from app.agents.audio; a call to our numbers
and its queue from app.dialer.inbound. A plain Flask blueprint named "twilio": the CSRF guard
exempts it (the carrier signs its requests instead) and the general rate limit covers /api only.
"""
from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, request
from sqlalchemy.exc import DBAPIError

from app.agents import audio
from app.calls.inbound import answer_inbound_opt_out
from app.calls.safe_harbour import answer_opt_out
from app.dialer.inbound import answer_call_to_us, answer_queue_left, answer_queue_wait
from app.dialer.routing import answer_call, answer_stranded
from app.extensions import db, limiter
from app.telephony import services

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/twilio")


@limiter.request_filter
def _carrier_callbacks() -> bool:
    """The carrier's signature is the gate here; a rate limit would only make Twilio retry real
    calls. (A request filter, unlike exempting the blueprint, skips the limiter's whole check.)"""
    return request.blueprint == "twilio"


XML = "text/xml"


# The recorded voicemail message is fetched by the carrier for <Play> at a URL that carries its
# own signature (app.campaigns.voicemail.carrier_url); the carrier's media fetch is not signed.
SIGNED_BY_URL = frozenset({"twilio.voicemail_audio"})


@bp.before_request
def _check_signature():
    if request.endpoint in SIGNED_BY_URL:
        return None
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


@bp.post("/agent/voice")
def agent_voice():
    """TwiML for an agent's (or supervisor's) own audio leg: the browser's TwiML App voice URL,
    and the `Url` of the call placed to a phone agent (who first presses a key)."""
    return Response(audio.answer_leg(request.form, request.args), mimetype=XML)


@bp.post("/agent/status")
def agent_status():
    """The agent's room's conference events and the leg's own call status: a join connects
    the agent's audio, a final status disconnects it (at once: the agent leaves ready)."""
    audio.on_leg_event(request.form, request.args)
    return Response(status=204)


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
    """TwiML for an answered call: the dialer bridges a person to an agent within 2 seconds, or
    they hear the safe-harbour message (abandoned); a machine gets the campaign's machine action."""
    answered = time.monotonic()
    return Response(answer_call(services.attempt_id(), request.form, answered), mimetype=XML)


def twiml_say_busy() -> str:
    from app.telephony import twiml

    return twiml.say_only("We are sorry, we cannot take your call right now. Goodbye.")


@bp.post("/stranded")
def stranded():
    """The wait URL of a person joined into an agent's room: asked only when the agent's leg is
    not there, so the person hears the safe-harbour message at once instead of waiting alone."""
    agent = request.args.get("agent", "")
    url = services.signed_url()
    try:
        reply = answer_stranded(services.attempt_id(), int(agent) if agent.isdigit() else None, url)
    except DBAPIError:
        db.session.rollback()
        log.error("database unavailable: stranded person on %s", request.args, exc_info=True)
        return Response(twiml_say_busy(), mimetype=XML)
    return Response(reply, mimetype=XML)


@bp.post("/opt-out")
def opt_out():
    """The safe-harbour message's <Gather> action: the opt-out key adds the callee to the DNC list."""
    try:
        reply = answer_opt_out(services.attempt_id(), request.form)
    except DBAPIError:
        db.session.rollback()
        log.error("database unavailable: opt-out not recorded", exc_info=True)
        return Response("database unavailable", status=503, mimetype="text/plain")
    return Response(reply, mimetype=XML)


def _answer_inbound(answer, what: str, *args) -> Response:
    """A call to our numbers' TwiML; the carrier retries a 503 while the database is away."""
    try:
        reply = answer(*args)
    except DBAPIError:
        db.session.rollback()
        log.error("database unavailable: %s, call to our number %s", what, request.form.get("To"),
                  exc_info=True)
        return Response("database unavailable", status=503, mimetype="text/plain")
    return Response(reply, mimetype=XML)


@bp.post("/inbound")
def inbound():
    """A person calls one of our numbers (each of the account's numbers has this as its voice
    URL): in the owning campaign's hours an agent or the queue (app.dialer.inbound), else the
    closed path (app.calls.inbound)."""
    return _answer_inbound(answer_call_to_us, "answer", request.form)


@bp.post("/inbound/wait")
def inbound_wait():
    """The queue's wait URL: the hold message and the caller's place, or <Leave/> when an agent
    is theirs or they have waited the campaign's longest wait."""
    return _answer_inbound(answer_queue_wait, "wait", services.attempt_id(), request.form)


@bp.post("/inbound/left")
def inbound_left():
    """The queue's action URL: the caller left it, for their agent or for the closed path."""
    return _answer_inbound(answer_queue_left, "left the queue", services.attempt_id(), request.form)


@bp.post("/inbound/opt-out")
def inbound_opt_out():
    """The keypress of a call to our numbers: the opt-out key puts the caller on the DNC list."""
    return _answer_inbound(answer_inbound_opt_out, "opt-out not recorded", request.form,
                           request.args.get("campaign", type=int))


@bp.post("/hold")
def hold():
    """What a person held by their agent hears (the participant's HoldUrl)."""
    from flask import current_app

    from app.telephony import twiml

    music = current_app.config.get("HOLD_MUSIC_URL") or twiml.DEFAULT_HOLD_MUSIC_URL
    return Response(twiml.hold_music(music), mimetype=XML)


@bp.post("/transfer/status")
def transfer_status():
    """The call status of an outside party dialled in for a warm transfer: a consult that ends
    (no answer, or they hung up) takes the person off hold and tells the agent."""
    from app.dialer.transfers import on_consult_status

    on_consult_status(request.args.get("transfer"), request.form)
    return Response(status=204)


@bp.post("/transfer/dialled")
def transfer_dialled():
    """The <Dial> action of a cold transfer to a number: busy, unanswered or unreachable, the
    transfer failed and the person goes back to their agent (or hears an apology)."""
    from app.dialer.transfers import on_number_dialled

    return Response(on_number_dialled(request.args.get("transfer"), request.form), mimetype=XML)


@bp.post("/voicemail-drop")
def voicemail_drop():
    """A call an agent is leaving a voicemail on (app.dialer.voicemail_drop): held until the
    answering machine's greeting is over, then the campaign's message, then hang up."""
    from app.dialer.voicemail_drop import answer_drop
    from app.telephony import twiml

    try:
        reply = answer_drop(services.attempt_id(), request.args.get("quiet") == "1")
    except DBAPIError:
        db.session.rollback()
        log.error("database unavailable: voicemail drop on %s holds", request.args, exc_info=True)
        reply = twiml.keep_waiting(services.signed_url(), seconds=2)
    return Response(reply, mimetype=XML)


@bp.get("/voicemail/<int:campaign_id>/<key>.<ext>")
def voicemail_audio(campaign_id, key, ext):
    """A campaign's recorded voicemail message, for the carrier's <Play>: only at the address
    the app gave (the current key, signed); anything else is not found."""
    from app.campaigns.voicemail import audio_for_carrier

    message = audio_for_carrier(campaign_id, key, request.args.get("sig", ""))
    if message is None:
        return Response("not found", status=404, mimetype="text/plain")
    return Response(message.audio, mimetype=message.audio_type,
                    headers={"Cache-Control": "private, max-age=300"})


@bp.post("/inbound/voicemail")
def inbound_voicemail():
    """The <Record> action of a call nobody could take (app.calls.inbound.answer_closed): the
    voicemail becomes a callback in the campaign (app.interactions.voicemails); a repeated or late
    action changes nothing. Its recording status callback is the usual /twilio/recording."""
    from app.interactions.voicemails import take_voicemail
    from app.telephony import twiml

    try:
        words = take_voicemail(request.form, services.attempt_id())
    except DBAPIError:
        db.session.rollback()
        log.error("database unavailable: voicemail %s not kept", request.form.get("RecordingSid"), exc_info=True)
        return Response("database unavailable", status=503, mimetype="text/plain")
    return Response(twiml.say_and_hangup(words), mimetype=XML)
