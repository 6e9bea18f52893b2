from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from app.agents import reservations, services
from app.auth.models import User
from app.extensions import db
from tests.agents.factories import QueueTap, assign, make_call, make_campaign, make_pause_code
from tests.helpers import connect_audio

T0 = datetime(2026, 11, 2, 15, 0, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass
class Floor:
    """A campaign with agents assigned to it, a pause code, and calls to connect."""

    app: object
    campaign_id: int
    other_campaign_id: int
    agent_ids: list[int]
    test_users: list = field(default_factory=list)
    pause_code: str = "break"
    calls: list[int] = field(default_factory=list)

    def agent(self, i: int = 0) -> User:
        return db.session.get(User, self.agent_ids[i])

    def new_call(self, campaign_id: int | None = None) -> int:
        with self.app.app_context():
            call = make_call(campaign_id or self.campaign_id)
            db.session.commit()
            self.calls.append(call.id)
            return call.id

    def drive(self, agent_index: int, target: str, t: float = 0.0) -> int | None:
        """Put an agent into `target` through legal steps ending at time `t`; returns the call, if any."""
        with self.app.app_context():
            return self._drive(self.agent(agent_index), target, t)

    def _drive(self, user, target, t):
        connect_audio(user.id)  # every agent of this floor has their audio leg up
        if target == "offline":
            return None
        if target == "paused":
            services.set_own_state(user, "paused", campaign_id=self.campaign_id, pause_code=self.pause_code,
                                   now=at(t))
            return None
        services.set_own_state(user, "ready", campaign_id=self.campaign_id, now=at(t - 3))
        if target == "ready":
            return None
        call_id = self.new_call()
        assert reservations.reserve_agent(self.campaign_id, call_id, now=at(t - 2)) == user.id
        if target == "reserved":
            return call_id
        assert reservations.confirm_reservation(user.id, call_id, now=at(t - 1))
        if target == "on-call":
            return call_id
        assert reservations.end_call(user.id, call_id, now=at(t))
        assert target == "wrap-up"
        return call_id


@pytest.fixture
def floor(app, users):
    agents = [users.create("agent") for _ in range(3)]
    with app.app_context():
        campaign = make_campaign()
        other = make_campaign()
        for agent in agents:
            assign(agent.id, campaign.id)
        assign(agents[0].id, other.id)
        make_pause_code("break")
        db.session.commit()
        return Floor(app, campaign.id, other.id, [a.id for a in agents], agents)


@pytest.fixture
def supervisor_of(app, signed_in, users):
    """`supervisor_of(campaign_id)`: a new supervisor of that campaign, signed in (their client)."""
    def make(campaign_id: int):
        sup = users.create("supervisor")
        with app.app_context():
            assign(sup.id, campaign_id, "supervisor")
            db.session.commit()
        return signed_in(sup)
    return make


@pytest.fixture
def tap(app, redis_client):
    tap = QueueTap(redis_client)
    yield tap
    tap.close()
