"""The app served over HTTP in the test process, and the carrier simulator it talks to, which
fetches TwiML from it and posts its callbacks to it signed as Twilio signs them: the whole
audio path of an agent and a person, without the pools (tasks are run by the test)."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import requests
from werkzeug.serving import make_server

from devtools.services import free_port


@dataclass
class OnAir:
    app: object
    base_url: str
    sim: object

    @property
    def sim_url(self) -> str:
        return self.sim.api_base_url

    def connect_browser(self, agent_id: int) -> str:
        """What the console's Voice JS does: a call from client:agent-<id> to the TwiML App."""
        response = requests.post(f"{self.sim_url}/_sim/clients/agent-{agent_id}/connect", timeout=5, data={
            "Url": f"{self.base_url}/twilio/agent/voice", "StatusCallback": f"{self.base_url}/twilio/agent/status"})
        response.raise_for_status()
        return response.json()["call_sid"]

    def drop_browser(self, agent_id: int) -> list[str]:
        response = requests.post(f"{self.sim_url}/_sim/clients/agent-{agent_id}/disconnect", timeout=5)
        return response.json()["ended"]

    def conference(self, name: str) -> dict | None:
        rooms = requests.get(f"{self.sim_url}/_sim/conferences", params={"name": name}, timeout=5).json()
        live = [c for c in rooms["conferences"] if c["status"] != "completed"]
        return live[-1] if live else None

    def alone(self) -> list[dict]:
        return requests.get(f"{self.sim_url}/_sim/conferences", timeout=5).json()["alone"]

    def call(self, sid: str) -> dict:
        return self.sim.call(sid)


def place_person(app, campaign_id: int, to: str) -> tuple[int, str]:
    """A call to the person at `to` on `campaign_id`, placed through the carrier the way the
    dialer places it; when the simulator answers, Twilio asks /twilio/voice, which puts the
    person in the ready agent's room. Returns (call id, the person's call sid)."""
    from app.extensions import db
    from app.telephony.carrier import PlaceCallRequest
    from app.telephony.factory import get_carrier, webhook_url
    from tests.agents.factories import make_call

    with app.app_context():
        call = make_call(campaign_id)
        call.to_number = to
        db.session.commit()
        placed = get_carrier().place_call(PlaceCallRequest(
            to=to, from_="+12025550100", answer_url=webhook_url("voice", call.id),
            status_callback_url=webhook_url("status", call.id)))
        call.call_sid = placed.call_sid
        db.session.commit()
        return call.id, placed.call_sid


def wait_for(check, what: str, *, stall_seconds: float = 30.0, poll: float = 0.02):
    """Poll `check()` until it returns something truthy. Fails only when nothing has come
    for `stall_seconds` (a loaded machine is slow, not wrong)."""
    started = time.monotonic()
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() - started > stall_seconds:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(poll)


def serve(app, sim_config_changes: dict | None = None):
    """Start both; returns (OnAir, stop)."""
    from app.telephony.twilio_carrier import TwilioCarrier
    from carrier_sim import CarrierSimulator, SimConfig

    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="on-air")
    thread.start()
    base = f"http://127.0.0.1:{port}"
    sid, token = app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"]
    config = SimConfig(account_sid=sid, auth_token=token, time_scale=0.01, seed=11,
                       callback_retry_seconds=0.05).updated(sim_config_changes or {})
    sim = CarrierSimulator(config).start()
    saved = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = base
    app.extensions["carrier"] = TwilioCarrier(sid, token, api_base_url=sim.api_base_url)

    def stop():
        app.config["PUBLIC_BASE_URL"] = saved
        app.extensions.pop("carrier", None)
        sim.stop()
        server.shutdown()

    return OnAir(app, base, sim), stop


@contextmanager
def on_the_air(app, test_environ: dict, sim_config_changes: dict | None = None):
    """`serve` for a test: an empty Redis first; afterwards everything the server threads
    committed (outside the test's rolled-back transaction) is truncated."""
    import redis as redis_lib

    from tests.browser.seed import TOUCHED
    from tests.helpers import truncate_tables

    redis_lib.Redis.from_url(test_environ["REDIS_URL"]).flushdb()
    air, stop = serve(app, sim_config_changes)
    try:
        yield air
    finally:
        stop()
        truncate_tables(test_environ["DATABASE_URL"], TOUCHED + ", call_transfers")
        redis_lib.Redis.from_url(test_environ["REDIS_URL"]).flushdb()


@contextmanager
def leg_end_held_back(monkeypatch):
    """The carrier has ended an agent's audio leg but its final status has not reached us: the
    status callback is held (the web thread waits) until the block ends."""
    from app.agents import audio

    released, real = threading.Event(), audio.on_leg_event

    def late(form, args, now=None):
        if form.get("CallStatus") == "completed" and not form.get("StatusCallbackEvent"):
            released.wait(60)
        return real(form, args, now)

    monkeypatch.setattr(audio, "on_leg_event", late)
    try:
        yield
    finally:
        released.set()
