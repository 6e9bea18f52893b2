"""KPI services: who may see what, the figures the API and the live event carry, and the
30-day abandonment the pacer's governor reads every second. Definitions: app.kpi.definitions."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.auth.models import User
from app.campaigns.models import Campaign, CampaignAssignment
from app.common.timeutil import utcnow
from app.errors import ApiError
from app.extensions import db
from app.kpi import queries
from app.kpi.definitions import ABANDON_30D_DEFINITION, derive
from app.realtime.publish import campaign_room, publish

MAX_POINTS = 3000
STEP = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


def abandon_rate_30d(campaign_id: int, now: datetime | None = None) -> tuple[int, int, float | None]:
    """(abandoned, human_answers, rate) over calls placed in [now - 30 x 24 h, now).

    Day and hour rollups up to the last rollup run, plus a direct indexed count of the calls
    placed since (and of the partial first hour). Unknown campaign: (0, 0, None).
    """
    counts = queries.abandon_counts_30d(campaign_id, now or utcnow())
    if counts is None:
        return 0, 0, None
    abandoned, human = counts
    return abandoned, human, (abandoned / human) if human else None


abandon_rate_30d.__doc__ += "\n" + ABANDON_30D_DEFINITION


# --- access -------------------------------------------------------------------------------

def supervised_campaign_ids(user: User) -> list[int] | None:
    """None for admins (every campaign); the campaigns a supervisor supervises; [] otherwise."""
    if user.role == "admin":
        return None
    if user.role != "supervisor":
        return []
    return list(db.session.scalars(select(CampaignAssignment.campaign_id).where(
        CampaignAssignment.user_id == user.id, CampaignAssignment.role == "supervisor")))


def visible_campaign(user: User, campaign_id: int) -> Campaign:
    """The campaign if the user may see its KPIs; 404 otherwise (never reveals that it exists)."""
    campaign = db.session.get(Campaign, campaign_id)
    allowed = supervised_campaign_ids(user)
    if campaign is None or (allowed is not None and campaign_id not in allowed):
        raise ApiError(404, "No such campaign", "not_found")
    return campaign


def visible_agent(user: User, agent_id: int) -> list[int] | None:
    """Campaigns whose rows of `agent_id` the user may see (None: all); 404 if none.

    Agents see only themselves; supervisors see agents assigned to a campaign they supervise,
    and only those campaigns' rows; admins see everyone.
    """
    if user.role == "agent":
        if agent_id != user.id:
            raise ApiError(404, "No such agent", "not_found")
        return None
    if db.session.get(User, agent_id) is None:
        raise ApiError(404, "No such agent", "not_found")
    allowed = supervised_campaign_ids(user)
    if allowed is None:
        return None
    shared = list(db.session.scalars(select(CampaignAssignment.campaign_id).where(
        CampaignAssignment.user_id == agent_id, CampaignAssignment.role == "agent",
        CampaignAssignment.campaign_id.in_(allowed))))
    if not shared and agent_id != user.id:
        raise ApiError(404, "No such agent", "not_found")
    return shared


# --- figures --------------------------------------------------------------------------------

def _window(args: dict, default_start: datetime, now: datetime) -> tuple[datetime, datetime, str]:
    start = args.get("from") or default_start
    end = args.get("to") or now
    if end <= start:
        raise ApiError(422, "The window is empty", "validation_error", {"to": ["Must be after 'from'."]})
    granularity = args.get("granularity")
    if granularity is None:
        span = end - start
        granularity = "day" if span > timedelta(days=3) else "hour" if span > timedelta(hours=3) else "minute"
    if (end - start) / STEP[granularity] > MAX_POINTS:
        raise ApiError(422, f"Too many {granularity} buckets in the window; choose a coarser granularity",
                       "validation_error", {"granularity": [f"At most {MAX_POINTS} buckets."]})
    return start, end, granularity


def _figures(rows: list[dict]) -> tuple[dict, list[dict]]:
    points = [{"bucket_start": r["bucket_start"], **derive(r)} for r in rows]
    return derive(queries.add_up(rows)), points


def campaign_kpis(user: User, campaign_id: int, args: dict, now: datetime | None = None) -> dict:
    now = now or utcnow()
    campaign = visible_campaign(user, campaign_id)
    start, end, granularity = _window(args, queries.local_day_start(campaign_id, now), now)
    summary, points = _figures(queries.series(granularity, start, end, campaign_id=campaign_id))
    abandoned, human, rate = abandon_rate_30d(campaign_id, now)
    return {
        "campaign_id": campaign.id, "name": campaign.name, "timezone": campaign.timezone,
        "window": {"from": start, "to": end, "granularity": granularity},
        "summary": summary, "series": points, "today": queries.today(campaign_id, now),
        "abandonment_30d": {"abandoned": abandoned, "human_answered": human, "rate": rate,
                            "window_start": now - timedelta(days=30), "window_end": now},
        "list": queries.list_state(campaign_id),
    }


def agent_kpis(user: User, agent_id: int, args: dict, now: datetime | None = None) -> dict:
    now = now or utcnow()
    campaign_ids = visible_agent(user, agent_id)
    if args.get("campaign_id") is not None:
        wanted = args["campaign_id"]
        campaign_ids = [wanted] if campaign_ids is None or wanted in campaign_ids else []
    start, end, granularity = _window(args, now - timedelta(hours=24), now)
    rows = queries.series(granularity, start, end, agent_id=agent_id, campaign_ids=campaign_ids)
    summary, points = _figures(rows)
    return {"agent_id": agent_id, "window": {"from": start, "to": end, "granularity": granularity},
            "summary": summary, "series": points}


def headline(campaign: Campaign, now: datetime) -> dict:
    """The figures supervisors watch: today's KPIs, 30-day abandonment and the list's state."""
    abandoned, human, rate = abandon_rate_30d(campaign.id, now)
    return {"campaign_id": campaign.id, "name": campaign.name, "status": campaign.status, "at": now,
            "today": queries.today(campaign.id, now),
            "abandonment_30d": {"abandoned": abandoned, "human_answered": human, "rate": rate,
                                "window_start": now - timedelta(days=30), "window_end": now},
            "list": queries.list_state(campaign.id)}


def summary(user: User, now: datetime | None = None) -> dict:
    now = now or utcnow()
    allowed = supervised_campaign_ids(user)
    query = select(Campaign).order_by(Campaign.id)
    if allowed is not None:
        query = query.where(Campaign.id.in_(allowed))
    return {"at": now, "campaigns": [headline(c, now) for c in db.session.scalars(query)]}


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def publish_figures(campaign_ids: set[int], now: datetime | None = None) -> None:
    """`campaign.figures` to each campaign's room, after a rollup run has committed."""
    now = now or utcnow()
    for campaign in db.session.scalars(select(Campaign).where(Campaign.id.in_(sorted(campaign_ids)))):
        publish("campaign.figures", _jsonable(headline(campaign, now)), room=campaign_room(campaign.id))
