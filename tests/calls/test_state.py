"""The call state machine: order, duplicates, late callbacks, terminal states, what is recorded."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.calls.factories import make_call, make_campaign, post_signed, status_form


@pytest.fixture
def campaign_id(app):
    return make_campaign(app)


@pytest.fixture
def published(monkeypatch):
    """What went through the live-events helper (a no-op until the live issue lands)."""
    import app.calls.services as services

    sent = []
    monkeypatch.setattr(services, "publish", lambda event, payload, room: sent.append(
        (event, room, payload["status"])))
    return sent


def deliver(app, client, call_id, sid, *callbacks):
    """Post signed status callbacks (status, seq, extra) and process what was stored."""
    for status, seq, extra in callbacks:
        form = status_form(sid, status, seq, **extra)
        assert post_signed(client, app, f"/twilio/status?attempt={call_id}", form).status_code == 204
    process_all(app)


def process_all(app):
    from app.calls import state
    from app.calls.models import CallEvent
    from app.extensions import db

    with app.app_context():
        ids = db.session.scalars(select(CallEvent.id).where(CallEvent.processed_at.is_(None))
                                 .order_by(CallEvent.id)).all()
        for event_id in ids:
            state.process_call_event(event_id)


def load(app, call_id):
    from app.calls.models import Call, CallEvent
    from app.extensions import db

    with app.app_context():
        call = db.session.get(Call, call_id)
        db.session.expunge(call)
        pending = db.session.scalars(select(CallEvent).where(
            CallEvent.call_id == call_id, CallEvent.processed_at.is_(None))).all()
        assert pending == []
        return call


def test_a_person_answers_and_the_call_completes(app, client, campaign_id, published):
    call_id = make_call(app, campaign_id)
    for callback in (("initiated", 0, {}), ("ringing", 1, {}), ("in-progress", 2, {}),
                     ("completed", 3, {"CallDuration": 42})):
        deliver(app, client, call_id, "CA-h", callback)
    call = load(app, call_id)
    assert (call.status, call.outcome, call.duration_seconds, call.call_sid) == (
        "completed", "human", 42, "CA-h")
    assert call.initiated_at and call.ringing_at and call.answered_at and call.ended_at
    assert call.ring_seconds is not None and call.ring_seconds >= 0
    assert call.last_sequence_number == 3
    assert [s for _, _, s in published] == ["initiated", "ringing", "in-progress", "completed"]
    assert {room for _, room, _ in published} == {f"campaign:{campaign_id}"}


@pytest.mark.parametrize("final", ["busy", "no-answer", "failed", "canceled"])
def test_unanswered_outcomes(app, client, campaign_id, final):
    call_id = make_call(app, campaign_id)
    deliver(app, client, call_id, f"CA-{final}", ("initiated", 0, {}), ("ringing", 1, {}),
            (final, 2, {"CallDuration": 0}))
    call = load(app, call_id)
    assert (call.status, call.outcome, call.answered_at) == (final, final, None)


def test_out_of_order_callbacks_never_move_the_call_backwards(app, client, campaign_id):
    call_id = make_call(app, campaign_id)
    deliver(app, client, call_id, "CA-ooo", ("in-progress", 2, {}), ("completed", 3, {"CallDuration": 9}))
    deliver(app, client, call_id, "CA-ooo", ("ringing", 1, {}), ("initiated", 0, {}))
    call = load(app, call_id)
    assert (call.status, call.outcome, call.duration_seconds) == ("completed", "human", 9)
    assert call.last_sequence_number == 3
    assert call.ringing_at is None  # the late ringing changed nothing


def test_callbacks_stored_out_of_order_are_applied_in_sequence_order(app, client, campaign_id,
                                                                      published):
    """Both stored before processing: the lower SequenceNumber is applied first."""
    call_id = make_call(app, campaign_id)
    for status, seq in (("ringing", 1), ("initiated", 0)):
        post_signed(client, app, f"/twilio/status?attempt={call_id}",
                    status_form("CA-seq", status, seq))
    process_all(app)
    call = load(app, call_id)
    assert call.status == "ringing" and call.initiated_at and call.ringing_at
    assert [s for _, _, s in published] == ["ringing"]  # one change, published once


def test_a_terminal_state_is_final(app, client, campaign_id):
    call_id = make_call(app, campaign_id)
    deliver(app, client, call_id, "CA-t", ("ringing", 1, {}), ("busy", 2, {}))
    deliver(app, client, call_id, "CA-t", ("in-progress", 3, {}), ("completed", 4, {"CallDuration": 30}))
    call = load(app, call_id)
    assert (call.status, call.outcome, call.duration_seconds) == ("busy", "busy", None)


def test_duplicates_change_nothing_and_are_processed_once(app, client, campaign_id, published):
    call_id = make_call(app, campaign_id)
    deliver(app, client, call_id, "CA-d", ("ringing", 1, {}), ("ringing", 1, {}))
    deliver(app, client, call_id, "CA-d", ("ringing", 1, {}))
    assert load(app, call_id).status == "ringing"
    assert len(published) == 1


def test_machine_answer_and_recording_are_recorded(app, client, campaign_id):
    call_id = make_call(app, campaign_id)
    amd = {"CallSid": "CA-mr", "AnsweredBy": "machine_end_beep"}
    deliver(app, client, call_id, "CA-mr", ("initiated", 0, {}), ("ringing", 1, {}),
            ("in-progress", 2, {}))
    post_signed(client, app, f"/twilio/amd?attempt={call_id}", amd)
    deliver(app, client, call_id, "CA-mr", ("completed", 3, {"CallDuration": 12,
                                                             "AnsweredBy": "machine_end_beep"}))
    rec = {"CallSid": "CA-mr", "RecordingSid": "RE9", "RecordingStatus": "completed",
           "RecordingUrl": "https://carrier.example/Recordings/RE9"}
    post_signed(client, app, f"/twilio/recording?attempt={call_id}", rec)
    process_all(app)
    call = load(app, call_id)
    assert (call.status, call.outcome, call.answered_by) == ("completed", "machine", "machine_end_beep")
    assert (call.recording_sid, call.recording_url) == ("RE9", "https://carrier.example/Recordings/RE9")


def test_a_late_amd_verdict_turns_a_completed_call_into_a_machine(app, client, campaign_id):
    call_id = make_call(app, campaign_id)
    deliver(app, client, call_id, "CA-late", ("in-progress", 2, {}), ("completed", 3, {"CallDuration": 5}))
    assert load(app, call_id).outcome == "human"
    post_signed(client, app, f"/twilio/amd?attempt={call_id}",
                {"CallSid": "CA-late", "AnsweredBy": "machine_start"})
    process_all(app)
    call = load(app, call_id)
    assert (call.status, call.outcome) == ("completed", "machine")


def test_callbacks_find_the_attempt_when_the_callsid_was_never_stored(app, client, campaign_id):
    """The worker died after the carrier accepted the call: the attempt id in the URL matches it."""
    call_id = make_call(app, campaign_id)
    deliver(app, client, call_id, "CA-orphan", ("initiated", 0, {}))
    call = load(app, call_id)
    assert (call.call_sid, call.status) == ("CA-orphan", "initiated")
    # Later callbacks without the attempt id still match, by CallSid.
    form = status_form("CA-orphan", "ringing", 1)
    assert post_signed(client, app, "/twilio/status", form).status_code == 204
    process_all(app)
    assert load(app, call_id).status == "ringing"


def test_a_callback_for_an_unknown_call_is_set_aside(app, client):
    form = status_form("CA-unknown", "ringing", 1)
    assert post_signed(client, app, "/twilio/status", form).status_code == 204
    process_all(app)  # marks it processed without a call; nothing raises


def test_the_sweeper_applies_callbacks_whose_task_was_lost(app, client, campaign_id, redis_client):
    from app.calls import state

    call_id = make_call(app, campaign_id)
    form = status_form("CA-sweep", "ringing", 1)
    post_signed(client, app, f"/twilio/status?attempt={call_id}", form)
    redis_client.delete("telephony", "telephony:inbox")  # the hand-off never reaches a worker
    with app.app_context():
        assert state.sweep_unprocessed_events(older_than_seconds=60) == 0  # too fresh to sweep
        assert state.sweep_unprocessed_events(older_than_seconds=-1) == 1
    assert load(app, call_id).status == "ringing"


def test_the_finished_hook_runs_once(app, client, campaign_id, monkeypatch):
    import app.calls.state as state_module

    finished = []
    monkeypatch.setattr(state_module, "on_call_finished", lambda call: finished.append(call.id))
    call_id = make_call(app, campaign_id)
    deliver(app, client, call_id, "CA-f", ("ringing", 1, {}), ("no-answer", 2, {}))
    deliver(app, client, call_id, "CA-f", ("completed", 3, {}))
    assert finished == [call_id]
