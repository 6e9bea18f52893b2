"""Webhooks out: deliveries per second through one `default` worker's delivery task, against a
local receiver, beside a bare signed POST loop in the same run (target: at least 0.5 of it).

The worker side runs `workers.default.deliver_webhook`'s body (claim the delivery in
PostgreSQL, unseal the secret, sign, resolve and check the address, POST, record the attempt
and its answer) one delivery after another, as a solo worker does; the broker hop is not
counted. The bare loop signs the same bodies and POSTs them to the same receiver with a new
connection each, as the worker does.

    python -m bench.webhooks_out [--deliveries N]

Uses BENCH_DATABASE_URL (a scratch database: its schema is rebuilt) and BENCH_REDIS_URL when
set, else starts an embedded PostgreSQL and Redis.
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import secrets as random
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {**bench_services(tmp), "SECRET_KEY": random.token_hex(32), "TWILIO_ACCOUNT_SID": "AC" + "b" * 32,
               "TWILIO_AUTH_TOKEN": random.token_hex(16), "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
               "WEBHOOKS_ALLOW_INSECURE_TARGETS": "1", "LOG_LEVEL": "WARNING"}
        fresh_migrated_schema(env)
        from app import create_app
        from app.extensions import db
        from app.outbound_hooks import courier, services
        from app.outbound_hooks.models import WebhookDelivery, WebhookEvent
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
            endpoint, secret = services.create_endpoint(admin, f"http://127.0.0.1:{port}/hook", ["call.completed"])
            data = {"call": {"id": 1, "status": "completed", "outcome": "human"},
                    "campaign": {"id": 1, "name": "Bench"}, "contact": {"id": 1, "phone": "+12025550111"},
                    "agent": {"id": 1, "username": "agent", "name": "An Agent"}}
            for _ in range(args.deliveries):  # one commit per event, as calls finish one by one
                services.raise_event("call.completed", data)
                db.session.commit()
            bodies = [b.encode() for b in db.session.scalars(db.select(WebhookEvent.body)).all()]

        for warm in bodies[:20]:  # warm the receiver and the connection path
            bare_loop(port, [warm], secret)
        bare = bare_loop(port, bodies, secret)
        kept_alive = kept_alive_loop(port, bodies, secret)
        with app.app_context():
            started = time.perf_counter()
            for name, task_args in queued:
                assert name == courier.DELIVER
                services.deliver(*task_args)
            worker = len(bodies) / (time.perf_counter() - started)
            statuses = db.session.scalars(db.select(WebhookDelivery.status)).all()
            assert statuses.count("succeeded") == len(bodies), set(statuses)
        server.terminate()
        print(f"webhook-out deliveries per second, one default worker: {worker:8.1f}")
        print(f"bare signed POST loop, per second (same receiver):      {bare:8.1f}")
        print(f"ratio (target at least 0.5):                            {worker / bare:8.2f}")
        print(f"bare loop over one kept-alive connection, per second:   {kept_alive:8.1f}")
        print(f"ratio to it:                                            {worker / kept_alive:8.2f}")


if __name__ == "__main__":
    main()
