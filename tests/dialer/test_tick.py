"""The pacing tick: ready agents, calls in flight and the pacer decide how many contacts to claim."""
import pytest

from app.agents import services as agent_services
from app.auth.models import User
from app.common import tasks
from app.dialer.tick import pacing_tick
from app.extensions import db
from tests.dialer.floor import make_ready, staffed_campaign


@pytest.fixture
def campaign_with_agents(app, users):
    return staffed_campaign(app, users, "progressive", contacts=10, queued_for=3)


def _ready(agent_ids, campaign_id):
    make_ready(agent_ids, campaign_id)


def test_progressive_claims_one_contact_per_ready_agent_not_already_covered(ctx, campaign_with_agents, sent_tasks):
    campaign_id, agents = campaign_with_agents
    _ready(agents[:2], campaign_id)
    assert pacing_tick(campaign_id) == 2
    assert {name for name, _, _ in sent_tasks} == {tasks.DIAL_CONTACT}
    assert len({k for _, (c, k), _ in sent_tasks}) == 2 and all(c == campaign_id for _, (c, k), _ in sent_tasks)
    # the two claimed contacts are still in flight (leased): nothing more until an agent frees
    assert pacing_tick(campaign_id) == 0
    _ready(agents[2:], campaign_id)
    assert pacing_tick(campaign_id) == 1
    assert len(sent_tasks) == 3


def test_predictive_places_at_least_as_many_as_progressive(ctx, campaign_with_agents, sent_tasks):
    from app.campaigns.models import Campaign

    campaign_id, agents = campaign_with_agents
    db.session.get(Campaign, campaign_id).dial_mode = "predictive"
    db.session.commit()
    _ready(agents, campaign_id)
    assert pacing_tick(campaign_id) >= 3


@pytest.mark.parametrize("change", [{"dial_mode": "preview"}, {"status": "paused"}])
def test_preview_and_paused_campaigns_never_auto_dial(ctx, campaign_with_agents, change, sent_tasks):
    from app.campaigns.models import Campaign

    campaign_id, agents = campaign_with_agents
    _ready(agents, campaign_id)
    campaign = db.session.get(Campaign, campaign_id)
    for key, value in change.items():
        setattr(campaign, key, value)
    db.session.commit()
    assert pacing_tick(campaign_id) == 0


def test_no_ready_agent_no_calls(ctx, campaign_with_agents, sent_tasks):
    campaign_id, _ = campaign_with_agents
    assert pacing_tick(campaign_id) == 0


def test_every_tick_is_counted_for_the_metrics(ctx, campaign_with_agents, redis_client, sent_tasks):
    from app.ops.metrics import COUNTERS_KEY, PACING_LAST_KEY

    campaign_id, agents = campaign_with_agents
    _ready(agents[:2], campaign_id)
    assert pacing_tick(campaign_id) == 2
    assert pacing_tick(campaign_id) == 0
    assert redis_client.hget(COUNTERS_KEY, f"pacing_decisions:{campaign_id}") == "2"
    assert redis_client.hget(COUNTERS_KEY, f"pacing_calls:{campaign_id}") == "2"
    assert redis_client.hget(PACING_LAST_KEY, str(campaign_id)) == "0"


def test_the_tick_never_frees_a_lock_another_tick_took_over(ctx, campaign_with_agents, sent_tasks,
                                                             redis_client, monkeypatch):
    """Our lock ran out and another tick took it just as we finished: its lock must survive.

    The race is forced where a check-then-delete release would lose it: the moment between
    reading the lock and deleting it. Released atomically, there is no such moment."""
    import app.common.locks as locks
    import app.dialer.tick as tick
    from app.common.redis import get_redis

    campaign_id, agents = campaign_with_agents
    _ready(agents[:1], campaign_id)
    lock_key, real = f"tick-lock:{campaign_id}", get_redis()
    taken_over = []

    class RaceAfterRead:
        """The real client, except that another tick takes the lock right after we read it."""

        def __getattr__(self, name):
            return getattr(real, name)

        def get(self, key):
            value = real.get(key)
            if key == lock_key and value is not None:
                real.set(lock_key, "another-tick")
                taken_over.append(value)
            return value

    monkeypatch.setattr(tick, "get_redis", lambda: RaceAfterRead())
    monkeypatch.setattr(locks, "get_redis", lambda: RaceAfterRead())
    assert pacing_tick(campaign_id) == 1
    if taken_over:  # the release read the lock: the other tick's lock must still be there
        assert redis_client.get(lock_key) == "another-tick"
    else:  # released in one atomic step: our lock is gone and nobody else's was touched
        assert redis_client.get(lock_key) is None


def test_an_agent_whose_pause_waits_for_ringing_calls_is_not_counted_and_pauses_once_they_settle(
        ctx, campaign_with_agents, sent_tasks, monkeypatch, redis_client):
    """Progressive: two calls placed for two ready agents; one pauses while both ring. The pause
    waits (the agent stays ready, not counted by the pacer) until the calls are covered."""
    import app.dialer.tick as tick
    from app.agents import state as rstate
    from app.dialer.hopper import Hopper

    from tests.agents.factories import make_pause_code

    campaign_id, agents = campaign_with_agents
    make_pause_code("break")
    db.session.commit()
    _ready(agents[:2], campaign_id)
    assert pacing_tick(campaign_id) == 2
    counted = []
    real_pacer_for = tick.registry.pacer_for

    def spying_pacer_for(*args, **kwargs):
        pacer = real_pacer_for(*args, **kwargs)  # (the same object may come back: wrap it once)
        real = getattr(pacer.calls_to_place, "__wrapped__", pacer.calls_to_place)

        def calls_to_place(at, agents_ready, *rest, **kw):
            counted.append(agents_ready)
            return real(at, agents_ready, *rest, **kw)
        calls_to_place.__wrapped__ = real
        pacer.calls_to_place = calls_to_place
        return pacer

    monkeypatch.setattr(tick.registry, "pacer_for", spying_pacer_for)
    status = agent_services.set_own_state(db.session.get(User, agents[0]), "paused", pause_code="break")
    assert status["state"] == "ready" and status["pending"]["calls_ringing"] == 2
    assert pacing_tick(campaign_id) == 0
    assert counted[-1] == 1 and rstate.snapshot(agents[0])["state"] == "ready"
    counted.clear()
    # one of the two calls is over (its contact released): the other ready agent covers the rest
    leased = redis_client.zrange(f"dq:{campaign_id}:leases", 0, 0)
    Hopper(redis_client).ack(campaign_id, int(leased[0]))
    assert pacing_tick(campaign_id) == 0
    assert counted[-1] == 1  # the agent whose pause just applied is not ready any more
    snap = rstate.snapshot(agents[0])
    assert snap["state"] == "paused" and snap["pause_code"] == "break" and snap["pending"] is None


def test_against_a_time_scaled_carrier_the_pacer_reads_carrier_seconds(app, ctx, campaign_with_agents,
                                                                       sent_tasks, monkeypatch):
    """With DIALER_TIME_SCALE (wall seconds per carrier second), the tick hands the pacer its
    time and each busy agent's time on the call in carrier seconds (issue 18)."""
    from app.dialer import tick
    from app.common.timeutil import utcnow

    seen = {}

    class Recorder:
        def calls_to_place(self, at, ready, busy_elapsed, dialing, **governor):
            seen.update(at=at, busy=busy_elapsed)
            return 0

    campaign_id, agents = campaign_with_agents
    monkeypatch.setattr(tick.registry, "pacer_for", lambda *a, **k: seen.update(kw=k) or Recorder())
    monkeypatch.setattr(tick.registry, "hand_over", lambda *a: None)
    monkeypatch.setattr(tick, "agents_busy_elapsed", lambda cid, now: [3.0, 12.0])
    monkeypatch.setitem(app.config, "DIALER_TIME_SCALE", 0.1)
    now = utcnow()
    tick.pacing_tick(campaign_id, now=now)
    assert seen["at"] == pytest.approx(now.timestamp() / 0.1)
    assert seen["busy"] == pytest.approx([30.0, 120.0])
    assert seen["kw"]["time_scale"] == 0.1  # the stream it replays is read at the same scale


def test_the_pacing_tick_runs_once_per_carrier_second():
    from config import TestConfig

    environ = {"SECRET_KEY": "x" * 32, "DATABASE_URL": "postgresql://u@h/d", "REDIS_URL": "redis://h",
               "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "http://h"}
    beat = TestConfig(environ).CELERY["beat_schedule"]["dial-pacing-tick"]
    assert beat["schedule"] == 1.0
    beat = TestConfig({**environ, "DIALER_TIME_SCALE": "0.1"}).CELERY["beat_schedule"]["dial-pacing-tick"]
    assert beat["schedule"] == pytest.approx(0.1) and beat["options"]["expires"] == pytest.approx(0.2)
