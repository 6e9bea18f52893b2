"""The /live namespace over a real server, real Redis queue and real Socket.IO clients."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import socketio

from app.realtime.publish import agent_room, campaign_room, publish
from tests.helpers import connect_audio

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _publish(app, event, payload, room):
    with app.app_context():
        publish(event, payload, room=room)


def _marker(name):
    return lambda event, payload: payload.get("marker") == name


def test_a_socket_without_a_session_is_refused(live_server, live_clients):
    with pytest.raises(socketio.exceptions.ConnectionError):
        live_clients(None)
    with pytest.raises(socketio.exceptions.ConnectionError):
        from tests.realtime.conftest import LiveClient

        LiveClient(live_server, "omnivox_session=forged.cookie.value")


def test_a_supervisor_never_receives_another_campaigns_events(_app, committed, live_clients):
    sup_a, sup_b = committed.user("supervisor"), committed.user("supervisor")
    c1, c2 = committed.campaign(sup_a), committed.campaign(sup_b)
    a, b = live_clients(sup_a), live_clients(sup_b)
    assert b.call("watch", {"campaign_ids": [c1, c2]}) == {"watching": [c2], "refused": [c1]}
    _publish(_app, "call.state", {"marker": "c1"}, campaign_room(c1))
    _publish(_app, "call.state", {"marker": "c2"}, campaign_room(c2))
    _publish(_app, "call.state", {"marker": "c1-end"}, campaign_room(c1))
    _publish(_app, "call.state", {"marker": "c2-end"}, campaign_room(c2))
    assert [p["marker"] for _, p in a.until(_marker("c1-end"))] == ["c1", "c1-end"]
    assert [p["marker"] for _, p in b.until(_marker("c2-end"))] == ["c2", "c2-end"]


def test_agents_hear_only_their_own_room(_app, committed, live_clients):
    agent_a, agent_b, sup = committed.user("agent"), committed.user("agent"), committed.user("supervisor")
    campaign = committed.campaign(agent_a, agent_b, sup)
    a, b, s = live_clients(agent_a), live_clients(agent_b), live_clients(sup)
    assert a.call("watch", {"campaign_ids": [campaign]}) == {"watching": [], "refused": [campaign]}
    _publish(_app, "agent.state", {"marker": "floor"}, campaign_room(campaign))
    _publish(_app, "call.screen_pop", {"marker": "pop-a"}, agent_room(agent_a["id"]))
    _publish(_app, "call.screen_pop", {"marker": "pop-b"}, agent_room(agent_b["id"]))
    assert [p["marker"] for _, p in a.until(_marker("pop-a"))] == ["pop-a"]
    assert [p["marker"] for _, p in b.until(_marker("pop-b"))] == ["pop-b"]
    assert s.next()[1]["marker"] == "floor"


def test_an_admin_may_watch_any_existing_campaign(_app, committed, live_clients):
    admin = committed.user("admin")
    campaign = committed.campaign()
    client = live_clients(admin)
    assert client.call("watch", {"campaign_ids": [campaign, 10**9]}) == {"watching": [campaign], "refused": [10**9]}
    _publish(_app, "campaign.figures", {"marker": "figures"}, campaign_room(campaign))
    assert client.next() == ("campaign.figures", {"marker": "figures"})
    assert client.call("unwatch", {"campaign_ids": [campaign]}) == {"watching": []}


def test_the_agent_console_heartbeat_keeps_the_agent_signed_on(_app, committed, live_clients, redis_client):
    from app.agents import services
    from app.agents.state import HEARTBEATS
    from app.auth.models import User
    from app.common.timeutil import utcnow
    from app.extensions import db

    agent = committed.user("agent")
    campaign = committed.campaign(agent)
    with _app.app_context():
        connect_audio(agent["id"])
        services.set_own_state(db.session.get(User, agent["id"]), "ready", campaign_id=campaign,
                               now=utcnow() - timedelta(minutes=5))
    before = redis_client.zscore(HEARTBEATS, agent["id"])
    client = live_clients(agent)
    assert client.call("heartbeat") == {"ok": True}
    assert redis_client.zscore(HEARTBEATS, agent["id"]) > before


def test_an_event_published_by_a_celery_worker_reaches_a_browser_client(_app, committed, live_clients, test_environ):
    """A real worker runs the reservation sweeper; its agent.state reaches the supervisor through Redis."""
    from app.agents import reservations, services
    from app.auth.models import User
    from app.common.timeutil import utcnow
    from app.extensions import db
    from tests.agents.factories import make_call

    agent, sup = committed.user("agent"), committed.user("supervisor")
    campaign = committed.campaign(agent, sup)
    with _app.app_context():
        call = make_call(campaign)
        db.session.commit()
        long_ago = utcnow() - timedelta(minutes=1)
        connect_audio(agent["id"])
        services.set_own_state(db.session.get(User, agent["id"]), "ready", campaign_id=campaign, now=long_ago)
        assert reservations.reserve_agent(campaign, call.id, ttl_seconds=5, now=long_ago) == agent["id"]
    watcher = live_clients(sup)
    env = {**os.environ, **test_environ, "PYTHONUNBUFFERED": "1"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "-Q", "telephony", "-P", "solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _app.extensions["celery"].send_task("workers.telephony.expire_agent_reservations")
        seen = watcher.until(lambda e, p: e == "agent.state" and p.get("agent_id") == agent["id"], timeout=60)
        assert seen[-1][1]["state"] == "ready" and seen[-1][1]["reason"] == "reservation_expired"
    finally:
        worker.terminate()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
