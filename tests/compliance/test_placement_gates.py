"""Every calling rule holds at the instant the carrier is asked, on every path, with a frozen
clock: a call that waited (for a CPS slot, through 429s, in the reaper's hands) is checked again
immediately before its request, and a refused one is never sent and loses its contact nothing."""
from __future__ import annotations

import itertools
from datetime import datetime, time as dtime, timedelta, timezone

import pytest
from tests.helpers import connect_audio


WED_10_DC = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)  # Wednesday, 10:00 in New York


_names = itertools.count(1)


@pytest.fixture
def sim(placing_sim):
    return placing_sim


def _campaign(**fields) -> int:
    from app.campaigns.models import Campaign
    from app.extensions import db

    values = dict(name=f"gates-{next(_names)}", status="active", dial_mode="progressive",
                  caller_id="+12025550100", seller_name="Acme", seller_phone="+12025550199",
                  safe_harbour_message="Acme, 202 555 0199.", ring_timeout_seconds=20,
                  window_start=dtime(8, 0), window_end=dtime(21, 0), max_attempts=3)
    values.update(fields)
    campaign = Campaign(**values)
    db.session.add(campaign)
    db.session.commit()
    return campaign.id


def _contact(campaign_id: int, phone: str, *, timezone_name=None, region=None) -> int:
    from app.common.phones import contact_timezone, zones_agree
    from app.contacts.models import Contact
    from app.extensions import db

    zone = contact_timezone(phone, timezone_name, region)
    contact = Contact(campaign_id=campaign_id, phone_e164=phone, timezone=zone, region=region,
                      zones_agree=zones_agree(zone, phone, region))
    db.session.add(contact)
    db.session.commit()
    return contact.id


def _attempt(campaign_id: int, contact_id: int, at: datetime) -> int:
    from app.dialer.attempts import try_attempt

    call_id, held = try_attempt(campaign_id, contact_id, now=at)
    assert held is None and call_id is not None, held
    return call_id


def _state(contact_id: int, call_id: int):
    from app.calls.models import Call
    from app.contacts.models import Contact
    from app.extensions import db

    db.session.rollback()
    contact = db.session.get(Contact, contact_id)
    return contact, db.session.get(Call, call_id)


def test_a_number_put_on_the_do_not_call_list_while_its_placement_waits_on_429s_is_never_sent(ctx, sim):
    from app.calls import placement
    from app.dnc.services import add_to_dnc
    from app.extensions import db

    campaign_id = _campaign()
    contact_id = _contact(campaign_id, "+12025550181")
    call_id = _attempt(campaign_id, contact_id, WED_10_DC)
    sim.engine.update_config({"rate_limit_probability": 1.0})
    assert placement.place_call(call_id, now=WED_10_DC).outcome == "rate_limited"
    assert placement.place_call(call_id, now=WED_10_DC + timedelta(seconds=1)).outcome == "rate_limited"
    add_to_dnc("+12025550181", source="manual", reason="asked not to be called")
    db.session.commit()
    sim.engine.update_config({"rate_limit_probability": 0.0})  # the carrier would take it now
    result = placement.place_call(call_id, now=WED_10_DC + timedelta(seconds=3))
    assert (result.outcome, result.error) == ("held", "do_not_call")
    assert sim.calls("+12025550181") == []  # never created at the carrier (the 429s created nothing)
    contact, call = _state(contact_id, call_id)
    assert call is None  # the attempt never reached the carrier: no call record
    assert (contact.attempts, contact.status) == (0, "new")  # its attempt given back


def test_a_contact_whose_window_closes_during_the_wait_is_not_sent_and_waits_for_the_next_opening(ctx, sim):
    from app.calls import placement
    from app.common.redis import get_redis

    campaign_id = _campaign()
    contact_id = _contact(campaign_id, "+12025550182")  # New York
    queued_at = datetime(2026, 12, 3, 1, 55, tzinfo=timezone.utc)  # 20:55 in New York
    call_id = _attempt(campaign_id, contact_id, queued_at)
    sim.engine.update_config({"rate_limit_probability": 1.0})
    assert placement.place_call(call_id, now=queued_at).outcome == "rate_limited"
    sim.engine.update_config({"rate_limit_probability": 0.0})
    # 20:59:50: inside the window, but the 20-second ring would run past 21:00.
    result = placement.place_call(call_id, now=queued_at + timedelta(minutes=4, seconds=50))
    assert (result.outcome, result.error) == ("held", "calling_window_closing")
    assert sim.calls("+12025550182") == []
    contact, call = _state(contact_id, call_id)
    assert call is None and contact.attempts == 0
    assert contact.next_due_at == datetime(2026, 12, 3, 13, 0, tzinfo=timezone.utc)  # 08:00 next morning
    assert get_redis().hget(f"dq:{campaign_id}:held_at_dial", "calling_window_closing") == "1"


def test_a_stopped_campaign_s_waiting_placements_are_not_sent(ctx, sim):
    from app.calls import placement
    from app.campaigns.models import Campaign
    from app.extensions import db

    campaign_id = _campaign()
    contact_id = _contact(campaign_id, "+12025550183")
    call_id = _attempt(campaign_id, contact_id, WED_10_DC)
    sim.engine.update_config({"rate_limit_probability": 1.0})
    assert placement.place_call(call_id, now=WED_10_DC).outcome == "rate_limited"
    db.session.get(Campaign, campaign_id).status = "stopped"
    db.session.commit()
    sim.engine.update_config({"rate_limit_probability": 0.0})
    result = placement.place_call(call_id, now=WED_10_DC + timedelta(seconds=3))
    assert (result.outcome, result.error) == ("held", "campaign_not_active")
    assert sim.calls("+12025550183") == []


def test_an_australian_mobile_is_not_called_at_05_30_in_perth(ctx, sim):
    from app.calls import placement

    campaign_id = _campaign()
    mobile = "+61491570156"  # ACMA's fictional mobile range: anywhere in Australia
    contact_id = _contact(campaign_id, mobile)
    # 05:30 in Perth is 08:30 in Sydney (summer): Sydney's window is open, Perth's is not.
    perth_0530 = datetime(2026, 12, 2, 21, 30, tzinfo=timezone.utc)
    call_id = _attempt_or_none(campaign_id, contact_id, perth_0530)
    if call_id is not None:  # (the attempt's own gate refuses it already; placement would too)
        assert placement.place_call(call_id, now=perth_0530).outcome == "held"
    assert sim.calls(mobile) == []
    perth_1000 = perth_0530 + timedelta(hours=4, minutes=30)  # 13:00 in Sydney, 13:30 on Lord Howe
    call_id = _attempt(campaign_id, contact_id, perth_1000)
    assert placement.place_call(call_id, now=perth_1000).outcome == "placed"


def test_a_new_york_number_whose_contact_says_london_is_not_called_at_06_55_new_york_time(ctx, sim):
    from app.calls import placement

    campaign_id = _campaign()
    contact_id = _contact(campaign_id, "+12025550184", timezone_name="Europe/London")
    ny_0655 = datetime(2026, 12, 2, 11, 55, tzinfo=timezone.utc)  # 11:55 in London
    from app.calls.models import Call
    from app.extensions import db

    # A call queued the day before (at 20:00 London, 15:00 New York), placed after a long wait: refused.
    call_id = _attempt(campaign_id, contact_id, datetime(2026, 12, 1, 20, 0, tzinfo=timezone.utc))
    result = placement.place_call(call_id, now=ny_0655)
    assert (result.outcome, result.error) == ("held", "outside_calling_window")
    assert sim.calls("+12025550184") == [] and db.session.get(Call, call_id) is None
    # Nor is a new attempt made then; the contact waits for 08:00 in New York.
    assert _attempt_or_none(campaign_id, contact_id, ny_0655) is None
    contact, _ = _state(contact_id, call_id)
    assert contact.next_due_at == datetime(2026, 12, 2, 13, 0, tzinfo=timezone.utc)


def test_an_agent_s_own_dial_refused_at_placement_frees_the_agent(ctx, sim, users):
    from app.agents import services as agent_services, state as agent_state
    from app.auth.models import User
    from app.calls import placement
    from app.campaigns.models import CampaignAssignment
    from app.dialer.attempts import try_attempt
    from app.dnc.services import add_to_dnc
    from app.extensions import db
    from app.agents.reservations import reserve_agent

    agent = users.create("agent")
    campaign_id = _campaign(dial_mode="preview")
    db.session.add(CampaignAssignment(campaign_id=campaign_id, user_id=agent.id, role="agent"))
    db.session.commit()
    contact_id = _contact(campaign_id, "+12025550185")
    connect_audio(agent.id)
    agent_services.set_own_state(db.session.get(User, agent.id), "ready", campaign_id=campaign_id)
    call_id, held = try_attempt(campaign_id, contact_id, now=WED_10_DC, kind="preview", agent_id=agent.id)
    assert held is None
    assert reserve_agent(campaign_id, call_id, prefer=agent.id) == agent.id
    add_to_dnc("+12025550185", source="manual", reason="asked not to be called")
    db.session.commit()
    assert placement.place_call(call_id, now=WED_10_DC).outcome == "held"
    assert agent_state.snapshot(agent.id)["state"] == "ready"


def _attempt_or_none(campaign_id: int, contact_id: int, at: datetime) -> int | None:
    from app.dialer.attempts import try_attempt

    return try_attempt(campaign_id, contact_id, now=at)[0]


def test_a_foreign_number_s_state_and_postcode_are_not_read_as_a_us_address(ctx):
    """ "WA" with an Australian mobile is Western Australia, not Washington: it neither places
    the callee in Los Angeles's zone nor narrows the mobile to one; 28001 is Madrid."""
    from app.campaigns.models import Campaign
    from app.compliance.checks import assess
    from app.contacts.models import Contact

    campaign = db_get(Campaign, _campaign())
    aussie = Contact(campaign_id=campaign.id, phone_e164="+61491570156", region="WA")
    perth_0530 = datetime(2026, 12, 2, 21, 30, tzinfo=timezone.utc)
    verdict = assess(campaign, aussie.phone_e164, aussie, perth_0530, ring_seconds=20)
    assert not verdict.callable and "Australia/Perth" in verdict.zones
    assert verdict.jurisdictions == [] and "America/Los_Angeles" not in verdict.zones
    madrid = Contact(campaign_id=campaign.id, phone_e164="+34612345678", postal_code="28001")
    verdict = assess(campaign, madrid.phone_e164, madrid, datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc),
                     ring_seconds=20)  # 11:00 in Madrid, 10:00 in the Canaries
    assert verdict.callable and verdict.zones == ["Atlantic/Canary", "Europe/Madrid"]


def db_get(model, ident):
    from app.extensions import db

    return db.session.get(model, ident)
