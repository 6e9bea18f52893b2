"""What the supervisor wallboard shows for each campaign, in one read.

Live figures (calls by stage, queue depth, agents) come from the calls table and Redis; today's
KPIs and the charts' hourly series come from the KPI rollups (app.kpi), calls per minute from
the calls table (cheap: one campaign, one hour, on the (campaign_id, created_at) index).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.agents.services import campaign_floor, supervised_campaign_ids
from app.calls.models import Call
from app.campaigns.models import Campaign
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.agents.reservations import ready_agents
from app.campaigns import steering
from app.dialer import inbound_queue
from app.dialer.hopper import Hopper
from app.dialer.tick import agents_for_dialling
from app.errors import ApiError
from app.extensions import db
from app.kpi import queries
from app.kpi.definitions import derive
from app.kpi.services import abandon_rate_30d

LIVE_STATUSES = ("queued", "initiated", "ringing", "in-progress")
NOTICE_SECONDS = 300


def notice_key(campaign_id: int) -> str:
    return f"wallboard:notice:{campaign_id}"


def set_notice(campaign_id: int, text: str | None, seconds: int = NOTICE_SECONDS) -> None:
    """A sentence the campaign's board shows above its tiles (None: none), e.g. the demo's "no
    contact may be called now" with when calls resume; it lapses after `seconds` unless renewed."""
    if text:
        get_redis().set(notice_key(campaign_id), text, ex=seconds)
    else:
        get_redis().delete(notice_key(campaign_id))


def notice(campaign_id: int) -> str | None:
    value = get_redis().get(notice_key(campaign_id))
    return value.decode() if isinstance(value, bytes) else value


def call_stage(status: str, agent_id: int | None, outcome: str | None) -> str | None:
    """The wallboard's stage of a live call (the same rule the page applies to call.state events)."""
    if status in ("queued", "initiated"):
        return "dialling"
    if status == "ringing":
        return "ringing"
    if status == "in-progress":
        if agent_id is not None:
            return "connected"
        return "waiting" if outcome in (None, "human") else None
    return None


def live_calls(campaign_id: int, since: datetime) -> list[dict]:
    rows = db.session.execute(
        select(Call.id, Call.status, Call.agent_id, Call.outcome).where(
            Call.campaign_id == campaign_id, Call.status.in_(LIVE_STATUSES), Call.created_at >= since)
    ).all()
    return [{"call_id": r.id, "stage": call_stage(r.status, r.agent_id, r.outcome)} for r in rows
            if call_stage(r.status, r.agent_id, r.outcome)]


def calls_per_minute(campaign_id: int, now: datetime, minutes: int = 60) -> list[dict]:
    start = (now - timedelta(minutes=minutes - 1)).replace(second=0, microsecond=0)
    bucket = func.date_trunc("minute", Call.created_at)
    counts = dict(db.session.execute(
        select(bucket, func.count()).where(Call.campaign_id == campaign_id, Call.created_at >= start)
        .group_by(bucket)).all())
    out = []
    for i in range(minutes):
        at = start + timedelta(minutes=i)
        out.append({"at": at, "calls": counts.get(at, 0)})
    return out


def hourly_today(campaign_id: int, now: datetime) -> list[dict]:
    """Per hour of the campaign's local day: abandonment and agent time by state."""
    rows = queries.series("hour", queries.local_day_start(campaign_id, now), now, campaign_id=campaign_id)
    out = []
    for row in rows:
        figures = derive(row)
        signed_in = row.get("signed_in_seconds") or 0
        paused = row.get("paused_seconds") or 0
        occupied = row.get("occupied_seconds") or 0
        out.append({"at": row["bucket_start"], "abandon_rate": figures.get("abandon_rate"),
                    "human_answered": row.get("human_answered") or 0, "abandoned": row.get("abandoned") or 0,
                    "occupied_seconds": occupied, "paused_seconds": paused,
                    "available_seconds": max(0, signed_in - paused - occupied)})
    return out


def dial_level(stages: dict[str, int], counts: dict[str, int]) -> float | None:
    """Lines working (dialling, ringing, waiting) per agent able to take the next call (ready or
    reserved). The page recomputes it from live events the same way (wallboard.js dialLevel)."""
    lines = stages["dialling"] + stages["ringing"] + stages["waiting"]
    agents = counts.get("ready", 0) + counts.get("reserved", 0)
    return round(lines / agents, 2) if agents else (None if not lines else float(lines))


def pacing_line(campaign: Campaign, now: datetime) -> dict | None:
    """Why the last pacing tick of an active predictive campaign dialled otherwise than the
    pacer would freely, as the line shows it (steering.record_decision); None when it paced
    freely, or when no tick ran in the last SHOWN_FRESH_SECONDS (a campaign paused, or switched
    to another mode, leaves its last record behind for a while). Between two reads of the
    board, the tick publishes a change as `campaign.figures` with `pacing`."""
    if not steering.shows_pacing_line(campaign.status, campaign.dial_mode):
        return None
    live = steering.live(get_redis(), campaign.id, now.timestamp())
    if live is None or live["seconds_ago"] > steering.SHOWN_FRESH_SECONDS:
        return None
    return live["shown"]


def campaign_board(user, campaign: Campaign, now: datetime) -> dict:
    calls = live_calls(campaign.id, now - timedelta(hours=6))
    stages = {s: 0 for s in ("dialling", "ringing", "connected", "waiting")}
    for call in calls:
        stages[call["stage"]] += 1
    floor = campaign_floor(user, campaign.id, now)
    abandoned, human, rate = abandon_rate_30d(campaign.id, now)
    today = queries.today(campaign.id, now)
    return {
        "id": campaign.id, "name": campaign.name, "status": campaign.status, "dial_mode": campaign.dial_mode,
        "abandon_cap": float(campaign.max_abandon_rate),
        "calls": calls, "stages": stages, "notice": notice(campaign.id),
        "pacing": pacing_line(campaign, now),
        "queue": Hopper(get_redis()).depth(campaign.id),
        "inbound": {"waiting": inbound_queue.waiting(campaign.id),
                    "kept": agents_for_dialling(campaign, ready_agents(campaign.id))[1]},
        "dial_level": dial_level(stages, floor["counts"]),
        "agents": floor["items"], "agent_counts": floor["counts"],
        "abandonment": {"today": today.get("abandon_rate"), "today_abandoned": today.get("abandoned") or 0,
                        "today_human": today.get("human_answered") or 0,
                        "rate_30d": rate, "abandoned_30d": abandoned, "human_30d": human},
        "kpis": {k: today.get(k) for k in ("calls_placed", "answered", "human_answered", "handled",
                                             "avg_handle_seconds", "occupancy", "contacts_reached", "sales",
                                             "conversion", "talk_minutes_per_agent_hour")},
        "per_minute": calls_per_minute(campaign.id, now),
        "hourly": hourly_today(campaign.id, now),
    }


def wallboard(user, campaign_id: int | None = None, now: datetime | None = None) -> dict:
    now = now or utcnow()
    allowed = supervised_campaign_ids(user)
    query = select(Campaign).where(Campaign.status != "stopped").order_by(Campaign.id)
    if allowed is not None:
        query = query.where(Campaign.id.in_(sorted(allowed) or [-1]))
    if campaign_id is not None:
        query = query.where(Campaign.id == campaign_id)
    campaigns = db.session.scalars(query).all()
    if campaign_id is not None and not campaigns:
        raise ApiError(404, "No such campaign")
    return {"at": now, "campaigns": [campaign_board(user, c, now) for c in campaigns]}
