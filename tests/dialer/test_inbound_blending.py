"""Blended pacing: agents needed for calls to our numbers are kept back from outbound dialling
(one for each caller waiting in the queue, and the campaign's own number kept for callers to
come), and the pacer is told how many were kept."""
import pytest

from app.campaigns.models import Campaign
from app.dialer import inbound_queue, tick
from app.dialer.pacer_feed import registry
from app.dialer.tick import pacing_tick
from app.extensions import db
from tests.dialer.floor import make_ready, staffed_campaign
from tests.zones import zone_in_calling_hours


@pytest.fixture
def three_ready(app, users):
    campaign_id, agents = staffed_campaign(app, users, "progressive", contacts=10, queued_for=3)
    with app.app_context():
        make_ready(agents, campaign_id)
        _set(campaign_id, timezone=zone_in_calling_hours())  # the campaign takes calls to us now
    return campaign_id


def _set(campaign_id: int, **values) -> None:
    campaign = db.session.get(Campaign, campaign_id)
    for key, value in values.items():
        setattr(campaign, key, value)
    db.session.commit()


def _caller_waits(campaign_id: int, call_id: int) -> None:
    inbound_queue.join(campaign_id, call_id, now_ms=1_000)


def test_agents_kept_for_calls_to_us_are_not_dialled_for(ctx, three_ready, sent_tasks):
    _set(three_ready, inbound_keep_agents=1)
    assert pacing_tick(three_ready) == 2


def test_each_caller_waiting_keeps_one_more_agent_back(ctx, three_ready, sent_tasks):
    _set(three_ready, inbound_keep_agents=1)
    _caller_waits(three_ready, 901)
    assert pacing_tick(three_ready) == 1


def test_with_every_ready_agent_needed_for_callers_nothing_is_dialled_even_predictive(
        ctx, three_ready, sent_tasks):
    _set(three_ready, dial_mode="predictive")
    for call_id in (901, 902, 903, 904):
        _caller_waits(three_ready, call_id)
    assert pacing_tick(three_ready) == 0


def test_a_caller_who_hung_up_unseen_stops_holding_an_agent(ctx, three_ready, sent_tasks, redis_client):
    _caller_waits(three_ready, 901)
    redis_client.delete("inbound-alive:901")  # their wait URL is no longer asked
    assert pacing_tick(three_ready) == 3


class _Listening:
    """A pacer that dials one call per agent it is told is ready, and keeps what it was told."""

    def __init__(self):
        self.told = []

    def calls_to_place(self, at, agents_ready, busy_elapsed, calls_dialing, **governor):
        self.told.append((agents_ready, governor.get("inbound_kept")))
        return max(0, agents_ready - calls_dialing)


def test_the_pacer_is_told_how_many_agents_were_kept(ctx, three_ready, sent_tasks, monkeypatch):
    pacer = _Listening()
    monkeypatch.setattr(registry, "pacer_for", lambda *a, **k: pacer)
    monkeypatch.setattr(registry, "hand_over", lambda *a, **k: None)
    _set(three_ready, inbound_keep_agents=1)
    _caller_waits(three_ready, 901)
    pacing_tick(three_ready)
    assert pacer.told == [(1, 2)]


def test_a_pacer_that_takes_no_new_argument_is_not_told():
    def older(at, agents_ready, busy_elapsed, calls_dialing, abandon_rate_30d=None):
        return 0

    assert tick.taken_by(older, inbound_kept=2, abandon_rate_30d=0.01) == {"abandon_rate_30d": 0.01}


def test_the_wallboard_shows_callers_waiting_and_the_agents_kept(app, three_ready, login_as):
    with app.app_context():
        _set(three_ready, inbound_keep_agents=1)
        _caller_waits(three_ready, 901)
    board = login_as("admin").get(f"/api/wallboard?campaign_id={three_ready}").get_json()
    assert board["campaigns"][0]["inbound"] == {"waiting": 1, "kept": 2}


def test_callers_of_the_same_millisecond_keep_the_order_they_came_in(ctx):
    now_ms = 1_796_000_000_123  # a real clock's size: the place must keep every digit
    for call_id in (9, 10, 11):
        inbound_queue.join(77, call_id, now_ms)
    places = {call_id: inbound_queue.poll(77, call_id, now_ms) for call_id in (11, 10, 9)}
    assert [places[c][0] for c in (9, 10, 11)] == [0, 1, 2]
    assert {score // 1000 for _, score in places.values()} == {now_ms}
