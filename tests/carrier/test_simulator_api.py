"""The simulator's own surface: Twilio-shaped errors, introspection, knobs, the CLI."""
import re
import subprocess
import sys
import time

import pytest
import requests

from carrier_harness import (  # noqa: F401
    ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, HUMAN, REPO_ROOT, app_stand_in, call_request, carrier,
    receiver, sim,
)
from carrier_sim.__main__ import build_parser, config_from_args


def _create(sim, auth=(ACCOUNT_SID, AUTH_TOKEN), **form):
    return requests.post(f"{sim.api_base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json",
                         data=form, auth=auth, timeout=5)


@pytest.mark.parametrize("form, code", [
    ({"From": CALLER_ID, "Url": "http://app/voice"}, 21201),
    ({"To": HUMAN, "Url": "http://app/voice"}, 21213),
    ({"To": HUMAN, "From": CALLER_ID}, 21205),
    ({"To": HUMAN, "From": CALLER_ID, "Url": "not a url"}, 21205),
    ({"To": HUMAN, "From": CALLER_ID, "Url": "http://app/v", "StatusCallbackEvent": "rang"},
     21626),
])
def test_invalid_create_is_a_twilio_shaped_400(sim, form, code):
    response = _create(sim, **form)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code and body["status"] == 400
    assert body["message"] and body["more_info"].endswith(str(code))


def test_created_call_json_looks_like_twilios(sim, receiver):
    response = _create(sim, To=HUMAN, From=CALLER_ID, Url=receiver.url("voice"))
    assert response.status_code == 201
    call = response.json()
    assert re.fullmatch(r"CA[0-9a-f]{32}", call["sid"])
    assert call["account_sid"] == ACCOUNT_SID and call["status"] == "queued"
    assert call["from"] == CALLER_ID and call["to"] == HUMAN
    assert call["date_created"].endswith("GMT")
    assert call["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{call['sid']}.json"
    assert _create(sim, auth=(ACCOUNT_SID, "nope"), To=HUMAN).json()["code"] == 20003


def test_update_with_a_new_url_redirects_a_live_call(carrier, call_request, receiver, sim):
    sim.configure(talk_seconds=(3000.0, 3000.0))
    placed = carrier.place_call(call_request(HUMAN))
    receiver.wait_for(lambda: sim.call(placed.call_sid)["connected_to"])

    response = requests.post(
        f"{sim.api_base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{placed.call_sid}.json",
        data={"Url": receiver.url("voice") + "?step=2"}, auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=5)

    assert response.status_code == 200
    receiver.wait_for(lambda: len(receiver.of("voice", placed.call_sid)) == 2)
    carrier.hangup(placed.call_sid)


def test_introspection_and_runtime_knobs(carrier, call_request, receiver, sim):
    base = sim.api_base_url
    config = requests.post(f"{base}/_sim/config", json={"p_busy": 5, "ring_seconds": [1, 2]},
                           timeout=5).json()
    assert config["p_busy"] == 5.0 and config["ring_seconds"] == [1.0, 2.0]
    assert config["auth_token"] == "***"
    assert requests.post(f"{base}/_sim/config", json={"warp": 9}, timeout=5).status_code == 400

    placed = carrier.place_call(call_request(HUMAN))
    receiver.wait_final(placed.call_sid)
    receiver.wait_for(lambda: requests.get(f"{base}/_sim/stats", timeout=5).json()
                      .get("status_callbacks_delivered") == 4)
    stats = requests.get(f"{base}/_sim/stats", timeout=5).json()
    assert stats["calls_created"] == 1 and stats["calls_by_status"] == {"completed": 1}
    call = requests.get(f"{base}/_sim/calls/{placed.call_sid}", timeout=5).json()
    assert [h["status"] for h in call["history"]] == [
        "queued", "initiated", "ringing", "in-progress", "completed"]

    requests.post(f"{base}/_sim/reset", timeout=5)
    assert requests.get(f"{base}/_sim/calls", timeout=5).json()["calls"] == []


def test_cli_flags_become_the_config():
    args = build_parser().parse_args([
        "--account-sid", ACCOUNT_SID, "--auth-token", "tok", "--time-scale", "0.05",
        "--ring-seconds", "3,9", "--duplicate-probability", "0.1", "--seed", "4",
        "--outcome", f"{HUMAN}=busy", "--keypress", f"{HUMAN}=9"])
    config = config_from_args(args)
    assert (config.account_sid, config.auth_token, config.time_scale) == (ACCOUNT_SID, "tok", 0.05)
    assert config.ring_seconds == (3.0, 9.0) and config.duplicate_probability == 0.1
    assert config.seed == 4
    assert config.outcomes == {HUMAN: "busy"} and config.keypresses == {HUMAN: "9"}


def test_python_dash_m_carrier_sim_serves_alone():
    process = subprocess.Popen(
        [sys.executable, "-m", "carrier_sim", "--port", "0", "--account-sid", ACCOUNT_SID,
         "--auth-token", AUTH_TOKEN, "--time-scale", "0.01"],
        cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        deadline = time.monotonic() + 20
        while "listening on" not in line and time.monotonic() < deadline:
            line = process.stderr.readline()
        base = re.search(r"listening on (http://\S+)", line).group(1)
        assert requests.get(f"{base}/_sim/stats", timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_update_with_inline_twiml_plays_it(carrier, call_request, receiver, sim):
    sim.configure(talk_seconds=(3000.0, 3000.0))
    placed = carrier.place_call(call_request(HUMAN))
    receiver.wait_for(lambda: sim.call(placed.call_sid)["connected_to"])

    requests.post(
        f"{sim.api_base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{placed.call_sid}.json",
        data={"Twiml": "<Response><Say>Goodbye</Say><Hangup/></Response>"},
        auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)

    assert receiver.wait_final(placed.call_sid).form["CallStatus"] == "completed"


def test_slow_answer_delays_the_answer_url(carrier, call_request, receiver, sim):
    sim.configure(answer_delay_seconds=(3000.0, 3000.0))
    placed = carrier.place_call(call_request(HUMAN))
    receiver.wait_for(lambda: (2, "in-progress") in receiver.statuses(placed.call_sid))

    assert receiver.of("voice", placed.call_sid) == []  # answered, TwiML not fetched yet
    carrier.hangup(placed.call_sid)
    receiver.wait_final(placed.call_sid)
    assert receiver.of("voice", placed.call_sid) == []


def test_recording_url_serves_audio(carrier, call_request, receiver, sim):
    placed = carrier.place_call(call_request(HUMAN, record=True,
                                             recording_callback_url=receiver.url("recording")))
    recording = receiver.wait_for(lambda: receiver.of("recording", placed.call_sid))[0]

    audio = requests.get(recording.form["RecordingUrl"], auth=(ACCOUNT_SID, AUTH_TOKEN),
                         timeout=5)
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
