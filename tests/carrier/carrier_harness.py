"""Fixtures: the carrier simulator, a stand-in for our app, and the real SDK carrier.

Test modules import the fixtures from here (not only through conftest.py) so
the suite also runs with ``--noconftest``.
"""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:  # plain `pytest` does not put the repo root on the path
    sys.path.insert(0, REPO_ROOT)

import pytest  # noqa: E402
from flask import Flask, Response, request  # noqa: E402
from werkzeug.datastructures import MultiDict  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app.telephony import twiml  # noqa: E402
from app.telephony.carrier import PlaceCallRequest  # noqa: E402
from app.telephony.twilio_carrier import TwilioCarrier  # noqa: E402
from carrier_sim import CarrierSimulator, SimConfig  # noqa: E402

ACCOUNT_SID = "AC" + "1234abcd" * 4
AUTH_TOKEN = "test-auth-token-0123456789"
CALLER_ID = "+12025550100"

# Numbers with a forced outcome, so each test knows what the callee does.
HUMAN, MACHINE, BUSY, NO_ANSWER, FAILED = (
    "+12025550111", "+12025550122", "+12025550133", "+12025550144", "+12025550155")
PRESSES_9 = "+12025550166"
TERMINAL = {"completed", "busy", "no-answer", "failed", "canceled"}


@dataclass
class Received:
    path: str
    url: str
    form: MultiDict
    signature: str | None
    at: float = field(default_factory=time.monotonic)


class AppStandIn:
    """Plays our web app: answers the voice URL with TwiML and records webhooks."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.voice: Callable[[MultiDict], str] = lambda form: twiml.join_room(
            f"call-{form['CallSid']}")
        self.forced_codes: dict[str, list[int]] = {}
        # TwiML answers of other paths (an inbound call's voice URL, a queue's wait URL, an
        # action): name -> a function of the form.
        self.replies: dict[str, Callable[[MultiDict], str]] = {}
        self.base_url = ""

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.forced_codes.clear()
        self.replies = {}
        self.voice = lambda form: twiml.join_room(f"call-{form['CallSid']}")

    def url(self, path: str) -> str:
        return f"{self.base_url}/twilio/{path}"

    def handle(self, name: str) -> Response:
        item = Received(name, request.url, request.form.copy(),
                        request.headers.get("X-Twilio-Signature"))
        with self.lock:
            self.received.append(item)
            codes = self.forced_codes.get(name)
            code = codes.pop(0) if codes else None
        if code is not None:
            return Response("forced", status=code)
        if name in self.replies:
            return Response(self.replies[name](item.form), mimetype="text/xml")
        if name == "voice":
            return Response(self.voice(item.form), mimetype="text/xml")
        if name == "opt-out":
            return Response(twiml.say_and_hangup("You will not be called again. Goodbye."),
                            mimetype="text/xml")
        return Response(status=204)

    def of(self, path: str, call_sid: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path
                    and (call_sid is None or r.form.get("CallSid") == call_sid)]

    def statuses(self, call_sid: str) -> list[tuple[int, str]]:
        return [(int(r.form["SequenceNumber"]), r.form["CallStatus"])
                for r in self.of("status", call_sid)]

    def wait_for(self, predicate: Callable[[], object], timeout: float = 8.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.01)
        raise AssertionError(f"timed out waiting; received: "
                             f"{[(r.path, dict(r.form)) for r in self.received]}")

    def wait_final(self, call_sid: str, timeout: float = 8.0) -> Received:
        return self.wait_for(lambda: next(
            (r for r in self.of("status", call_sid) if r.form["CallStatus"] in TERMINAL),
            None), timeout)


@pytest.fixture(scope="session")
def app_stand_in():
    stand_in = AppStandIn()
    web = Flask("app_stand_in")
    web.add_url_rule("/twilio/<name>", "hook", stand_in.handle, methods=["POST"])
    server = make_server("127.0.0.1", 0, web, threaded=True)
    stand_in.base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield stand_in
    server.shutdown()


@pytest.fixture
def receiver(app_stand_in):
    app_stand_in.reset()
    yield app_stand_in
    app_stand_in.reset()


def sim_config(**knobs) -> SimConfig:
    base = dict(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, seed=7, time_scale=0.01,
        outcomes={HUMAN: "human", MACHINE: "machine", BUSY: "busy",
                  NO_ANSWER: "no-answer", FAILED: "failed", PRESSES_9: "human"},
        keypresses={PRESSES_9: "9"},
        ring_seconds=(2.0, 6.0), talk_seconds=(20.0, 40.0),
        machine_message_seconds=(5.0, 10.0), amd_seconds=(1.0, 2.0),
        recording_delay_seconds=(0.5, 1.0), callback_retry_seconds=0.02,
        sender_threads=4, fetch_threads=4)
    base.update(knobs)
    return SimConfig(**base)


@pytest.fixture
def sim():
    simulator = CarrierSimulator(sim_config()).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def carrier(sim):
    return TwilioCarrier(ACCOUNT_SID, AUTH_TOKEN, api_base_url=sim.api_base_url)


@pytest.fixture
def call_request(receiver):
    """A PlaceCallRequest to ``to`` with our stand-in's webhook URLs."""

    def build(to: str, **options) -> PlaceCallRequest:
        fields = dict(to=to, from_=CALLER_ID, answer_url=receiver.url("voice"),
                      status_callback_url=receiver.url("status") + "?campaign=7",
                      timeout_seconds=30)
        fields.update(options)
        return PlaceCallRequest(**fields)

    return build
