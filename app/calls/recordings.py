"""Call recordings: started at the bridge, paused for card numbers, played back, expired.

- **Start.** When an agent is connected (app.dialer.routing), a campaign that records has a
  `telephony` task start a recording on the person's call (two channels: agent and customer),
  off the 2-second answer path. The AMD and safe-harbour part of a call is never recorded.
  A cold transfer keeps the same person leg, so the recording goes on.
- **Pause.** The agent pauses and resumes it from the console (the carrier leaves the paused
  time out); each pause is kept with its times and who made it. When the call ends an open
  pause is closed (`resumed_reason = call-ended`): the carrier completes the recording anyway.
- **Callbacks.** The carrier's recording status callbacks (stored as call events of kind
  `recording`) bring the status, duration and channels.
- **Playback.** `stream` relays the audio from the carrier with Omnivox's own credentials and
  the browser's `Range` header; the browser never sees a carrier URL. Every playback audited.
- **Retention.** `sweep_retention` (beat) deletes at the carrier the recordings older than
  their campaign's retention period, except on calls under legal hold, and marks them deleted
  (when and why). Call rows are never deleted here: call detail records are kept five years.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from flask import Response, stream_with_context
from sqlalchemy import and_, func, select

from app.audit import services as audit
from app.calls.models import (LIVE_RECORDING, TERMINAL_STATUSES, Call, Recording,
                              RecordingPause)
from app.common.timeutil import utcnow
from app.errors import ApiError
from app.extensions import db
from app.telephony.carrier import CarrierError, RecordingGone

log = logging.getLogger(__name__)

RETENTION_BATCH = 200
CARD_PAUSE = "agent"
CALL_ENDED = "call-ended"
HANDED_ON = "transfer"  # the agent who paused handed the call on: nobody else would resume it


def recording_path(call_id: int) -> str:
    """Omnivox's own address of a call's audio (the only one a browser is given)."""
    return f"/api/call-records/{call_id}/recording"


# --- start, at the bridge ------------------------------------------------------------------

def start_for_call(call_id: int) -> Recording | None:
    """Start recording a connected call of a recording campaign (the worker task); idempotent:
    a call already recorded, ended, or of a campaign that does not record is left alone."""
    from app.campaigns.models import Campaign
    from app.telephony.factory import get_carrier, webhook_url

    call = db.session.scalars(select(Call).where(Call.id == call_id).with_for_update()
                              .execution_options(populate_existing=True)).one_or_none()
    campaign = db.session.get(Campaign, call.campaign_id) if call and call.campaign_id else None
    if (call is None or campaign is None or not campaign.recording_enabled or not call.call_sid
            or call.connected_at is None or call.abandoned or call.status in TERMINAL_STATUSES):
        db.session.rollback()
        return None
    existing = db.session.scalar(select(Recording).where(
        Recording.call_id == call.id, Recording.source == "StartCallRecordingAPI"))
    if existing is not None:
        db.session.rollback()
        return existing
    try:
        # The call row stays locked while the carrier is asked: a second task waits and then
        # finds the recording instead of starting another.
        info = get_carrier().start_recording(call.call_sid, status_callback_url=webhook_url("recording", call.id),
                                             dual_channel=True)
    except CarrierError as exc:
        log.info("call %s: recording not started (%s)", call.id, exc)
        db.session.rollback()
        return None
    recording = Recording(call_id=call.id, sid=info.sid, status=_status(info.status) or "in-progress",
                          source="StartCallRecordingAPI", channels=info.channels or 2, started_at=utcnow())
    db.session.add(recording)
    call.recording_sid = info.sid
    db.session.commit()
    return recording


def _status(value: str | None) -> str | None:
    value = (value or "").lower()
    return value if value in ("in-progress", "paused", "stopped", "completed", "absent", "failed") else None


# --- the carrier's callbacks ---------------------------------------------------------------

def apply_callback(call: Call, payload: dict) -> None:
    """A recording status callback (in the call's callback transaction, call row locked)."""
    sid = payload.get("RecordingSid")
    if not sid:
        return
    status = _status(payload.get("RecordingStatus")) or "completed"
    recording = db.session.scalar(select(Recording).where(Recording.sid == sid).with_for_update())
    if recording is None:  # recorded from the answer (Record=true, an older release)
        recording = Recording(call_id=call.id, sid=sid, status=status,
                              source=payload.get("RecordingSource") or None,
                              started_at=_when(payload.get("RecordingStartTime")) or utcnow())
        db.session.add(recording)
    if recording.status == "deleted":
        return  # a late callback never revives a deleted recording
    if payload.get("RecordingChannels", "").isdigit():
        recording.channels = int(payload["RecordingChannels"])
    if payload.get("RecordingUrl"):
        recording.media_url = payload["RecordingUrl"]
    if status in ("completed", "absent", "failed", "stopped"):
        recording.status = status
        duration = payload.get("RecordingDuration", "")
        if duration.isdigit():
            recording.duration_seconds = int(duration)
        recording.completed_at = recording.completed_at or utcnow()
        db.session.flush()
        close_open_pause(recording, call.ended_at or recording.completed_at, CALL_ENDED)
    elif recording.status not in ("completed", "absent", "failed", "stopped"):
        recording.status = status
    call.recording_sid = sid
    call.recording_url = payload.get("RecordingUrl") or call.recording_url


def _when(raw: str | None) -> datetime | None:
    try:
        return parsedate_to_datetime(raw) if raw else None
    except (TypeError, ValueError):
        return None


def close_open_pause(recording: Recording, at: datetime, reason: str, by_id: int | None = None) -> bool:
    pause = db.session.scalar(select(RecordingPause).where(
        RecordingPause.recording_id == recording.id, RecordingPause.resumed_at.is_(None)).with_for_update())
    if pause is None:
        return False
    pause.resumed_at, pause.resumed_by_id, pause.resumed_reason = max(at, pause.paused_at), by_id, reason
    if recording.status == "paused":
        recording.status = "in-progress"
    return True


def resume_when_handed_on(call: Call, agent_id: int | None) -> bool:
    """The agent who paused the recording (for a card number, say) has handed the call on: it
    resumes now at the carrier, and the pause is closed; True if one was open."""
    from app.telephony.factory import get_carrier

    recording = live_recording(call.id, lock=True)
    if recording is None or recording.status != "paused" or not call.call_sid:
        return False
    try:
        get_carrier().set_recording_paused(call.call_sid, recording.sid, False)
    except CarrierError as exc:
        log.warning("call %s: recording not resumed at the transfer: %s", call.id, exc)
        return False
    close_open_pause(recording, utcnow(), HANDED_ON, agent_id)
    return True


def on_call_finished(call: Call, *, at, **_kw) -> None:
    """The call has ended: the carrier completes its recording, so an open pause ends now."""
    for recording in db.session.scalars(select(Recording).where(
            Recording.call_id == call.id, Recording.status.in_(LIVE_RECORDING))).all():
        close_open_pause(recording, at, CALL_ENDED)


def connect() -> None:
    from app.calls.signals import call_finished

    call_finished.connect(on_call_finished, weak=False)


# --- pause and resume, from the console ---------------------------------------------------------

def live_recording(call_id: int, *, lock: bool = False) -> Recording | None:
    query = select(Recording).where(Recording.call_id == call_id, Recording.status.in_(LIVE_RECORDING)) \
        .order_by(Recording.id.desc()).limit(1)
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def set_paused(agent, call, paused: bool) -> dict:
    """Pause or resume the recording of the agent's own connected `call` (the caller checked it
    is theirs and connected; 409 when it is not being recorded)."""
    from app.telephony.factory import get_carrier

    recording = live_recording(call.id, lock=True)
    if recording is None:
        raise ApiError(409, "This call is not being recorded, so there is nothing to pause.", "not_recording",
                       {"call_id": ["No recording is in progress on this call."]})
    if (recording.status == "paused") == paused:
        db.session.rollback()
        return recording_state(call.id)
    try:
        get_carrier().set_recording_paused(call.call_sid, recording.sid, paused)
    except CarrierError as exc:
        log.warning("call %s: recording paused=%s not taken: %s", call.id, paused, exc)
        db.session.rollback()
        raise ApiError(409, "The recording could not be {} just now. Try again.".format(
            "paused" if paused else "resumed"), "carrier_unavailable") from None
    now = utcnow()
    if paused:
        recording.status = "paused"
        db.session.add(RecordingPause(recording_id=recording.id, paused_at=now, paused_by_id=agent.id))
    else:
        close_open_pause(recording, now, CARD_PAUSE, agent.id)
        recording.status = "in-progress"
    db.session.commit()
    return recording_state(call.id)


def recording_state(call_id: int) -> dict:
    """What the console shows: is the call recorded, is it paused, its pauses."""
    recording = db.session.scalar(select(Recording).where(Recording.call_id == call_id)
                                  .order_by(Recording.id.desc()).limit(1))
    return {"call_id": call_id,
            "recording": recording is not None and recording.status in LIVE_RECORDING,
            "paused": recording is not None and recording.status == "paused",
            "pauses": [_pause(p) for p in _pauses(recording)] if recording else []}


def _pauses(recording: Recording) -> list[RecordingPause]:
    return db.session.scalars(select(RecordingPause).where(RecordingPause.recording_id == recording.id)
                              .order_by(RecordingPause.paused_at, RecordingPause.id)).all()


def _pause(p: RecordingPause) -> dict:
    return {"paused_at": p.paused_at, "paused_by_id": p.paused_by_id, "resumed_at": p.resumed_at,
            "resumed_by_id": p.resumed_by_id, "resumed_reason": p.resumed_reason}


def summary(call: Call) -> dict | None:
    """The call record's view of its recording (never a carrier URL)."""
    recording = db.session.scalar(select(Recording).where(Recording.call_id == call.id)
                                  .order_by((Recording.source == "StartCallRecordingAPI").desc(),
                                            Recording.id.desc()).limit(1))
    if recording is None:
        return None
    return {"status": recording.status, "channels": recording.channels,
            "duration_seconds": recording.duration_seconds, "started_at": recording.started_at,
            "completed_at": recording.completed_at, "deleted_at": recording.deleted_at,
            "deleted_reason": recording.deleted_reason,
            "playable": recording.status == "completed" and recording.deleted_at is None,
            "url": recording_path(call.id), "pauses": [_pause(p) for p in _pauses(recording)]}


# --- playback ------------------------------------------------------------------------------------

def _playable(user, call_id: int, calls=None) -> tuple[Call, Recording]:
    from app.calls.records import visible_calls

    call = db.session.scalar((visible_calls(user) if calls is None else calls).where(Call.id == call_id))
    if call is None:
        raise ApiError(404, "No such call record", "not_found")
    recording = db.session.scalar(select(Recording).where(Recording.call_id == call.id)
                                  .order_by((Recording.source == "StartCallRecordingAPI").desc(),
                                            Recording.id.desc()).limit(1))
    if recording is None or recording.status == "absent":
        raise ApiError(404, "This call has no recording.", "no_recording")
    if recording.deleted_at is not None:
        day = recording.deleted_at.date().isoformat()
        raise ApiError(410, f"This call's recording was deleted on {day}.", "recording_deleted",
                       {"deleted_at": [recording.deleted_at.isoformat()],
                        "reason": [recording.deleted_reason or "deleted"]})
    if recording.status != "completed":
        raise ApiError(409, "The recording is not ready yet: it can be played once the call has ended.",
                       "recording_not_ready")
    return call, recording


def single_range(header: str | None) -> str | None:
    """The Range header when it asks for one range; several ranges are answered with the whole
    file (RFC 9110 allows it), so one unsatisfiable part never refuses the rest."""
    if not header or not header.strip().startswith("bytes=") or "," in header:
        return None
    return header.strip()


def stream(user, call_id: int, range_header: str | None, *, head: bool = False, calls=None) -> Response:
    """The call's audio, relayed from the carrier (a single range passed on, or cut here when
    the carrier sends the whole file); every playback audited (a HEAD is not a playback).
    `calls`: the calls the user may hear, when a caller decided it (a voicemail's callback)."""
    from app.telephony.factory import get_carrier

    range_header = single_range(range_header)
    call, recording = _playable(user, call_id, calls)
    sid, call_id = recording.sid, call.id
    try:
        media = get_carrier().open_recording_media(sid, range_header)
    except RecordingGone:
        db.session.rollback()
        raise ApiError(404, "The carrier no longer has this recording.", "no_recording") from None
    except CarrierError as exc:
        db.session.rollback()
        log.warning("call %s: recording media unavailable: %s", call_id, exc)
        raise ApiError(503, "The recording cannot be fetched just now. Try again in a moment.",
                       "carrier_unavailable") from None
    status, chunks = media.status, media.chunks
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store",
               "Content-Disposition": f'inline; filename="call-{call_id}.wav"'}
    if status == 200 and range_header and media.content_length is not None:
        wanted = parse_range(range_header, media.content_length)
        if wanted is False:
            status = 416
        elif wanted is not None:  # the carrier ignored the range: cut it here
            first, last = wanted
            status, chunks = 206, _slice(media.chunks, first, last)
            headers["Content-Range"] = f"bytes {first}-{last}/{media.content_length}"
            headers["Content-Length"] = str(last - first + 1)
    if status == 416:
        media.close()
        size = (media.content_range or "").rpartition("/")[2] or (
            str(media.content_length) if media.content_length is not None else "*")
        db.session.rollback()
        return Response(b"", status=416, headers={"Accept-Ranges": "bytes", "Content-Range": f"bytes */{size}"})
    if status == 206 and "Content-Range" not in headers and media.content_range:
        headers["Content-Range"] = media.content_range
    if "Content-Length" not in headers and media.content_length is not None:
        headers["Content-Length"] = str(media.content_length)
    if head:  # what a GET would answer, without the audio (nor an audit row: nothing played)
        media.close()
        db.session.rollback()
        response = Response(status=status, mimetype="audio/wav", headers=headers)
        response.automatically_set_content_length = False
        if "Content-Length" in headers:
            response.headers["Content-Length"] = headers["Content-Length"]
        return response
    audit.record("recording.play", target_type="call", target_id=call_id, recording_sid=sid,
                 range=range_header or None, status=status)
    db.session.commit()

    def body():
        try:
            yield from chunks
        finally:
            media.close()

    return Response(stream_with_context(body()), status=status, mimetype="audio/wav", headers=headers,
                    direct_passthrough=True)


def parse_range(header: str, size: int):
    """(first, last) of a single `bytes=` range; None for no usable range; False: unsatisfiable."""
    if not header.startswith("bytes="):
        return None
    first, _, last = header[6:].split(",")[0].strip().partition("-")
    try:
        if first == "":
            n = int(last)
            return False if n <= 0 else (max(0, size - n), size - 1)
        start, end = int(first), int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return False
    return start, min(end, size - 1)


def _slice(chunks, first: int, last: int):
    at = 0
    for chunk in chunks:
        end = at + len(chunk)
        if end > first and at <= last:
            yield chunk[max(0, first - at): last - at + 1]
        at = end
        if at > last:
            return


# --- legal hold ----------------------------------------------------------------------------------

def set_legal_hold(user, call_id: int, reason: str) -> dict:
    """Keep a call's recording whatever its campaign's retention (supervisors: their campaigns)."""
    from app.calls.records import visible_calls

    call = db.session.scalar(visible_calls(user).where(Call.id == call_id).with_for_update(of=Call))
    if call is None:
        raise ApiError(404, "No such call record", "not_found")
    reason = (reason or "").strip()
    if not reason:
        raise ApiError(422, "Say why the call is held (a case or matter reference).", "validation_error",
                       {"reason": ["Required."]})
    call.legal_hold_at, call.legal_hold_by_id, call.legal_hold_reason = utcnow(), user.id, reason[:2000]
    audit.record("call.legal_hold", target_type="call", target_id=call.id, reason=reason[:2000])
    db.session.commit()
    return legal_hold_of(call)


def release_legal_hold(user, call_id: int, reason: str | None) -> dict:
    from app.calls.records import visible_calls

    call = db.session.scalar(visible_calls(user).where(Call.id == call_id).with_for_update(of=Call))
    if call is None:
        raise ApiError(404, "No such call record", "not_found")
    was = call.legal_hold_reason
    call.legal_hold_at = call.legal_hold_by_id = call.legal_hold_reason = None
    audit.record("call.legal_hold_release", target_type="call", target_id=call.id, was=was,
                 reason=(reason or "")[:2000] or None)
    db.session.commit()
    return legal_hold_of(call)


def legal_hold_of(call: Call) -> dict:
    return {"call_id": call.id, "on_hold": call.legal_hold_at is not None, "at": call.legal_hold_at,
            "by_id": call.legal_hold_by_id, "reason": call.legal_hold_reason}


# --- retention -----------------------------------------------------------------------------------

def sweep_retention(now: datetime | None = None, limit: int = RETENTION_BATCH) -> int:
    """Delete at the carrier every completed recording older than its campaign's retention
    period, except on calls under legal hold, and mark it deleted (when, why). Idempotent and
    safe to run twice at once (rows are claimed with SKIP LOCKED; a recording the carrier no
    longer has counts as deleted). Returns how many were deleted."""
    from app.campaigns.models import Campaign
    from app.telephony.factory import get_carrier

    now = now or utcnow()
    expires = func.coalesce(Recording.completed_at, Recording.started_at) \
        + func.make_interval(0, 0, 0, Campaign.recording_retention_days)
    due = (select(Recording.id)
           .join(Call, Call.id == Recording.call_id)
           .join(Campaign, Campaign.id == Call.campaign_id)
           .where(Recording.status == "completed", Recording.deleted_at.is_(None),
                  Call.legal_hold_at.is_(None), Campaign.recording_retention_days.is_not(None),
                  expires <= now)
           .order_by(Recording.id).limit(limit))
    ids = db.session.scalars(due).all()
    db.session.rollback()
    deleted = 0
    for recording_id in ids:
        row = db.session.execute(
            select(Recording, Call.legal_hold_at, Campaign.recording_retention_days)
            .join(Call, Call.id == Recording.call_id).join(Campaign, Campaign.id == Call.campaign_id)
            .where(Recording.id == recording_id, Recording.deleted_at.is_(None))
            .with_for_update(of=[Recording, Call], skip_locked=True)).one_or_none()
        if row is None or row[1] is not None or row[2] is None:
            db.session.rollback()  # deleted meanwhile, held, or being handled elsewhere
            continue
        recording, days = row[0], row[2]
        try:
            gone = get_carrier().delete_recording(recording.sid)
        except CarrierError as exc:
            log.warning("recording %s not deleted at the carrier (kept for the next sweep): %s",
                        recording.sid, exc)
            db.session.rollback()
            continue
        recording.status, recording.deleted_at = "deleted", now
        recording.deleted_reason = (f"Retention: the campaign keeps recordings {days} days"
                                    + ("" if gone else " (the carrier no longer had it)"))
        audit.record("recording.delete", target_type="call", target_id=recording.call_id,
                     recording_sid=recording.sid, reason=recording.deleted_reason, actor_username="retention")
        db.session.commit()
        deleted += 1
    return deleted
