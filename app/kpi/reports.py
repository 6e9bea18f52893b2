"""Reports for a campaign over a range of its local days: agent performance, dispositions, hourly
and daily figures. Read from the KPI rollups and derived with `app.kpi.definitions.derive`, so a
report's figure means exactly what the KPI API's figure of the same name means.

A range is whole local days in the campaign's time zone: today, yesterday, the last 7 days (today
and the 6 days before) or custom dates; it is [first day 00:00, the day after the last 00:00).
Agent and disposition figures add up the day rollups in the range; hourly figures are the hour
rollups (UTC hours, shown in the campaign's zone), daily figures the day rollups.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from app.campaigns.models import Campaign
from app.common.timeutil import utcnow
from app.errors import ApiError
from app.extensions import db
from app.kpi.definitions import JSON_COLUMNS, SUM_COLUMNS, derive
from app.kpi.models import KpiRollupState
from app.kpi.queries import add_up
from app.kpi.services import supervised_campaign_ids, visible_campaign

RANGES = ("today", "yesterday", "last_7_days", "custom")
MAX_DAYS = 92
NO_PAUSE_CODE = "unspecified"

# What each figure means, in a supervisor's words; each says the same as app.kpi.definitions.
DEFINITIONS: dict[str, tuple[str, str]] = {
    "handled": ("Calls handled", "Connected calls an agent talked on and finished wrapping up."),
    "talk_seconds": ("Talk time", "Time agents spent talking on handled calls."),
    "wrap_seconds": ("Wrap-up time", "Time agents spent in wrap-up after handled calls (notes, disposition)."),
    "paused_seconds": ("Pause time", "Time agents spent paused, in total and per pause reason."),
    "signed_in_seconds": ("Signed-in time", "Time agents were signed in to the campaign: ready, on a call, in "
                                            "wrap-up or paused (pause included)."),
    "sales": ("Sales", "Handled calls whose disposition counts as a sale."),
    "contacts_reached": ("Contacts", "Handled calls whose disposition counts as reaching the contact."),
    "conversion": ("Conversion", "Sales as a share of contacts: sales ÷ contacts."),
    "occupancy": ("Occupancy", "Time on calls and in wrap-up as a share of signed-in time excluding pause: "
                               "(on-call + wrap-up) ÷ (signed-in − paused)."),
    "count": ("Calls", "Handled calls with this disposition."),
    "share": ("Share", "This disposition's calls as a share of all handled calls in the range."),
    "calls_placed": ("Calls placed", "Calls the dialer placed that have ended, counted in the hour or day "
                                     "they were placed."),
    "human_answered": ("Answered by a person", "Placed calls answered by a person (answering machines "
                                               "not counted)."),
    "abandoned": ("Abandoned", "Calls answered by a person that no agent took within 2 seconds."),
    "abandon_rate": ("Abandonment rate", "Abandoned calls as a share of calls answered by a person: "
                                         "abandoned ÷ answered by a person (the law's measure; the "
                                         "limit is 3% over 30 days)."),
    "talk_minutes_per_agent_hour": ("Talk minutes per agent hour", "Talk minutes over signed-in agent "
                                    "hours including pause: (talk minutes) ÷ (signed-in hours)."),
}


def definitions(*names: str) -> list[dict]:
    return [{"name": n, "label": DEFINITIONS[n][0], "definition": DEFINITIONS[n][1]} for n in names]


# --- range and access -------------------------------------------------------------------------

def _zone(campaign: Campaign) -> ZoneInfo:
    try:
        return ZoneInfo(campaign.timezone)
    except Exception:  # noqa: BLE001 - an unknown zone name: report in UTC rather than fail
        return ZoneInfo("UTC")


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def resolve_range(campaign: Campaign, args: dict, now: datetime) -> dict:
    """The range's first and last local days and its [start, end) instants."""
    zone = _zone(campaign)
    today = now.astimezone(zone).date()
    kind = args.get("range") or "today"
    if kind == "today":
        first = last = today
    elif kind == "yesterday":
        first = last = today - timedelta(days=1)
    elif kind == "last_7_days":
        first, last = today - timedelta(days=6), today
    else:
        first, last = args.get("from"), args.get("to")
        missing = {k: ["Choose a day."] for k, v in (("from", first), ("to", last)) if v is None}
        if missing:
            raise ApiError(422, "Choose the first and last day of the range", "validation_error", missing)
        if last < first:
            raise ApiError(422, "The last day is before the first", "validation_error",
                           {"to": ["Must be on or after the first day."]})
        if (last - first).days + 1 > MAX_DAYS:
            raise ApiError(422, f"Choose at most {MAX_DAYS} days", "validation_error",
                           {"to": [f"At most {MAX_DAYS} days after the first day."]})
    return {"range": kind, "first_day": first, "last_day": last, "start": _midnight(first, zone),
            "end": _midnight(last + timedelta(days=1), zone), "timezone": str(zone.key)}


def report_campaigns(user) -> list[dict]:
    """The campaigns the user may report on: supervisors their own, admins all."""
    allowed = supervised_campaign_ids(user)
    query = select(Campaign.id, Campaign.name, Campaign.timezone).order_by(Campaign.name)
    if allowed is not None:
        query = query.where(Campaign.id.in_(allowed))
    return [dict(r._mapping) for r in db.session.execute(query)]


def _header(user, args: dict, now: datetime | None) -> tuple[Campaign, dict, dict]:
    now = now or utcnow()
    campaign = visible_campaign(user, args["campaign_id"])
    window = resolve_range(campaign, args, now)
    state = db.session.get(KpiRollupState, 1)
    head = {"campaign_id": campaign.id, "campaign_name": campaign.name, **window,
            "as_of": state.last_run_at if state else None}
    return campaign, window, head


# --- reading the rollups ---------------------------------------------------------------------

_SUMS = ", ".join([f"sum(r.{c}) AS {c}" for c in SUM_COLUMNS] + [f"kpi_jsonb_sum(r.{c}) AS {c}" for c in JSON_COLUMNS])


def _rows(campaign_id: int, granularity: str, start: datetime, end: datetime, *, per_agent: bool) -> list[dict]:
    if per_agent:
        sql = (f"SELECT r.agent_id, coalesce(nullif(u.full_name, ''), u.username) AS agent_name, {_SUMS} "
               "FROM kpi_rollups r LEFT JOIN users u ON u.id = r.agent_id "
               "WHERE r.campaign_id = :cid AND r.agent_id IS NOT NULL AND r.granularity = :g "
               "AND r.bucket_start >= :start AND r.bucket_start < :end "
               "GROUP BY r.agent_id, agent_name ORDER BY agent_name, r.agent_id")
    else:
        sql = (f"SELECT r.bucket_start, {', '.join(f'r.{c}' for c in SUM_COLUMNS + JSON_COLUMNS)} "
               "FROM kpi_rollups r WHERE r.campaign_id = :cid AND r.agent_id IS NULL AND r.granularity = :g "
               "AND r.bucket_start >= :start AND r.bucket_start < :end ORDER BY r.bucket_start")
    rows = db.session.execute(text(sql), {"cid": campaign_id, "g": granularity, "start": start, "end": end})
    return [dict(r) for r in rows.mappings()]


def pause_labels(campaign_id: int) -> dict[str, str]:
    """Pause code -> its label: the campaign's own code first, else the one every campaign shares."""
    rows = db.session.execute(text(
        "SELECT DISTINCT ON (code) code, label FROM pause_codes WHERE campaign_id = :cid OR campaign_id IS NULL "
        "ORDER BY code, campaign_id NULLS LAST"), {"cid": campaign_id}).all()
    return {NO_PAUSE_CODE: "No reason given", **{code: label for code, label in rows}}


def disposition_labels(campaign_id: int) -> dict[str, str]:
    rows = db.session.execute(text("SELECT code, label FROM disposition_codes WHERE campaign_id = :cid"),
                              {"cid": campaign_id}).all()
    return {code: label for code, label in rows}


def _pauses(pause_by_code: dict, labels: dict[str, str]) -> list[dict]:
    return [{"code": code, "label": labels.get(code, code), "seconds": round(seconds, 1)}
            for code, seconds in sorted(pause_by_code.items(), key=lambda kv: labels.get(kv[0], kv[0]))]


AGENT_FIGURES = ("handled", "talk_seconds", "wrap_seconds", "paused_seconds", "signed_in_seconds",
                 "contacts_reached", "sales", "conversion", "occupancy")


def _agent_figures(derived: dict, labels: dict[str, str]) -> dict:
    out = {name: derived[name] for name in AGENT_FIGURES}
    out["pause_by_code"] = _pauses(derived["pause_by_code"], labels)
    return out


def agent_performance(user, args: dict, now: datetime | None = None) -> dict:
    campaign, window, head = _header(user, args, now)
    rows = _rows(campaign.id, "day", window["start"], window["end"], per_agent=True)
    labels = pause_labels(campaign.id)
    agents = [{"agent_id": r["agent_id"], "agent_name": r["agent_name"] or "Removed user",
               **_agent_figures(derive(r), labels)} for r in rows]
    codes = sorted({p["code"] for a in agents for p in a["pause_by_code"]}, key=lambda c: labels.get(c, c))
    return {**head, "agents": agents, "total": _agent_figures(derive(add_up(rows)), labels),
            "pause_codes": [{"code": c, "label": labels.get(c, c)} for c in codes],
            "definitions": definitions(*AGENT_FIGURES[:-2], "conversion", "occupancy")}


def dispositions(user, args: dict, now: datetime | None = None) -> dict:
    campaign, window, head = _header(user, args, now)
    total = add_up(_rows(campaign.id, "day", window["start"], window["end"], per_agent=False))
    handled = int(total["handled"])
    labels = disposition_labels(campaign.id)
    counts = {code: int(n) for code, n in total["dispositions"].items() if n}
    items = [{"code": code, "label": labels.get(code, code), "count": n, "share": n / handled if handled else None}
             for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], labels.get(kv[0], kv[0])))]
    unrecorded = handled - sum(counts.values())
    if unrecorded > 0:
        items.append({"code": None, "label": "No disposition recorded", "count": unrecorded,
                      "share": unrecorded / handled})
    return {**head, "handled": handled, "dispositions": items,
            "definitions": definitions("handled", "count", "share")}


ACTIVITY_FIGURES = ("calls_placed", "human_answered", "handled", "abandoned", "abandon_rate",
                    "talk_seconds", "signed_in_seconds", "talk_minutes_per_agent_hour")


# An hour is a UTC clock hour of the rollups, labelled by when it starts in the campaign's zone:
# in a zone half an hour off UTC (India, Newfoundland) it reads 14:30, not a wrong 14:00.
HOUR_LABEL = "%a %d %b %H:%M"


def _activity_point(bucket_start: datetime, derived: dict, zone: ZoneInfo, fmt: str) -> dict:
    return {"bucket_start": bucket_start, "label": bucket_start.astimezone(zone).strftime(fmt),
            **{name: derived[name] for name in ACTIVITY_FIGURES}}


def activity(user, args: dict, granularity: str, now: datetime | None = None) -> dict:
    """Hourly or daily figures: one point per hour (or local day) of the range up to now, zeros
    where nothing happened."""
    now = now or utcnow()
    campaign, window, head = _header(user, args, now)
    zone = _zone(campaign)
    rows = _rows(campaign.id, granularity, window["start"], window["end"], per_agent=False)
    by_start = {r["bucket_start"]: r for r in rows}
    starts: list[datetime] = []
    if granularity == "hour":
        t = window["start"].astimezone(ZoneInfo("UTC")).replace(minute=0, second=0, microsecond=0)
        stop = min(window["end"], now)
        while t < stop:
            starts.append(t)
            t += timedelta(hours=1)
        fmt = HOUR_LABEL
    else:
        day = window["first_day"]
        while day <= window["last_day"] and _midnight(day, zone) <= now:
            starts.append(_midnight(day, zone))
            day += timedelta(days=1)
        fmt = "%a %d %b %Y"
    empty = {c: 0 for c in SUM_COLUMNS}
    points = []
    for start in starts:
        row = by_start.get(start)
        points.append(_activity_point(start, derive(row or empty), zone, fmt))
    known = set(starts)
    for k, r in by_start.items():  # a bucket not on the generated grid (odd zone offsets): keep it
        if k not in known:
            points.append(_activity_point(k, derive(r), zone, fmt))
    points.sort(key=lambda p: p["bucket_start"])
    total = derive(add_up(rows))
    return {**head, "granularity": granularity, "points": points,
            "total": {name: total[name] for name in ACTIVITY_FIGURES},
            "definitions": definitions("calls_placed", "human_answered", "handled", "abandoned", "abandon_rate",
                                       "talk_seconds", "signed_in_seconds", "talk_minutes_per_agent_hour")}
