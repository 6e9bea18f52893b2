"""A live dialer stack for the end-to-end test and the dispatch benchmark: the carrier simulator,
the app under gunicorn, one `telephony` worker and several `dial` worker processes that can be
SIGKILLed, each in its own process (the simulator too: it must not share a GIL with the test).

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

from devtools.services import free_port

REPO = Path(__file__).resolve().parents[2]
TABLES = ("call_events, calls, interactions, callbacks, contacts, dnc_entries, "
          "campaign_assignments, disposition_codes, campaigns, users")


class DialStack:
    def __init__(self, environ: dict, sim_knobs: dict, logdir: Path):
        self.environ = environ
        self.logdir = logdir
        self.sim_knobs = {"seed": 7, **sim_knobs}
        self.sim_url = f"http://127.0.0.1:{free_port()}"
        self.port = free_port()
        self.sim: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.workers: dict[str, subprocess.Popen] = {}
        from config import sqlalchemy_url

        self.engine = create_engine(sqlalchemy_url(environ["DATABASE_URL"]))
        self._env: dict = {}

    @property
    def app_environ(self) -> dict:
        """What the app and its workers run with (also what the test's own app should use)."""
        return {**self.environ, "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
                "TWILIO_API_BASE_URL": self.sim_url}

    def start(self, dial_workers: int = 2, web: bool = True, telephony: bool = True) -> "DialStack":
        self._env = {**os.environ, **self.app_environ, "PYTHONPATH": str(REPO)}
        self._env.pop("FLASK_APP", None)
        knobs = []
        for name, value in self.sim_knobs.items():
            value = ",".join(map(str, value)) if isinstance(value, tuple) else value
            knobs += [f"--{name.replace('_', '-')}", str(value)]
        self.sim = self._spawn("carrier-sim", [
            sys.executable, "-m", "carrier_sim", "--port", self.sim_url.rsplit(":", 1)[1],
            "--account-sid", self.environ["TWILIO_ACCOUNT_SID"],
            "--auth-token", self.environ["TWILIO_AUTH_TOKEN"], "--log-level", "WARNING", *knobs])
        if web:
            self._start_web()
        if telephony:
            self.start_worker("telephony", "telephony", concurrency=8)
        for i in range(dial_workers):
            self.start_worker(f"dial{i}", "dial", concurrency=8)
        self._wait_for(f"{self.sim_url}/_sim/stats")
        if web:
            self._wait_for(f"http://127.0.0.1:{self.port}/healthz")
        return self

    def _wait_for(self, url: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"{url} did not come up; see {self.logdir}")

    def _start_web(self) -> None:
        self.web = self._spawn("web", [
            sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{self.port}", "-w", "1",
            "-k", "gthread", "--threads", "16", "wsgi:app"])

    def sim_get(self, path: str) -> dict:
        response = requests.get(f"{self.sim_url}{path}", timeout=30)
        response.raise_for_status()
        return response.json()

    def sim_creates_by_to(self) -> dict[str, int]:
        """Create requests the carrier received, per number (`/_sim/calls`)."""
        return self.sim_get("/_sim/calls?to=none")["create_requests_by_to"]

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.logdir / f"{name}.log", "ab")
        # Its own process group: killpg takes the worker and its pool children together.
        return subprocess.Popen(command, cwd=REPO, env=self._env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def start_worker(self, name: str, queue: str, concurrency: int = 8,
                     pool: str = "threads") -> subprocess.Popen:
        proc = self._spawn(name, [
            sys.executable, "-m", "celery", "-A", "celery_app", "worker", "-Q", queue,
            "-n", f"{name}@%h", "-P", pool, "-c", str(concurrency), "--without-gossip",
            "--without-mingle", "--without-heartbeat", "-l", "warning"])
        self.workers[name] = proc
        return proc

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker's whole process group: no shutdown, no acks, no cleanup."""
        proc = self.workers.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each process (with its pool children), for the report."""
        ticks = os.sysconf("SC_CLK_TCK")
        groups = {"carrier-sim": self.sim, "web": self.web, **self.workers}
        out = {}
        for name, proc in groups.items():
            if proc is None:
                continue
            total = 0
            for pid in os.listdir("/proc"):
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                if pid.isdigit() and int(fields[2]) == proc.pid:  # process group id
                    total += int(fields[11]) + int(fields[12])
            out[name] = total / ticks
        return out

    def stop(self) -> None:
        procs = [p for p in [self.web, *self.workers.values(), self.sim] if p is not None]
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.truncate()
        self.engine.dispose()

    def truncate(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))

    def query(self, sql: str, **params) -> list:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params).mappings())
