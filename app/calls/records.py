"""Call detail records: who may see which, filters, names in place of ids, detail with events, CSV
export in people's columns."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import Select, column, false, func, select, table, true

from app.auth.models import User
from app.calls.models import Call, CallEvent, CallTransfer
from app.campaigns.models import Campaign, CampaignAssignment, DispositionCode
from app.common.csvout import stream_csv
from app.calls.words import DIRECTION_WORDS, OUTCOME_WORDS, our_number, outcome_words, person_number
from app.contacts.models import Contact
from app.errors import ApiError
from app.extensions import db

# The agent's side of a call (interactions) is read here as a plain table: the interactions
# package builds on calls, so calls must not import it back.
INTERACTIONS = table("interactions", column("id"), column("call_id"), column("notes"),
                     column("talk_seconds"), column("disposition_code_id"), column("started_at"))

CSV_COLUMNS = (
    "Date/time", "Direction", "Campaign", "Agent", "Contact", "Phone", "Outcome", "Disposition", "Notes",
    "Talk seconds", "Wait seconds", "Abandoned", "Recording", "Caller ID", "Call ID", "Compliance record",
)


def visible_calls(user) -> Select:
    """Agents see their own calls, supervisors their campaigns' calls, admins every call."""
    return _scoped(select(Call), user)


def _scoped(query: Select, user) -> Select:
    if user.role == "admin":
        return query
    if user.role == "supervisor":
        return query.where(Call.campaign_id.in_(supervised_ids(user)))
    return query.where(Call.agent_id == user.id)


def supervised_ids(user):
    return select(CampaignAssignment.campaign_id).where(
        CampaignAssignment.user_id == user.id, CampaignAssignment.role == "supervisor")


def _last_interaction():
    """The call's latest interaction (a transferred call has one per agent who handled it)."""
    return (select(INTERACTIONS.c.notes, INTERACTIONS.c.talk_seconds, INTERACTIONS.c.disposition_code_id)
            .where(INTERACTIONS.c.call_id == Call.id)
            .order_by(INTERACTIONS.c.started_at.desc(), INTERACTIONS.c.id.desc()).limit(1).lateral("ia"))


def _named(query: Select) -> Select:
    """The calls of `query` with the names a person reads: campaign, agent, contact, disposition."""
    ia = _last_interaction()
    return (query.add_columns(Campaign.name.label("campaign_name"), Campaign.timezone.label("campaign_tz"),
                              func.coalesce(func.nullif(User.full_name, ""), User.username).label("agent_name"),
                              func.trim(func.concat(Contact.first_name, " ", Contact.last_name)).label("contact_name"),
                              ia.c.notes, ia.c.talk_seconds, DispositionCode.label.label("disposition"))
            .outerjoin(Campaign, Campaign.id == Call.campaign_id)
            .outerjoin(User, User.id == Call.agent_id)
            .outerjoin(Contact, Contact.id == Call.contact_id)
            .outerjoin(ia, true())
            .outerjoin(DispositionCode, DispositionCode.id == ia.c.disposition_code_id))


def filtered_calls(user, filters: dict) -> Select:
    """The calls the user may see that match the filters, with their names."""
    query = _named(visible_calls(user))
    for name in ("campaign_id", "agent_id", "status", "outcome"):
        if filters.get(name) is not None:
            query = query.where(getattr(Call, name) == filters[name])
    if filters.get("abandoned") is not None:
        query = query.where(Call.abandoned.is_(filters["abandoned"]))
    if filters.get("disposition"):
        query = query.where(DispositionCode.label == filters["disposition"])
    if filters.get("phone"):
        digits = "".join(ch for ch in filters["phone"] if ch.isdigit())
        query = query.where(Call.to_number.contains(digits, autoescape=True) if digits else false())
    if filters.get("from_") is not None:
        query = query.where(Call.created_at >= filters["from_"])
    if filters.get("to") is not None:
        query = query.where(Call.created_at < filters["to"])
    return query


class NamedCall:
    """A call record with the names and words a person reads; every other attribute is the call's."""

    def __init__(self, call: Call, **names):
        self._call = call
        self.__dict__.update(names)

    def __getattr__(self, name):
        return getattr(self._call, name)


def _item(row) -> NamedCall:
    call = row[0]
    return NamedCall(call, campaign_name=row.campaign_name, agent_name=row.agent_name,
                     contact_name=row.contact_name or None, outcome_words=outcome_words(call),
                     direction_words=DIRECTION_WORDS.get(call.direction, call.direction),
                     person_number=person_number(call),
                     disposition=row.disposition, notes=row.notes or "",
                     talk_seconds=round(row.talk_seconds) if row.talk_seconds is not None else None)


def list_call_records(user, filters: dict, page: int, per_page: int) -> dict:
    query = filtered_calls(user, filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(query.order_by(Call.created_at.desc(), Call.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [_item(r) for r in rows],
            "meta": {"page": page, "per_page": per_page, "total": total,
                     "pages": -(-total // per_page) if total else 0}}


def call_record(user, call_id: int) -> dict:
    """One call with its names, carrier events and transfers; another's call is simply not found."""
    row = db.session.execute(_named(visible_calls(user)).where(Call.id == call_id)).first()
    if row is None:
        raise ApiError(404, "No such call record", "not_found")
    call = row[0]
    events = db.session.scalars(
        select(CallEvent).where(CallEvent.call_id == call.id)
        .order_by(CallEvent.received_at, CallEvent.id)).all()
    transfers = db.session.scalars(
        select(CallTransfer).where(CallTransfer.call_id == call.id)
        .order_by(CallTransfer.started_at, CallTransfer.id)).all()
    from app.calls.recordings import legal_hold_of, summary

    return {"call": _item(row), "events": [_shown(e) for e in events],
            "transfers": [_transfer(t) for t in transfers],
            "recording": summary(call), "legal_hold": legal_hold_of(call)}


# What a browser is never shown of a carrier callback: where the carrier keeps the audio.
HIDDEN_PAYLOAD = ("RecordingUrl", "MediaUrl")

EVENT_WORDS = {
    "initiated": "Dialling", "queued": "Queued at the carrier", "ringing": "Ringing",
    "in-progress": "Answered", "answered": "Answered", "completed": "Call ended", "busy": "Line busy",
    "no-answer": "No answer", "failed": "Could not be placed", "canceled": "Cancelled before answer",
}
KIND_WORDS = {"amd": "Answering-machine check", "recording": "Recording", "voice": "Call answered, routed",
              "opt-out": "Opt-out key pressed"}


def event_words(event: CallEvent) -> str:
    """What the carrier told us, in a few words."""
    if event.kind == "status":
        return EVENT_WORDS.get(event.status or "", (event.status or "Status").replace("-", " ").capitalize())
    if event.kind == "amd":
        answered_by = (event.payload or {}).get("AnsweredBy") or event.status or ""
        return "Answering-machine check: " + ("a person" if answered_by == "human" else
                                              "a machine" if answered_by.startswith("machine") else
                                              answered_by.replace("_", " ") or "unknown")
    if event.kind == "recording":
        return f"Recording {(event.status or 'updated').replace('-', ' ')}"
    return KIND_WORDS.get(event.kind, event.kind.replace("-", " ").capitalize())


def _shown(event: CallEvent) -> dict:
    payload = {k: v for k, v in (event.payload or {}).items() if k not in HIDDEN_PAYLOAD}
    return {"id": event.id, "kind": event.kind, "call_sid": event.call_sid,
            "sequence_number": event.sequence_number, "status": event.status, "payload": payload,
            "received_at": event.received_at, "processed_at": event.processed_at, "words": event_words(event)}


def _transfer(transfer: CallTransfer) -> dict:
    names = {}
    for key in ("from_agent_id", "to_agent_id"):
        user = db.session.get(User, getattr(transfer, key)) if getattr(transfer, key) else None
        names[key[:-3] + "_name"] = (user.full_name or user.username) if user else None
    campaign = db.session.get(Campaign, transfer.to_campaign_id) if transfer.to_campaign_id else None
    return {**{c: getattr(transfer, c) for c in ("id", "kind", "status", "from_agent_id", "to_agent_id",
                                                 "to_campaign_id", "to_number", "started_at", "ended_at")},
            **names, "to_campaign_name": campaign.name if campaign else None}


def filter_options(user) -> dict:
    """What the call records may be filtered by, for this user: campaigns, agents, dispositions."""
    campaigns = select(Campaign.id, Campaign.name).order_by(Campaign.name)
    if user.role == "supervisor":
        campaigns = campaigns.where(Campaign.id.in_(supervised_ids(user)))
    elif user.role == "agent":
        campaigns = campaigns.where(Campaign.id.in_(select(CampaignAssignment.campaign_id).where(
            CampaignAssignment.user_id == user.id)))
    campaign_rows = db.session.execute(campaigns).all()
    ids = [r.id for r in campaign_rows]
    name = func.coalesce(func.nullif(User.full_name, ""), User.username)
    if user.role == "agent":
        agents = [{"id": user.id, "name": user.full_name or user.username}]
    else:
        query = select(User.id, name.label("name")).where(User.role == "agent").order_by(name)
        if user.role == "supervisor":
            query = query.where(User.id.in_(select(CampaignAssignment.user_id).where(
                CampaignAssignment.campaign_id.in_(ids), CampaignAssignment.role == "agent")))
        agents = [{"id": r.id, "name": r.name} for r in db.session.execute(query)]
    labels = db.session.scalars(select(DispositionCode.label).where(DispositionCode.campaign_id.in_(ids))
                                .distinct().order_by(DispositionCode.label)).all()
    return {"campaigns": [{"id": r.id, "name": r.name} for r in campaign_rows], "agents": agents,
            "dispositions": list(labels),
            "outcomes": [{"value": k, "words": v} for k, v in OUTCOME_WORDS.items()]}


def export_rows(user, filters: dict, base_url: str = "") -> Iterator[str]:
    """The filtered calls as CSV text in people's columns, a chunk at a time, from a server-side cursor."""
    query = filtered_calls(user, filters).order_by(Call.created_at, Call.id)
    rows = db.session.execute(query.execution_options(yield_per=1000))
    yield from stream_csv(CSV_COLUMNS, (_csv_row(row, base_url) for row in rows))


def _local(at: datetime | None, tz: str | None) -> str:
    if at is None:
        return ""
    try:
        zone = ZoneInfo(tz or "UTC")
    except Exception:  # noqa: BLE001 - an unknown zone name: show UTC rather than fail the export
        zone = ZoneInfo("UTC")
    return at.astimezone(zone).isoformat(sep=" ", timespec="seconds")


def _csv_row(row, base_url: str) -> list:
    from app.calls.recordings import recording_path

    call, item = row[0], _item(row)
    return [
        _local(call.created_at, row.campaign_tz), item.direction_words, item.campaign_name or "",
        item.agent_name or "", item.contact_name or "", item.person_number, item.outcome_words,
        item.disposition or "",
        item.notes, item.talk_seconds if item.talk_seconds is not None else "",
        round(call.wait_seconds, 1) if call.wait_seconds is not None else "",
        "Yes" if call.abandoned else "No",
        base_url.rstrip("/") + recording_path(call.id) if call.recording_sid else "",
        our_number(call), call.id,
        json.dumps(call.compliance, sort_keys=True) if call.compliance is not None else "",
    ]

