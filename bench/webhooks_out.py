"""Webhooks out: deliveries per second through one `default` worker's delivery task, against a
local receiver, beside a bare signed POST loop in the same run (target: at least 0.5 of it).

Events are raised one commit each, as calls finish, before the worker starts (a backlog: what
a worker can clear per second). The worker side then runs the body of every
`workers.default.deliver_webhook` task those commits queued, in order, as a solo worker does
(claim due deliveries in PostgreSQL, unseal the secret, sign, resolve and check the address,
POST, record the attempts and answers; a task finding nothing due is counted too); the broker
hop is not. The baseline signs the same bodies and POSTs them to the same receiver one after
another with a new connection each; the same loop over one kept-alive connection is printed
too, as the ceiling. The receiver runs in a process of its own, as a CRM's would. Each round
measures all three on fresh events, alternating which side goes first so that other work on the
machine weighs on both alike; medians over the rounds are printed.

    python -m bench.webhooks_out [--deliveries N] [--rounds R]

Uses BENCH_DATABASE_URL (a scratch database: its schema is rebuilt) and BENCH_REDIS_URL when
set, else starts an embedded PostgreSQL and Redis.
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import secrets as random
import statistics
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from devtools.services import bench_services, fresh_migrated_schema  # noqa: E402


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _serve(port_to) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    port_to.send(server.server_address[1])
    server.serve_forever()


def start_receiver() -> tuple[multiprocessing.Process, int]:
    """The CRM's receiver, in a process of its own as a CRM would be (in the worker's process its
    threads would compete with the worker's for the interpreter lock)."""
    port_from, port_to = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=_serve, args=(port_to,), daemon=True)
    server.start()
    return server, port_from.recv()


def bare_loop(port: int, bodies: list[bytes], secret: str) -> float:
    from app.outbound_hooks.secrets import signature

    started = time.perf_counter()
    for body in bodies:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/hook", body=body, headers={
            "Content-Type": "application/json", "Omnivox-Signature": signature(secret, body)})
        assert connection.getresponse().status == 200
        connection.close()
    return len(bodies) / (time.perf_counter() - started)


def kept_alive_loop(port: int, bodies: list[bytes], secret: str) -> float:
    """The bare loop over one kept-alive connection: what a sender could do at best."""
    from app.outbound_hooks.secrets import signature

    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for body in bodies:
        connection.request("POST", "/hook", body=body, headers={
            "Content-Type": "application/json", "Omnivox-Signature": signature(secret, body)})
        response = connection.getresponse()
        response.read()
        assert response.status == 200
    connection.close()
    return len(bodies) / (time.perf_counter() - started)


def raise_events(services, db, count: int) -> list[bytes]:
    """`count` call.completed events, one commit each (as calls finish one by one); their bodies."""
    data = {"call": {"id": 1, "status": "completed", "outcome": "human"},
            "campaign": {"id": 1, "name": "Bench"}, "contact": {"id": 1, "phone": "+12025550111"},
            "agent": {"id": 1, "username": "agent", "name": "An Agent"}}
    bodies = []
    for _ in range(count):
        bodies.append(services.raise_event("call.completed", data).body.encode())
        db.session.commit()
    return bodies


DELIVER = "workers.default.deliver_webhook"


def run_worker(services, queued: list) -> None:
    """Be a solo `default` worker: run every queued deliver task's body, in order."""
    while queued:
        name, task_args = queued.pop(0)
        assert name == DELIVER
        services.deliver(*task_args)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=500, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {**bench_services(tmp), "SECRET_KEY": random.token_hex(32), "TWILIO_ACCOUNT_SID": "AC" + "b" * 32,
               "TWILIO_AUTH_TOKEN": random.token_hex(16), "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
               "WEBHOOKS_ALLOW_INSECURE_TARGETS": "1", "LOG_LEVEL": "WARNING"}
        fresh_migrated_schema(env)
        from app import create_app
        from app.extensions import db
        from app.outbound_hooks import services
        from app.outbound_hooks.models import WebhookDelivery
        from config import Config

        app = create_app(Config(env))
        queued = []  # the tasks the commits queue: the bench runs their bodies itself
        app.extensions["celery"].send_task = lambda name, args, **_: queued.append((name, args))
        server, port = start_receiver()
        with app.app_context():
            from app.auth.models import User

            admin = User(username="bench-admin", role="admin", password_hash="x")
            db.session.add(admin)
            db.session.commit()
            _, secret = services.create_endpoint(admin, f"http://127.0.0.1:{port}/hook", ["call.completed"])
            for warm in raise_events(services, db, 20):  # warm the receiver and both paths
                bare_loop(port, [warm], secret)
            run_worker(services, queued)

        # Rounds, alternating which side goes first, so that the other work on the machine
        # weighs on both alike; the medians are reported.
        figures = {"worker": [], "bare": [], "kept_alive": []}
        for round_no in range(args.rounds):
            with app.app_context():
                bodies = raise_events(services, db, args.deliveries)
            sides = [("bare", lambda: bare_loop(port, bodies, secret)),
                     ("kept_alive", lambda: kept_alive_loop(port, bodies, secret)),
                     ("worker", lambda: worker_rate(app, services, queued, len(bodies)))]
            for name, measure in sides if round_no % 2 else reversed(sides):
                figures[name].append(measure())
        with app.app_context():
            statuses = db.session.scalars(db.select(WebhookDelivery.status)).all()
            assert set(statuses) == {"succeeded"}, set(statuses)
        server.terminate()
        worker, bare, kept_alive = (statistics.median(figures[k]) for k in ("worker", "bare", "kept_alive"))
        ratios = [w / b for w, b in zip(figures["worker"], figures["bare"])]
        print(f"{args.rounds} rounds of {args.deliveries} deliveries; medians (per second)")
        print(f"webhook-out deliveries, one default worker:          {worker:8.1f}")
        print(f"bare signed POST loop, new connection each (baseline): {bare:8.1f}")
        print(f"ratio (target at least 0.5), median of the rounds':  {statistics.median(ratios):8.2f}"
              f"   (rounds: {', '.join(f'{r:.2f}' for r in ratios)})")
        print(f"bare loop over one kept-alive connection (ceiling):  {kept_alive:8.1f}")
        print(f"ratio to it:                                         {worker / kept_alive:8.2f}")


def worker_rate(app, services, queued: list, count: int) -> float:
    with app.app_context():
        started = time.perf_counter()
        run_worker(services, queued)
        return count / (time.perf_counter() - started)


if __name__ == "__main__":
    main()
