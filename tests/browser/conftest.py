"""Browser tests: Debian's Chromium (headless, via pytest-playwright) against a real server.

The app runs under gunicorn in a subprocess, with a Celery worker on the `default` queue (imports)
and the `telephony` queue (the carrier's callbacks applied, recordings started at the bridge),
on the test database and Redis, and talks to the carrier simulator (`python -m
carrier_sim`, another subprocess) through the twilio SDK: the simulator fetches TwiML from the
server and posts its callbacks signed as Twilio signs them. Data is committed for real (other processes must see
it) and the touched tables are truncated when the session ends; these tests are marked slow.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis as redis_lib
import requests

from devtools.services import free_port, stop_processes
from tests.browser.seed import TOUCHED
from tests.helpers import truncate_tables

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
VENDOR = REPO / "app" / "static" / "vendor"
SHOTS = REPO / "docs" / "screenshots"
SIM_URL: dict[str, str] = {}  # the live server's base URL -> its carrier simulator's


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium); "
                    ".ci/run does this on a fresh machine", pytrace=False)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}}


# The person a browser test's call reaches, and an outside number that never answers.
PERSON, UNANSWERED = "+12125550142", "+12125550143"


@pytest.fixture(scope="package")
def sim_url(test_environ, tmp_path_factory):
    """The carrier simulator, with the live server's account sid and token: people answer and
    stay on the line (for minutes), simulated time runs at a twentieth of real time."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path_factory.mktemp("sim-logs") / "carrier_sim.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "carrier_sim", "--port", str(port),
         "--account-sid", test_environ["TWILIO_ACCOUNT_SID"], "--auth-token", test_environ["TWILIO_AUTH_TOKEN"],
         "--log-level", "WARNING"], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            # Exited first: then whatever answers on the port is another worker's, not ours.
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the carrier simulator did not start; see {log.name}")
            try:
                if requests.get(f"{url}/_sim/config", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        requests.post(f"{url}/_sim/config", timeout=5, json={
            "time_scale": 0.05, "max_call_seconds": 100000, "talk_seconds": [20000, 20000],
            "outcomes": {PERSON: "human", UNANSWERED: "no-answer"}}).raise_for_status()
        yield url
    finally:
        stop_processes([proc])


@pytest.fixture(scope="package")  # torn down (tables truncated) before other packages run
def live_server(_app, test_environ, tmp_path_factory, sim_url):
    """gunicorn (threads, Socket.IO) and a Celery worker on the `default` and `telephony` queues
    (the queues `workers.default.*` and `workers.telephony.*` are routed to), on the test services."""
    for name in ("socket.io.min.js", "chart.umd.min.js"):
        if not (VENDOR / name).exists():
            pytest.fail(f"{VENDOR / name} is missing: run `make setup` (it installs the browser libraries)",
                        pytrace=False)
    redis_lib.Redis.from_url(test_environ["REDIS_URL"]).flushdb()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logdir = tmp_path_factory.mktemp("browser-logs")
    env = {**os.environ, **test_environ, "PUBLIC_BASE_URL": base, "PYTHONPATH": str(REPO),
           "TWILIO_API_BASE_URL": sim_url,
           "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
           "RATELIMIT_LOGIN_IP": "1000 per minute", "RATELIMIT_API": "6000 per minute",
           "WEBHOOKS_ALLOW_INSECURE_TARGETS": "1"}  # webhooks out to a receiver on this machine
    env.pop("FLASK_APP", None)
    commands = {
        "web": [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1", "-k", "gthread",
                "--threads", "32", "wsgi:app"],
        "worker": [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "-Q", "default,telephony",
                   "-P", "threads", "-c", "4", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"],
    }
    procs = []
    for name, command in commands.items():
        log = open(logdir / f"{name}.log", "wb")
        procs.append(subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT))
    try:
        deadline = time.monotonic() + 60
        while True:
            if time.monotonic() > deadline or procs[0].poll() is not None:  # as above
                raise RuntimeError(f"the app did not start; see {logdir}")
            try:
                if requests.get(f"{base}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        SIM_URL[base] = sim_url
        yield base
    finally:
        SIM_URL.pop(base, None)  # its simulator goes with it (a later package starts its own)
        stop_processes(procs)
        truncate_tables(test_environ["DATABASE_URL"], TOUCHED)
        redis_lib.Redis.from_url(test_environ["REDIS_URL"]).flushdb()



@pytest.fixture(autouse=True)
def _agents_leave_after_each_test(_app):
    """The floor and its campaign outlive a test: an agent a test left ready, their audio leg
    still up in the simulator, would take the next test's call. After each test every agent's
    browser goes away as a closed console's would: the leg ends at the carrier (its end
    arrives as the webhook it is) and the agent is signed off."""
    yield
    from app.agents import audio, services
    from app.common.redis import get_redis

    with _app.app_context():
        for key in get_redis().scan_iter("agent:*"):
            agent_id = key.split(":", 1)[1]
            if not agent_id.isdigit():
                continue
            leg = audio.leg_of(int(agent_id))
            for sim in set(SIM_URL.values()) if leg else ():  # 404 for a leg no carrier placed
                requests.post(f"{sim}/_sim/calls/{leg}/hangup", timeout=5)
            if leg:  # its end, as the carrier reports it (once: a second report changes nothing)
                audio.leg_ended(int(agent_id), leg, "completed")
            services.sign_off(int(agent_id), "test_over")


@pytest.fixture(scope="package")
def floor(_app, live_server):
    """An admin, a supervisor and an agent, and a campaign the latter two work."""
    from tests.browser.seed import seed_floor

    return seed_floor(_app)


def sign_in(page, base: str, user: dict, path: str = "/") -> None:
    page.goto(f"{base}/login?next={path}")
    page.fill("#username", user["username"])
    page.fill("#password", user["password"])
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base}{path}")


def shot(page, name: str) -> None:
    """A screenshot for the README (docs/screenshots/<name>.png)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
