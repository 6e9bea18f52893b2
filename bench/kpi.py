"""KPI benchmark: dashboard reads and a full rollup recompute over 1M and 10M call records.

    python -m bench.kpi [--quick] [--sizes 1000000,10000000]

Uses BENCH_DATABASE_URL or DATABASE_URL when set (creates and drops a `bench_kpi` database on
that server), else a throwaway embedded PostgreSQL under a temp dir. Calls are generated server
side (INSERT ... SELECT generate_series, indexes built afterwards) over 90 days, 20 campaigns in
several time zones (one with a half-hour offset), 10 agents each. Printed side by side, measured
in the same run on the same table:
- a bare GROUP BY (campaign, agent, UTC hour) with the rollup's call aggregates: the scan rate;
- the full recompute (hour, minute and day rows from source) as calls/s;
- the dashboard read (today + window series + 30-day abandonment + list) against the same figures
  computed by a direct query over the calls table;
- abandon_rate_30d against a direct indexed count;
- one incremental run after 1,000 calls changed, against the full recompute.
The bare GROUP BY runs with the server's defaults plus the rollup's work_mem (64MB); the rollup
turns JIT off for itself and aggregates calls in a parallel-capable CREATE TABLE AS.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Asia/Kolkata",
         "Europe/London", "America/Phoenix", "Australia/Sydney", "America/New_York", "Europe/Paris"]
CAMPAIGNS, AGENTS_PER_CAMPAIGN, DAYS = 20, 10, 90
CALL_INDEXES = ("ix_calls_campaign_created", "ix_calls_agent_created", "ix_calls_status_updated")

GENERATE = """
INSERT INTO calls (campaign_id, agent_id, to_number, from_number, status, outcome, answered_by, abandoned,
                   created_at, queued_at, answered_at, ended_at, ring_seconds, duration_seconds, updated_at)
SELECT cid,
       CASE WHEN outcome = 'human' AND NOT ab THEN :agent0 + (cid - 1) * :apc + (g % :apc) END,
       '+1202' || lpad((g % 10000000)::text, 7, '0'), '+12025550100',
       CASE WHEN outcome IN ('human', 'machine') THEN 'completed' ELSE outcome END, outcome,
       CASE outcome WHEN 'human' THEN 'human' WHEN 'machine' THEN 'machine_start' END, ab,
       t, t, CASE WHEN outcome IN ('human', 'machine') THEN t + ring * interval '1 second' END,
       t + (ring + dur) * interval '1 second', ring, dur::int, t + (ring + dur + 1) * interval '1 second'
FROM (
  SELECT g, cid, t, ring, dur, outcome, outcome = 'human' AND random() < 0.02 AS ab
  FROM (
    SELECT g, 1 + (g % :campaigns) AS cid,
           CAST(:start AS timestamptz) + (g::float8 / (:n + 1)) * interval '90 days' AS t,
           5 + random() * 20 AS ring, random() * 300 AS dur, random() AS r
    FROM generate_series(:lo, :hi) AS g
  ) a
  CROSS JOIN LATERAL (SELECT CASE WHEN r < 0.30 THEN 'human' WHEN r < 0.45 THEN 'machine'
                                  WHEN r < 0.80 THEN 'no-answer' WHEN r < 0.90 THEN 'busy'
                                  WHEN r < 0.95 THEN 'failed' ELSE 'canceled' END AS outcome) o
) b
"""

BARE_GROUP_BY = """
SELECT campaign_id, coalesce(agent_id, 0), date_trunc('hour', created_at, 'UTC'), count(*), count(answered_at),
       count(*) FILTER (WHERE outcome = 'human'), count(*) FILTER (WHERE outcome = 'machine'),
       count(*) FILTER (WHERE abandoned), sum(ring_seconds::numeric), count(ring_seconds)
FROM calls WHERE status IN ('busy', 'canceled', 'completed', 'failed', 'no-answer') GROUP BY 1, 2, 3
"""

# The dashboard's figures straight from calls: today's counters and 30-day abandonment.
DIRECT_DASHBOARD = """
SELECT count(*), count(answered_at), count(*) FILTER (WHERE outcome = 'human'), count(*) FILTER (WHERE abandoned),
       avg(ring_seconds),
       (SELECT count(*) FILTER (WHERE abandoned) FROM calls WHERE campaign_id = :cid
          AND created_at >= CAST(:now AS timestamptz) - interval '30 days' AND created_at < :now),
       (SELECT count(*) FILTER (WHERE outcome = 'human') FROM calls WHERE campaign_id = :cid
          AND created_at >= CAST(:now AS timestamptz) - interval '30 days' AND created_at < :now)
FROM calls WHERE campaign_id = :cid AND created_at >= :today AND created_at < :now
"""
DIRECT_ABANDON = """
SELECT count(*) FILTER (WHERE abandoned), count(*) FILTER (WHERE outcome = 'human') FROM calls
WHERE campaign_id = :cid AND created_at >= CAST(:now AS timestamptz) - interval '30 days' AND created_at < :now
"""


def _database(tmp: str) -> tuple[str, callable]:
    """(SQLAlchemy URL of an empty database, cleanup)."""
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not base:
        from devtools.services import start_postgres

        return start_postgres(Path(tmp) / "pg", throwaway=True), lambda: None
    from config import sqlalchemy_url

    base = sqlalchemy_url(base)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS bench_kpi WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE bench_kpi"))

    def cleanup():
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS bench_kpi WITH (FORCE)"))
        admin.dispose()

    return urlunsplit(urlsplit(base)._replace(path="/bench_kpi")), cleanup


def _app(db_url: str):
    from flask_migrate import upgrade

    from app import create_app
    from config import Config

    app = create_app(Config({
        "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": db_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:1/0",  # never contacted here
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "bench", "PUBLIC_BASE_URL": "http://localhost",
    }))
    with app.app_context():
        upgrade()
    return app


def _timed(fn, repeat: int = 1) -> tuple[float, object]:
    """Median wall seconds over `repeat` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def _seed(session) -> tuple[int, int]:
    """Campaigns and agents; returns (first agent id, admin id)."""
    for i in range(CAMPAIGNS):
        session.execute(text(
            "INSERT INTO campaigns (id, name, timezone, caller_id, seller_name, seller_phone, safe_harbour_message,"
            " status) VALUES (:id, :name, :tz, '+12025550100', 'Acme', '+12025550101', 'Acme; press 9', 'active')"),
            {"id": i + 1, "name": f"bench-{i + 1}", "tz": ZONES[i % len(ZONES)]})
    session.execute(text(
        "INSERT INTO users (username, role, password_hash, session_token) "
        "SELECT 'agent' || g, 'agent', 'x', md5(g::text) FROM generate_series(1, :n) g"),
        {"n": CAMPAIGNS * AGENTS_PER_CAMPAIGN})
    admin = session.execute(text("INSERT INTO users (username, role, password_hash, session_token) "
                                 "VALUES ('admin', 'admin', 'x', 'x') RETURNING id")).scalar_one()
    agent0 = session.execute(text("SELECT min(id) FROM users WHERE role = 'agent'")).scalar_one()
    session.commit()
    return agent0, admin


def _generate(session, n: int, agent0: int, now) -> float:
    t0 = time.perf_counter()
    for name in CALL_INDEXES:
        session.execute(text(f"DROP INDEX IF EXISTS {name}"))
    start = now - timedelta(days=DAYS)
    step = 1_000_000
    for lo in range(1, n + 1, step):
        session.execute(text(GENERATE), {"agent0": agent0, "apc": AGENTS_PER_CAMPAIGN, "campaigns": CAMPAIGNS,
                                         "start": start, "n": n, "lo": lo, "hi": min(n, lo + step - 1)})
        session.commit()
    session.execute(text("CREATE INDEX ix_calls_campaign_created ON calls (campaign_id, created_at)"))
    session.execute(text("CREATE INDEX ix_calls_agent_created ON calls (agent_id, created_at)"))
    session.execute(text("CREATE INDEX ix_calls_status_updated ON calls (status, updated_at)"))
    session.commit()
    return time.perf_counter() - t0


def _vacuum(db_url: str, table: str) -> None:
    engine = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"VACUUM ANALYZE {table}"))
    engine.dispose()


def run_size(app, db_url: str, n: int, now) -> dict:
    from app.auth.models import User
    from app.extensions import db
    from app.kpi import queries, rollup, services

    out: dict = {"n": n}
    with app.app_context():
        s = db.session
        s.execute(text("TRUNCATE calls, kpi_rollups, kpi_rollup_state, campaigns, users RESTART IDENTITY CASCADE"))
        s.commit()
        agent0, admin_id = _seed(s)
        out["generate_s"] = _generate(s, n, agent0, now)
        _vacuum(db_url, "calls")

        s.execute(text("SET work_mem = '64MB'"))  # what the rollup sets for itself
        # counted server-side so that neither side pays for shipping rows to Python
        out["bare_s"], groups = _timed(lambda: s.execute(text(
            f"SELECT count(*) FROM ({BARE_GROUP_BY}) g")).scalar_one(), repeat=3)
        out["groups"] = groups

        def recompute():
            rollup.full_recompute(now)
            s.commit()
        out["full_s"], _ = _timed(recompute, repeat=2)
        out["rollup_rows"] = s.execute(text("SELECT count(*) FROM kpi_rollups")).scalar_one()
        _vacuum(db_url, "kpi_rollups")

        admin = s.get(User, admin_id)
        cid = 1
        today = queries.local_day_start(cid, now)
        s.rollback()
        out["dash_s"], figures = _timed(lambda: services.campaign_kpis(admin, cid, {}, now), repeat=200)
        out["dash30_s"], _ = _timed(lambda: services.campaign_kpis(
            admin, cid, {"from": now - timedelta(days=30), "granularity": "day"}, now), repeat=100)
        out["direct_dash_s"], direct = _timed(lambda: s.execute(text(DIRECT_DASHBOARD), {
            "cid": cid, "today": today, "now": now}).one(), repeat=20)
        assert figures["today"]["calls_placed"] == direct[0], (figures["today"], direct, today)
        out["abandon_s"], ours = _timed(lambda: services.abandon_rate_30d(cid, now), repeat=500)
        out["direct_abandon_s"], theirs = _timed(lambda: s.execute(text(DIRECT_ABANDON), {
            "cid": cid, "now": now}).one(), repeat=20)
        assert ours[:2] == tuple(theirs), (ours, theirs)

        # one incremental run after 1,000 recent calls changed (as status callbacks would)
        s.execute(text("UPDATE calls SET ring_seconds = ring_seconds + 1, updated_at = now() WHERE id IN "
                       "(SELECT id FROM calls ORDER BY id DESC LIMIT 1000)"))
        s.commit()

        def incremental():
            rollup.run_rollup(now)
            s.commit()
        out["incr_s"], _ = _timed(incremental)
    return out


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def report(results: list[dict]) -> str:
    lines = ["| calls | generate | bare GROUP BY (hour) | full recompute | recompute / bare rate "
             "| dashboard read (today) | dashboard 30 days by day | same figures direct from calls "
             "| abandon_rate_30d | direct 30-day count | incremental run (1k changed) |",
             "|" + "---|" * 11]
    for r in results:
        bare_rate, full_rate = r["n"] / r["bare_s"], r["n"] / r["full_s"]
        lines.append(
            f"| {r['n']:,} | {_fmt(r['generate_s'])} | {_fmt(r['bare_s'])} ({bare_rate / 1e6:.2f} M rows/s) "
            f"| {_fmt(r['full_s'])} ({full_rate / 1e6:.2f} M rows/s, {r['rollup_rows']:,} rows) "
            f"| {full_rate / bare_rate:.2f} | {_fmt(r['dash_s'])} | {_fmt(r['dash30_s'])} "
            f"| {_fmt(r['direct_dash_s'])} | {_fmt(r['abandon_s'])} | {_fmt(r['direct_abandon_s'])} "
            f"| {_fmt(r['incr_s'])} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k and 1M calls instead of 1M and 10M")
    parser.add_argument("--sizes", help="comma-separated call counts (overrides --quick)")
    args = parser.parse_args(argv)
    sizes = ([int(x) for x in args.sizes.split(",")] if args.sizes
             else [100_000, 1_000_000] if args.quick else [1_000_000, 10_000_000])
    from app.common.timeutil import utcnow

    now = utcnow().replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="bench-kpi-") as tmp:
        db_url, cleanup = _database(tmp)
        try:
            app = _app(db_url)
            results = []
            for n in sizes:
                print(f"-- {n:,} calls ...", flush=True)
                results.append(run_size(app, db_url, n, now))
                print(report(results[-1:]), flush=True)
            print("\nKPI benchmark (median times; same database, same run)\n")
            print(report(results))
            with app.app_context():
                from app.extensions import db

                db.engine.dispose()
        finally:
            cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
