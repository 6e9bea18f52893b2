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
