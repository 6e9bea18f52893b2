"""Audit of issue 21: a call to one of our numbers must end in Omnivox as it ends at the carrier.

The carrier tells the end of a call to a number only through that number's StatusCallback; a
number Omnivox points at /twilio/inbound without one leaves every inbound call 'in progress':
the agent is never put into wrap-up by it, the records show it unfinished, and no
call.completed reaches the CRMs."""
from __future__ import annotations

from tests.numbers.test_numbers_api_and_presence import CHICAGO, _pool, admin, campaign, sim  # noqa: F401


def test_a_number_pointed_at_omnivox_also_reports_its_calls_end_there(sim, admin, campaign):
    from app.telephony.factory import get_carrier, webhook_url

    assert _pool(admin, campaign.id, [CHICAGO]).get_json()["carrier_warning"] is None
    [number] = [n for n in get_carrier().list_numbers() if n.phone_number == CHICAGO]
    assert number.status_callback == webhook_url("status")
