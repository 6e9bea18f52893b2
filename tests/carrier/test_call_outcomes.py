"""Calls placed through TwilioCarrier (real SDK) against the simulator, end to end."""
from datetime import datetime

import pytest

from carrier_harness import (  # noqa: F401
    BUSY, CALLER_ID, FAILED, HUMAN, NO_ANSWER, app_stand_in, call_request, carrier,
    receiver, sim,
)


def test_answered_call_is_bridged_and_completes_with_duration(carrier, call_request, receiver,
                                                              sim):
    placed = carrier.place_call(call_request(HUMAN))

    assert placed.call_sid.startswith("CA") and len(placed.call_sid) == 34
    assert placed.status == "queued"
    final = receiver.wait_final(placed.call_sid)
    assert receiver.statuses(placed.call_sid) == [
        (0, "initiated"), (1, "ringing"), (2, "in-progress"), (3, "completed")]
    assert int(final.form["CallDuration"]) >= 20  # talk time is drawn from 20-40 s
    assert final.form["CallbackSource"] == "call-progress-events"
    assert final.form["Direction"] == "outbound-api"
    assert final.form["To"] == HUMAN and final.form["From"] == CALLER_ID

    voice = receiver.of("voice", placed.call_sid)
    assert len(voice) == 1
    assert voice[0].form["CallStatus"] == "in-progress"
    assert sim.call(placed.call_sid)["connected_to"] == f"conference:call-{placed.call_sid}"

    info = carrier.fetch(placed.call_sid)
    assert info.status == "completed" and info.is_terminal
    assert info.duration == int(final.form["CallDuration"])
    assert isinstance(info.start_time, datetime) and isinstance(info.end_time, datetime)
    assert info.end_time >= info.start_time


@pytest.mark.parametrize("number, final_status", [
    (BUSY, "busy"), (NO_ANSWER, "no-answer"), (FAILED, "failed")])
def test_unanswered_outcomes(carrier, call_request, receiver, number, final_status):
    placed = carrier.place_call(call_request(number, timeout_seconds=15))

    final = receiver.wait_final(placed.call_sid)

    assert final.form["CallStatus"] == final_status
    assert final.form["CallDuration"] == "0"
    assert receiver.of("voice", placed.call_sid) == []
    statuses = [status for _, status in receiver.statuses(placed.call_sid)]
    assert statuses[0] == "initiated"
    assert ("ringing" in statuses) == (final_status != "failed")
    info = carrier.fetch(placed.call_sid)
    assert info.status == final_status and info.duration == 0 and info.start_time is None


def test_no_answer_rings_until_the_timeout(carrier, call_request, receiver, sim):
    sim.configure(ring_seconds=(40.0, 50.0))  # a human who would answer too late
    placed = carrier.place_call(call_request(HUMAN, timeout_seconds=20))

    assert receiver.wait_final(placed.call_sid).form["CallStatus"] == "no-answer"
    history = sim.call(placed.call_sid)["history"]
    rang = history[-1]["at"] - next(h["at"] for h in history if h["status"] == "ringing")
    assert 20 <= rang / sim.config.time_scale < 40  # cut at the timeout, not answered later


def test_hangup_mid_call_completes_it(carrier, call_request, receiver, sim):
    sim.configure(talk_seconds=(3000.0, 3000.0))
    placed = carrier.place_call(call_request(HUMAN))
    receiver.wait_for(lambda: sim.call(placed.call_sid)["connected_to"])

    info = carrier.hangup(placed.call_sid)

    assert info.status == "completed"
    final = receiver.wait_final(placed.call_sid)
    assert final.form["CallStatus"] == "completed"
    assert int(final.form["CallDuration"]) >= 1
    assert [s for _, s in receiver.statuses(placed.call_sid)].count("completed") == 1


def test_hangup_while_ringing_cancels(carrier, call_request, receiver, sim):
    sim.configure(ring_seconds=(3000.0, 3000.0))
    placed = carrier.place_call(call_request(HUMAN, timeout_seconds=600))
    receiver.wait_for(lambda: ("ringing" in [s for _, s in receiver.statuses(placed.call_sid)]))

    info = carrier.hangup(placed.call_sid)

    assert info.status == "canceled"
    assert receiver.wait_final(placed.call_sid).form["CallStatus"] == "canceled"
    assert carrier.fetch(placed.call_sid).duration == 0


def test_cancel_only_leaves_a_live_conversation_alone(carrier, call_request, receiver, sim):
    sim.configure(talk_seconds=(3000.0, 3000.0))
    placed = carrier.place_call(call_request(HUMAN))
    receiver.wait_for(lambda: sim.call(placed.call_sid)["connected_to"])

    assert carrier.hangup(placed.call_sid, cancel_only=True).status == "in-progress"
    assert carrier.hangup(placed.call_sid).status == "completed"


def test_hangup_of_an_ended_call_changes_nothing(carrier, call_request, receiver):
    placed = carrier.place_call(call_request(BUSY, timeout_seconds=15))
    receiver.wait_final(placed.call_sid)

    assert carrier.hangup(placed.call_sid).status == "busy"


def test_no_call_outlives_max_call_seconds(carrier, call_request, receiver, sim):
    sim.configure(talk_seconds=(3000.0, 3000.0), max_call_seconds=60.0)
    placed = carrier.place_call(call_request(HUMAN))

    final = receiver.wait_final(placed.call_sid)

    assert final.form["CallStatus"] == "completed"
    assert 60 <= int(final.form["CallDuration"]) < 3000
