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
    from datetime import timedelta

    from app.common.timeutil import utcnow

    campaign = make_campaign()
    agent, admin = users.create("agent"), users.create("admin")
    assign(agent.id, campaign.id)
    db.session.commit()
    for person in (agent, admin):  # an admin may hold a leg too (listening in)
        connect_audio(person.id)
    agent_services.set_own_state(db.session.get(User, agent.id), "ready", campaign_id=campaign.id)
    ringing, answered = make_call(campaign.id), make_call(campaign.id)
    ringing.status, ringing.call_sid = "ringing", "CA" + "1" * 32
    # Answered by a person a minute ago, its in-progress callback not applied yet: answered all
    # the same, never a failed call.
    answered.status, answered.call_sid, answered.outcome = "ringing", "CA" + "2" * 32, "human"
    answered.answered_at = utcnow() - timedelta(seconds=60)
    db.session.commit()

    assert forget_the_last_carrier() == (2, 2)
    db.session.expire_all()
    assert db.session.get(Call, ringing.id).status == "failed"
    ended = db.session.get(Call, answered.id)
    assert (ended.status, ended.outcome) == ("completed", "human")
    assert (ended.duration_seconds or 0) >= 59
    snap = agent_state.snapshot(agent.id)
    assert snap["audio"] is None and snap["state"] == "paused"  # no audio, no ready
    assert agent_state.snapshot(admin.id)["audio"] is None
    assert forget_the_last_carrier() == (0, 0)  # nothing left of the last run


def test_only_a_run_with_its_own_simulator_and_database_forgets(monkeypatch, tmp_path):
    """A database given in DATABASE_URL may hold another deployment's live calls; a carrier
    given in TWILIO_ACCOUNT_SID keeps its calls: neither is touched at start."""
    from devtools import run, services

    monkeypatch.setattr(run, "INSTANCE", tmp_path)
    monkeypatch.setattr(services, "env_or_embedded", lambda instance: {})
    monkeypatch.setenv("OMNIVOX_SIMULATOR_PORT", "5999")  # left in the shell: not ours
    for database, account, forgets in (("", "", True), ("postgresql://x/y", "", False),
                                       ("", "AC" + "1" * 32, False)):
        monkeypatch.setenv("DATABASE_URL", database)
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", account)
        env = run._environment()
        assert bool(env.get("OMNIVOX_FORGET_LAST_CARRIER")) is forgets, (database, account)
        assert bool(env.get("OMNIVOX_SIMULATOR_PORT")) is (not account)
