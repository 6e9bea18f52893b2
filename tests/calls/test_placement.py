"""Placing a call: what the carrier is asked, 429 handling, errors, idempotence."""
from __future__ import annotations

import pytest

from carrier_sim import CarrierSimulator, SimConfig
from tests.calls.factories import make_call, make_campaign

SID, TOKEN = "AC" + "5" * 32, "sim-token-for-dialing"
pytestmark = pytest.mark.usefixtures("placement_clock")


@pytest.fixture
def sim(app):
    """The simulator, with the app's carrier pointed at it (its callbacks go nowhere here)."""
    from app.telephony.twilio_carrier import TwilioCarrier

    simulator = CarrierSimulator(SimConfig(account_sid=SID, auth_token=TOKEN, time_scale=0.001,
                                           callback_max_attempts=1, seed=3)).start()
    app.extensions["carrier"] = TwilioCarrier(SID, TOKEN, api_base_url=simulator.api_base_url)
    yield simulator
    app.extensions.pop("carrier", None)
    simulator.stop()


def _call(app, call_id):
    from app.calls.models import Call
    from app.extensions import db

    with app.app_context():
        call = db.session.get(Call, call_id)
        db.session.expunge(call)
        return call


def test_the_call_is_placed_as_the_campaign_says(app, sim):
    from app.calls import placement

    campaign = make_campaign(app, caller_id="+12025550177", ring_timeout_seconds=20,
                             amd_enabled=True, recording_enabled=True)
    call_id = make_call(app, campaign, to_number="+12025550111")
    with app.app_context():
        result = placement.place_call(call_id)
    assert result.outcome == "placed"
    [placed] = sim.calls("+12025550111")
    assert placed["from"] == "+12025550177"
    request = placed["request"]
    assert request["url"] == f"http://localhost/twilio/voice?attempt={call_id}"
    assert request["status_callback"] == f"http://localhost/twilio/status?attempt={call_id}"
    assert request["status_events"] == ["answered", "completed", "initiated", "ringing"]
    assert request["timeout"] == 20
    assert request["machine_detection"] == "DetectMessageEnd" and request["async_amd"]
    assert request["amd_callback"] == f"http://localhost/twilio/amd?attempt={call_id}"
    # A recording campaign records from the bridge (app.calls.recordings), never the answer.
    assert request["record"] is False and request["recording_callback"] is None
    assert _call(app, call_id).call_sid == placed["sid"]


def test_without_amd_or_recording_nothing_extra_is_asked(app, sim):
    from app.calls import placement

    call_id = make_call(app, make_campaign(app), to_number="+12025550112")
    with app.app_context():
        assert placement.place_call(call_id).outcome == "placed"
    request = sim.calls("+12025550112")[0]["request"]
    assert (request["machine_detection"], request["record"], request["timeout"]) == (None, False, 25)


def test_placing_twice_dials_once(app, sim):
    from app.calls import placement

    call_id = make_call(app, make_campaign(app), to_number="+12025550113")
    with app.app_context():
        assert placement.place_call(call_id).outcome == "placed"
        assert placement.place_call(call_id).outcome == "skipped"
    assert len(sim.calls("+12025550113")) == 1


def test_a_429_leaves_the_call_queued_for_a_retry(app, sim):
    from app.calls import placement

    call_id = make_call(app, make_campaign(app), to_number="+12025550114")
    sim.engine.update_config({"rate_limit_probability": 1.0})
    with app.app_context():
        result = placement.place_call(call_id)
    assert result.outcome == "rate_limited" and result.retry_after >= 0
    call = _call(app, call_id)
    assert (call.status, call.call_sid) == ("queued", None)
    sim.engine.update_config({"rate_limit_probability": 0.0})
    with app.app_context():
        assert placement.place_call(call_id).outcome == "placed"
    assert len(sim.calls("+12025550114")) == 1


def test_backoff_grows_and_respects_retry_after():
    from app.calls.placement import MAX_BACKOFF_SECONDS, backoff_seconds

    assert backoff_seconds(0, 2.0) >= 2.0
    assert backoff_seconds(0, 0.0) < backoff_seconds(5, 0.0) <= MAX_BACKOFF_SECONDS * 1.5


def test_another_carrier_error_fails_the_call_with_its_reason(app, sim):
    from app.calls import placement
    from app.telephony.twilio_carrier import TwilioCarrier

    call_id = make_call(app, make_campaign(app), to_number="+12025550115")
    # The carrier refuses the request (401, code 20003): not a rate limit, so no retry.
    app.extensions["carrier"] = TwilioCarrier(SID, "wrong-token", api_base_url=sim.api_base_url)
    with app.app_context():
        result = placement.place_call(call_id)
    assert result.outcome == "failed"
    call = _call(app, call_id)
    assert (call.status, call.outcome, call.error_code) == ("failed", "failed", "20003")
    assert call.error_message and call.ended_at is not None


def test_giving_up_after_rate_limits_fails_the_call(app):
    from app.calls import placement

    call_id = make_call(app, make_campaign(app))
    with app.app_context():
        placement.give_up(call_id, "still rate limited after 25 retries")
    call = _call(app, call_id)
    assert (call.status, call.error_code) == ("failed", "20429")
