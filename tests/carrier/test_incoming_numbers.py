"""The simulator's IncomingPhoneNumbers, read by the real SDK, and its per-caller-ID answer rate."""
from __future__ import annotations

import requests
from twilio.rest import Client

from carrier_harness import ACCOUNT_SID, AUTH_TOKEN
from carrier_sim.__main__ import build_parser, config_from_args
from carrier_sim.config import DEMO_NUMBERS
from app.telephony.twilio_carrier import RoutingHttpClient


def test_the_sdk_pages_through_every_number(sim):
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RoutingHttpClient(sim.api_base_url))
    first = client.incoming_phone_numbers.page(page_size=3)
    assert len(list(first)) == 3 and first.next_page_url  # paged as Twilio pages
    found = client.incoming_phone_numbers.list(page_size=3)
    assert sorted(n.phone_number for n in found) == sorted(DEMO_NUMBERS)
    assert all(n.sid.startswith("PN") and len(n.sid) == 34 and n.capabilities["voice"] for n in found)
    assert {n.phone_number: n.friendly_name for n in found} == DEMO_NUMBERS


def test_the_seam_lists_the_configured_numbers(sim, carrier):
    sim.configure(incoming_numbers={"+13125550104": "Chicago"})
    [number] = carrier.list_numbers()
    assert (number.phone_number, number.friendly_name, number.voice) == ("+13125550104", "Chicago", True)


def test_a_wrong_account_is_refused(sim):
    client = Client("AC" + "9" * 32, AUTH_TOKEN, http_client=RoutingHttpClient(sim.api_base_url))
    response = requests.get(f"{sim.api_base_url}/2010-04-01/Accounts/{'AC' + '9' * 32}/IncomingPhoneNumbers.json",
                            auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
    assert response.status_code == 404 and client is not None


def test_one_caller_id_is_answered_less_often(sim, carrier, call_request):
    quiet, normal = "+13125550111", "+13125550112"
    sim.configure(outcomes={}, p_human=0.5, p_machine=0.0, p_no_answer=0.5, p_busy=0.0, p_failed=0.0)
    response = requests.post(f"{sim.api_base_url}/_sim/numbers", json={"number": quiet, "answer_rate": 0.0}, timeout=5)
    assert response.json()["answer_rates"] == {quiet: 0.0}
    for i in range(40):
        for caller in (quiet, normal):
            carrier.place_call(call_request(f"+1202555{3000 + i:04d}", from_=caller))
    drawn = requests.get(f"{sim.api_base_url}/_sim/numbers", timeout=5).json()["outcomes_by_from"]
    assert drawn[quiet].get("human", 0) == 0 and drawn[normal]["human"] > 5


def test_the_command_line_takes_numbers_and_answer_rates():
    args = build_parser().parse_args(["--incoming-number", "+13125550104=Chicago",
                                      "--answer-rate", "+13125550104=0.1"])
    config = config_from_args(args)
    assert config.incoming_numbers == {"+13125550104": "Chicago"}
    assert config.answer_rates == {"+13125550104": 0.1}
