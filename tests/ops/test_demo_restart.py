"""`make run` starts its carrier simulator afresh: the last run's calls and agents' audio legs
went with the old one, and no callback will ever end them. Found by restarting under a running
demo: bots stayed 'ready' on legs nobody heard (every person joined to them was abandoned, 8 of
24 in minutes) and calls kept counting as dialling, so the demo stopped placing calls."""
from __future__ import annotations

from app.agents import services as agent_services
from app.agents import state as agent_state
from app.auth.models import User
from app.calls.models import Call
from app.extensions import db
from devtools.run import forget_the_last_carrier
from tests.agents.factories import assign, make_call, make_campaign
from tests.helpers import connect_audio


def test_the_last_runs_calls_and_legs_end_when_the_simulator_starts_afresh(ctx, users):
    campaign = make_campaign()
    agent = users.create("agent")
    assign(agent.id, campaign.id)
    db.session.commit()
    connect_audio(agent.id)
    agent_services.set_own_state(db.session.get(User, agent.id), "ready", campaign_id=campaign.id)
    ringing, talking = make_call(campaign.id), make_call(campaign.id)
    ringing.status, ringing.call_sid = "ringing", "CA" + "1" * 32
    talking.call_sid = "CA" + "2" * 32  # in progress, answered a minute ago
    from datetime import timedelta

    from app.common.timeutil import utcnow

    talking.answered_at = utcnow() - timedelta(seconds=60)
    db.session.commit()

    assert forget_the_last_carrier() == (2, 1)
    db.session.expire_all()
    assert db.session.get(Call, ringing.id).status == "failed"
    ended = db.session.get(Call, talking.id)
    assert ended.status == "completed" and (ended.duration_seconds or 0) >= 59
    snap = agent_state.snapshot(agent.id)
    assert snap["audio"] is None and snap["state"] == "paused"  # no audio, no ready
    assert forget_the_last_carrier() == (0, 0)  # nothing left of the last run
