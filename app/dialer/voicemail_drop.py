"""Voicemail drop: an agent who reaches an answering machine presses "Leave voicemail"; the
campaign's message (app.campaigns.voicemail) is left after the beep and the agent is free at once.

The machine's leg is redirected out of the agent's room (a REST update) to `/twilio/voicemail-drop`,
which holds it (a short pause, then ask again) until the greeting has ended, then plays the message
and hangs up. The greeting's end is the carrier's machine detection verdict: calls are placed with
`MachineDetection=DetectMessageEnd` (app.calls.placement), whose asynchronous verdict
(machine_end_beep, _silence or _other) comes when the greeting is over; it is read from the stored
callback, not waited for through the workers. Without a verdict (detection off, or it gave up
after its 30 seconds) the carrier listens until the line goes quiet instead. A verdict that a
person answered means no recording is played: the call is hung up.

The agent goes to wrap-up as after any call; the call's own later callbacks find them no longer
on it and leave them be (app.agents.reservations.end_call only moves an agent on that very call).
Each drop is kept (`voicemail_drops`): the call's outcome, a voicemail left, and how it went. A
call the carrier was not asked to check ends as a machine all the same (the agent heard one).
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert

from app.agents.reservations import end_call
from app.calls.models import Call, CallEvent
from app.campaigns.models import Campaign, DispositionCode
from app.campaigns.voicemail import Playable, playable
from app.common.timeutil import utcnow
from app.contacts import consents
from app.dialer import controls
from app.dialer.voicemail_models import VoicemailDrop
from app.errors import ApiError
from app.extensions import db
from app.interactions.services import end_talk
from app.telephony import twiml
from app.telephony.carrier import CarrierError
from app.telephony.factory import get_carrier, webhook_url

log = logging.getLogger(__name__)

END_OF_GREETING = frozenset({"machine_end_beep", "machine_end_silence", "machine_end_other"})
# Twilio's MachineDetectionTimeout (30 s from the answer) and a margin: no verdict by then, none comes.
VERDICT_DEADLINE_SECONDS = 35
HOLD_SECONDS = 1
# AnsweredBy as the agent heard it (Twilio's own values: human, machine_*, fax, unknown).
HEARD_BY_AGENT = "machine_heard_by_agent"
VOICEMAIL_CODE = re.compile(r"voice ?mail|\bvm\b|machine|message", re.IGNORECASE)


# --- the agent's press --------------------------------------------------------------------------

def leave_voicemail(agent, call_id: int) -> dict:
    """Redirect the agent's connected call to the voicemail message and free the agent."""
    from app.dialer.transfers import open_consult

    call = controls.own_call(agent, call_id)
    message = playable(call.campaign_id)
    if message is None:
        raise ApiError(409, "This campaign has no voicemail message to leave: an admin uploads one on the "
                            "campaign's page.", "no_voicemail_message")
    if call.direction != "outbound":
        raise ApiError(409, "This person called us: there is no answering machine to leave a message on.",
                       "not_a_machine")
    if call.answered_by in ("human", "fax"):
        raise ApiError(409, "The carrier heard a person answer this call, and a recorded message is never "
                            "left with a person. Talk to them, or hang up.", "not_a_machine")
    if not consents.may_leave_recorded_message(call.contact_id, utcnow()):
        raise ApiError(409, "A recorded message may be left only for a contact who gave written consent to be "
                            "called (FCC rules on prerecorded messages), and this contact has none on record. "
                            "Hang up, and the next call comes.", "written_consent_required")
    call = controls.connected_call(agent, call_id)
    if open_consult(call.id) is not None:
        raise ApiError(409, "Finish or cancel the consultation first.", "consult_in_progress")
    kind = "audio" if message.url else "speech"
    taken = db.session.execute(insert(VoicemailDrop).values(
        call_id=call.id, campaign_id=call.campaign_id, agent_id=agent.id, message=kind)
        .on_conflict_do_nothing().returning(VoicemailDrop.call_id)).scalar()
    db.session.commit()  # the carrier may ask /twilio/voicemail-drop before this request ends
    if taken is None:
        raise ApiError(409, "The voicemail is already being left on this call.", "voicemail_in_progress")
    sid, first = call.call_sid, answer_drop(call.id, quiet=False)  # the message now, if the beep was heard
    try:
        get_carrier().redirect(sid, first)
    except CarrierError as exc:
        log.info("call %s: voicemail drop not taken by the carrier: %s", call_id, exc)
        db.session.delete(db.session.get(VoicemailDrop, call_id))
        db.session.commit()
        if exc.status == 400:  # Twilio 21220: the call is no longer in progress
            raise ApiError(409, "The call ended before the message could be left.", "call_ended") from None
        raise ApiError(409, "The message could not be left just now: the line did not answer. Try again.",
                       "carrier_unavailable") from None
    controls.release(call.id, agent.id)
    end_talk(call)
    _heard_a_machine(call)
    db.session.commit()
    end_call(agent.id, call.id)
    return {"call_id": call.id, "starts": _starts(call), "message": kind,
            "suggested_disposition": suggested_disposition(call.campaign_id)}


def _heard_a_machine(call: Call) -> None:
    """Without machine detection the carrier never says a machine answered: the agent did. The
    call then ends as a machine, not as a call answered by a person (the abandonment rate's
    denominator, which a machine must not swell). Detection's own verdict, when it comes, stands."""
    campaign = db.session.get(Campaign, call.campaign_id) if call.campaign_id is not None else None
    locked = db.session.get(Call, call.id, with_for_update=True, populate_existing=True)
    if locked.answered_by in (None, "unknown") and not (campaign and campaign.amd_enabled):
        locked.answered_by = HEARD_BY_AGENT


def _starts(call: Call) -> str:
    """When the message starts: now (the greeting was already over), after the beep, or once
    the line goes quiet (no machine detection on the call)."""
    if db.session.get(VoicemailDrop, call.id).played_at is not None:
        return "now"
    campaign = db.session.get(Campaign, call.campaign_id) if call.campaign_id is not None else None
    return "after_beep" if campaign is not None and campaign.amd_enabled else "after_quiet"


def suggested_disposition(campaign_id: int | None) -> str | None:
    """The campaign's disposition code for a voicemail left (its code or label says so), if any."""
    codes = db.session.scalars(select(DispositionCode).where(
        DispositionCode.campaign_id == campaign_id, DispositionCode.active.is_(True))
        .order_by(DispositionCode.sort_order, DispositionCode.id)).all()
    found = next((c for c in codes if VOICEMAIL_CODE.search(f"{c.code} {c.label}")), None)
    return found.code if found else None


def _drop_url(call_id: int, *, quiet: bool = False) -> str:
    url = webhook_url("voicemail-drop", call_id)
    return f"{url}&quiet=1" if quiet else url


# --- the carrier's side: /twilio/voicemail-drop -------------------------------------------------

def answer_drop(attempt: int | None, quiet: bool) -> str:
    """The TwiML of a call being left a voicemail: hold until the greeting is over, then the
    message and hang up. `quiet`: the line has gone quiet (the fallback when no verdict comes)."""
    drop = db.session.get(VoicemailDrop, attempt, with_for_update=True) if attempt is not None else None
    call = db.session.get(Call, attempt) if drop is not None else None
    if call is None:
        db.session.rollback()
        return twiml.hangup()
    verdict = _greeting_verdict(call)
    if verdict in ("human", "fax"):
        return _finish(drop, "person", twiml.hangup())
    if verdict in END_OF_GREETING or quiet:
        message = playable(call.campaign_id)
        if message is None:  # removed meanwhile
            return _finish(drop, None, twiml.hangup())
        if not consents.may_leave_recorded_message(call.contact_id, utcnow()):
            return _finish(drop, "no-consent", twiml.hangup())  # revoked since the press
        return _finish(drop, verdict if verdict in END_OF_GREETING else "quiet", _message_twiml(message))
    coming = verdict is None and _verdict_coming(call, drop)
    db.session.rollback()
    if coming:
        return twiml.keep_waiting(_drop_url(call.id), seconds=HOLD_SECONDS)
    return twiml.after_quiet(_drop_url(call.id, quiet=True))


def _verdict_coming(call: Call, drop: VoicemailDrop) -> bool:
    """Will the carrier still say when the greeting ends? Only on a call placed with machine
    detection (the campaign's setting), within its 30 seconds of the answer."""
    campaign = db.session.get(Campaign, call.campaign_id) if call.campaign_id is not None else None
    waited_since = call.answered_at or drop.requested_at
    return bool(campaign and campaign.amd_enabled) and \
        utcnow() - waited_since < timedelta(seconds=VERDICT_DEADLINE_SECONDS)


def _message_twiml(message: Playable) -> str:
    return twiml.play_and_hangup(message.url) if message.url else twiml.say_and_hangup(message.text)


def _finish(drop: VoicemailDrop, started_after: str | None, answer: str) -> str:
    if drop.played_at is None:
        drop.started_after, drop.played_at = started_after, utcnow()
    db.session.commit()
    return answer


def _greeting_verdict(call: Call) -> str | None:
    """The carrier's machine detection verdict on the call, as soon as its callback is stored
    (before the workers have applied it); None while there is none."""
    if call.answered_by and call.answered_by != "unknown":
        return call.answered_by
    match = CallEvent.call_id == call.id
    if call.call_sid:
        match = or_(match, CallEvent.call_sid == call.call_sid)
    return db.session.scalar(select(CallEvent.status).where(match, CallEvent.kind == "amd")
                             .order_by(CallEvent.id.desc()).limit(1))
