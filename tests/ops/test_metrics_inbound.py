"""Audit of issue 21: calls to our numbers are no outbound calls answered by a person, so the
exported abandonment rate (the law's 3%) must not count them, as the reports and the pacer do not."""
from __future__ import annotations

import secrets

import pytest

from tests.ops.test_metrics import _campaign, scrape, value


def test_calls_to_our_numbers_do_not_dilute_the_exported_abandon_rate(app, client):
    from app.calls.models import Call
    from app.extensions import db

    with app.app_context():
        campaign = _campaign("blend-" + secrets.token_hex(3))
        db.session.add(campaign)
        db.session.flush()
        placed = [Call(campaign_id=campaign.id, to_number="+15550101000", from_number="+15550100000",
                       outcome="human", abandoned=(i == 0)) for i in range(10)]
        to_us = [Call(campaign_id=campaign.id, direction="inbound", kind="inbound", to_number="+15550100000",
                      from_number="+15550101000", outcome="human", answered_by="human") for _ in range(10)]
        db.session.add_all(placed + to_us)
        db.session.commit()
        campaign_id = campaign.id
    samples = scrape(client)
    for window in ("24h", "30d"):
        assert value(samples, "omnivox_abandon_rate", campaign=campaign_id, window=window) == pytest.approx(1 / 10)
        assert value(samples, "omnivox_calls_answered_human", campaign=campaign_id, window=window) == 10


def test_the_exported_abandon_rate_is_the_one_the_pacer_is_held_to(app, client):
    """An abandoned call later read as a machine is no person answer to the governor (the
    stricter reading); the exported rate counts it the same way, over both windows."""
    from app.calls.models import Call
    from app.extensions import db
    from app.kpi.services import abandon_rate_30d

    with app.app_context():
        campaign = _campaign("held-" + secrets.token_hex(3))
        db.session.add(campaign)
        db.session.flush()
        calls = [Call(campaign_id=campaign.id, to_number="+15550101000", from_number="+15550100000",
                      outcome="human") for _ in range(9)]
        calls.append(Call(campaign_id=campaign.id, to_number="+15550101000", from_number="+15550100000",
                          outcome="machine", abandoned=True))
        db.session.add_all(calls)
        db.session.commit()
        campaign_id = campaign.id
        governor = abandon_rate_30d(campaign_id)
    assert governor == (1, 9, pytest.approx(1 / 9))
    samples = scrape(client)
    for window in ("24h", "30d"):
        assert value(samples, "omnivox_calls_abandoned", campaign=campaign_id, window=window) == 1
        assert value(samples, "omnivox_calls_answered_human", campaign=campaign_id, window=window) == 9
        assert value(samples, "omnivox_abandon_rate", campaign=campaign_id, window=window) == pytest.approx(1 / 9)
