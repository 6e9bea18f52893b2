"""Call detail records: who may see which, filters, detail with events, CSV export."""
from __future__ import annotations

import json
from typing import Iterator

from sqlalchemy import Select, select

from app.calls.models import Call, CallEvent, CallTransfer
from app.campaigns.models import CampaignAssignment
from app.common.csvout import stream_csv
from app.common.pagination import paginate
from app.errors import ApiError
from app.extensions import db

CSV_COLUMNS = (
    "id", "campaign_id", "contact_id", "agent_id", "attempt_no", "direction", "kind",
    "to_number", "from_number", "call_sid", "status", "outcome", "answered_by", "abandoned",
    "queued_at", "initiated_at", "ringing_at", "answered_at", "connected_at", "ended_at",
    "ring_seconds", "wait_seconds", "duration_seconds", "recording_url", "error_code",
    "error_message", "compliance",
)


def visible_calls(user) -> Select:
    """Agents see their own calls, supervisors their campaigns' calls, admins every call."""
    query = select(Call)
    if user.role == "admin":
        return query
    if user.role == "supervisor":
        supervised = select(CampaignAssignment.campaign_id).where(
            CampaignAssignment.user_id == user.id, CampaignAssignment.role == "supervisor")
        return query.where(Call.campaign_id.in_(supervised))
    return query.where(Call.agent_id == user.id)


def filtered_calls(user, filters: dict) -> Select:
    query = visible_calls(user)
    for name in ("campaign_id", "agent_id", "status", "outcome"):
        if filters.get(name) is not None:
            query = query.where(getattr(Call, name) == filters[name])
    if filters.get("from_") is not None:
        query = query.where(Call.created_at >= filters["from_"])
    if filters.get("to") is not None:
        query = query.where(Call.created_at < filters["to"])
    return query


def list_call_records(user, filters: dict, page: int, per_page: int) -> dict:
    query = filtered_calls(user, filters).order_by(Call.created_at.desc(), Call.id.desc())
    return paginate(query, page, per_page)


def call_record(user, call_id: int) -> dict:
    """One call with its carrier events and transfers; another's call is simply not found."""
    call = db.session.scalar(visible_calls(user).where(Call.id == call_id))
    if call is None:
        raise ApiError(404, "No such call record", "not_found")
    events = db.session.scalars(
        select(CallEvent).where(CallEvent.call_id == call.id)
        .order_by(CallEvent.received_at, CallEvent.id)).all()
    transfers = db.session.scalars(
        select(CallTransfer).where(CallTransfer.call_id == call.id)
        .order_by(CallTransfer.started_at, CallTransfer.id)).all()
    from app.calls.recordings import legal_hold_of, summary

    return {"call": call, "events": [_shown(e) for e in events], "transfers": transfers,
            "recording": summary(call), "legal_hold": legal_hold_of(call)}


# What a browser is never shown of a carrier callback: where the carrier keeps the audio.
HIDDEN_PAYLOAD = ("RecordingUrl", "MediaUrl")


def _shown(event: CallEvent) -> dict:
    payload = {k: v for k, v in (event.payload or {}).items() if k not in HIDDEN_PAYLOAD}
    return {"id": event.id, "kind": event.kind, "call_sid": event.call_sid,
            "sequence_number": event.sequence_number, "status": event.status, "payload": payload,
            "received_at": event.received_at, "processed_at": event.processed_at}


def export_rows(user, filters: dict) -> Iterator[str]:
    """The filtered calls as CSV text, a chunk at a time, from a server-side cursor."""
    query = filtered_calls(user, filters).order_by(Call.created_at, Call.id)
    rows = db.session.scalars(query.execution_options(yield_per=1000))
    yield from stream_csv(CSV_COLUMNS, ([_cell(call, name) for name in CSV_COLUMNS] for call in rows))


def _cell(call: Call, name: str):
    value = getattr(call, name)
    if name == "recording_url":  # Omnivox's own address, never the carrier's
        from app.calls.recordings import recording_path

        return recording_path(call.id) if call.recording_sid else ""
    if name == "compliance":
        return json.dumps(value, sort_keys=True) if value is not None else ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
