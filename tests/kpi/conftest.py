from types import SimpleNamespace

import pytest

from tests.kpi import factories as f
from tests.kpi.factories import utc

NOW = utc(2026, 3, 2, 15, 0)  # 10:00 in New York (EST); the 30-day window starts 2026-01-31 15:00Z


@pytest.fixture
def scenario(ctx, users):
    return build_scenario(users)


@pytest.fixture
def api_scenario(app, users):
    """The scenario rolled up and committed (to the test's transaction), as plain ids."""
    from app.extensions import db
    from app.kpi import rollup

    with app.app_context():
        s = build_scenario(users)
        rollup.run_rollup(NOW)
        db.session.commit()
        return SimpleNamespace(campaign_id=s.campaign.id, a1=s.a1, a2=s.a2)


def build_scenario(users):
    """One New York campaign on 2026-03-02 with hand-countable calls, interactions and agent time."""
    a1, a2 = users.create("agent"), users.create("agent")
    camp = f.campaign(tz="America/New_York")
    f.assign(camp.id, a1.id, "agent")
    f.assign(camp.id, a2.id, "agent")
    sale = f.dispo(camp.id, "SALE", sale=True)
    not_interested = f.dispo(camp.id, "NI")
    no_answer = f.dispo(camp.id, "NOANS", contact=False)
    brk = f.pause_code("BREAK")
    calls = SimpleNamespace(
        c1=f.call(camp.id, utc(2026, 3, 2, 14, 5), outcome="human", ring=10, agent_id=a1.id),
        c2=f.call(camp.id, utc(2026, 3, 2, 14, 10), outcome="human", ring=6, abandoned=True),
        c3=f.call(camp.id, utc(2026, 3, 2, 14, 20), outcome="machine", ring=20),
        c4=f.call(camp.id, utc(2026, 3, 2, 14, 30), status="no-answer", outcome="no-answer", ring=30),
        c5=f.call(camp.id, utc(2026, 3, 2, 14, 40), status="in-progress", outcome="human", agent_id=a2.id),
        # either side of local midnight (05:00Z): 23:30 on 1 March and 00:30 on 2 March in New York
        c6=f.call(camp.id, utc(2026, 3, 2, 4, 30), outcome="human", ring=4),
        c7=f.call(camp.id, utc(2026, 3, 2, 5, 30), status="busy", outcome="busy", ring=2),
    )
    f.interaction(camp.id, a1.id, utc(2026, 3, 2, 14, 6), 120, 30, sale, call_id=calls.c1.id)
    f.interaction(camp.id, a1.id, utc(2026, 3, 2, 14, 50), 60, 20, not_interested)
    f.interaction(camp.id, a2.id, utc(2026, 3, 2, 14, 55), 30, 10, no_answer)
    f.interaction(camp.id, a2.id, utc(2026, 3, 2, 14, 58), 45, 0, sale, done=False)  # still in wrap-up
    f.states(a1.id, camp.id,
             (utc(2026, 3, 2, 13, 30), "ready"), (utc(2026, 3, 2, 14, 6), "on-call"),
             (utc(2026, 3, 2, 14, 8), "wrap-up"), (utc(2026, 3, 2, 14, 9), "ready"),
             (utc(2026, 3, 2, 14, 20), "paused", brk), (utc(2026, 3, 2, 14, 35), "ready"),
             (utc(2026, 3, 2, 14, 50), "on-call"))  # still on the call at NOW
    f.contacts(camp.id, [("new", 0), ("new", 0), ("retry", 1), ("done", 2), ("dnc", 1)])
    return SimpleNamespace(campaign=camp, a1=a1, a2=a2, calls=calls, sale=sale, brk=brk)
