"""The SQL that recomputes rollup buckets from source, set-based, in one statement per pass.

A pass gets a list of *items*: (campaign_id, granularity, src, bucket_start, range_start, range_end).
- src 'source': aggregate calls, interactions and agent time whose attribution time lies in
  [range_start, range_end). bucket_start NULL means "truncate each record's time to the
  granularity" (minute/hour items covering a whole hour, or everything on a full recompute);
  otherwise every record in the range lands in that one bucket (a day's partial-hour edge).
- src 'hours': add up the hour rollups in [range_start, range_end) into bucket_start (a day).
The statement writes every resulting row with INSERT ... ON CONFLICT DO UPDATE (only when a value
differs, so a rerun writes nothing) and deletes rows of the covered buckets that no longer have
data. Sums go through numeric so that recomputing the same rows gives bit-identical floats.
"""
from __future__ import annotations

from app.calls.models import TERMINAL_STATUSES
from app.kpi.definitions import JSON_COLUMNS, SUM_COLUMNS

TERMINAL = ", ".join(f"'{s}'" for s in sorted(TERMINAL_STATUSES))
ALL_COLUMNS = SUM_COLUMNS + JSON_COLUMNS
_CALL_COLS = {"calls_placed", "answered", "human_answered", "machine_answered", "abandoned",
              "ring_seconds_sum", "ring_count"}
_IA_COLS = {"talk_seconds", "wrap_seconds", "handled", "contacts_reached", "sales", "dispositions"}
_ST_COLS = {"signed_in_seconds", "paused_seconds", "occupied_seconds", "pause_by_code"}


def _select_list(own: set[str]) -> str:
    """All rollup columns: a part's own, zero (or '{}') for the rest, so parts can UNION ALL."""
    out = []
    for col in ALL_COLUMNS:
        if col in own:
            out.append(col)
        elif col in JSON_COLUMNS:
            out.append(f"'{{}}'::jsonb AS {col}")
        else:
            out.append(f"0 AS {col}")
    return ", ".join(out)


def _range(alias: str, column: str, full: bool) -> str:
    # A full recompute scans each source once (hash join on the campaign); an incremental pass
    # reads only the touched ranges through the (campaign_id, time) indexes.
    if full:
        return ""
    return f" AND {alias}.{column} >= i.range_start AND {alias}.{column} < i.range_end"


def bucket_expr(column: str) -> str:
    return f"coalesce(i.bucket_start, date_trunc(i.granularity, {column}, 'UTC'))"


def recompute_statement(full: bool = False) -> str:
    sums = ", ".join(f"sum({c})::float8 AS {c}" if c not in JSON_COLUMNS else f"kpi_jsonb_sum({c}) AS {c}"
                     for c in ALL_COLUMNS)
    cols = ", ".join(ALL_COLUMNS)
    distinct_set = ", ".join(f"{c} = EXCLUDED.{c}" for c in ALL_COLUMNS)
    old = ", ".join(f"kpi_rollups.{c}" for c in ALL_COLUMNS)
    new = ", ".join(f"EXCLUDED.{c}" for c in ALL_COLUMNS)
    return f"""
WITH items AS (
  SELECT * FROM unnest(CAST(:i_campaign AS integer[]), CAST(:i_gran AS text[]), CAST(:i_src AS text[]),
                       CAST(:i_bucket AS timestamptz[]), CAST(:i_start AS timestamptz[]),
                       CAST(:i_end AS timestamptz[]))
         AS i(campaign_id, granularity, src, bucket_start, range_start, range_end)
),
src_items AS (SELECT * FROM items WHERE src = 'source'),
call_parts AS (
  SELECT i.campaign_id, coalesce(c.agent_id, 0) AS agent_key, i.granularity,
         {bucket_expr('c.created_at')} AS bucket_start,
         count(*) AS calls_placed, count(c.answered_at) AS answered,
         count(*) FILTER (WHERE c.outcome = 'human') AS human_answered,
         count(*) FILTER (WHERE c.outcome = 'machine') AS machine_answered,
         count(*) FILTER (WHERE c.abandoned) AS abandoned,
         coalesce(sum(c.ring_seconds::numeric), 0) AS ring_seconds_sum, count(c.ring_seconds) AS ring_count
  FROM src_items i JOIN calls c ON c.campaign_id = i.campaign_id{_range('c', 'created_at', full)}
  WHERE c.status IN ({TERMINAL})
  GROUP BY 1, 2, 3, 4
),
ia_codes AS (
  SELECT i.campaign_id, x.agent_id AS agent_key, i.granularity,
         {bucket_expr('x.started_at')} AS bucket_start, dc.code,
         count(*) AS n, coalesce(sum(x.talk_seconds::numeric), 0) AS talk,
         coalesce(sum(x.wrap_seconds::numeric), 0) AS wrap,
         count(*) FILTER (WHERE dc.is_contact) AS contacts, count(*) FILTER (WHERE dc.is_sale) AS sales
  FROM src_items i JOIN interactions x ON x.campaign_id = i.campaign_id{_range('x', 'started_at', full)}
  LEFT JOIN disposition_codes dc ON dc.id = x.disposition_code_id
  WHERE x.wrapup_ended_at IS NOT NULL
  GROUP BY 1, 2, 3, 4, 5
),
ia_parts AS (
  SELECT campaign_id, agent_key, granularity, bucket_start,
         sum(talk) AS talk_seconds, sum(wrap) AS wrap_seconds, sum(n) AS handled,
         sum(contacts) AS contacts_reached, sum(sales) AS sales,
         coalesce(jsonb_object_agg(code, n) FILTER (WHERE code IS NOT NULL), '{{}}'::jsonb) AS dispositions
  FROM ia_codes GROUP BY 1, 2, 3, 4
),
bounds AS (SELECT min(range_start) AS lo, max(range_end) AS hi FROM src_items),
chg AS (
  SELECT s.id, s.agent_id, s.campaign_id, s.to_state, s.pause_code_id, s.at
  FROM agent_state_changes s, bounds b WHERE s.at >= b.lo AND s.at < b.hi
  UNION ALL
  SELECT p.* FROM users u CROSS JOIN bounds b CROSS JOIN LATERAL (
    SELECT s.id, s.agent_id, s.campaign_id, s.to_state, s.pause_code_id, s.at FROM agent_state_changes s
    WHERE s.agent_id = u.id AND s.at < b.lo ORDER BY s.at DESC, s.id DESC LIMIT 1) p
),
iv AS (
  SELECT agent_id, campaign_id, to_state, pause_code_id, at AS t0,
         coalesce(lead(at) OVER (PARTITION BY agent_id ORDER BY at, id), CAST(:now AS timestamptz)) AS t1
  FROM chg
),
iv_items AS (
  SELECT i.campaign_id, iv.agent_id, i.granularity, i.bucket_start AS item_bucket, iv.to_state,
         iv.pause_code_id, greatest(iv.t0, i.range_start) AS s0, least(iv.t1, i.range_end) AS s1
  FROM src_items i JOIN iv ON iv.campaign_id = i.campaign_id AND iv.t0 < i.range_end AND iv.t1 > i.range_start
  WHERE iv.to_state <> 'offline' AND iv.t1 > iv.t0
),
iv_buckets AS (
  SELECT v.campaign_id, v.agent_id, v.granularity, b AS bucket_start, v.to_state, v.pause_code_id,
         greatest(v.s0, b) AS p0,
         least(v.s1, b + CASE v.granularity WHEN 'minute' THEN interval '1 minute' ELSE interval '1 hour' END) AS p1
  FROM iv_items v CROSS JOIN LATERAL generate_series(
         date_trunc(v.granularity, v.s0, 'UTC'), v.s1 - interval '1 microsecond',
         CASE v.granularity WHEN 'minute' THEN interval '1 minute' ELSE interval '1 hour' END) AS b
  WHERE v.item_bucket IS NULL
  UNION ALL
  SELECT campaign_id, agent_id, granularity, item_bucket, to_state, pause_code_id, s0, s1
  FROM iv_items WHERE item_bucket IS NOT NULL
),
st_codes AS (
  SELECT v.campaign_id, v.agent_id AS agent_key, v.granularity, v.bucket_start,
         CASE WHEN v.to_state = 'paused' THEN coalesce(pc.code, 'unspecified') END AS pause_code,
         sum(extract(epoch FROM v.p1 - v.p0)) AS signed_in,
         coalesce(sum(extract(epoch FROM v.p1 - v.p0)) FILTER (WHERE v.to_state = 'paused'), 0) AS paused,
         coalesce(sum(extract(epoch FROM v.p1 - v.p0))
                  FILTER (WHERE v.to_state IN ('on-call', 'wrap-up')), 0) AS occupied
  FROM iv_buckets v LEFT JOIN pause_codes pc ON pc.id = v.pause_code_id
  GROUP BY 1, 2, 3, 4, 5
),
st_parts AS (
  SELECT campaign_id, agent_key, granularity, bucket_start, sum(signed_in) AS signed_in_seconds,
         sum(paused) AS paused_seconds, sum(occupied) AS occupied_seconds,
         coalesce(jsonb_object_agg(pause_code, paused) FILTER (WHERE pause_code IS NOT NULL),
                  '{{}}'::jsonb) AS pause_by_code
  FROM st_codes GROUP BY 1, 2, 3, 4
),
parts AS (
  SELECT campaign_id, agent_key, granularity, bucket_start, {_select_list(_CALL_COLS)} FROM call_parts
  UNION ALL
  SELECT campaign_id, agent_key, granularity, bucket_start, {_select_list(_IA_COLS)} FROM ia_parts
  UNION ALL
  SELECT campaign_id, agent_key, granularity, bucket_start, {_select_list(_ST_COLS)} FROM st_parts
),
keyed AS (
  -- campaign-wide rows (agent NULL) add up every part; agent rows leave out calls no agent took
  SELECT campaign_id, CASE WHEN GROUPING(agent_key) = 1 THEN NULL ELSE agent_key END AS agent_id,
         granularity, bucket_start, {sums}
  FROM parts
  GROUP BY GROUPING SETS ((campaign_id, granularity, bucket_start),
                          (campaign_id, agent_key, granularity, bucket_start))
  HAVING GROUPING(agent_key) = 1 OR agent_key <> 0
  UNION ALL
  SELECT r.campaign_id, r.agent_id, i.granularity, i.bucket_start, {", ".join(f"r.{c}" for c in ALL_COLUMNS)}
  FROM items i JOIN kpi_rollups r ON r.campaign_id = i.campaign_id AND r.granularity = 'hour'
   AND r.bucket_start >= i.range_start AND r.bucket_start < i.range_end
  WHERE i.src = 'hours'
),
results AS (
  SELECT campaign_id, agent_id, granularity, bucket_start, {sums}
  FROM keyed GROUP BY 1, 2, 3, 4
),
stale AS (
  DELETE FROM kpi_rollups r USING items i
  WHERE r.campaign_id = i.campaign_id AND r.granularity = i.granularity
    AND CASE WHEN i.bucket_start IS NULL
             THEN r.bucket_start >= i.range_start AND r.bucket_start < i.range_end
             ELSE r.bucket_start = i.bucket_start END
    AND NOT EXISTS (SELECT 1 FROM results x WHERE x.campaign_id = r.campaign_id
                    AND x.agent_id IS NOT DISTINCT FROM r.agent_id AND x.granularity = r.granularity
                    AND x.bucket_start = r.bucket_start)
  RETURNING 1
)
INSERT INTO kpi_rollups (campaign_id, agent_id, granularity, bucket_start, {cols})
SELECT campaign_id, agent_id, granularity, bucket_start, {cols} FROM results
ON CONFLICT ON CONSTRAINT uq_kpi_rollups_campaign_id_agent_id_granularity_bucket_start
DO UPDATE SET {distinct_set}, computed_at = now()
WHERE ({old}) IS DISTINCT FROM ({new})
"""


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
