"""Webhook ingest: signed status callbacks per second into PostgreSQL, p50/p99.

The real app (gunicorn gthread: validate, store once, enqueue to the telephony
queue) side by side with a minimal Flask handler (validate, insert, upsert) in
the same run, on the same database and the same gunicorn settings.

    python -m bench.webhooks [--quick] [--requests N] [--clients N]

Uses BENCH_DATABASE_URL (a scratch database: its schema is rebuilt) and BENCH_REDIS_URL
when set, else starts an embedded PostgreSQL and Redis.
"""
from __future__ import annotations

import argparse
import http.client
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from devtools.services import bench_services, free_port, fresh_migrated_schema, stop_processes  # noqa: E402

CALLS = 500


def prepare_database(env: dict[str, str]) -> None:
    """A fresh schema from the real migrations, and the call attempts the callbacks refer to."""
    fresh_migrated_schema(env)
    reset_calls(env)


def reset_calls(env: dict[str, str]) -> None:
    from config import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(env["DATABASE_URL"]))
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE call_events, calls, campaigns RESTART IDENTITY CASCADE"))
        conn.execute(text(
            "INSERT INTO campaigns (name, caller_id, seller_name, seller_phone, safe_harbour_message) "
            "VALUES ('bench', '+12025550100', 'Acme', '+12025550199', 'Acme, press 9.')"))
        conn.execute(text(
            "INSERT INTO calls (campaign_id, to_number, from_number) "
            "SELECT 1, '+1202555' || lpad(g::text, 4, '0'), '+12025550100' "
            "FROM generate_series(1, :n) g"), {"n": CALLS})
    engine.dispose()


def signed_requests(env: dict[str, str], port: int, count: int, run: str) -> list[tuple[str, bytes, dict]]:
    """Pre-signed status callbacks: CALLS calls, each with increasing sequence numbers."""
    validator = RequestValidator(env["TWILIO_AUTH_TOKEN"])
    statuses = ("initiated", "ringing", "in-progress", "completed")
    out = []
    for i in range(count):
        attempt, seq = i % CALLS + 1, i // CALLS
        path = f"/twilio/status?attempt={attempt}"
        form = {"AccountSid": env["TWILIO_ACCOUNT_SID"], "CallSid": f"CA{run}{attempt:06d}",
                "CallStatus": statuses[min(seq, 3)], "SequenceNumber": str(seq),
                "Timestamp": "Mon, 02 Nov 2026 10:00:00 GMT", "CallbackSource": "call-progress-events",
                "To": "+12025550111", "From": "+12025550100", "Direction": "outbound-api",
                "ApiVersion": "2010-04-01"}
        if statuses[min(seq, 3)] == "completed":
            form["CallDuration"] = "42"
        signature = validator.compute_signature(f"http://127.0.0.1:{port}{path}", form)
        out.append((path, urlencode(form).encode(), {
            "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}))
    return out


def fire(port: int, batch: list, clients: int) -> tuple[float, list[float], int]:
    """Send the batch from `clients` keep-alive connections; (seconds, latencies ms, errors)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    chunks = [batch[i::clients] for i in range(clients)]

    def worker(items):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        for path, body, headers in items:
            started = time.perf_counter()
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status >= 300:
                bad += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, errors[0]


def serve(module: str, env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", str(workers),
         "-k", "gthread", "--threads", str(threads), "--log-level", "warning", module],
        cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("POST", "/twilio/status")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{module} did not start: {proc.stderr.read().decode()[-2000:]}")


def measure_interleaved(handlers: list[tuple[str, str]], base_env: dict, args) -> list[dict]:
    """Serve every handler at once and fire alternating rounds at them, so that drift on a shared
    machine (checkpoints, other work) falls on both alike; rates and percentiles over all rounds."""
    reset_calls(base_env)
    servers = []
    try:
        for name, module in handlers:
            port = free_port()
            env = {**base_env, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
            servers.append((name, port, env, serve(module, env, port, args.workers, args.threads)))
        for _name, port, env, _proc in servers:
            fire(port, signed_requests(env, port, args.warmup, "w" + secrets.token_hex(3)), args.clients)
        per_round = args.requests // args.rounds
        totals = {name: {"seconds": 0.0, "latencies": [], "errors": 0, "count": 0, "rates": []}
                  for name, *_ in servers}
        for r in range(args.rounds):
            order = servers if r % 2 == 0 else servers[::-1]
            for name, port, env, _proc in order:
                batch = signed_requests(env, port, per_round, secrets.token_hex(3))
                seconds, latencies, errors = fire(port, batch, args.clients)
                t = totals[name]
                t["seconds"] += seconds
                t["latencies"] += latencies
                t["errors"] += errors
                t["count"] += len(batch)
                t["rates"].append(len(batch) / seconds)
    finally:
        stop_processes(proc for *_rest, proc in servers)
    results = []
    for name, *_ in servers:
        t = totals[name]
        quantiles = statistics.quantiles(t["latencies"], n=100)
        results.append({"name": name, "rate": t["count"] / t["seconds"], "p50": quantiles[49],
                        "p99": quantiles[98], "errors": t["errors"], "count": t["count"],
                        "rates": t["rates"]})
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (1,000 callbacks)")
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per handler")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.warmup, args.rounds = 1000, 100, 2
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp:
        env = {**bench_services(tmp), "SECRET_KEY": secrets.token_hex(32),
               "TWILIO_ACCOUNT_SID": "AC" + "b" * 32, "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
               "PUBLIC_BASE_URL": "http://127.0.0.1"}
        env.pop("TWILIO_API_BASE_URL", None)
        prepare_database(env)
        results = measure_interleaved([
            ("minimal handler (validate, insert, upsert)", "bench.minimal_webhook:app"),
            ("omnivox /twilio/status (validate, store once, enqueue)", "wsgi:app")], env, args)
    print(f"\nwebhook ingest: {args.requests} signed status callbacks to each, in {args.rounds} "
          f"alternating rounds, {args.clients} clients, gunicorn gthread {args.workers}x{args.threads}, "
          f"PostgreSQL\n")
    print(f"| {'handler':<56} | {'req/s':>7} | {'p50 ms':>7} | {'p99 ms':>7} | {'non-2xx':>7} |")
    print(f"|{'-' * 58}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 9}|")
    for r in results:
        print(f"| {r['name']:<56} | {r['rate']:>7.0f} | {r['p50']:>7.2f} | {r['p99']:>7.2f} | "
              f"{r['errors']:>7} |")
    baseline, ours = results
    rounds = ", ".join(f"{o / b:.2f}" for o, b in zip(ours["rates"], baseline["rates"]))
    print(f"\nratio omnivox / minimal: {ours['rate'] / baseline['rate']:.2f} (rounds: {rounds}; "
          f"target >= 0.70); omnivox p99 {ours['p99']:.1f} ms, minimal p99 {baseline['p99']:.1f} ms "
          f"(target <= 15 ms)")


if __name__ == "__main__":
    main()
