"""A live dialer stack for the end-to-end test: the carrier simulator in-process, the app under
gunicorn, one `telephony` worker and several `dial` worker processes that can be SIGKILLed.

Each worker runs in its own process group, so killing one takes its pool children with it,
the way a machine or container dying does. The pacing tick, refill and reaper are driven by
the test itself (the production functions, enqueueing into the real broker).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from carrier_sim import CarrierSimulator, SimConfig
from devtools.services import free_port

REPO = Path(__file__).resolve().parents[2]
TABLES = ("call_events, calls, interactions, callbacks, contacts, dnc_entries, "
          "campaign_assignments, disposition_codes, campaigns, users")


class DialStack:
    def __init__(self, environ: dict, sim_knobs: dict, logdir: Path):
        self.environ = environ
        self.logdir = logdir
        self.sim = CarrierSimulator(SimConfig(
            account_sid=environ["TWILIO_ACCOUNT_SID"], auth_token=environ["TWILIO_AUTH_TOKEN"],
            seed=7, **sim_knobs))
        self.port = free_port()
        self.web: subprocess.Popen | None = None
        self.workers: dict[str, subprocess.Popen] = {}
        from config import sqlalchemy_url

        self.engine = create_engine(sqlalchemy_url(environ["DATABASE_URL"]))
        self._env: dict = {}

    @property
    def app_environ(self) -> dict:
        """What the app and its workers run with (also what the test's own app should use)."""
        return {**self.environ, "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
                "TWILIO_API_BASE_URL": self.sim.api_base_url}

    def start(self, dial_workers: int = 2) -> "DialStack":
        self.sim.start()
        self._env = {**os.environ, **self.app_environ, "PYTHONPATH": str(REPO)}
        self._env.pop("FLASK_APP", None)
        self.web = self._spawn("web", [
            sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{self.port}", "-w", "1",
            "-k", "gthread", "--threads", "24", "wsgi:app"])
        self.start_worker("telephony", "telephony", concurrency=8)
        for i in range(dial_workers):
            self.start_worker(f"dial{i}", "dial", concurrency=8)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"the app did not start; see {self.logdir}")

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.logdir / f"{name}.log", "ab")
        # Its own process group: killpg takes the worker and its pool children together.
        return subprocess.Popen(command, cwd=REPO, env=self._env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def start_worker(self, name: str, queue: str, concurrency: int = 8) -> subprocess.Popen:
        proc = self._spawn(name, [
            sys.executable, "-m", "celery", "-A", "celery_app", "worker", "-Q", queue,
            "-n", f"{name}@%h", "-P", "threads", "-c", str(concurrency), "--without-gossip",
            "--without-mingle", "--without-heartbeat", "-l", "warning"])
        self.workers[name] = proc
        return proc

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker's whole process group: no shutdown, no acks, no cleanup."""
        proc = self.workers.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        procs = [p for p in [self.web, *self.workers.values()] if p is not None]
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.sim.stop()
        self.truncate()
        self.engine.dispose()

    def truncate(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))

    def query(self, sql: str, **params) -> list:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params).mappings())
