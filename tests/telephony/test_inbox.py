"""The webhook -> telephony hand-off: every stored callback is applied, drainers are woken
when needed (never zero, rarely one per callback), and nothing stalls the inbox."""
from __future__ import annotations

import json

from app.telephony import inbox
from tests.calls.factories import make_call, make_campaign, post_signed, status_form


def drain_tasks(redis_client) -> int:
    """How many drain_call_events tasks wait on the telephony queue."""
    return sum(json.loads(raw)["headers"]["task"] == inbox.DRAIN_TASK
               for raw in redis_client.lrange("telephony", 0, -1))


def test_the_first_callback_wakes_a_drainer_and_a_backlog_wakes_more(ctx, redis_client):
    inbox.push(1)
    assert drain_tasks(redis_client) == 1
    for event_id in range(2, inbox.WAKE_EVERY):
        inbox.push(event_id)
    assert drain_tasks(redis_client) == 1  # one drainer is on its way for all of these
    inbox.push(inbox.WAKE_EVERY)
    assert drain_tasks(redis_client) == 2  # the backlog grew: a second worker joins
    assert inbox.depth() == inbox.WAKE_EVERY


def test_drain_applies_in_arrival_order_until_empty(ctx, redis_client):
    for event_id in (5, 3, 9):
        inbox.push(event_id)
    applied = []
    assert inbox.drain(applied.append) == 3
    assert applied == [5, 3, 9]
    assert inbox.depth() == 0
    inbox.push(11)  # the inbox was empty again: this push must wake a new drainer
    assert drain_tasks(redis_client) == 2


def test_a_failing_event_does_not_stall_the_rest(ctx, redis_client):
    for event_id in (1, 2, 3):
        inbox.push(event_id)
    applied = []

    def apply(event_id):
        if event_id == 2:
            raise RuntimeError("boom")
        applied.append(event_id)

    assert inbox.drain(apply) == 3
    assert applied == [1, 3]


def test_a_drainer_hands_over_when_its_slice_is_used_up(ctx, redis_client):
    for event_id in range(1, 6):
        inbox.push(event_id)
    redis_client.delete("telephony")
    ticks = iter(range(100))
    applied = []
    popped = inbox.drain(applied.append, slice_seconds=2, clock=lambda: next(ticks))
    assert applied == [1, 2]
    assert popped == 2 and inbox.depth() == 3
    assert drain_tasks(redis_client) == 1  # a fresh drainer carries on with the rest


def test_the_sweep_wakes_a_drainer_for_a_forgotten_inbox(ctx, redis_client):
    from workers.telephony import sweep_unprocessed_events

    redis_client.rpush(inbox.INBOX_KEY, 42)  # queued, but its wake-up was lost
    sweep_unprocessed_events.run()
    assert drain_tasks(redis_client) == 1


def test_redis_down_loses_no_callback(app, client, redis_client, monkeypatch):
    """The event is in PostgreSQL before the hand-off: with Redis away the webhook still answers
    2xx, and the sweep applies the callback."""
    import redis

    from app.calls import state
    from app.calls.models import Call
    from app.extensions import db

    campaign_id = make_campaign(app)
    call_id = make_call(app, campaign_id)
    monkeypatch.setitem(app.extensions, "redis", redis.Redis(port=1, socket_connect_timeout=0.5))
    form = status_form("CA-noredis", "ringing", 1)
    assert post_signed(client, app, f"/twilio/status?attempt={call_id}", form).status_code == 204
    monkeypatch.undo()
    with app.app_context():
        assert state.sweep_unprocessed_events(older_than_seconds=-1) == 1
        assert db.session.get(Call, call_id).status == "ringing"


def test_drained_callbacks_become_call_state(app, client, redis_client):
    from app.calls.models import Call
    from app.extensions import db
    from workers.telephony import drain_call_events

    campaign_id = make_campaign(app)
    call_id = make_call(app, campaign_id)
    for status, seq in (("initiated", 0), ("ringing", 1), ("in-progress", 2)):
        form = status_form("CA-drain", status, seq)
        assert post_signed(client, app, f"/twilio/status?attempt={call_id}", form).status_code == 204
    with app.app_context():
        assert drain_call_events.run() == 3
        assert db.session.get(Call, call_id).status == "in-progress"
        assert inbox.depth() == 0

