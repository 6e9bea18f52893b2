"""Campaign and contact factories for dialer tests."""
from datetime import time

import pytest

from app.campaigns.models import Campaign
from app.contacts.models import Contact
from app.extensions import db


@pytest.fixture
def make_campaign(ctx):
    def _make(**overrides) -> Campaign:
        values = dict(name=f"Campaign {overrides.get('name_suffix', '')}{id(overrides)}",
                      status="active", dial_mode="progressive", caller_id="+12125550000",
                      seller_name="Acme Solar", seller_phone="+12125550001",
                      safe_harbour_message="This is Acme Solar. Call us back at 212 555 0001.",
                      window_start=time(8, 0), window_end=time(21, 0), max_attempts=3,
                      scrub_national_registry=False)  # no registry copy in these tests
        overrides.pop("name_suffix", None)
        values.update(overrides)
        campaign = Campaign(**values)
        db.session.add(campaign)
        db.session.commit()
        return campaign

    return _make


@pytest.fixture
def make_contacts(ctx):
    def _make(campaign: Campaign, phones: list[str], **fields) -> list[Contact]:
        contacts = [Contact(campaign_id=campaign.id, phone_e164=p, **fields) for p in phones]
        db.session.add_all(contacts)
        db.session.commit()
        return contacts

    return _make
