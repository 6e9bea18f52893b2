"""The dialer's side: reservations, their expiry, call ends, heartbeats and the pacing figures."""
import threading

import pytest
from sqlalchemy import select

from app.agents import reservations, services
from app.agents import state as rstate
from app.agents.models import AgentStateChange
from app.extensions import db
from tests.agents.conftest import at
from tests.helpers import connect_audio


def _log(agent_id):
    return db.session.scalars(select(AgentStateChange).where(AgentStateChange.agent_id == agent_id)
                              .order_by(AgentStateChange.id)).all()


def test_time_in_state_is_exact_to_the_millisecond(ctx, floor):
    agent = floor.agent(0)
    connect_audio(agent.id)
    services.set_own_state(agent, "ready", campaign_id=floor.campaign_id, now=at(0))
    services.set_own_state(agent, "paused", pause_code="break", now=at(1.234))
    services.set_own_state(agent, "ready", now=at(6.234))
    call = floor.new_call()
    assert reservations.reserve_agent(floor.campaign_id, call, now=at(10.001)) == agent.id
    assert reservations.confirm_reservation(agent.id, call, now=at(10.5))
    assert reservations.end_call(agent.id, call, now=at(70.5))
    services.set_own_state(agent, "ready-after-wrap", now=at(85.5))
    rows = _log(agent.id)
    assert [(r.from_state, r.to_state) for r in rows] == [
        ("offline", "ready"), ("ready", "paused"), ("paused", "ready"), ("ready", "reserved"),
        ("reserved", "on-call"), ("on-call", "wrap-up"), ("wrap-up", "ready")]
    assert [r.previous_state_ms for r in rows[1:]] == [1234, 5000, 3767, 499, 60000, 15000]
    assert rows[1].pause_code_id is not None and rows[3].call_id == call == rows[6].call_id
    assert all(r.campaign_id == floor.campaign_id for r in rows)
    assert services.agent_status(agent.id, now=at(90))["seconds_in_state"] == 4.5


def test_reservation_takes_the_longest_idle_ready_agent(ctx, floor):
    for i, t in ((1, 0), (0, 1), (2, 2)):
        connect_audio(floor.agent_ids[i])
        services.set_own_state(floor.agent(i), "ready", campaign_id=floor.campaign_id, now=at(t))
    first, second = floor.new_call(), floor.new_call()
    assert reservations.reserve_agent(floor.campaign_id, first, now=at(5)) == floor.agent_ids[1]
    assert reservations.reserve_agent(floor.campaign_id, second, now=at(5)) == floor.agent_ids[0]
    # a released agent keeps its place at the front of the queue
    assert reservations.release_reservation(floor.agent_ids[1], first, now=at(6))
    assert reservations.reserve_agent(floor.campaign_id, first, now=at(7)) == floor.agent_ids[1]
    assert reservations.reserve_agent(floor.campaign_id, floor.new_call(), now=at(7)) == floor.agent_ids[2]
    assert reservations.reserve_agent(floor.campaign_id, floor.new_call(), now=at(7)) is None


def test_only_ready_agents_of_that_campaign_are_reserved(ctx, floor):
    floor.drive(0, "paused")
    floor.drive(1, "wrap-up")
    services.set_own_state(floor.agent(0), "ready", campaign_id=floor.other_campaign_id, now=at(1))
    assert reservations.reserve_agent(floor.campaign_id, floor.new_call(), now=at(2)) is None
    assert reservations.reserve_agent(floor.other_campaign_id, floor.new_call(floor.other_campaign_id),
                                 now=at(2)) == floor.agent_ids[0]


@pytest.mark.parametrize("from_state", ["offline", "ready", "reserved", "on-call", "wrap-up", "paused"])
def test_dialer_transitions_from_every_state(ctx, floor, from_state):
    call = floor.drive(0, from_state)
    agent_id = floor.agent_ids[0]
    other_call = floor.new_call()
    assert reservations.confirm_reservation(agent_id, other_call, now=at(1)) is False  # never another call's
    assert reservations.release_reservation(agent_id, other_call, now=at(1)) is False
    assert reservations.end_call(agent_id, other_call, now=at(1)) is False
    assert rstate.snapshot(agent_id)["state"] == from_state
    if call is not None:
        assert reservations.confirm_reservation(agent_id, call, now=at(2)) is (from_state == "reserved")
        assert reservations.end_call(agent_id, call, now=at(3)) is (from_state in ("reserved", "on-call"))
        assert reservations.release_reservation(agent_id, call, now=at(4)) is False
    expected = {"reserved": "wrap-up", "on-call": "wrap-up"}.get(from_state, from_state)
    assert rstate.snapshot(agent_id)["state"] == expected


def test_concurrent_reservations_never_double_book(app, floor):
    with app.app_context():
        for i in range(3):
            connect_audio(floor.agent_ids[i])
            services.set_own_state(floor.agent(i), "ready", campaign_id=floor.campaign_id, now=at(i))
    winners, barrier = [], threading.Barrier(24)

    def race(n):
        with app.app_context():
            barrier.wait()
            got = rstate.reserve(floor.campaign_id, 1000 + n, now_ms=10_000, ttl_ms=5000)
            if got is not None:
                winners.append((got[0], n))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(agent for agent, _ in winners) == sorted(floor.agent_ids)
    with app.app_context():
        for agent, n in winners:
            assert rstate.snapshot(agent)["call_id"] == 1000 + n
        assert reservations.ready_agents(floor.campaign_id) == 0


def test_an_unconfirmed_reservation_returns_the_agent_to_ready(ctx, floor):
    floor.drive(0, "ready", t=0)
    call = floor.new_call()
    assert reservations.reserve_agent(floor.campaign_id, call, ttl_seconds=5, now=at(1)) == floor.agent_ids[0]
    assert reservations.expire_stale_reservations(now=at(5.9)) == []
    assert reservations.expire_stale_reservations(now=at(6)) == [floor.agent_ids[0]]
    assert rstate.snapshot(floor.agent_ids[0])["state"] == "ready"
    assert reservations.ready_agents(floor.campaign_id) == 1
    assert reservations.confirm_reservation(floor.agent_ids[0], call, now=at(6.5)) is False  # too late
    assert _log(floor.agent_ids[0])[-1].reason == "reservation_expired"


def test_a_confirmed_reservation_is_not_expired(ctx, floor):
    call = floor.drive(0, "on-call", t=0)
    assert reservations.expire_stale_reservations(now=at(60)) == []
    assert rstate.snapshot(floor.agent_ids[0])["state"] == "on-call"
    assert rstate.snapshot(floor.agent_ids[0])["call_id"] == call


def test_a_silent_console_takes_its_agent_out_of_ready(ctx, floor):
    floor.drive(1, "on-call", t=0)
    floor.drive(0, "ready", t=0)       # heartbeat at t=-3 (sign-on)
    floor.drive(2, "ready", t=0)
    services.heartbeat(floor.agent_ids[2], now=at(20))
    assert reservations.disconnect_silent_agents(now=at(26), timeout_seconds=30) == []
    assert reservations.disconnect_silent_agents(now=at(28), timeout_seconds=30) == [floor.agent_ids[0]]
    assert rstate.snapshot(floor.agent_ids[0])["state"] == "offline"
    assert _log(floor.agent_ids[0])[-1].reason == "disconnected"
    assert rstate.snapshot(floor.agent_ids[1])["state"] == "on-call"  # never dropped mid-call
    assert rstate.snapshot(floor.agent_ids[2])["state"] == "ready"
    assert reservations.ready_agents(floor.campaign_id) == 1


def test_pacing_figures(ctx, floor):
    floor.drive(1, "on-call", t=10)   # connected at 9
    floor.drive(2, "wrap-up", t=20)   # connected at 19
    floor.drive(0, "ready", t=0)
    assert reservations.ready_agents(floor.campaign_id) == 1
    assert reservations.agents_busy_elapsed(floor.campaign_id, now=at(30)) == [11.0, 21.0]
    counts = reservations.campaign_agent_counts(floor.campaign_id)
    assert counts == {"ready": 1, "reserved": 0, "on-call": 1, "wrap-up": 1, "paused": 0}
    assert reservations.campaign_agent_counts(floor.other_campaign_id)["ready"] == 0


def test_beat_tasks_run_the_sweepers(ctx, floor):
    from workers.default import disconnect_silent_agents
    from workers.telephony import expire_agent_reservations

    floor.drive(0, "ready", t=-3600)
    reservations.reserve_agent(floor.campaign_id, floor.new_call(), ttl_seconds=5, now=at(-3600))
    assert expire_agent_reservations() == 1  # an hour-old reservation, by the real clock
    assert disconnect_silent_agents() == 1   # and an hour-old heartbeat
    assert rstate.snapshot(floor.agent_ids[0])["state"] == "offline"


def test_the_agent_state_api_is_documented(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/agents/me", "/api/agents/me/state", "/api/agents/me/heartbeat",
                 "/api/agents/{agent_id}/force-pause", "/api/agents/{agent_id}/logout", "/api/agents/states"):
        assert path in paths, path
