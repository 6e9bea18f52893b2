"""A live stack for end-to-end tests: the carrier simulator, the app under gunicorn and a
Celery worker on the dial and telephony queues, all on the test database (data committed)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from carrier_sim import CarrierSimulator, SimConfig
from devtools.services import free_port, stop_processes

REPO = Path(__file__).resolve().parents[2]
TABLES = "call_events, calls, dnc_entries, campaigns"


class LiveStack:
    def __init__(self, environ: dict, sim_knobs: dict):
        self.environ = environ
        self.sim = CarrierSimulator(SimConfig(
            account_sid=environ["TWILIO_ACCOUNT_SID"], auth_token=environ["TWILIO_AUTH_TOKEN"],
            seed=11, **sim_knobs))
        self.port = free_port()
        self.procs: list[subprocess.Popen] = []
        from config import sqlalchemy_url

        self.engine = create_engine(sqlalchemy_url(environ["DATABASE_URL"]))

    def start(self, logdir: Path) -> "LiveStack":
        self.sim.start()
        env = {**os.environ, **self.environ, "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
               "TWILIO_API_BASE_URL": self.sim.api_base_url, "PYTHONPATH": str(REPO)}
        env.pop("FLASK_APP", None)
        commands = {
            "web": [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{self.port}", "-w", "1",
                    "-k", "gthread", "--threads", "8", "wsgi:app"],
            "worker": [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "-Q",
                       "dial,telephony", "-P", "threads", "-c", "6", "--without-gossip",
                       "--without-mingle", "--without-heartbeat", "-l", "warning"],
        }
        for name, command in commands.items():
            log = open(logdir / f"{name}.log", "wb")
            self.procs.append(subprocess.Popen(command, cwd=REPO, env=env, stdout=log,
                                               stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"the app did not start; see {logdir}")

    def stop(self) -> None:
        stop_processes(self.procs)
        self.sim.stop()
        self.truncate()
        self.engine.dispose()

    def truncate(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def wait_until_done(self, call_ids: list[int], timeout: float = 30.0) -> dict[int, dict]:
        """Each call terminal and every one of its callbacks processed."""
        query = text(
            "SELECT c.*, (SELECT count(*) FROM call_events e WHERE e.call_id = c.id "
            "AND e.processed_at IS NULL) AS pending FROM calls c WHERE c.id = ANY(:ids)")
        deadline = time.monotonic() + timeout
        rows = {}
        while time.monotonic() < deadline:
            with self.engine.connect() as conn:
                rows = {r["id"]: dict(r) for r in conn.execute(query, {"ids": call_ids}).mappings()}
            if rows and all(r["status"] in ("completed", "busy", "no-answer", "failed", "canceled")
                            and r["pending"] == 0 for r in rows.values()) and len(rows) == len(call_ids):
                return rows
            time.sleep(0.1)
        raise AssertionError(f"calls not finished in {timeout}s: {rows}")
