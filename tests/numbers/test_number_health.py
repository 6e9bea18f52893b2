"""Number health end to end: calls placed by local presence through the simulator, whose
signed callbacks reach the app over HTTP and are applied by the telephony code; with the
simulator answering one pool number far less often, the health task rests that number only."""
from __future__ import annotations

from datetime import datetime, time, timezone

import pytest
import requests
from sqlalchemy import func, select

from app.numbers import health
from tests.dialer.on_air import on_the_air, wait_for
from tests.helpers import truncate_tables

NOW = datetime(2026, 12, 2, 18, 0, tzinfo=timezone.utc)  # noon in Chicago, a Wednesday
POOL = ("+13125550111", "+13125550112", "+13125550113")
LABELLED = POOL[2]
CALLS = 150  # 50 from each number


@pytest.fixture
def air(_app, test_environ):
    knobs = {"incoming_numbers": {n: f"Chicago {i}" for i, n in enumerate(POOL, 1)},
             "answer_rates": {POOL[0]: 0.5, POOL[1]: 0.5, LABELLED: 0.04},
             # No answering machines: the campaign dials without detection, so a machine would
             # count as answered (as it does for Omnivox in that case).
             "p_machine": 0.0, "ring_seconds": (2.0, 5.0), "talk_seconds": (5.0, 10.0)}
    saved = _app.config.get("NUMBER_HEALTH_MIN_DIALS")
    _app.config["NUMBER_HEALTH_MIN_DIALS"] = 30
    try:
        with on_the_air(_app, test_environ, knobs) as on_air:
            yield on_air
    finally:
        _app.config["NUMBER_HEALTH_MIN_DIALS"] = saved if saved is not None else 50
        truncate_tables(test_environ["DATABASE_URL"], "phone_numbers, number_pool_members, audit_log")


def _outcomes_settled(app, ids):
    from app.calls.models import Call
    from app.calls.state import process_call_event
    from app.extensions import db
    from app.telephony import inbox

    with app.app_context():
        inbox.drain(process_call_event)  # what the telephony workers do with each stored callback
        done = db.session.scalar(select(func.count()).where(Call.id.in_(ids), Call.outcome.is_not(None)))
        db.session.rollback()
        return done == len(ids)


def test_the_number_people_stop_answering_is_rested_and_only_that_one(_app, air):
    from app.auth.models import User
    from app.calls.models import Call
    from app.calls.placement import place_call
    from app.campaigns.models import Campaign
    from app.extensions import db
    from app.numbers import services
    from app.numbers.models import PhoneNumber
    from tests.helpers import UserFactory

    with _app.app_context():
        assert services.sync_numbers() is None  # the SDK reads the simulator's numbers
        campaign = Campaign(name="Health", status="active", dial_mode="progressive", caller_id="+12025550199",
                            seller_name="Acme", seller_phone="+12025550199", safe_harbour_message="Acme, 202 555 0199.",
                            window_start=time(8, 0), window_end=time(21, 0), max_attempts=3,
                            scrub_national_registry=False)
        db.session.add(campaign)
        db.session.commit()
        admin = UserFactory(_app).create("admin")
        services.set_pool(db.session.get(User, admin.id), campaign.id, list(POOL))
        ids = []
        for i in range(CALLS):
            call = Call(campaign_id=campaign.id, to_number=f"+1312555{2000 + i:04d}", from_number=campaign.caller_id)
            db.session.add(call)
            db.session.commit()
            assert place_call(call.id, NOW).outcome == "placed"
            ids.append(call.id)
        shown = dict(db.session.execute(select(Call.from_number, func.count()).where(Call.id.in_(ids))
                                        .group_by(Call.from_number)).all())
        assert shown == {n: CALLS // 3 for n in POOL}  # the load spread evenly over the pool

    wait_for(lambda: _outcomes_settled(_app, ids), "every call's outcome", stall_seconds=60)
    drawn = requests.get(f"{air.sim_url}/_sim/numbers", timeout=5).json()["outcomes_by_from"]
    assert drawn[LABELLED].get("human", 0) < drawn[POOL[0]].get("human", 0)  # the simulator did its part

    with _app.app_context():
        assert health.assess_numbers() == [LABELLED]
        rows = {n.phone_e164: n for n in db.session.scalars(select(PhoneNumber))}
        assert rows[LABELLED].rested_until is not None and "per 100 dials" in rows[LABELLED].rest_reason
        assert all(rows[n].rested_until is None for n in POOL[:2])
        figures = rows[LABELLED].health["24h"]
        assert figures["well_below"] is True and figures["per_100"] < figures["pool_per_100"] / 2
        assert figures["dials"] <= CALLS // 3  # calls that failed before ringing are not dials
        assert health.assess_numbers() == []  # already rested: not rested twice
        db.session.rollback()

    metrics = requests.get(f"{air.base_url}/metrics", timeout=10).text
    assert f'omnivox_number_rested{{number="{LABELLED}"}} 1.0' in metrics
    assert f'omnivox_number_rested{{number="{POOL[0]}"}} 0.0' in metrics


def test_the_verdict_needs_both_a_large_gap_and_enough_dials():
    # Half the pool's rate on plenty of dials: rested.
    assert health.compare(100, 5, 200, 60, min_dials=50, ratio=0.5).well_below
    # The same rates on too few dials: not enough to tell.
    assert not health.compare(20, 1, 200, 60, min_dials=50, ratio=0.5).well_below
    # A small gap on many dials is significant, but not a label's cut: left alone.
    assert not health.compare(5000, 1300, 10000, 3000, min_dials=50, ratio=0.5).well_below
