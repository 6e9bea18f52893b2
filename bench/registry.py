"""National Do Not Call Registry: the import beside a bare COPY, the dial gate's cost, the refill's anti-join.

One run, on the same generated files (N numbers, default 20 million, sorted, one file per
area code as the registry sells them):

  (a) a bare COPY of the files into an unindexed table: the floor for getting rows in;
  (b) the import (`import_area_code`: check every line, COPY FREEZE into a new table, build the
      primary key, swap it in): rows/s, its ratio to (a) (target >= 0.7) and its peak RSS;
  (c) the gate per placement: `registry_hold` over random numbers of the loaded area codes,
      p50/p99 (target p99 <= 2 ms), beside bare indexed SELECTs of the same numbers;
  (d) the refill's main query over a campaign of 1 million contacts, with and without the
      registry anti-join.

    python -m bench.registry [--quick] [--numbers N] [--contacts N] [--lookups N]

Each part runs in its own child process (so peak RSS is the import's own). Uses
BENCH_DATABASE_URL (a scratch database: its schema is rebuilt) and BENCH_REDIS_URL when set,
else starts a throwaway embedded PostgreSQL and Redis. The tables it fills are dropped at the end.
"""
from __future__ import annotations

import argparse
import atexit
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.import_csv import peak_rss_mb, services  # noqa: E402

AREA_CODES = (212, 213, 312, 415, 617, 713, 305, 404, 206, 303)
PER_FILE = 2_500_000  # about what the registry lists in one busy area code
DOWNLOADED_ON = date(2026, 12, 1)
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)  # inside every US calling window
CHUNK = 1 << 20


def write_files(tmp: Path, total: int, seed: int) -> list[tuple[int, str]]:
    """`total` distinct numbers over as many area codes as it takes, sorted, one file each."""
    count = min(len(AREA_CODES), max(2, math.ceil(total / PER_FILE)))
    rng, files = random.Random(seed), []
    for i, area in enumerate(AREA_CODES[:count]):
        n = total // count + (1 if i < total % count else 0)
        low = area * 10_000_000 + 2_000_000  # exchanges 200-999: 8 million numbers
        numbers = sorted(rng.sample(range(low, low + 8_000_000), n))
        path = tmp / f"{area}.txt"
        with open(path, "w") as fh:
            for start in range(0, n, 100_000):
                fh.write("\n".join(map(str, numbers[start:start + 100_000])) + "\n")
        files.append((area, str(path)))
        del numbers
    return files


def app_env() -> dict:
    return json.loads(os.environ["BENCH_CHILD_ENV"])


def child_bare(files: list[tuple[int, str]]) -> dict:
    """The floor: the same bytes COPYed into a table with no index and no checks."""
    from sqlalchemy import create_engine

    from config import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(app_env()["DATABASE_URL"]))
    conn = engine.raw_connection().driver_connection
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS bench_registry_bare")
    cur.execute("CREATE TABLE bench_registry_bare (number bigint)")
    conn.commit()
    started = time.perf_counter()
    for _, path in files:
        with open(path, "rb") as fh, cur.copy("COPY bench_registry_bare (number) FROM STDIN") as copy:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                copy.write(chunk)
        conn.commit()
    seconds = time.perf_counter() - started
    rows = cur.execute("SELECT count(*) FROM bench_registry_bare").fetchone()[0]
    cur.execute("DROP TABLE bench_registry_bare")
    conn.commit()
    return {"rows": rows, "seconds": seconds}


def child_import(files: list[tuple[int, str]]) -> dict:
    from app import create_app
    from app.dnc.registry_import import import_area_code
    from config import Config

    app = create_app(Config(app_env()))
    with app.app_context():
        rss_before = peak_rss_mb()
        phases: dict[str, float] = {}
        last = {"phase": None, "seconds": 0.0}

        def timing(progress) -> None:  # seconds spent in each phase, over all the files
            if last["phase"] is not None:
                phases[last["phase"]] = phases.get(last["phase"], 0.0) + progress.seconds - last["seconds"]
            last.update(phase=None if progress.phase == "done" else progress.phase, seconds=progress.seconds)

        started = time.perf_counter()
        rows = rejected = 0
        for area, path in files:
            last.update(phase="loading", seconds=0.0)
            job = import_area_code(path, area, DOWNLOADED_ON, on_progress=timing)
            if job.status != "done":
                raise SystemExit(f"import of {area} failed: {job.error}")
            rows, rejected = rows + job.imported, rejected + job.rejected
        seconds = time.perf_counter() - started
    return {"rows": rows, "rejected": rejected, "seconds": seconds, "rss_before_mb": round(rss_before, 1),
            "phases": {k: round(v, 2) for k, v in phases.items()}}


def _percentiles(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {"p50_ms": statistics.median(samples) * 1000, "p99_ms": samples[int(len(samples) * 0.99)] * 1000,
            "max_ms": samples[-1] * 1000}


def child_gate(files: list[tuple[int, str]], lookups: int) -> dict:
    """The cost the gate adds to one placement, beside bare SELECTs of the same numbers."""
    from sqlalchemy import text

    from app import create_app
    from app.dnc.registry import registry_hold
    from app.extensions import db
    from config import Config

    rng = random.Random(3)
    areas = [area for area, _ in files]
    numbers = [f"+1{rng.choice(areas)}{rng.randint(2_000_000, 9_999_999)}" for _ in range(lookups)]
    app = create_app(Config(app_env()))
    with app.app_context():
        from app.campaigns.models import Campaign
        from app.compliance import checks

        # The whole gate a placement runs (every list, consent, the seller's 24-hour count, the
        # window in every zone, the state rule table), not only the registry's part of it.
        campaign = Campaign(name="bench registry gate", status="active", caller_id="+12025550100",
                            seller_name="Acme", seller_phone="+12025550199", safe_harbour_message="Acme",
                            window_start=datetime(2000, 1, 1, 8).time(), window_end=datetime(2000, 1, 1, 21).time())
        db.session.add(campaign)
        db.session.commit()
        cur = db.session.connection().connection.driver_connection.cursor()
        select = text("SELECT 1 FROM dnc_registry_numbers WHERE number = :n")
        runs = {
            "bare SELECT (psycopg)": lambda p: cur.execute(
                "SELECT 1 FROM dnc_registry_numbers WHERE number = %s", (int(p[2:]),)).fetchone(),
            "bare SELECT (SQLAlchemy)": lambda p: db.session.execute(select, {"n": int(p[2:])}).first(),
            "registry_hold": lambda p: registry_hold(p, NOW),
            "assess (every rule)": lambda p: (checks.assess(campaign, p, None, NOW, ring_seconds=25),
                                              db.session.rollback()),
        }
        results, listed = {}, 0
        for name, run in runs.items():
            for phone in numbers[:2000]:  # warm up: plans, caches
                run(phone)
            samples = []
            for phone in numbers:
                started = time.perf_counter()
                answer = run(phone)
                samples.append(time.perf_counter() - started)
                if name == "registry_hold":
                    listed += answer == "national_registry"
            results[name] = _percentiles(samples)
        db.session.rollback()
        db.session.delete(db.session.get(Campaign, campaign.id))
        db.session.commit()
    return {"lookups": lookups, "listed": listed, "runs": results}


def child_refill(files: list[tuple[int, str]], contacts: int, explain: bool = False) -> dict:
    """The refill's main query over one campaign's contacts, as it is and with the anti-join."""
    from sqlalchemy import text

    from app import create_app
    from app.campaigns.models import Campaign
    from app.dialer import refill
    from app.dnc.registry import REGISTRY_ANTI_JOIN_SQL
    from app.extensions import db
    from config import Config

    areas = [area for area, _ in files]
    app = create_app(Config(app_env()))
    with app.app_context():
        campaign = Campaign(name="bench registry refill", status="active", caller_id="+12025550100",
                            seller_name="Acme", seller_phone="+12025550199", safe_harbour_message="Acme, 202-555-0199",
                            window_start=datetime(2000, 1, 1, 8).time(), window_end=datetime(2000, 1, 1, 21).time())
        db.session.add(campaign)
        db.session.commit()
        # Distinct numbers spread over the loaded area codes (7919 is prime: g -> g*7919 mod 8M is one to one).
        db.session.execute(text(
            "INSERT INTO contacts (campaign_id, phone_e164, timezone, zones_agree) "
            "SELECT :cid, '+1' || ((CAST(:areas AS int[]))[1 + g % :k]::bigint * 10000000 + 2000000 "
            "+ (g::bigint * 7919) % 8000000)::text, 'America/New_York', true "
            "FROM generate_series(0, :n - 1) g"), {"cid": campaign.id, "areas": areas, "k": len(areas), "n": contacts})
        db.session.commit()
        db.session.execute(text("ANALYZE contacts"))
        db.session.commit()
        params = {**refill._params(campaign, NOW), "limit": refill.target_depth(50)}
        queries = {"without": refill._KNOWN_ZONE,
                   "with": refill._KNOWN_ZONE.replace("\nORDER BY", f"\n  AND {REGISTRY_ANTI_JOIN_SQL}\nORDER BY", 1)}
        # Every contact probed, as a count of those held back for the registry would.
        count = "SELECT count(*) FROM contacts c WHERE c.campaign_id = :cid"
        queries.update({"count without": count, "count with": f"{count} AND {REGISTRY_ANTI_JOIN_SQL}"})
        timings, plans, rows = {}, {}, {}
        for _ in range(3):  # interleaved, best of three
            for name, sql in queries.items():
                started = time.perf_counter()
                rows[name] = len(db.session.execute(text(sql), params).all())
                timings[name] = min(timings.get(name, math.inf), time.perf_counter() - started)
                db.session.rollback()
        for name in ("without", "with"):
            sql = queries[name]
            plan = db.session.execute(text("EXPLAIN (ANALYZE, COSTS OFF) " + sql), params).scalars().all()
            plans[name] = plan if explain else [line.strip() for line in plan if "Anti Join" in line]
        listed = db.session.scalar(text(
            f"SELECT count(*) FROM contacts c WHERE c.campaign_id = :cid AND NOT {REGISTRY_ANTI_JOIN_SQL}"),
            {"cid": campaign.id})
        db.session.execute(text("DELETE FROM contacts WHERE campaign_id = :cid"), {"cid": campaign.id})
        db.session.delete(campaign)
        db.session.commit()
    return {"contacts": contacts, "listed": listed, "limit": params["limit"], "rows": rows,
            "seconds": timings, "plans": plans}


def cleanup(env: dict) -> None:
    """Drop what the run made: every registry partition, the area codes, the jobs, the bare table."""
    from sqlalchemy import create_engine, text

    from config import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(env["DATABASE_URL"]))
    with engine.begin() as conn:
        parts = conn.execute(text("SELECT inhrelid::regclass::text FROM pg_inherits "
                                  "WHERE inhparent = 'dnc_registry_numbers'::regclass")).scalars().all()
        for part in parts:
            conn.execute(text(f"DROP TABLE {part}"))
        conn.execute(text("DELETE FROM dnc_registry_area_codes"))
        conn.execute(text("DELETE FROM import_jobs WHERE kind = 'registry'"))
        conn.execute(text("DROP TABLE IF EXISTS bench_registry_bare"))
    engine.dispose()


def run_child(kind: str, env: dict, files, **extra) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.registry", "--child", kind, "--files", json.dumps(files),
         *[f"--{k}" if v is True else f"--{k}={v}" for k, v in extra.items() if v is not False]],
        cwd=REPO, env={**os.environ, **env, "BENCH_CHILD_ENV": json.dumps(env)},
        check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 million numbers instead of 20 million")
    parser.add_argument("--numbers", type=int)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--explain", action="store_true", help="print the refill queries' whole plans")
    parser.add_argument("--child", choices=("bare", "import", "gate", "refill"), help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        files = [tuple(f) for f in json.loads(args.files)]
        result = {"bare": lambda: child_bare(files), "import": lambda: child_import(files),
                  "gate": lambda: child_gate(files, args.lookups),
                  "refill": lambda: child_refill(files, args.contacts, args.explain)}[args.child]()
        result["peak_rss_mb"] = round(peak_rss_mb(), 1)
        print(json.dumps(result))
        return
    total = args.numbers or (1_000_000 if args.quick else 20_000_000)
    tmp = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    # Registered before the embedded servers start, so it runs after they stop (last in, first out).
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    env = services(tmp)
    from devtools.services import fresh_migrated_schema

    fresh_migrated_schema(env)
    print(f"writing {total:,} numbers ...", flush=True)
    files = write_files(tmp, total, seed=1)
    size_mb = sum(os.path.getsize(p) for _, p in files) / 1e6
    try:
        print("(a) bare COPY ...", flush=True)
        bare = run_child("bare", env, files)
        print("(b) import ...", flush=True)
        imported = run_child("import", env, files)
        print("(c) gate ...", flush=True)
        gate = run_child("gate", env, files, lookups=args.lookups)
        print("(d) refill ...", flush=True)
        refilled = run_child("refill", env, files, contacts=args.contacts, explain=args.explain)
    finally:
        cleanup(env)
        for _, path in files:
            os.remove(path)
    report(total, files, size_mb, bare, imported, gate, refilled, os.getloadavg())


def report(total, files, size_mb, bare, imported, gate, refilled, load) -> None:
    print()
    print(f"{total:,} numbers in {len(files)} area-code files ({size_mb:,.0f} MB, sorted); load average at the "
          f"end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores")
    bare_rate, import_rate = bare["rows"] / bare["seconds"], imported["rows"] / imported["seconds"]
    print(f"(a) bare COPY, unindexed table  {bare['rows']:>12,} rows {bare['seconds']:>7.2f} s "
          f"{bare_rate:>11,.0f} rows/s  peak RSS {bare['peak_rss_mb']:.0f} MB")
    print(f"(b) import (import_area_code)   {imported['rows']:>12,} rows {imported['seconds']:>7.2f} s "
          f"{import_rate:>11,.0f} rows/s  peak RSS {imported['peak_rss_mb']:.0f} MB "
          f"({imported['rss_before_mb']:.0f} MB before the first file)")
    phases = ", ".join(f"{k} {v:.2f} s" for k, v in imported["phases"].items())
    print(f"    phases: {phases}")
    print(f"    import / bare COPY: {import_rate / bare_rate:.2f} (target >= 0.70)")
    print(f"(c) per placement, {gate['lookups']:,} random numbers of those area codes "
          f"({gate['listed']:,} listed):")
    for name, r in gate["runs"].items():
        print(f"    {name:<26} p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms  max {r['max_ms']:.1f} ms")
    print("    target: the gate's cost per placement p99 <= 2 ms (registry_hold; assess is the whole gate)")
    s = refilled["seconds"]
    print(f"(d) refill main query, {refilled['contacts']:,} contacts ({refilled['listed']:,} listed), "
          f"LIMIT {refilled['limit']}: without the anti-join {s['without'] * 1000:.0f} ms "
          f"({refilled['rows']['without']} rows), with it {s['with'] * 1000:.0f} ms ({refilled['rows']['with']} rows)")
    print(f"    every contact probed (a count of those listed): without {s['count without'] * 1000:.0f} ms, "
          f"with the anti-join {s['count with'] * 1000:.0f} ms")
    for name, plan in refilled["plans"].items():
        print(f"    plan {name}: " + ("\n      ".join([""] + plan) if len(plan) > 3 else " / ".join(plan)))


if __name__ == "__main__":
    main()
