"""The stale-call reaper: a call whose callbacks were lost is settled from the carrier (the real
SDK against the simulator), an answered call's lost hang-up frees it within minutes, and a long
call that is still up is fetched once per interval, not on every pass."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from carrier_sim import CarrierSimulator, SimConfig
from tests.calls.factories import make_call, make_campaign

SID, TOKEN = "AC" + "6" * 32, "sim-token-for-the-reaper"
BUSY = "+12025550133"
pytestmark = pytest.mark.usefixtures("placement_clock")  # placed in-process at a lawful hour


@pytest.fixture
def sim(app, request):
    """A simulator whose callbacks reach nobody: every callback is 'lost'. Parametrize with
    SimConfig changes (e.g. a call that stays up)."""
    from app.telephony.twilio_carrier import TwilioCarrier

    knobs = dict(account_sid=SID, auth_token=TOKEN, time_scale=0.001, callback_max_attempts=1,
                 seed=5, outcomes={BUSY: "busy"})
    knobs.update(getattr(request, "param", {}))
    simulator = CarrierSimulator(SimConfig(**knobs)).start()
    app.extensions["carrier"] = TwilioCarrier(SID, TOKEN, api_base_url=simulator.api_base_url)
    yield simulator
    app.extensions.pop("carrier", None)
    simulator.stop()


def placed_call(app, sim, number: str, until: str | None = None) -> int:
    """A call placed through the real SDK; optionally wait until the simulator shows `until`."""
    from app.calls import placement

    call_id = make_call(app, make_campaign(app, ring_timeout_seconds=15), to_number=number)
    with app.app_context():
        assert placement.place_call(call_id).outcome == "placed"
    [sim_call] = sim.calls(number)
    deadline = time.monotonic() + 10
    while until and sim.call(sim_call["sid"])["status"] != until:
        assert time.monotonic() < deadline, sim.call(sim_call["sid"])
        time.sleep(0.02)
    return call_id


def status_of(app, call_id):
    from app.calls.models import Call
    from app.extensions import db

    with app.app_context():
        call = db.session.get(Call, call_id)
        return call.status, call.outcome


def set_status(app, call_id, status):
    from app.calls.models import Call
    from app.extensions import db

    with app.app_context():
        db.session.get(Call, call_id).status = status
        db.session.commit()


def reap_at(app, seconds_from_now: float) -> dict:
    from app.common.timeutil import utcnow
    from app.dialer.reaper import reap

    with app.app_context():
        return reap(now=utcnow() + timedelta(seconds=seconds_from_now))


def test_a_call_whose_callbacks_were_lost_is_settled_from_the_carrier(app, sim):
    call_id = placed_call(app, sim, BUSY, until="busy")
    assert status_of(app, call_id) == ("queued", None)  # not one callback reached us
    silent = app.config["REAPER_SILENT_SECONDS"]
    assert reap_at(app, silent - 5)["silent"] == 0  # not yet: it might still be ringing
    assert reap_at(app, silent + 5) == {"never_placed": 0, "silent": 1, "settled": 1, "consults_ended": 0}
    assert status_of(app, call_id) == ("busy", "busy")
    assert reap_at(app, silent + 5)["silent"] == 0  # settled once; nothing left to do


def test_an_answered_call_whose_hang_up_was_lost_is_freed_within_the_check_interval(app, sim):
    call_id = placed_call(app, sim, BUSY, until="busy")
    set_status(app, call_id, "in-progress")  # we saw the answer; the final callback was lost
    check = app.config["REAPER_IN_PROGRESS_CHECK_SECONDS"]
    assert check < 3600  # minutes, not the hours a long call may last
    assert reap_at(app, check - 5)["silent"] == 0
    assert reap_at(app, check + 5)["settled"] == 1
    assert status_of(app, call_id)[0] == "busy"


@pytest.mark.parametrize("sim", [{"queue_seconds": (1e6, 1e6)}], indirect=True)
def test_a_call_still_up_at_the_carrier_is_fetched_once_per_interval(app, sim, redis_client):
    call_id = placed_call(app, sim, BUSY)  # stays queued at the carrier for the whole test
    set_status(app, call_id, "in-progress")
    check = app.config["REAPER_IN_PROGRESS_CHECK_SECONDS"]
    assert reap_at(app, check + 5) == {"never_placed": 0, "silent": 1, "settled": 0, "consults_ended": 0}
    assert status_of(app, call_id)[0] == "in-progress"  # still up: left alone
    assert reap_at(app, check + 35)["silent"] == 0  # the next pass does not ask again
    redis_client.delete(f"reaper:checked:{call_id}")  # the interval has passed
    assert reap_at(app, check + 5)["silent"] == 1


@pytest.mark.parametrize("sim", [{"queue_seconds": (1e6, 1e6)}], indirect=True)
@pytest.mark.parametrize("was", ["ringing", "in-progress"])
def test_a_call_the_carrier_answers_404_for_is_left_live_and_said(app, sim, was, caplog):
    """Twilio answers 404 for a live call the credentials cannot see (another account or
    region): settling it would free an agent someone is still talking to. Here the simulator
    that placed it is replaced by one that never heard of it."""
    from app.telephony.twilio_carrier import TwilioCarrier

    call_id = placed_call(app, sim, BUSY)  # still queued at the first carrier
    set_status(app, call_id, was)
    other = CarrierSimulator(SimConfig(account_sid=SID, auth_token=TOKEN, time_scale=0.001)).start()
    try:
        app.extensions["carrier"] = TwilioCarrier(SID, TOKEN, api_base_url=other.api_base_url)
        wait = app.config["REAPER_SILENT_SECONDS" if was == "ringing" else "REAPER_IN_PROGRESS_CHECK_SECONDS"]
        assert reap_at(app, wait + 5)["settled"] == 0
        assert status_of(app, call_id)[0] == was
        assert any(r.levelname == "ERROR" and "TWILIO_ACCOUNT_SID" in r.getMessage() for r in caplog.records)
        from app.ops.metrics import COUNTERS_KEY  # and counted, for an alert on /metrics

        with app.app_context():
            assert int(app.extensions["redis"].hget(COUNTERS_KEY, "carrier_unknown_calls")) == 1
    finally:
        other.stop()


def test_a_call_the_carrier_cannot_be_asked_about_is_left_for_the_next_pass(app, sim):
    """Any other failure to ask (the carrier down, a 5xx) settles nothing: the call may be up."""
    from app.telephony.twilio_carrier import TwilioCarrier

    call_id = placed_call(app, sim, BUSY, until="busy")
    app.extensions["carrier"] = TwilioCarrier(SID, TOKEN, api_base_url="http://127.0.0.1:9")
    assert reap_at(app, app.config["REAPER_SILENT_SECONDS"] + 5)["settled"] == 0
    assert status_of(app, call_id) == ("queued", None)


def test_more_silent_answered_calls_than_one_pass_takes_are_all_checked_in_turn(app, redis_client):
    """A pass fetches at most 500 answered calls; the rest are not flagged as checked
    without being fetched, so the next pass takes exactly them."""
    from sqlalchemy import insert

    from app.calls.models import Call
    from app.common.timeutil import utcnow
    from app.dialer.reaper import stale_call_ids
    from app.extensions import db

    campaign_id = make_campaign(app)
    with app.app_context():
        ids = db.session.scalars(insert(Call).returning(Call.id), [
            {"campaign_id": campaign_id, "to_number": "+12025550111", "from_number": "+12025550100",
             "call_sid": f"CA{i:032x}", "status": "in-progress"} for i in range(503)]).all()
        db.session.commit()
        later = utcnow() + timedelta(seconds=app.config["REAPER_IN_PROGRESS_CHECK_SECONDS"] + 5)
        first = stale_call_ids(later)[1]
        second = stale_call_ids(later)[1]
        third = stale_call_ids(later)[1]
    assert len(first) == 500 and len(second) == 3 and third == []
    assert sorted(first + second) == sorted(ids)


def test_a_placement_cut_short_by_a_dead_worker_waits_for_the_carrier_before_failing(app, client):
    """The worker died after asking the carrier: the call may be ringing. It is never sent
    again; if the carrier's callbacks then show it was placed, it carries on as any call (it
    is not failed, so its contact is not retried while it rings); if none come, it is failed
    once they have had ample time."""
    from app.calls import placement
    from app.calls.models import Call
    from app.calls.state import sweep_unprocessed_events
    from app.common.redis import get_redis
    from app.common.timeutil import utcnow
    from app.extensions import db
    from tests.calls.factories import post_signed, status_form

    campaign = make_campaign(app)
    ringing, silent = (make_call(app, campaign, queued_at=utcnow()) for _ in range(2))
    with app.app_context():
        for call_id in (ringing, silent):
            # Left by the worker that died: when its request to the carrier began.
            get_redis().set(placement.placing_key(call_id), f"{time.time():.3f}")
            assert placement.place_call(call_id).outcome == "skipped"
    sid = "CA" + "5" * 32
    form = status_form(sid, "ringing", 1)
    assert post_signed(client, app, f"/twilio/status?attempt={ringing}", form).status_code == 204
    with app.app_context():
        sweep_unprocessed_events(older_than_seconds=0)
        call = db.session.get(Call, ringing)
        assert (call.call_sid, call.status) == (sid, "ringing")
        # The grace runs from the request, not from when the attempt was queued.
        began = time.time() - app.config["PLACEMENT_INTERRUPTED_GRACE_SECONDS"] - 1
        get_redis().set(placement.placing_key(silent), f"{began:.3f}")
        assert placement.place_call(ringing).outcome == "skipped"  # has its CallSid: left alone
        assert placement.place_call(silent).outcome == "failed"
        call = db.session.get(Call, silent)
        assert (call.status, call.call_sid, call.error_message) == ("failed", None, placement.INTERRUPTED)
