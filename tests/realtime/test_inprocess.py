"""Without a message queue, publish() emits through the app's own server (Flask-SocketIO's test client)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_publish_uses_the_in_process_server_when_no_queue_is_configured(_app, test_environ):
    env = {**os.environ, "INPROCESS_ENV": json.dumps(test_environ), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "tests.realtime.inprocess_check"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads(out.stdout.strip().splitlines()[-1])
    assert results["anonymous_connected"] is False
    assert results["agent_connected"] is True
    assert results["received"] == [["call.screen_pop", "mine"]]
