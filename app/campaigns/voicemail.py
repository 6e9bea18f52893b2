"""A campaign's voicemail message: the recording an agent leaves on an answering machine with one
press ("Leave voicemail", app.dialer.voicemail_drop), or spoken text when none is uploaded.

The audio lives in its own table, one row per campaign, read only when it is played. The carrier
fetches it for <Play> at a URL that is both unguessable (a random key, new with every upload,
so a replaced or removed message is gone for good) and signed with the app's secret; nothing
else serves it to anyone not signed in. The spoken fallback, like every prerecorded message,
must name the seller and a number to call (FCC 47 CFR 64.1200(b)).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.audit import services as audit
from app.campaigns.access import get_campaign
from app.campaigns.models import Campaign
from app.campaigns.rules import MACHINE_MESSAGE_RULE, names_seller, spoken
from app.campaigns.voicemail_audio import MAX_BYTES, AudioRefused, read_audio
from app.common.timeutil import utcnow
from app.errors import ApiError
from app.extensions import db

MAX_TEXT = 1000


class VoicemailMessage(db.Model):
    """The message a campaign's agents leave on answering machines."""

    __tablename__ = "voicemail_messages"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    # Deferred: only the carrier's fetch and the admin's playback read the bytes.
    audio: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    audio_type: Mapped[str | None] = mapped_column(String(32))
    audio_name: Mapped[str | None] = mapped_column(String(200))
    audio_bytes: Mapped[int | None] = mapped_column(Integer)
    audio_seconds: Mapped[float | None]
    # The unguessable part of the carrier's URL; a new one with each upload.
    audio_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    audio_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    text: Mapped[str] = mapped_column(Text, server_default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


@dataclass(frozen=True)
class Playable:
    """What the machine is left: a recording at `url`, or `text` spoken."""

    url: str | None = None
    text: str | None = None
    seconds: float | None = None


# --- what the carrier plays -------------------------------------------------------------------

def playable(campaign_id: int | None) -> Playable | None:
    """The campaign's message as the carrier is to play it; None when it has none."""
    message = db.session.get(VoicemailMessage, campaign_id) if campaign_id is not None else None
    if message is None:
        return None
    if message.audio_key:
        return Playable(url=carrier_url(message), seconds=message.audio_seconds)
    campaign = db.session.get(Campaign, campaign_id)
    if message.text.strip():
        return Playable(text=spoken(message.text, campaign.seller_name, campaign.seller_phone))
    return None


def _signature(campaign_id: int, key: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"voicemail-audio:{campaign_id}:{key}".encode(), hashlib.sha256).hexdigest()


def carrier_url(message: VoicemailMessage) -> str:
    ext = "mp3" if message.audio_type == "audio/mpeg" else "wav"
    return (f"{current_app.config['PUBLIC_BASE_URL']}/twilio/voicemail/{message.campaign_id}/"
            f"{message.audio_key}.{ext}?sig={_signature(message.campaign_id, message.audio_key)}")


def audio_for_carrier(campaign_id: int, key: str, signature: str) -> VoicemailMessage | None:
    """The message whose URL this is, when its key is current and its signature ours."""
    if not key or not signature or not hmac.compare_digest(signature, _signature(campaign_id, key)):
        return None
    message = db.session.get(VoicemailMessage, campaign_id)
    return message if message is not None and message.audio_key == key else None


# --- what admins see and change ---------------------------------------------------------------

def settings(user, campaign_id: int) -> dict:
    """The message as the campaign page shows it (admins and the campaign's supervisors)."""
    campaign = get_campaign(user, campaign_id, manage=True)
    message = db.session.get(VoicemailMessage, campaign.id)
    has_audio = bool(message and message.audio_key)
    text = message.text if message else ""
    audio = None
    if has_audio:
        audio = {"name": message.audio_name, "content_type": message.audio_type, "bytes": message.audio_bytes,
                 "seconds": message.audio_seconds, "uploaded_at": message.audio_at}
    plays = "audio" if has_audio else "speech" if text.strip() else None
    return {"campaign_id": campaign.id, "audio": audio, "text": text, "plays": plays,
            "plays_words": _plays_words(plays), "amd_enabled": campaign.amd_enabled,
            "waits_for_words": _waits_words(campaign.amd_enabled)}


def _plays_words(plays: str | None) -> str:
    if plays == "audio":
        return "Agents can leave the uploaded recording."
    if plays == "speech":
        return "No recording uploaded: agents can leave the text below, read by a computer voice."
    return "No message yet: agents cannot leave a voicemail until a recording is uploaded or a text is saved."


def _waits_words(amd_enabled: bool) -> str:
    if amd_enabled:
        return ("Answering-machine detection is on: the message starts as soon as the carrier hears the "
                "greeting end (the beep). If it cannot tell within 30 seconds, the message starts once "
                "the line has gone quiet.")
    return ("Answering-machine detection is off, so the carrier cannot hear the beep: the message starts "
            "once the greeting has gone quiet for about 2 seconds. A greeting with long pauses may have the "
            "start of the message cut off; turn detection on for the message to start after the beep.")


def _row(campaign: Campaign, user) -> VoicemailMessage:
    message = db.session.get(VoicemailMessage, campaign.id, with_for_update=True)
    if message is None:
        message = VoicemailMessage(campaign_id=campaign.id)
        db.session.add(message)
    message.updated_by_id = user.id
    return message


def upload_audio(user, campaign_id: int, upload) -> dict:
    """Store an uploaded WAV or MP3 as the campaign's message (replacing any before it)."""
    campaign = get_campaign(user, campaign_id, manage=True)
    if upload is None or not getattr(upload, "filename", None):
        raise ApiError(422, "Choose an audio file to upload", "validation_error",
                       {"file": ["A WAV or MP3 file is required."]})
    data = upload.stream.read(MAX_BYTES + 1)
    try:
        facts = read_audio(data)
    except AudioRefused as exc:
        status = 413 if len(data) > MAX_BYTES else 422
        raise ApiError(status, "The recording was not accepted", None, {"file": [str(exc)]}) from None
    message = _row(campaign, user)
    message.audio, message.audio_type, message.audio_bytes = data, facts.content_type, len(data)
    message.audio_name = (upload.filename or f"message.{facts.extension}")[-200:]
    message.audio_seconds = round(facts.seconds, 2)
    message.audio_key, message.audio_at = secrets.token_urlsafe(32), utcnow()
    audit.record("voicemail.upload", target_type="campaign", target_id=campaign.id,
                 name=message.audio_name, seconds=message.audio_seconds)
    db.session.commit()
    return settings(user, campaign.id)


def remove_audio(user, campaign_id: int) -> dict:
    """Remove the recording: its carrier URL stops working at once; the text remains."""
    campaign = get_campaign(user, campaign_id, manage=True)
    message = _row(campaign, user)
    message.audio = message.audio_type = message.audio_name = message.audio_key = None
    message.audio_bytes = message.audio_seconds = message.audio_at = None
    audit.record("voicemail.remove", target_type="campaign", target_id=campaign.id)
    db.session.commit()
    return settings(user, campaign.id)


def save_text(user, campaign_id: int, text: str) -> dict:
    """The words spoken when no recording is uploaded: they must name the seller and a number."""
    campaign = get_campaign(user, campaign_id, manage=True)
    text = (text or "").strip()
    if text and not names_seller(text, campaign.seller_name, campaign.seller_phone):
        raise ApiError(422, "The message does not say who is calling and how to call back", "validation_error",
                       {"text": [MACHINE_MESSAGE_RULE]})
    message = _row(campaign, user)
    message.text = text
    audit.record("voicemail.text", target_type="campaign", target_id=campaign.id)
    db.session.commit()
    return settings(user, campaign.id)


def audio_for_admin(user, campaign_id: int) -> VoicemailMessage:
    """The recording for playback on the campaign page; 404 when there is none."""
    campaign = get_campaign(user, campaign_id, manage=True)
    message = db.session.get(VoicemailMessage, campaign.id)
    if message is None or not message.audio_key:
        raise ApiError(404, "This campaign has no recorded voicemail message", "not_found")
    return message
