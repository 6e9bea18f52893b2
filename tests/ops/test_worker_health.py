"""The compose health check for workers and beat, against a real Celery worker process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.ops.ping_node import main as ping_main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(test_environ, tmp_path):
    node = f"default@health-{os.getpid()}"
    env = {**os.environ, **test_environ, "LOG_JSON": "1"}
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "-Q", "default", "-n", node,
             "--concurrency", "1", "--pool", "solo", "--without-gossip", "--without-mingle",
             "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while b" ready." not in log_path.read_bytes():
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the worker did not start: " + log_path.read_text()
            time.sleep(0.2)
        yield node, log_path
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_ping_node_answers_for_a_live_worker_only(worker, test_environ, monkeypatch):
    node, log_path = worker
    monkeypatch.setenv("REDIS_URL", test_environ["REDIS_URL"])
    assert ping_main([node]) == 0
    assert ping_main([node.replace("default@", "dial@"), "--timeout", "1"]) == 1
    # The worker logs JSON lines (LOG_JSON on): its start-up line parses.
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert any(line["message"].endswith("ready.") and line["level"] == "INFO" for line in lines)
