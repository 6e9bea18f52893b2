"""The seam's own rules: call requests, what reaches the carrier, TwiML builders."""
import xml.etree.ElementTree as ET

import pytest

from app.telephony import twiml
from app.telephony.carrier import PlaceCallRequest
from app.telephony.twilio_carrier import RoutingHttpClient
from carrier_harness import (  # noqa: F401
    CALLER_ID, HUMAN, app_stand_in, call_request, carrier, receiver, sim,
)


def test_ring_timeout_below_15_seconds_is_refused(call_request):
    with pytest.raises(ValueError, match="15"):
        call_request(HUMAN, timeout_seconds=14)
    assert call_request(HUMAN, timeout_seconds=15).timeout_seconds == 15


@pytest.mark.parametrize("missing", ["to", "from_", "answer_url", "status_callback_url"])
def test_a_call_request_needs_numbers_and_urls(missing):
    fields = dict(to=HUMAN, from_=CALLER_ID, answer_url="http://app/voice",
                  status_callback_url="http://app/status")
    fields[missing] = ""
    with pytest.raises(ValueError):
        PlaceCallRequest(**fields)


def test_place_call_sends_what_the_dialer_asked_for(carrier, call_request, receiver, sim):
    request = call_request(HUMAN, timeout_seconds=25, machine_detection=True,
                           amd_callback_url=receiver.url("amd"), record=True,
                           recording_callback_url=receiver.url("recording"))
    placed = carrier.place_call(request)

    sent = sim.call(placed.call_sid)["request"]
    assert sent == {
        "url": receiver.url("voice"), "status_callback": request.status_callback_url,
        "status_events": ["answered", "completed", "initiated", "ringing"], "timeout": 25,
        "machine_detection": "DetectMessageEnd", "async_amd": True,
        "amd_callback": receiver.url("amd"), "record": True,
        "recording_callback": receiver.url("recording")}
    carrier.hangup(placed.call_sid)


def test_routing_client_rewrites_scheme_and_host_only():
    client = RoutingHttpClient("http://127.0.0.1:5055")
    assert (client.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?x=1")
            == "http://127.0.0.1:5055/2010-04-01/Accounts/AC1/Calls.json?x=1")
    assert RoutingHttpClient(None).rewrite("https://a.example/x") == "https://a.example/x"


def _parse(document: str) -> ET.Element:
    root = ET.fromstring(document)
    assert root.tag == "Response"
    return root


def test_a_person_joins_the_agents_room_and_leaving_does_not_end_it():
    root = _parse(twiml.join_room("agent-42"))
    conference = root.find("Dial/Conference")
    assert conference.text == "agent-42"
    assert conference.get("startConferenceOnEnter") == "true"
    assert conference.get("endConferenceOnExit") == "false"
    assert conference.get("beep") == "false"
    assert conference.get("participantLabel") == "customer"


def test_the_agents_leg_ends_its_room_when_it_goes_and_reports_its_joins():
    root = _parse(twiml.agent_room("agent-42", "https://omnivox.example/twilio/agent/status?agent=42"))
    conference = root.find("Dial/Conference")
    assert conference.text == "agent-42"
    assert conference.get("endConferenceOnExit") == "true"
    assert conference.get("waitUrl") == ""  # silence between calls, no music
    assert conference.get("statusCallback").endswith("/twilio/agent/status?agent=42")
    assert "join" in conference.get("statusCallbackEvent").split()


def test_safe_harbour_offers_the_opt_out_then_hangs_up():
    root = _parse(twiml.safe_harbour("Acme Solar, 202 555 0100. Press 9 to opt out.",
                                     "https://omnivox.example/twilio/opt-out?call=7"))
    gather, hangup = list(root)
    assert gather.tag == "Gather" and hangup.tag == "Hangup"
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == "https://omnivox.example/twilio/opt-out?call=7"
    assert gather.get("timeout") == "5"
    assert gather.find("Say").text.startswith("Acme Solar")


def test_say_and_hangup_and_hangup():
    assert [v.tag for v in _parse(twiml.say_and_hangup("Goodbye."))] == ["Say", "Hangup"]
    assert [v.tag for v in _parse(twiml.hangup())] == ["Hangup"]


def test_carrier_from_config_points_at_the_simulator(sim, call_request, receiver):
    from app.telephony.twilio_carrier import carrier_from_config

    carrier = carrier_from_config({"TWILIO_ACCOUNT_SID": sim.config.account_sid,
                                   "TWILIO_AUTH_TOKEN": sim.config.auth_token,
                                   "TWILIO_API_BASE_URL": sim.api_base_url})
    placed = carrier.place_call(call_request(HUMAN))
    assert sim.call(placed.call_sid)["to"] == HUMAN
    carrier.hangup(placed.call_sid)

    with pytest.raises(RuntimeError, match="TWILIO_AUTH_TOKEN"):
        carrier_from_config({"TWILIO_ACCOUNT_SID": "AC1"})
