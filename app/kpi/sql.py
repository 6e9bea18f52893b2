"""The SQL that recomputes rollup buckets from source, set-based, in one statement per pass.

A pass gets a list of *items*: (campaign_id, granularity, src, bucket_start, range_start, range_end).
- src 'source': aggregate calls, interactions and agent time whose attribution time lies in
  [range_start, range_end). bucket_start NULL means "truncate each record's time to the
  granularity" (minute/hour items covering a whole hour, or everything on a full recompute);
  otherwise every record in the range lands in that one bucket (a day's partial-hour edge).
- src 'hours': add up the hour rollups in [range_start, range_end) into bucket_start (a day).
The statement writes every resulting row with INSERT ... ON CONFLICT DO UPDATE (only when a value
differs, so a rerun writes nothing) and deletes rows of the covered buckets that no longer have
data. Durations are summed as integer milliseconds (stored as float seconds), so sums are exact
and recomputing the same rows gives bit-identical values.
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


STALE = """stale AS (
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
"""

FLOAT_COLUMNS = frozenset({"ring_seconds_sum", "talk_seconds", "wrap_seconds", "signed_in_seconds",
                           "paused_seconds", "occupied_seconds"})


def _sum(col: str) -> str:
    """Counters and whole-millisecond durations add up exactly (and fast) as float8; the jsonb
    merge runs only over rows that have something to merge."""
    if col in JSON_COLUMNS:
        return f"kpi_jsonb_sum({col}) FILTER (WHERE {col} <> '{{}}'::jsonb) AS {col}"
    return f"sum({col}::float8)::bigint AS {col}"


def _ms(expr: str) -> str:
    # whole milliseconds as float8: integer sums in float8 are exact below 2**53, whatever the order
    return f"round((({expr}) * 1000)::float8)"


def _keyed(prefix: str, own: set[str]) -> str:
    """A source's agent rows plus its campaign-wide rows (agent_key -1); calls no agent took
    (agent_key 0) count only campaign-wide."""
    cols = [c for c in ALL_COLUMNS if c in own]
    return f"""{prefix}_keyed AS (
  SELECT campaign_id, CASE WHEN GROUPING(agent_key) = 1 THEN -1 ELSE agent_key END AS agent_key,
         granularity, bucket_start, {", ".join(_sum(c) for c in cols)}
  FROM {prefix}_parts
  GROUP BY GROUPING SETS ((campaign_id, granularity, bucket_start),
                          (campaign_id, agent_key, granularity, bucket_start))
  HAVING GROUPING(agent_key) = 1 OR agent_key <> 0
)"""


def _side_by_side() -> str:
    out = []
    for col in ALL_COLUMNS:
        alias = "c" if col in _CALL_COLS else "x" if col in _IA_COLS else "s"
        empty = "'{}'::jsonb" if col in JSON_COLUMNS else "0"
        out.append(f"coalesce({alias}.{col}, {empty}) AS {col}")
    return ", ".join(out)


def _source(table: str, alias: str, column: str, full: bool) -> str:
    """FROM clause of a source. A full recompute scans the table once into hour buckets; an
    incremental pass reads only the items' ranges through the (campaign_id, time) indexes."""
    if full:
        return f"{table} {alias} WHERE {alias}.campaign_id IS NOT NULL AND"
    return (f"src_items i JOIN {table} {alias} ON {alias}.campaign_id = i.campaign_id "
            f"AND {alias}.{column} >= i.range_start AND {alias}.{column} < i.range_end WHERE")


def _granularity(full: bool) -> str:
    return "'hour'::text" if full else "i.granularity"


def _bucket(column: str, full: bool) -> str:
    if full:
        return f"date_trunc('hour', {column}, 'UTC')"
    return f"coalesce(i.bucket_start, date_trunc(i.granularity, {column}, 'UTC'))"


def _write(fresh: bool, cols: str, out_cols: str, distinct_set: str, old: str, new: str) -> str:
    insert = (f"INSERT INTO kpi_rollups (campaign_id, agent_id, granularity, bucket_start, {cols})\n"
              f"SELECT campaign_id, agent_id, granularity, bucket_start, {out_cols} FROM results")
    if fresh:
        return insert
    return ",\n" + STALE + insert + f"""
ON CONFLICT ON CONSTRAINT uq_kpi_rollups_campaign_id_granularity_bucket_start_agent_id
DO UPDATE SET {distinct_set}, computed_at = now()
WHERE ({old}) IS DISTINCT FROM ({new})"""


def _composition() -> str:
    return f"""
  UNION ALL
  SELECT r.campaign_id, r.agent_id, i.granularity, i.bucket_start,
         {", ".join(_ms(f"r.{c}") if c in FLOAT_COLUMNS else f"r.{c}" for c in ALL_COLUMNS)}
  FROM items i JOIN kpi_rollups r ON r.campaign_id = i.campaign_id AND r.granularity = 'hour'
   AND r.bucket_start >= i.range_start AND r.bucket_start < i.range_end
  WHERE i.src = 'hours'"""


def call_parts_select(full: bool) -> str:
    """Calls placed aggregated per (campaign, agent, granularity, bucket); agent_key 0: no agent.
    Calls to our numbers are no dials: the agents' talk is counted from their interactions."""
    return f"""
  SELECT c.campaign_id, coalesce(c.agent_id, 0) AS agent_key, {_granularity(full)} AS granularity,
         {_bucket('c.created_at', full)} AS bucket_start,
         count(*) AS calls_placed, count(c.answered_at) AS answered,
         count(*) FILTER (WHERE c.outcome = 'human') AS human_answered,
         count(*) FILTER (WHERE c.outcome = 'machine') AS machine_answered,
         count(*) FILTER (WHERE c.abandoned) AS abandoned,
         coalesce(sum({_ms('c.ring_seconds')}), 0) AS ring_seconds_sum, count(c.ring_seconds) AS ring_count
  FROM {_source('calls', 'c', 'created_at', full)} c.status IN ({TERMINAL}) AND c.direction = 'outbound'
  GROUP BY {"1, 2, 4" if full else "1, 2, 3, 4"}"""  # a full pass: granularity is a constant


# A full recompute aggregates the calls table first on its own: a read-only CREATE TABLE AS can
# use parallel workers, which no INSERT (or statement with a data-modifying CTE) can.
FULL_CALL_PARTS = "CREATE TEMP TABLE kpi_full_call_parts AS " + call_parts_select(True)


def recompute_statement(full: bool = False, compose: bool = True, fresh: bool = False) -> str:
    """full: scan whole source tables; compose: items may add up hour rows (day passes);
    fresh: the covered buckets are known to be empty (a full recompute), so plain INSERT."""
    sums = ", ".join(_sum(c) for c in ALL_COLUMNS)
    cols = ", ".join(ALL_COLUMNS)
    out_cols = ", ".join(f"({c} / 1000.0)::float8" if c in FLOAT_COLUMNS else c for c in ALL_COLUMNS)
    distinct_set = ", ".join(f"{c} = EXCLUDED.{c}" for c in ALL_COLUMNS)
    old = ", ".join(f"kpi_rollups.{c}" for c in ALL_COLUMNS)
    composition = _composition() if compose else ""
    # hour rows and source parts of one day meet here; a plain pass has one row per key already
    results = (f"SELECT campaign_id, agent_id, granularity, bucket_start, {sums} FROM keyed GROUP BY 1, 2, 3, 4"
               if compose else "SELECT * FROM keyed")
    new = ", ".join(f"EXCLUDED.{c}" for c in ALL_COLUMNS)
    return f"""
WITH items AS (
  SELECT * FROM unnest(CAST(:i_campaign AS integer[]), CAST(:i_gran AS text[]), CAST(:i_src AS text[]),
                       CAST(:i_bucket AS timestamptz[]), CAST(:i_start AS timestamptz[]),
                       CAST(:i_end AS timestamptz[]))
         AS i(campaign_id, granularity, src, bucket_start, range_start, range_end)
),
src_items AS (SELECT * FROM items WHERE src = 'source'),
call_parts AS ({"SELECT * FROM kpi_full_call_parts" if full else call_parts_select(False)}
),
ia_codes AS (
  SELECT x.campaign_id, x.agent_id AS agent_key, x.granularity, x.bucket_start, dc.code,
         count(*) AS n, coalesce(sum({_ms('x.talk_seconds')}), 0) AS talk,
         coalesce(sum({_ms('x.wrap_seconds')}), 0) AS wrap,
         count(*) FILTER (WHERE dc.is_contact) AS contacts, count(*) FILTER (WHERE dc.is_sale) AS sales
  FROM (SELECT x.campaign_id, x.agent_id, x.talk_seconds, x.wrap_seconds, x.disposition_code_id,
               {_granularity(full)} AS granularity, {_bucket('x.started_at', full)} AS bucket_start
        FROM {_source('interactions', 'x', 'started_at', full)} x.wrapup_ended_at IS NOT NULL) x
  LEFT JOIN disposition_codes dc ON dc.id = x.disposition_code_id
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
         sum({_ms("extract(epoch FROM v.p1 - v.p0)")}) AS signed_in,
         coalesce(sum({_ms("extract(epoch FROM v.p1 - v.p0)")}) FILTER (WHERE v.to_state = 'paused'), 0) AS paused,
         coalesce(sum({_ms("extract(epoch FROM v.p1 - v.p0)")})
                  FILTER (WHERE v.to_state IN ('on-call', 'wrap-up')), 0) AS occupied
  FROM iv_buckets v LEFT JOIN pause_codes pc ON pc.id = v.pause_code_id
  GROUP BY 1, 2, 3, 4, 5
),
st_parts AS (
  SELECT campaign_id, agent_key, granularity, bucket_start, sum(signed_in) AS signed_in_seconds,
         sum(paused) AS paused_seconds, sum(occupied) AS occupied_seconds,
         coalesce(jsonb_object_agg(pause_code, paused / 1000.0) FILTER (WHERE pause_code IS NOT NULL),
                  '{{}}'::jsonb) AS pause_by_code
  FROM st_codes GROUP BY 1, 2, 3, 4
),
{_keyed("call", _CALL_COLS)},
{_keyed("ia", _IA_COLS)},
{_keyed("st", _ST_COLS)},
keyed AS (
  -- one row per key: the three sources side by side (agent_key -1 is the campaign-wide row)
  SELECT coalesce(c.campaign_id, x.campaign_id, s.campaign_id) AS campaign_id,
         nullif(coalesce(c.agent_key, x.agent_key, s.agent_key), -1) AS agent_id,
         coalesce(c.granularity, x.granularity, s.granularity) AS granularity,
         coalesce(c.bucket_start, x.bucket_start, s.bucket_start) AS bucket_start,
         {_side_by_side()}
  FROM call_keyed c
  FULL JOIN ia_keyed x ON x.campaign_id = c.campaign_id AND x.agent_key = c.agent_key
   AND x.granularity = c.granularity AND x.bucket_start = c.bucket_start
  FULL JOIN st_keyed s ON s.campaign_id = coalesce(c.campaign_id, x.campaign_id)
   AND s.agent_key = coalesce(c.agent_key, x.agent_key) AND s.granularity = coalesce(c.granularity, x.granularity)
   AND s.bucket_start = coalesce(c.bucket_start, x.bucket_start){composition}
),
results AS ({results}
)
{_write(fresh, cols, out_cols, distinct_set, old, new)}
"""
