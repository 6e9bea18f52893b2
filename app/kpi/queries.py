"""Reads over the rollups: series for a window, today's figures, list state and 30-day abandonment."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import text

from app.extensions import db
from app.kpi.definitions import JSON_COLUMNS, SUM_COLUMNS, derive, ratio

_SUMS = ", ".join([f"sum({c}) AS {c}" for c in SUM_COLUMNS] + [f"kpi_jsonb_sum({c}) AS {c}" for c in JSON_COLUMNS])


def series(granularity: str, start: datetime, end: datetime, *, campaign_id: int | None = None,
           agent_id: int | None = None, campaign_ids: list[int] | None = None) -> list[dict]:
    """Summed counters per bucket starting in [start, end): campaign-wide rows for a campaign,
    or one agent's rows added up across campaigns (optionally only `campaign_ids`)."""
    where = ["granularity = :g", "bucket_start >= :start", "bucket_start < :end"]
    params = {"g": granularity, "start": start, "end": end}
    if agent_id is None:  # one campaign-wide row per bucket: nothing to add up
        params["cid"] = campaign_id
        rows = db.session.execute(text(
            f"SELECT bucket_start, {', '.join(SUM_COLUMNS + JSON_COLUMNS)} FROM kpi_rollups "
            f"WHERE {' AND '.join(where)} AND campaign_id = :cid AND agent_id IS NULL ORDER BY bucket_start"),
            params).mappings().all()
        return [dict(r) for r in rows]
    else:
        where.append("agent_id = :aid")
        params["aid"] = agent_id
        if campaign_ids is not None:
            where.append("campaign_id = ANY(:cids)")
            params["cids"] = list(campaign_ids)
    rows = db.session.execute(text(
        f"SELECT bucket_start, {_SUMS} FROM kpi_rollups WHERE {' AND '.join(where)} "
        "GROUP BY bucket_start ORDER BY bucket_start"), params).mappings().all()
    return [dict(r) for r in rows]


def add_up(rows: list[dict]) -> dict:
    """The counters of a whole window: the sum of its buckets (json counters key by key)."""
    total: dict = {c: 0 for c in SUM_COLUMNS}
    for c in JSON_COLUMNS:
        total[c] = {}
    for row in rows:
        for c in SUM_COLUMNS:
            total[c] += row[c] or 0
        for c in JSON_COLUMNS:
            for key, value in (row[c] or {}).items():
                total[c][key] = total[c].get(key, 0) + value
    return total


def today(campaign_id: int, now: datetime) -> dict:
    """The campaign-wide day row of the campaign's local today (as of the last rollup), its
    abandonment (abandoned, human_answered, abandon_rate) counted as the 30-day figure counts it:
    rollups up to their boundary, then the calls since and the calls still live, straight from
    the calls table. From the rollups alone today's base lagged the 30-day one (87 against 91 on
    a campaign's first day: the calls since the last rollup run and those still live)."""
    row = db.session.execute(text(
        f"SELECT {_SUMS}, min(d.day_start) AS day_start FROM campaigns cp "
        "CROSS JOIN LATERAL (SELECT date_trunc('day', CAST(:now AS timestamptz), cp.timezone) AS day_start) d "
        "LEFT JOIN kpi_rollups r ON r.campaign_id = cp.id AND r.agent_id IS NULL AND r.granularity = 'day' "
        " AND r.bucket_start = d.day_start WHERE cp.id = :cid"), {"cid": campaign_id, "now": now}).mappings().one()
    out = derive(dict(row))
    out["day_start"] = row["day_start"]
    if row["day_start"] is not None:
        counts = abandon_counts(campaign_id, row["day_start"], now)
        if counts is not None:
            out["abandoned"], out["human_answered"] = counts
            out["abandon_rate"] = ratio(*counts)
    return out


def local_day_start(campaign_id: int, now: datetime) -> datetime:
    return db.session.scalar(text(
        "SELECT date_trunc('day', CAST(:now AS timestamptz), timezone) FROM campaigns WHERE id = :cid"),
        {"cid": campaign_id, "now": now})


def list_state(campaign_id: int) -> dict:
    """List penetration and contacts remaining, live from the contacts table."""
    total, attempted, remaining = db.session.execute(text(
        "SELECT count(*), count(*) FILTER (WHERE attempts > 0), "
        "count(*) FILTER (WHERE status IN ('new', 'retry', 'callback')) FROM contacts WHERE campaign_id = :cid"),
        {"cid": campaign_id}).one()
    return {"total": total, "attempted": attempted, "remaining": remaining,
            "penetration": (attempted / total) if total else None}


ABANDON_COUNTS = """
WITH p AS MATERIALIZED (
  SELECT cp.id AS cid, cp.timezone AS tz, CAST(:ws AS timestamptz) AS ws, CAST(:ha AS timestamptz) AS ha,
         greatest(CAST(:ha AS timestamptz), least(date_trunc('hour', CAST(:now AS timestamptz), 'UTC'),
           date_trunc('hour', coalesce((SELECT last_run_at FROM kpi_rollup_state WHERE id = 1),
                                       '-infinity') - CAST(:lag AS interval), 'UTC'))) AS hb
  FROM campaigns cp WHERE cp.id = ANY(CAST(:cids AS integer[]))
),
q AS MATERIALIZED (
  SELECT p.*,
         CASE WHEN date_trunc('day', ha, tz) = ha THEN ha
              ELSE ((date_trunc('day', ha, tz) AT TIME ZONE tz) + interval '1 day') AT TIME ZONE tz END AS d1,
         date_trunc('day', hb, tz) AS d2
  FROM p
),
r AS MATERIALIZED (
  -- whole local days from day rows when they sit on UTC hours (else hours all the way)
  SELECT cid, ws, ha, hb,
         CASE WHEN d1 < d2 AND date_trunc('hour', d1, 'UTC') = d1 AND date_trunc('hour', d2, 'UTC') = d2
              THEN d1 ELSE hb END AS d1,
         CASE WHEN d1 < d2 AND date_trunc('hour', d1, 'UTC') = d1 AND date_trunc('hour', d2, 'UTC') = d2
              THEN d2 ELSE hb END AS d2
  FROM q
)
SELECT r.cid, coalesce(rolled.abandoned, 0) + raw.abandoned AS abandoned,
       coalesce(rolled.human, 0) + raw.human AS human
FROM r
CROSS JOIN LATERAL (
  SELECT sum(k.abandoned) AS abandoned, sum(k.human_answered) AS human FROM kpi_rollups k
  WHERE k.campaign_id = r.cid AND k.agent_id IS NULL
    AND ((k.granularity = 'day' AND k.bucket_start >= r.d1 AND k.bucket_start < r.d2)
      OR (k.granularity = 'hour' AND k.bucket_start >= r.ha AND k.bucket_start < r.d1)
      OR (k.granularity = 'hour' AND k.bucket_start >= r.d2 AND k.bucket_start < r.hb))) AS rolled
CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE c.abandoned) AS abandoned, count(*) FILTER (WHERE c.outcome = 'human') AS human
  FROM (
    -- the partial first hour and everything since the rollups' boundary, straight from calls
    SELECT abandoned, outcome FROM calls
    WHERE campaign_id = r.cid AND direction = 'outbound' AND created_at >= r.ws AND created_at < r.ha
    UNION ALL
    SELECT abandoned, outcome FROM calls
    WHERE campaign_id = r.cid AND direction = 'outbound' AND created_at >= r.hb AND created_at < :now
    UNION ALL
    -- calls still live from before the boundary (rollups hold terminal calls only)
    SELECT abandoned, outcome FROM calls
    WHERE status IN ('queued', 'initiated', 'ringing', 'in-progress') AND campaign_id = r.cid
      AND direction = 'outbound'
      AND created_at >= r.ha AND created_at < r.hb
  ) AS c) AS raw
"""


def abandon_counts_30d(campaign_id: int, now: datetime) -> tuple[int, int] | None:
    return abandon_counts(campaign_id, now - timedelta(days=30), now)


def abandon_counts(campaign_id: int, window_start: datetime, now: datetime) -> tuple[int, int] | None:
    """(abandoned, human answers) of the calls placed in [window_start, now), counted one way
    for every window (the 30 days, today): rollups to their boundary, raw calls after it and in
    the partial first hour, and calls still live. None for an unknown campaign."""
    return abandon_counts_many([campaign_id], window_start, now).get(campaign_id)


def abandon_counts_many(campaign_ids: list[int], window_start: datetime,
                        now: datetime) -> dict[int, tuple[int, int]]:
    """abandon_counts for several campaigns in one query, each by its own time zone's day
    rollups: {campaign: (abandoned, human answers)}, unknown campaigns left out."""
    if not campaign_ids:
        return {}
    first_hour = window_start.replace(minute=0, second=0, microsecond=0)
    if first_hour < window_start:
        first_hour += timedelta(hours=1)
    lag = f"{int(current_app.config.get('KPI_ROLLUP_OVERLAP_SECONDS', 300))} seconds"
    rows = db.session.execute(text(ABANDON_COUNTS), {
        "cids": [int(c) for c in campaign_ids], "ws": window_start, "ha": first_hour, "now": now,
        "lag": lag}).all()
    return {int(row.cid): (int(row.abandoned), int(row.human)) for row in rows}
