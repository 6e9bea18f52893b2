"""Maintain kpi_rollups: incremental (only touched buckets are read) and idempotent (a rerun
writes nothing).

One run: find the (campaign, UTC hour) pairs that new or changed source rows fall in (calls by
updated_at, interactions and agent state changes by id and time, plus every agent's current
state), then recompute from source, fully, the minute rows (within the minute retention) and the
hour row of each touched hour, and then the day row of each local day containing one: that day is
the sum of its hour rows, plus the source rows of any partial hour at its edges (zones whose
midnight is not on a UTC hour). Late data simply touches an old hour again.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import text

from app.common.timeutil import utcnow
from app.extensions import db
from app.kpi import sql, sql_scope
from app.kpi.models import KpiRollupState

HOUR = timedelta(hours=1)
LOCK_KEY = 7_000_007  # pg advisory lock: one rollup at a time
BATCH = 400  # items per statement
NEG_INF = datetime.min.replace(tzinfo=utcnow().tzinfo) + timedelta(days=1)
POS_INF = datetime.max.replace(tzinfo=utcnow().tzinfo) - timedelta(days=1)


def _setting(name: str, default):
    return current_app.config.get(name, default)


def _floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(t: datetime) -> datetime:
    f = _floor_hour(t)
    return f if f == t else f + HOUR


def _execute_items(items: list[tuple], now: datetime, full: bool = False, fresh: bool = False) -> None:
    statement = text(sql.recompute_statement(full=full, compose=any(i[2] == "hours" for i in items),
                                             fresh=fresh))
    for chunk in _batches(items):
        cols = list(zip(*chunk))
        db.session.execute(statement, {
            "i_campaign": list(cols[0]), "i_gran": list(cols[1]), "i_src": list(cols[2]),
            "i_bucket": list(cols[3]), "i_start": list(cols[4]), "i_end": list(cols[5]), "now": now,
        })


def _batches(items: list[tuple]):
    """Chunks of about BATCH items that never split one bucket's items (a day's hour rows and its
    partial-hour edges must meet in one statement, which writes that bucket's one row)."""
    chunk: list[tuple] = []
    for item in items:
        if len(chunk) >= BATCH and _bucket_key(item) != _bucket_key(chunk[-1]):
            yield chunk
            chunk = []
        chunk.append(item)
    if chunk:
        yield chunk


def _bucket_key(item: tuple) -> tuple:
    campaign_id, granularity, _src, bucket_start, range_start, _end = item
    # a NULL bucket_start spreads its range over buckets of its own (whole hours or minutes)
    return (campaign_id, granularity, bucket_start if bucket_start is not None else range_start)


def _touched_days(hours: set[tuple[int, datetime]]) -> list[tuple]:
    if not hours:
        return []
    cids, starts = zip(*sorted(hours))
    return db.session.execute(text(sql_scope.TOUCHED_DAYS), {"cids": list(cids), "hours": list(starts)}).all()


def _day_items(days: list[tuple]) -> list[tuple]:
    """(campaign, local day start, end) -> its whole hours from hour rows, partial hours from source."""
    items = []
    for cid, day_start, day_end in days:
        first_full, last_end = _ceil_hour(day_start), _floor_hour(day_end)
        items.append((cid, "day", "hours", day_start, first_full, last_end))
        if day_start < first_full:
            items.append((cid, "day", "source", day_start, day_start, first_full))
        if last_end < day_end:
            items.append((cid, "day", "source", day_start, last_end, day_end))
    return items


def recompute_hours(hours: set[tuple[int, datetime]], now: datetime) -> None:
    """Recompute the minute, hour and day rows of these (campaign_id, UTC hour start) pairs."""
    retention = timedelta(hours=_setting("KPI_MINUTE_RETENTION_HOURS", 48))
    items = []
    for cid, h in sorted(hours):
        if h + HOUR > now - retention:
            items.append((cid, "minute", "source", None, h, h + HOUR))
        items.append((cid, "hour", "source", h, h, h + HOUR))
    _execute_items(items, now)
    _execute_items(_day_items(_touched_days(hours)), now)


def _state(now_db: datetime) -> KpiRollupState:
    db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    # room for the hash aggregates and joins of a big pass (this transaction only)
    # and no JIT: compiling these wide statements costs more than it saves at rollup sizes
    db.session.execute(text("SELECT set_config('work_mem', :v, true), set_config('jit', 'off', true)"),
                       {"v": _setting("KPI_ROLLUP_WORK_MEM", "64MB")})
    state = db.session.get(KpiRollupState, 1, with_for_update=True, populate_existing=True)
    if state is None:
        state = KpiRollupState(id=1, states_seen_id=0, interactions_seen_id=0)
        db.session.add(state)
    return state


def _drop_secondary_indexes() -> list[str]:
    """Drop kpi_rollups' indexes and unique constraints other than the primary key; return the
    statements that recreate them exactly as they were (definitions read from the catalog)."""
    rows = db.session.execute(text(
        "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "WHERE c.conrelid = 'kpi_rollups'::regclass AND c.contype = 'u'")).all()
    statements = [f'ALTER TABLE kpi_rollups ADD CONSTRAINT "{name}" {definition}' for name, definition in rows]
    for name, _ in rows:
        db.session.execute(text(f'ALTER TABLE kpi_rollups DROP CONSTRAINT "{name}"'))
    indexes = db.session.execute(text(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = 'kpi_rollups'::regclass "
        "AND NOT x.indisprimary AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)")).all()
    for name, definition in indexes:
        db.session.execute(text(f'DROP INDEX "{name}"'))
        statements.append(definition)
    return statements


def full_recompute(now: datetime | None = None) -> set[int]:
    """Rebuild every rollup from source (one scan of each source table); returns the campaigns."""
    now = now or utcnow()
    now_db = db.session.scalar(text("SELECT statement_timestamp()"))
    state = _state(now_db)
    # TRUNCATE, not DELETE: reinserting every key over its own dead index entries costs several
    # times the scan. Readers wait for the commit (a full recompute is rare: first run, repairs).
    db.session.execute(text("TRUNCATE kpi_rollups"))
    campaign_ids = list(db.session.scalars(text("SELECT id FROM campaigns ORDER BY id")))
    db.session.execute(text("DROP TABLE IF EXISTS kpi_full_call_parts"))
    # The one big scan of calls: JIT compiling its expressions pays off over millions of rows
    # (about a fifth of the scan), unlike in the many small statements of an incremental run.
    db.session.execute(text("SELECT set_config('jit', 'on', true)"))
    db.session.execute(text(sql.FULL_CALL_PARTS))
    db.session.execute(text("SELECT set_config('jit', 'off', true)"))
    # The table is empty now: every pass below inserts without conflict handling, and, as in any
    # bulk load, the indexes are built once afterwards rather than grown row by row (TRUNCATE
    # already keeps readers out until the commit). The day pass reads hour rows through them.
    indexes = _drop_secondary_indexes()
    _execute_items([(cid, "hour", "source", None, NEG_INF, POS_INF) for cid in campaign_ids], now,
                   full=True, fresh=True)
    retention = timedelta(hours=_setting("KPI_MINUTE_RETENTION_HOURS", 48))
    minute_from = _floor_hour(now - retention)
    _execute_items([(cid, "minute", "source", None, minute_from, _ceil_hour(now) + HOUR)
                    for cid in campaign_ids], now, fresh=True)
    for statement in indexes:
        db.session.execute(text(statement))
    _execute_items(_day_items(db.session.execute(text(sql_scope.ALL_DAYS)).all()), now, fresh=True)
    db.session.execute(text("DROP TABLE kpi_full_call_parts"))
    state.calls_seen_at = state.interactions_seen_at = state.states_seen_at = now_db
    state.states_seen_id = db.session.scalar(text("SELECT coalesce(max(id), 0) FROM agent_state_changes"))
    state.interactions_seen_id = db.session.scalar(text("SELECT coalesce(max(id), 0) FROM interactions"))
    state.last_run_at = state.full_recompute_at = now
    return set(campaign_ids)


def run_rollup(now: datetime | None = None) -> set[int]:
    """One incremental pass (a full recompute the first time); returns the touched campaigns.

    The caller commits. `now` ends the agents' current-state intervals and places the minute
    retention; rerunning with the same `now` and unchanged sources writes nothing.
    """
    now = now or utcnow()
    now_db = db.session.scalar(text("SELECT statement_timestamp()"))
    state = _state(now_db)
    if state.full_recompute_at is None:
        return full_recompute(now)
    overlap = timedelta(seconds=_setting("KPI_ROLLUP_OVERLAP_SECONDS", 300))
    rows = db.session.execute(text(sql_scope.TOUCHED_HOURS), {
        "calls_since": state.calls_seen_at - overlap,
        "ia_since": state.interactions_seen_at - overlap, "ia_since_id": state.interactions_seen_id,
        "states_since": state.states_seen_at - overlap, "states_since_id": state.states_seen_id,
        "prev_run": min(state.last_run_at or now, now), "now": now,
    }).all()
    hours: set[tuple[int, datetime]] = set()
    seen_ids: dict[str, int] = defaultdict(int)
    for source, cid, h, seen_id in rows:
        if cid is not None and h is not None:
            hours.add((cid, h))
        if seen_id is not None:
            seen_ids[source] = max(seen_ids[source], seen_id)
    recompute_hours(hours, now)
    state.calls_seen_at = state.interactions_seen_at = state.states_seen_at = now_db
    state.interactions_seen_id = max(state.interactions_seen_id, seen_ids["interactions"])
    state.states_seen_id = max(state.states_seen_id, seen_ids["states-seen"])
    state.last_run_at = now
    return {cid for cid, _ in hours}


def purge_minute_rollups(now: datetime | None = None) -> int:
    """Minute rows are for live charts; past the retention only hours and days are kept. Also drops
    rows of deleted campaigns and users."""
    now = now or utcnow()
    retention = timedelta(hours=_setting("KPI_MINUTE_RETENTION_HOURS", 48))
    result = db.session.execute(text(
        "DELETE FROM kpi_rollups WHERE granularity = 'minute' AND bucket_start < :cutoff"),
        {"cutoff": _floor_hour(now - retention)})
    orphans = db.session.execute(text(  # rollups carry no foreign keys
        "DELETE FROM kpi_rollups r WHERE NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.id = r.campaign_id) "
        "OR (r.agent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = r.agent_id))"))
    return result.rowcount + orphans.rowcount
