"""Which buckets a rollup run must recompute: the (campaign, UTC hour) pairs new or changed source
rows fall in, the local days containing them, and every day with data for a full recompute."""
from app.kpi.sql import TERMINAL

TOUCHED_HOURS = f"""
WITH call_hours AS (
  SELECT campaign_id, date_trunc('hour', created_at, 'UTC') AS h, NULL::bigint AS seen_id
  FROM calls
  WHERE status IN ({TERMINAL}) AND updated_at > :calls_since AND campaign_id IS NOT NULL
  GROUP BY 1, 2
),
ia_hours AS (
  SELECT campaign_id, date_trunc('hour', started_at, 'UTC') AS h,
         max(id) AS seen_id
  FROM interactions
  WHERE (id > :ia_since_id OR wrapup_ended_at > :ia_since OR dispositioned_at > :ia_since)
    AND campaign_id IS NOT NULL
  GROUP BY 1, 2
),
changed AS (
  SELECT id, agent_id, campaign_id, to_state, at FROM agent_state_changes
  WHERE id > :states_since_id OR at > :states_since
),
spans AS (
  -- the interval a changed row opens ...
  SELECT c.campaign_id, c.at AS t0, coalesce(nx.at, CAST(:now AS timestamptz)) AS t1
  FROM changed c LEFT JOIN LATERAL (
    SELECT n.at FROM agent_state_changes n WHERE n.agent_id = c.agent_id AND (n.at, n.id) > (c.at, c.id)
    ORDER BY n.at, n.id LIMIT 1) nx ON true
  WHERE c.to_state <> 'offline'
  UNION ALL
  -- ... the interval it cuts short (a late row splits its predecessor's interval) ...
  SELECT p.campaign_id, p.at, c.at FROM changed c CROSS JOIN LATERAL (
    SELECT s.campaign_id, s.at, s.to_state FROM agent_state_changes s
    WHERE s.agent_id = c.agent_id AND (s.at, s.id) < (c.at, c.id) ORDER BY s.at DESC, s.id DESC LIMIT 1) p
  WHERE p.to_state <> 'offline'
  UNION ALL
  -- ... and every agent's current state, which has grown since the previous run.
  SELECT l.campaign_id, greatest(l.at, CAST(:prev_run AS timestamptz)), CAST(:now AS timestamptz)
  FROM users u CROSS JOIN LATERAL (
    SELECT s.campaign_id, s.at, s.to_state FROM agent_state_changes s WHERE s.agent_id = u.id
    ORDER BY s.at DESC, s.id DESC LIMIT 1) l
  WHERE l.to_state <> 'offline'
),
state_hours AS (
  SELECT DISTINCT s.campaign_id, h FROM spans s CROSS JOIN LATERAL generate_series(
    date_trunc('hour', s.t0, 'UTC'), s.t1 - interval '1 microsecond', interval '1 hour') AS h
  WHERE s.campaign_id IS NOT NULL AND s.t1 > s.t0
)
SELECT 'calls' AS source, campaign_id, h, seen_id FROM call_hours
UNION ALL SELECT 'interactions', campaign_id, h, seen_id FROM ia_hours
UNION ALL SELECT 'states', campaign_id, h, NULL FROM state_hours
UNION ALL SELECT 'states-seen', NULL, NULL, max(id) FROM changed
"""

# Local days (campaign time zone) that contain the given UTC hours, with their ends.
TOUCHED_DAYS = """
SELECT DISTINCT t.campaign_id, d.day_start,
       ((d.day_start AT TIME ZONE cp.timezone) + interval '1 day') AT TIME ZONE cp.timezone AS day_end
FROM unnest(CAST(:cids AS integer[]), CAST(:hours AS timestamptz[])) AS t(campaign_id, h)
JOIN campaigns cp ON cp.id = t.campaign_id
CROSS JOIN LATERAL (VALUES (date_trunc('day', t.h, cp.timezone)),
                           (date_trunc('day', t.h + interval '59 minutes 59 seconds', cp.timezone))) AS d(day_start)
"""

# Every local day between a campaign's first and last hour row, for a full recompute.
ALL_DAYS = """
SELECT cp.id, l.local_day AT TIME ZONE cp.timezone AS day_start,
       (l.local_day + interval '1 day') AT TIME ZONE cp.timezone AS day_end
FROM (SELECT campaign_id, min(bucket_start) AS lo, max(bucket_start) AS hi FROM kpi_rollups
      WHERE granularity = 'hour' AND agent_id IS NULL GROUP BY 1) r
JOIN campaigns cp ON cp.id = r.campaign_id
CROSS JOIN LATERAL generate_series(date_trunc('day', r.lo AT TIME ZONE cp.timezone),
                                   date_trunc('day', (r.hi + interval '59 minutes 59 seconds') AT TIME ZONE cp.timezone),
                                   interval '1 day') AS l(local_day)
"""
