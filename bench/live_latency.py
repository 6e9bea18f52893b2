"""Live latency: a signed status callback received by the app -> call.state at supervisor clients.

Measured side by side in one run, at 10 and 50 connected supervisor clients and 30 events/s:
  bare emit   the baseline: a write-only Socket.IO emitter in this process puts call.state on the
              Redis queue; the web process's Socket.IO server delivers it (queue -> server -> clients)
  webhook     the real path: a signed `POST /twilio/status` (ringing) -> gunicorn validates the
              signature, stores the callback once and enqueues it -> a `telephony` Celery worker
              applies it to the call and publishes call.state -> Redis -> server -> clients

The web process is gunicorn `--workers 1 --threads N` (threading mode, simple-websocket) and the
worker `celery -A celery_app worker -Q telephony --concurrency 2`, as `make run` starts them.
Clients are python-socketio clients on WebSocket, ten to a process, all signed in as one
supervisor of the campaign; latency is each client's receipt time minus the time the callback
(or bare emit) was sent, on the machine's monotonic clock.

    python -m bench.live_latency [--quick] [--seconds S] [--rate R] [--clients 10,50]

Uses BENCH_DATABASE_URL (a scratch database: its schema is rebuilt) and BENCH_REDIS_URL when
set, else starts an embedded PostgreSQL and Redis.
"""
from __future__ import annotations

import argparse
import itertools
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench.live_clients import Receipts  # noqa: E402
from devtools.services import free_port, start_postgres, start_redis, stop_processes  # noqa: E402

NAMESPACE = "/live"
MODES = ("bare emit", "webhook")
CALLS = 5000
BARE_IDS = 10_000_000  # call ids the bare emits carry, apart from real calls


def environment(tmp: Path) -> dict[str, str]:
    env = {
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL") or start_postgres(tmp / "pg", throwaway=True),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL") or start_redis(tmp / "redis", persist=False)[0],
        "SECRET_KEY": secrets.token_hex(32), "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16), "PORT": str(free_port()),
    }
    env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{env['PORT']}"
    return env


def prepare(env: dict[str, str]) -> tuple[int, dict]:
    """Fresh schema from the migrations; one campaign and its supervisor. Returns (campaign, login)."""
    from config import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(env["DATABASE_URL"]), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=REPO,
                   env={**os.environ, **env}, check=True, capture_output=True)
    password = "bench-" + secrets.token_urlsafe(16)
    script = (
        "from app import create_app\n"
        "from app.users.services import create_user\n"
        "from app.campaigns.models import Campaign, CampaignAssignment\n"
        "from app.extensions import db\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        f"    user = create_user('bench-supervisor', {password!r}, 'supervisor')\n"
        "    c = Campaign(name='bench', caller_id='+12025550100', seller_name='Acme', seller_phone='+12025550199',\n"
        "                 safe_harbour_message='Acme, press 9.')\n"
        "    db.session.add(c); db.session.flush()\n"
        "    db.session.add(CampaignAssignment(campaign_id=c.id, user_id=user.id, role='supervisor'))\n"
        "    db.session.commit(); print(c.id)\n"
        "    db.session.execute(db.text(\"INSERT INTO calls (campaign_id, to_number, from_number, status) \"\n"
        f"        \"SELECT :c, '+12025550111', '+12025550100', 'initiated' FROM generate_series(1, {CALLS})\"),\n"
        "        {'c': c.id})\n"
        "    db.session.commit()\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env={**os.environ, **env}, check=True,
                         capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1]), {"username": "bench-supervisor", "password": password}


def start(env: dict[str, str], tmp: Path, threads: int, concurrency: int) -> list[subprocess.Popen]:
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{env['PORT']}",
         "--workers", "1", "--threads", str(threads), "--timeout", "120"],
        cwd=REPO, env=full_env, stdout=open(tmp / "web.log", "wb"), stderr=subprocess.STDOUT)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "-Q", "telephony", "--concurrency", str(concurrency),
         "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        cwd=REPO, env=full_env, stdout=open(tmp / "worker.log", "wb"), stderr=subprocess.STDOUT)
    base = env["PUBLIC_BASE_URL"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return [web, worker]
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the web process did not start; see {tmp / 'web.log'}")


def session_cookie(base: str, login: dict) -> str:
    http = requests.Session()
    token = http.get(f"{base}/api/auth/csrf").json()["csrf_token"]
    http.post(f"{base}/api/auth/login", headers={"X-CSRFToken": token}, json=login).raise_for_status()
    return f"omnivox_session={http.cookies['omnivox_session']}"


class Sender:
    def __init__(self, env: dict[str, str], campaign_id: int):
        from app.realtime.publish import campaign_room, queue_emitter

        self.env, self.campaign_id = env, campaign_id
        self.base = env["PUBLIC_BASE_URL"]
        self.validator = RequestValidator(env["TWILIO_AUTH_TOKEN"])
        self.http = requests.Session()
        self.emitter = queue_emitter(env["REDIS_URL"])
        self.room = campaign_room(campaign_id)
        self.http_ms: list[float] = []

    def send(self, mode: str, call_id: int) -> None:
        if mode == "bare emit":
            self.emitter.emit("call.state", {"call_id": call_id, "campaign_id": self.campaign_id,
                                             "status": "ringing"}, to=self.room, namespace=NAMESPACE)
            return
        url = f"{self.base}/twilio/status?attempt={call_id}"
        form = {"AccountSid": self.env["TWILIO_ACCOUNT_SID"], "CallSid": f"CA{call_id:032d}",
                "CallStatus": "ringing", "SequenceNumber": "1", "Timestamp": "Mon, 02 Nov 2026 10:00:00 GMT",
                "CallbackSource": "call-progress-events", "To": "+12025550111", "From": "+12025550100",
                "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, form),
                   "Content-Type": "application/x-www-form-urlencoded"}
        started = time.monotonic()
        response = self.http.post(url, data=urlencode(form), headers=headers, timeout=10)
        self.http_ms.append((time.monotonic() - started) * 1000)
        if response.status_code >= 300:
            raise RuntimeError(f"the status callback answered {response.status_code}: {response.text[:200]}")


def run_mode(sender: Sender, receipts: Receipts, mode: str, clients: int, rate: float, seconds: float,
             ids) -> dict:
    sent: dict[int, float] = {}
    sender.http_ms = []
    interval = 1.0 / rate
    total = int(rate * seconds)
    start_at = time.monotonic() + 0.2
    for n in range(total):
        due = start_at + n * interval
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        call_id = next(ids)
        sent[call_id] = time.monotonic()
        sender.send(mode, call_id)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.2)
        receipts.collect()
        if all(len(receipts.times.get(sid, ())) >= clients for sid in sent):
            break
    latencies, lost = [], 0
    for sid, t0 in sent.items():
        got = receipts.times.get(sid, [])
        lost += clients - len(got)
        latencies.extend((t - t0) * 1000 for t in got)
    latencies.sort()
    return {"n": len(latencies), "lost": lost, "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
            "max": latencies[-1] if latencies else float("nan"),
            "http_p50": percentile(sorted(sender.http_ms), 50) if sender.http_ms else float("nan"),
            "achieved_rate": total / max(1e-9, max(sent.values()) - min(sent.values())) if total > 1 else rate}


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[p - 1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per measurement instead of 10")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--rate", type=float, default=30.0, help="events per second (default 30)")
    parser.add_argument("--clients", default="10,50", help="client counts (default 10,50)")
    parser.add_argument("--threads", type=int, default=128, help="gunicorn threads (one per open socket)")
    parser.add_argument("--worker-concurrency", type=int, default=2,
                        help="telephony worker processes (default 2, as make run starts it)")
    args = parser.parse_args(argv)
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    counts = [int(c) for c in args.clients.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="omnivox-live-bench-"))
    env = environment(tmp)
    os.environ.update(env)
    campaign_id, login = prepare(env)
    procs = start(env, tmp, args.threads, args.worker_concurrency)
    results = []
    receipts = Receipts(env["PUBLIC_BASE_URL"], session_cookie(env["PUBLIC_BASE_URL"], login))
    try:
        sender = Sender(env, campaign_id)
        call_ids, bare_ids = iter(range(1, CALLS + 1)), itertools.count(BARE_IDS)
        for count in counts:
            receipts.grow_to(count)
            for mode in MODES:
                if any(proc.poll() is not None for proc in procs):
                    raise RuntimeError(f"the web or worker process died; see {tmp}")
                ids = bare_ids if mode == "bare emit" else call_ids
                run_mode(sender, receipts, mode, count, args.rate, 1.0, ids)  # warm-up, not reported
                figures = run_mode(sender, receipts, mode, count, args.rate, seconds, ids)
                results.append((count, mode, figures))
                print(f"  measured {mode} at {count} clients", file=sys.stderr, flush=True)
    finally:
        receipts.close()
        stop_processes(procs)
    print(f"\nLive latency: signed status callback -> call.state at supervisor clients "
          f"({args.rate:g} events/s, {seconds:g} s per row, gunicorn 1 worker x {args.threads} threads, "
          f"telephony worker x {args.worker_concurrency})")
    print(f"{'clients':>7}  {'path':<10} {'deliveries':>10} {'lost':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'callback answered p50 ms':>25}")
    for count, mode, f in results:
        print(f"{count:>7}  {mode:<10} {f['n']:>10} {f['lost']:>5} {f['p50']:>8.1f} {f['p99']:>8.1f} {f['max']:>8.1f} {f['http_p50']:>25.1f}")
    tasks = sorted(float(m) for m in re.findall(r"succeeded in ([0-9.]+)s", (tmp / "worker.log").read_text()))
    if tasks:
        print(f"\ntelephony task (store -> call.state published), all rows: p50 {percentile(tasks, 50) * 1000:.1f} ms, "
              f"p99 {percentile(tasks, 99) * 1000:.1f} ms over {len(tasks)} tasks; "
              f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    target = [f for count, mode, f in results if count == 50 and mode == "webhook"]
    if target:
        verdict = "met" if target[0]["p99"] <= 50 and target[0]["lost"] == 0 else "NOT met"
        print(f"\nTarget p99 <= 50 ms at 50 clients (webhook path): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
