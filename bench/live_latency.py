"""Live latency: a signed status callback received by the app -> call.state at supervisor clients.

Measured side by side in one run, at 10 and 50 connected supervisor clients and 30 events/s:
  bare emit   the baseline: a write-only Socket.IO emitter in this process puts the event on the
              Redis queue; the server delivers it (queue -> server -> clients, nothing else)
  web         signed callback -> gunicorn (validate, store in call_events, commit) -> publish
              from the web process -> Redis -> server -> clients
  worker      signed callback -> gunicorn (validate, store, commit, enqueue) -> Celery worker
              loads the event and publishes -> Redis -> server -> clients (the production shape)

The web process is gunicorn `--workers 1 --threads N` (threading mode, simple-websocket), as in
production. The callback is the stand-in `/bench/twilio/status` of bench/live_latency_app.py (see
there). Clients are python-socketio clients on WebSocket, ten to a process, all signed in as one
supervisor of the campaign; latency is each client's receipt time minus the time the callback
(or bare emit) was sent, on this machine's monotonic clock.

    python -m bench.live_latency [--quick] [--seconds S] [--rate R]

Uses BENCH_DATABASE_URL (a scratch database: its schema is rebuilt) and REDIS_URL when set,
else starts an embedded PostgreSQL and Redis.
"""
from __future__ import annotations

import argparse
import multiprocessing
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

import requests  # noqa: E402
import socketio  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from devtools.services import free_port, start_postgres, start_redis  # noqa: E402

NAMESPACE = "/live"
MODES = ("bare emit", "web", "worker")


def environment(tmp: Path) -> dict[str, str]:
    env = {
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL") or start_postgres(tmp / "pg", throwaway=True),
        "REDIS_URL": os.environ.get("REDIS_URL") or start_redis(tmp / "redis", persist=False)[0],
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
        "from app.auth.services import create_user\n"
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
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env={**os.environ, **env}, check=True,
                         capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1]), {"username": "bench-supervisor", "password": password}


def start(env: dict[str, str], tmp: Path, threads: int) -> list[subprocess.Popen]:
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "bench.live_latency_app:app", "--bind", f"127.0.0.1:{env['PORT']}",
         "--workers", "1", "--threads", str(threads), "--timeout", "120"],
        cwd=REPO, env=full_env, stdout=open(tmp / "web.log", "wb"), stderr=subprocess.STDOUT)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "bench.live_latency_app:celery", "worker", "-Q", "bench", "-P", "solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
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


def _client_process(base: str, cookie: str, count: int, conn) -> None:
    """Hosts `count` Socket.IO clients in its own process (and GIL); reports receipt times on request."""
    times: dict[str, list[float]] = {}
    lock = threading.Lock()
    clients = []
    for _ in range(count):
        sio = socketio.Client(reconnection=False)

        def on_call_state(payload):
            received = time.monotonic()
            with lock:
                times.setdefault(payload["call_sid"], []).append(received)

        sio.on("call.state", on_call_state, namespace=NAMESPACE)
        sio.connect(base, headers={"Cookie": cookie}, namespaces=[NAMESPACE], transports=["websocket"],
                    wait_timeout=10)
        clients.append(sio)
    conn.send("ready")
    while True:
        command = conn.recv()
        if command == "collect":
            with lock:
                batch = dict(times)
                times.clear()
            conn.send(batch)
        else:
            break
    closers = [threading.Thread(target=c.disconnect) for c in clients]
    for closer in closers:
        closer.start()
    for closer in closers:
        closer.join(5)
    conn.send("stopped")


class Receipts:
    """Receipt times per call_sid from every client, hosted in processes of up to 10 clients each.

    time.monotonic() is the system-wide CLOCK_MONOTONIC on Linux, so times compare across processes.
    """

    PER_PROCESS = 10

    def __init__(self, base: str, cookie: str):
        self.base, self.cookie = base, cookie
        self.hosts: list[tuple[multiprocessing.Process, object]] = []
        self.count = 0
        self.times: dict[str, list[float]] = {}

    def grow_to(self, count: int) -> None:
        while self.count < count:
            k = min(self.PER_PROCESS, count - self.count)
            parent, child = multiprocessing.Pipe()
            proc = multiprocessing.Process(target=_client_process, args=(self.base, self.cookie, k, child),
                                           daemon=True)
            proc.start()
            if not parent.poll(60) or parent.recv() != "ready":
                raise RuntimeError("a client process did not connect")
            self.hosts.append((proc, parent))
            self.count += k

    def collect(self) -> None:
        for _, conn in self.hosts:
            conn.send("collect")
        for _, conn in self.hosts:
            for sid, got in conn.recv().items():
                self.times.setdefault(sid, []).extend(got)

    def close(self) -> None:
        for _, conn in self.hosts:
            conn.send("stop")
        for proc, conn in self.hosts:
            conn.poll(10)
            proc.join(5)
            if proc.is_alive():
                proc.terminate()


class Sender:
    def __init__(self, env: dict[str, str], campaign_id: int):
        from app.realtime.publish import campaign_room, queue_emitter

        self.env, self.campaign_id = env, campaign_id
        self.base = env["PUBLIC_BASE_URL"]
        self.validator = RequestValidator(env["TWILIO_AUTH_TOKEN"])
        self.http = requests.Session()
        self.emitter = queue_emitter(env["REDIS_URL"])
        self.room = campaign_room(campaign_id)

    def send(self, mode: str, call_sid: str) -> None:
        if mode == "bare emit":
            self.emitter.emit("call.state", {"call_sid": call_sid, "status": "ringing", "sequence_number": 1,
                                             "campaign_id": self.campaign_id}, to=self.room, namespace=NAMESPACE)
            return
        url = f"{self.base}/bench/twilio/status?via={'worker' if mode == 'worker' else 'web'}"
        form = {"AccountSid": self.env["TWILIO_ACCOUNT_SID"], "CallSid": call_sid, "CallStatus": "ringing",
                "SequenceNumber": "1", "Timestamp": "Mon, 02 Nov 2026 10:00:00 GMT",
                "CallbackSource": "call-progress-events", "To": "+12025550111", "From": "+12025550100",
                "CampaignId": str(self.campaign_id)}
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, form),
                   "Content-Type": "application/x-www-form-urlencoded"}
        response = self.http.post(url, data=urlencode(form), headers=headers, timeout=10)
        if response.status_code != 204:
            raise RuntimeError(f"callback answered {response.status_code}: {response.text[:200]}")


def run_mode(sender: Sender, receipts: Receipts, mode: str, clients: int, rate: float, seconds: float,
             tag: str) -> dict:
    sent: dict[str, float] = {}
    interval = 1.0 / rate
    total = int(rate * seconds)
    start_at = time.monotonic() + 0.2
    for n in range(total):
        due = start_at + n * interval
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        call_sid = f"CA{tag}{n:06d}"
        sent[call_sid] = time.monotonic()
        sender.send(mode, call_sid)
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
    args = parser.parse_args(argv)
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    counts = [int(c) for c in args.clients.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="omnivox-live-bench-"))
    env = environment(tmp)
    os.environ.update(env)
    campaign_id, login = prepare(env)
    procs = start(env, tmp, args.threads)
    results = []
    receipts = Receipts(env["PUBLIC_BASE_URL"], session_cookie(env["PUBLIC_BASE_URL"], login))
    try:
        sender = Sender(env, campaign_id)
        for count in counts:
            receipts.grow_to(count)
            for i, mode in enumerate(MODES):
                if any(proc.poll() is not None for proc in procs):
                    raise RuntimeError(f"the web or worker process died; see {tmp}")
                warm = f"w{count}x{i}"
                run_mode(sender, receipts, mode, count, args.rate, 0.5, warm)  # warm-up, not reported
                figures = run_mode(sender, receipts, mode, count, args.rate, seconds, f"m{count}x{i}")
                results.append((count, mode, figures))
                print(f"  measured {mode} at {count} clients", file=sys.stderr, flush=True)
    finally:
        receipts.close()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"\nLive latency: signed status callback -> call.state at supervisor clients "
          f"({args.rate:g} events/s, {seconds:g} s per row, gunicorn 1 worker x {args.threads} threads)")
    print(f"{'clients':>7}  {'path':<10} {'deliveries':>10} {'lost':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for count, mode, f in results:
        print(f"{count:>7}  {mode:<10} {f['n']:>10} {f['lost']:>5} {f['p50']:>8.1f} {f['p99']:>8.1f} {f['max']:>8.1f}")
    target = [f for count, mode, f in results if count == 50 and mode == "worker"]
    if target:
        verdict = "met" if target[0]["p99"] <= 50 and target[0]["lost"] == 0 else "NOT met"
        print(f"\nTarget p99 <= 50 ms at 50 clients (worker path): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
