"""A wait URL the carrier asks again, or late, once the caller has left the queue (a retried
request, or one in flight as they left): the caller is told to leave again, never put back in
the queue (where the pacer would keep an agent back for them) and never given a second agent."""
from __future__ import annotations

from app.agents import state as agent_state
from app.campaigns.models import Campaign
from app.dialer import inbound
from app.extensions import db
from tests.calls.factories import post_signed
from tests.calls.test_inbound_routing import (  # noqa: F401 (fixtures)
    _busy, _call_in, _form, _poll, _ready, _wait_url, floor, open_hours)


def _queued_then_reserved(app, client, floor):
    campaign_id, (first, second, third) = floor
    _busy(app, campaign_id, first)
    form = _form("+13125550001")
    wait, left = _wait_url(_call_in(client, app, form))
    _ready(app, campaign_id, second, idle_since_minutes=5)
    assert "<Leave" in _poll(client, app, wait, form, 1)
    return campaign_id, form, wait, left, second, third


def test_the_wait_url_asked_twice_after_leave_says_leave_and_reserves_no_second_agent(app, client, floor):
    campaign_id, form, wait, left, second, third = _queued_then_reserved(app, client, floor)
    _ready(app, campaign_id, third, idle_since_minutes=1)
    assert "<Leave" in _poll(client, app, wait, form, 1)
    with app.app_context():
        assert agent_state.snapshot(third)["state"] == "ready"
    joined = post_signed(client, app, left, {**form, "QueueResult": "leave", "QueueTime": "6"})
    assert f">agent-{second}</Conference>" in joined.get_data(as_text=True)


def test_a_late_wait_poll_after_the_caller_joined_their_agent_does_not_queue_them_again(app, client, floor):
    campaign_id, form, wait, left, second, third = _queued_then_reserved(app, client, floor)
    post_signed(client, app, left, {**form, "QueueResult": "leave", "QueueTime": "6"})
    _ready(app, campaign_id, third, idle_since_minutes=1)
    assert "<Leave" in _poll(client, app, wait, form, 1)
    with app.app_context():
        assert inbound.queue.waiting(campaign_id) == 0
        assert agent_state.snapshot(third)["state"] == "ready"


def test_a_late_wait_poll_after_the_caller_hung_up_does_not_queue_them_again(app, client, floor):
    campaign_id, (first, _, _) = floor
    _busy(app, campaign_id, first)
    form = _form("+13125550002")
    wait, left = _wait_url(_call_in(client, app, form))
    post_signed(client, app, left, {**form, "QueueResult": "hangup", "QueueTime": "4"})
    _poll(client, app, wait, form, 1)
    with app.app_context():
        assert inbound.queue.waiting(campaign_id) == 0


def test_the_action_url_posted_twice_gives_the_same_agent_and_queues_nobody(app, client, floor):
    campaign_id, form, wait, left, second, _ = _queued_then_reserved(app, client, floor)
    for _ in range(2):
        joined = post_signed(client, app, left, {**form, "QueueResult": "leave", "QueueTime": "6"})
        assert f">agent-{second}</Conference>" in joined.get_data(as_text=True)
    with app.app_context():
        assert inbound.queue.waiting(campaign_id) == 0


def test_the_action_url_posted_twice_after_the_longest_wait_keeps_the_closed_path(app, client, floor):
    campaign_id, (first, _, _) = floor
    _busy(app, campaign_id, first)
    with app.app_context():
        db.session.get(Campaign, campaign_id).inbound_max_wait_seconds = 60
        db.session.commit()
    form = _form("+13125550003")
    wait, left = _wait_url(_call_in(client, app, form))
    assert "<Leave" in _poll(client, app, wait, form, 1, queue_time=60)
    for _ in range(2):
        closed = post_signed(client, app, left, {**form, "QueueResult": "leave", "QueueTime": "60"})
        assert "<Enqueue" not in closed.get_data(as_text=True)
    with app.app_context():
        assert inbound.queue.waiting(campaign_id) == 0
