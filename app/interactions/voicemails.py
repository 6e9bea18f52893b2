"""A voicemail left on one of our numbers becomes a callback in the campaign.

When nobody can take a call to our numbers (app.calls.inbound: outside the campaign's hours, or
past the longest wait) the caller may leave a message; the carrier posts the <Record> action to
`/twilio/inbound/voicemail`. The recording is kept as the inbound call's own (played through
Omnivox, never from the carrier's URL), and one row per carrier recording makes a repeated or
late action change nothing.

The caller's contact in the campaign (found by number, or made for them and marked as a number
no list brought, which the dialer calls only for a callback it was promised) gets a callback due
at once if the campaign is open, else when it next opens; it is for the agent who last spoke with
them, if one did, else for whichever agent is free. A number on a do-not-call list (the caller
pressed the opt-out key, or was on it before) gets no callback: its message is kept for the
supervisors, on the call record and in the contact's history.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert

from app.auth.models import User
from app.calls import recordings
from app.calls.inbound import caller_number, contact_for, is_open, next_opening
from app.calls.models import Call
from app.campaigns.models import Campaign, CampaignAssignment
from app.common.phones import contact_timezone, format_national, zones_agree
from app.common.timeutil import utcnow
from app.contacts.models import MANUAL_DIAL_SOURCE, Contact
from app.dnc.services import is_dnc
from app.errors import ApiError
from app.extensions import db
from app.interactions.callbacks import for_agent
from app.interactions.models import Callback, Interaction, Voicemail
from app.interactions.signals import voicemail_callback

NO_CALLBACK_WORDS = {
    "do_not_call": "no callback: the number is on the do-not-call list",
    "withheld": "no callback: the caller's number was withheld",
}
GOODBYE = "Goodbye."


def voicemail_path(voicemail_id: int) -> str:
    """Omnivox's own address of a voicemail's audio (the only one a browser is given)."""
    return f"/api/voicemails/{voicemail_id}/recording"


def take_voicemail(form, call_id: int | None, now: datetime | None = None) -> str:
    """The <Record> action: keep the message, make its callback; returns what the caller hears
    last. Idempotent on the RecordingSid."""
    now = now or utcnow()
    sid = form.get("RecordingSid", "")[:64]
    call = db.session.scalar(select(Call).where(Call.id == call_id, Call.call_sid == form.get("CallSid", "")[:64])
                             .with_for_update()) if call_id else None
    if call is None or not sid or call.campaign_id is None:
        db.session.rollback()
        return GOODBYE
    campaign = db.session.get(Campaign, call.campaign_id)
    recordings.apply_callback(call, {  # the action brings the finished recording, whole
        "RecordingSid": sid, "RecordingUrl": form.get("RecordingUrl", ""), "RecordingStatus": "completed",
        "RecordingDuration": form.get("RecordingDuration", ""), "RecordingSource": "RecordVerb"})
    caller = caller_number(form)
    voicemail_id = db.session.scalar(insert(Voicemail).values(
        recording_sid=sid, call_id=call.id, campaign_id=campaign.id, caller=caller,
        duration_seconds=_seconds(form.get("RecordingDuration"))
    ).on_conflict_do_nothing(index_elements=["recording_sid"]).returning(Voicemail.id))
    if voicemail_id is None:  # the carrier asked again: it was taken the first time
        voicemail = db.session.scalar(select(Voicemail).where(Voicemail.recording_sid == sid))
        db.session.commit()
        return _goodbye(voicemail, campaign)
    voicemail = db.session.get(Voicemail, voicemail_id)
    contact = contact_for(campaign.id, caller, lock=True) if caller else None
    if caller is None:
        voicemail.no_callback_reason = "withheld"
    elif is_dnc(caller, campaign.id) or (contact is not None and contact.status == "dnc"):
        voicemail.no_callback_reason = "do_not_call"
    else:
        contact = contact or new_contact(campaign.id, caller, "left a voicemail")
        callback = _schedule(voicemail, campaign, contact, now)
        voicemail.callback_id = callback.id
        voicemail_callback.send(campaign.id, voicemail=voicemail, callback=callback, contact=contact,
                                campaign=campaign, at=now)
    voicemail.contact_id = contact.id if contact else None
    if contact is not None and call.contact_id is None:  # a caller we made a contact of just now
        call.contact_id = contact.id
    db.session.commit()
    return _goodbye(voicemail, campaign)


def _seconds(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 9 else None


def _goodbye(voicemail: Voicemail, campaign: Campaign) -> str:
    if voicemail.callback_id is None:
        return "Thank you for your message. Goodbye."
    return f"Thank you for your message. {campaign.seller_name} will call you back. Goodbye."


def new_contact(campaign_id: int, caller: str, first_heard: str) -> Contact:
    """A contact for a caller no list of the campaign holds: like a number an agent dialled by
    hand, the dialer never calls it as a lead, only for the callback it was promised (and a
    list that later brings the number makes it that list's lead)."""
    zone = contact_timezone(caller)
    db.session.execute(insert(Contact).values(
        campaign_id=campaign_id, phone_e164=caller, timezone=zone, zones_agree=zones_agree(zone, caller),
        status="new", attempts=0, custom_fields={"source": MANUAL_DIAL_SOURCE, "first_heard": first_heard},
    ).on_conflict_do_nothing(index_elements=["campaign_id", "phone_e164"]))
    return contact_for(campaign_id, caller, lock=True)


def _schedule(voicemail: Voicemail, campaign: Campaign, contact: Contact, now: datetime) -> Callback:
    """The callback: due now if the campaign is open, else when it opens; for the agent who last
    spoke with the contact, if one did. The contact waits for it (dialled first when due)."""
    due = now if is_open(campaign, now) else (next_opening(campaign, now) or now)
    agent_id = db.session.scalar(select(Interaction.agent_id).where(Interaction.contact_id == contact.id)
                                 .order_by(Interaction.started_at.desc()).limit(1))
    callback = Callback(campaign_id=campaign.id, contact_id=contact.id, agent_id=agent_id, due_at=due,
                        notes=_notes(voicemail, campaign, now))
    db.session.add(callback)
    if contact.status != "dialing":  # a call being placed now settles first, then the callback
        waiting = contact.next_due_at if contact.status == "callback" and contact.next_due_at else due
        contact.status, contact.next_due_at = "callback", min(waiting, due)
    db.session.flush()
    return callback


def _notes(voicemail: Voicemail, campaign: Campaign, now: datetime) -> str:
    local = now.astimezone(ZoneInfo(campaign.timezone))
    length = (f"{voicemail.duration_seconds} second{'s' if voicemail.duration_seconds != 1 else ''}"
              if voicemail.duration_seconds is not None else "length unknown")
    return (f"Voicemail from {format_national(voicemail.caller)}, left {local:%a %-d %b %Y at %-I:%M %p %Z} "
            f"({length}), asking to be called back. Listen: {voicemail_path(voicemail.id)}")


# --- for people ---------------------------------------------------------------------------------

def words_for(voicemail: Voicemail) -> str:
    """The voicemail in a history's words: its length and what became of it."""
    length = f", {voicemail.duration_seconds} seconds" if voicemail.duration_seconds is not None else ""
    became = "a callback was scheduled" if voicemail.callback_id else NO_CALLBACK_WORDS.get(
        voicemail.no_callback_reason or "", "no callback")
    return f"Left a voicemail{length}; {became}. Listen: {voicemail_path(voicemail.id)}"


def visible_voicemail(user: User, voicemail_id: int) -> Voicemail:
    """A voicemail the user may play: admins any; supervisors their campaigns'; an agent the one
    whose callback is theirs, or is for whoever is free in a campaign they work. Else 404."""
    voicemail = db.session.get(Voicemail, voicemail_id)
    if voicemail is None or not _may_hear(user, voicemail):
        raise ApiError(404, "No such voicemail", "not_found")
    return voicemail


def _may_hear(user: User, voicemail: Voicemail) -> bool:
    if user.role == "admin":
        return True
    if user.role == "supervisor":
        return db.session.scalar(select(exists().where(
            CampaignAssignment.campaign_id == voicemail.campaign_id, CampaignAssignment.user_id == user.id,
            CampaignAssignment.role == "supervisor")))
    return voicemail.callback_id is not None and db.session.scalar(select(exists().where(
        Callback.id == voicemail.callback_id, for_agent(user.id))))


def play(user: User, voicemail_id: int, range_header: str | None, *, head: bool = False):
    """The voicemail's audio, streamed by Omnivox like any call's recording (audited)."""
    voicemail = visible_voicemail(user, voicemail_id)
    return recordings.stream(user, voicemail.call_id, range_header, head=head,
                             calls=select(Call).where(Call.id == voicemail.call_id))
