"""Dispatch: calls placed per second through the `dial` pool against the carrier simulator.

`workers.dial.dial_contact` tasks (every gate re-checked, the attempt's row created, a CPS
token taken, the call created through the real twilio SDK) are enqueued into the real broker
for pre-created contacts, and N `dial` worker processes work them; the simulator runs in its
own process. Side by side, in the same run: the same number of bare `TwilioCarrier.place_call`
requests from as many threads as the pool has, without Celery or the database (the ceiling).

Reported per scenario: calls/s, the fraction of the configured CPS held (from the simulator's
create timestamps over the middle 80% of the run), and p50/p99 enqueue -> carrier create.

    python -m bench.dispatch [--quick] [--workers 2] [--pool threads] [--concurrency 8]

Uses BENCH_DATABASE_URL (a scratch database: its schema is rebuilt) and BENCH_REDIS_URL (a
scratch db: flushed) when set, else starts an embedded PostgreSQL and Redis.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import redis  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from devtools.services import bench_services, fresh_migrated_schema  # noqa: E402
from tests.dialer.dial_stack import DialStack  # noqa: E402

# Calls stay queued at the simulator for the whole run: no callbacks to an app that is not there.
SIM_KNOBS = {"time_scale": 1000.0, "callback_max_attempts": 1}





def open_zone(now: datetime) -> str:
    """A fixed-offset zone where it is the middle of the calling day now."""
    for offset in range(-12, 15):
        if (now + timedelta(hours=offset)).hour in range(10, 19):
            return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
    raise AssertionError(now)


def make_contacts(engine, name: str, prefix: int, count: int) -> tuple[int, list[tuple[int, str]]]:
    """A campaign and `count` new contacts callable now; returns (campaign id, [(id, phone)])."""
    zone = open_zone(datetime.now(timezone.utc))
    with engine.begin() as conn:
        cid = conn.execute(text(
            "INSERT INTO campaigns (name, status, dial_mode, caller_id, seller_name, seller_phone, "
            "safe_harbour_message, window_start, window_end, ring_timeout_seconds) VALUES "
            "(:name, 'active', 'progressive', '+12025550100', 'Acme', '+12025550199', "
            "'Acme, 202 555 0199.', '08:00', '21:00', 20) RETURNING id"), {"name": name}).scalar()
        rows = conn.execute(text(
            "INSERT INTO contacts (campaign_id, phone_e164, timezone) "
            "SELECT :cid, '+1' || (CAST(:prefix AS bigint) * 10000000 + g)::text, :zone FROM generate_series(1, :n) g "
            "RETURNING id, phone_e164"), {"cid": cid, "prefix": prefix, "zone": zone, "n": count}).all()
    return cid, [(r[0], r[1]) for r in rows]


def creates(stack: DialStack) -> dict[str, float]:
    """Number -> when the carrier received its create request (epoch seconds)."""
    return {c["to"]: c["history"][0]["at"] for c in stack.sim_get("/_sim/calls")["calls"]}


def wait_for_creates(stack: DialStack, numbers: list[str], timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        seen = stack.sim_get("/_sim/calls?to=none")["create_requests_by_to"]
        if all(n in seen for n in numbers) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    at = creates(stack)
    return {n: at[n] for n in numbers if n in at}


def summarise(name: str, cps: float, enqueued: dict[str, float], created: dict[str, float]) -> dict:
    times = sorted(created.values())
    latencies = sorted((created[n] - enqueued[n]) * 1000 for n in created)
    n = len(times)
    lo, hi = int(n * 0.1), max(int(n * 0.9) - 1, int(n * 0.1) + 1)
    steady = (hi - lo) / (times[hi] - times[lo]) if n > 2 and times[hi] > times[lo] else float("nan")
    total = n / (times[-1] - min(enqueued.values())) if n else 0.0
    return {"name": name, "cps": cps, "calls": n, "expected": len(enqueued), "rate": total,
            "steady": steady, "held": (steady / cps) if cps else None,
            "p50": statistics.median(latencies) if latencies else float("nan"),
            "p99": latencies[min(n - 1, int(n * 0.99))] if latencies else float("nan")}


def run_pool(stack: DialStack, engine, broker, args, cps: float, count: int, tag: int) -> dict:
    """Start the dial pool with this CPS, warm it up, then enqueue `count` dial_contact tasks."""
    from celery import Celery

    stack._env["CARRIER_CPS"] = str(cps)
    for i in range(args.workers):
        stack.start_worker(f"dial{tag}-{i}", "dial", concurrency=args.concurrency, pool=args.pool)
    celery = Celery(broker=stack.environ["REDIS_URL"])
    celery.conf.task_routes = {"workers.dial.*": {"queue": "dial"}}
    warm_cid, warm = make_contacts(engine, f"warm-{tag}", 2030 + tag, 4 * args.workers)
    for contact_id, _ in warm:
        celery.send_task("workers.dial.dial_contact", args=[warm_cid, contact_id], queue="dial")
    wait_for_creates(stack, [p for _, p in warm], timeout=120)
    cpu_warm = sum(v for k, v in stack.cpu_seconds().items() if k.startswith(f"dial{tag}-"))
    broker.delete(f"cps:{stack.environ['TWILIO_ACCOUNT_SID']}")  # the run starts with a fresh bucket
    requests_reset(stack)
    cid, contacts = make_contacts(engine, f"run-{tag}", 2040 + tag, count)
    enqueued = {}
    for contact_id, phone in contacts:
        enqueued[phone] = time.time()
        celery.send_task("workers.dial.dial_contact", args=[cid, contact_id], queue="dial")
    expected = count / cps if cps else count / 50
    created = wait_for_creates(stack, list(enqueued), timeout=60 + 3 * expected)
    cpu = sum(v for k, v in stack.cpu_seconds().items() if k.startswith(f"dial{tag}-")) - cpu_warm
    for name in [w for w in stack.workers if w.startswith(f"dial{tag}-")]:
        proc = stack.workers.pop(name)
        proc.terminate()
        proc.wait(30)
    label = f"dial_contact, {args.workers} x {args.pool} -c {args.concurrency}, CPS " + (
        f"{cps:g}" if cps else "unlimited")
    return {**summarise(label, cps, enqueued, created), "cpu_ms": 1000 * cpu / max(1, len(created))}


def requests_reset(stack: DialStack) -> None:
    import requests

    requests.post(f"{stack.sim_url}/_sim/reset", timeout=10).raise_for_status()


def run_baseline(stack: DialStack, threads: int, count: int) -> dict:
    """The ceiling: bare SDK creates from `threads` threads, no Celery, no database."""
    from app.telephony.carrier import PlaceCallRequest
    from app.telephony.twilio_carrier import TwilioCarrier

    requests_reset(stack)
    carrier = TwilioCarrier(stack.environ["TWILIO_ACCOUNT_SID"], stack.environ["TWILIO_AUTH_TOKEN"],
                            api_base_url=stack.sim_url)
    numbers = [f"+1{2090 * 10_000_000 + i}" for i in range(1, count + 1)]
    enqueued: dict[str, float] = {}
    lock = threading.Lock()

    def work(mine: list[str]) -> None:
        for number in mine:
            with lock:
                enqueued[number] = time.time()
            carrier.place_call(PlaceCallRequest(
                to=number, from_="+12025550100", answer_url="http://127.0.0.1:9/twilio/voice",
                status_callback_url="http://127.0.0.1:9/twilio/status", timeout_seconds=20))

    pool = [threading.Thread(target=work, args=(numbers[i::threads],)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    created = wait_for_creates(stack, numbers, timeout=30)
    return summarise(f"baseline: bare TwilioCarrier.place_call, {threads} threads", 0, enqueued, created)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls")
    parser.add_argument("--workers", type=int, default=2, help="dial worker processes")
    parser.add_argument("--pool", default="threads", choices=("threads", "prefork"))
    parser.add_argument("--concurrency", type=int, default=8, help="per worker process")
    parser.add_argument("--cps", default="0,20,50", help="CARRIER_CPS values; 0 = unlimited")
    args = parser.parse_args(argv)
    unlimited, seconds = (400, 6) if args.quick else (2000, 15)

    with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as tmp:
        env = {**bench_services(tmp), "SECRET_KEY": secrets.token_hex(32),
               "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
               "TWILIO_AUTH_TOKEN": secrets.token_hex(16), "LOG_LEVEL": "WARNING"}
        env["PUBLIC_BASE_URL"] = "http://127.0.0.1:9"  # nobody listens: callbacks are off anyway
        fresh_migrated_schema(env)
        broker = redis.Redis.from_url(env["REDIS_URL"])
        broker.flushdb()
        from config import sqlalchemy_url

        engine = create_engine(sqlalchemy_url(env["DATABASE_URL"]))
        stack = DialStack(env, SIM_KNOBS, Path(tmp))
        stack.start(dial_workers=0, web=False, telephony=False)
        results = []
        try:
            threads = args.workers * args.concurrency
            results.append(run_baseline(stack, threads, unlimited))
            for tag, cps in enumerate(float(c) for c in args.cps.split(",")):
                count = unlimited if not cps else int(cps * seconds)
                results.append(run_pool(stack, engine, broker, args, cps, count, tag))
        finally:
            stack.stop()
            broker.flushdb()
            engine.dispose()

    print(f"\ndispatch: calls placed through the dial pool against the carrier simulator "
          f"({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})")
    print(f"| {'scenario':<52} | {'calls':>5} | {'calls/s':>7} | {'steady/s':>8} | "
          f"{'CPS held':>8} | {'p50 ms':>7} | {'p99 ms':>8} | {'worker CPU ms/call':>18} |")
    print(f"|{'-' * 54}|{'-' * 7}|{'-' * 9}|{'-' * 10}|{'-' * 10}|{'-' * 9}|{'-' * 10}|{'-' * 20}|")
    for r in results:
        held = f"{r['held']:.3f}" if r["held"] is not None else "-"
        calls = f"{r['calls']}" if r["calls"] == r["expected"] else f"{r['calls']}/{r['expected']}"
        print(f"| {r['name']:<52} | {calls:>5} | {r['rate']:>7.1f} | {r['steady']:>8.1f} | "
              f"{held:>8} | {r['p50']:>7.1f} | {r['p99']:>8.1f} | "
              f"{(format(r['cpu_ms'], '.1f') if 'cpu_ms' in r else '-'):>18} |")


if __name__ == "__main__":
    main()
