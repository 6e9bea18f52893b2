"""What the real network throws at us: 429 bursts, bad credentials, duplicates, reordering."""
import pytest
import requests

from app.telephony.carrier import CarrierError, CarrierRateLimited
from app.telephony.twilio_carrier import TwilioCarrier
from carrier_harness import (  # noqa: F401
    ACCOUNT_SID, AUTH_TOKEN, HUMAN, app_stand_in, call_request, carrier, receiver, sim,
)


def test_a_429_burst_surfaces_as_rate_limited_then_clears(carrier, call_request, sim):
    sim.configure(retry_after_seconds=3)
    requests.post(f"{sim.api_base_url}/_sim/config", json={"rate_limit_next": 2}, timeout=5)

    for _ in range(2):
        with pytest.raises(CarrierRateLimited) as caught:
            carrier.place_call(call_request(HUMAN))
        assert caught.value.code == 20429 and caught.value.status == 429
        assert caught.value.retry_after == 3

    placed = carrier.place_call(call_request(HUMAN))
    assert placed.status == "queued"
    state = requests.get(f"{sim.api_base_url}/_sim/calls", timeout=5).json()
    assert state["create_requests_by_to"][HUMAN] == 3
    assert [c["sid"] for c in state["calls"]] == [placed.call_sid]


def test_rate_limit_windows_reject_every_create_inside_them(carrier, call_request, sim):
    sim.configure(rate_limit_period_seconds=3600.0, rate_limit_burst_seconds=3600.0)
    with pytest.raises(CarrierRateLimited):
        carrier.place_call(call_request(HUMAN))


def test_max_cps_rejects_creates_beyond_the_rate(carrier, call_request, sim):
    sim.configure(max_cps=1.0)
    outcomes = []
    for _ in range(4):
        try:
            carrier.place_call(call_request(HUMAN))
            outcomes.append("placed")
        except CarrierRateLimited:
            outcomes.append("429")
    assert outcomes.count("429") >= 2 and outcomes[0] == "placed"


def test_bad_credentials_are_a_401_carrier_error(sim, call_request):
    impostor = TwilioCarrier(ACCOUNT_SID, "wrong-token", api_base_url=sim.api_base_url)

    with pytest.raises(CarrierError) as caught:
        impostor.place_call(call_request(HUMAN))

    assert not isinstance(caught.value, CarrierRateLimited)
    assert caught.value.status == 401 and caught.value.code == 20003
    assert sim.calls() == []


def test_unknown_call_is_a_404_carrier_error(carrier):
    with pytest.raises(CarrierError) as caught:
        carrier.fetch("CA" + "0" * 32)
    assert caught.value.status == 404 and caught.value.code == 20404


def test_unreachable_carrier_is_a_carrier_error(call_request):
    nowhere = TwilioCarrier(ACCOUNT_SID, AUTH_TOKEN, api_base_url="http://127.0.0.1:9")
    with pytest.raises(CarrierError) as caught:
        nowhere.place_call(call_request(HUMAN))
    assert caught.value.status is None


def test_duplicate_knob_delivers_every_status_callback_twice(carrier, call_request, receiver,
                                                            sim):
    sim.configure(duplicate_probability=1.0)
    placed = carrier.place_call(call_request(HUMAN))
    receiver.wait_final(placed.call_sid)
    receiver.wait_for(lambda: len(receiver.statuses(placed.call_sid)) == 8)

    statuses = receiver.statuses(placed.call_sid)
    assert sorted(statuses) == sorted(
        [(0, "initiated"), (1, "ringing"), (2, "in-progress"), (3, "completed")] * 2)
    copies = [r for r in receiver.of("status", placed.call_sid)
              if r.form["SequenceNumber"] == "3"]
    assert copies[0].form == copies[1].form  # same event, same timestamp: a true duplicate
    assert all(carrier.validate_webhook(r.url, r.form, r.signature) for r in copies)


def test_out_of_order_knob_delivers_a_callback_after_the_next_one(carrier, call_request,
                                                                 receiver, sim):
    sim.configure(out_of_order_probability=1.0)
    placed = carrier.place_call(call_request(HUMAN))
    receiver.wait_for(lambda: len(receiver.statuses(placed.call_sid)) == 4)

    arrival = [seq for seq, _ in receiver.statuses(placed.call_sid)]
    assert arrival == [1, 0, 3, 2]  # each held callback follows the one after it
    assert receiver.statuses(placed.call_sid)[2] == (3, "completed")


def test_chaos_is_off_by_default(carrier, call_request, receiver):
    placed = carrier.place_call(call_request(HUMAN))
    receiver.wait_final(placed.call_sid)
    assert [seq for seq, _ in receiver.statuses(placed.call_sid)] == [0, 1, 2, 3]
