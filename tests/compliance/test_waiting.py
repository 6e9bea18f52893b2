"""A contact the rules refuse waits; it never comes round at every refill and starves the rest.
And the rules that decide a callback's time are the rules that will decide its call."""
from __future__ import annotations

from datetime import datetime, time as dtime, timedelta, timezone

from sqlalchemy import text

from app.extensions import db
from tests.dialer.test_disposition import connected  # noqa: F401 - fixture: an agent talking to a contact

WED_10_DC = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)


def _campaign(**fields) -> int:
    from app.campaigns.models import Campaign

    values = dict(name=f"waiting-{len(fields)}-{sorted(fields)}", status="active", dial_mode="progressive",
                  caller_id="+12025550100", seller_name="Acme", seller_phone="+12025550199",
                  safe_harbour_message="Acme, 202 555 0199.", window_start=dtime(8), window_end=dtime(21),
                  scrub_national_registry=False)  # not these tests' subject
    values.update(fields)
    campaign = Campaign(**values)
    db.session.add(campaign)
    db.session.commit()
    return campaign.id


def test_contacts_refused_for_want_of_consent_wait_and_the_others_are_dialled(ctx):
    from app.contacts import consents
    from app.contacts.models import Contact
    from app.dialer.attempts import try_attempt
    from app.dialer.hopper import Hopper
    from app.dialer.refill import refill
    from app.common.redis import get_redis

    campaign_id = _campaign(required_consent="prior_express")
    without = [Contact(campaign_id=campaign_id, phone_e164=f"+1202555{i:04d}", timezone="America/New_York",
                       zones_agree=True) for i in range(60)]
    db.session.add_all(without)
    db.session.flush()
    consenting = Contact(campaign_id=campaign_id, phone_e164="+12025559999", timezone="America/New_York",
                         zones_agree=True)
    db.session.add(consenting)
    db.session.flush()
    consents.record_consent(consenting, "prior_express", WED_10_DC - timedelta(days=30), "web form")
    db.session.commit()
    hopper = Hopper(get_redis())
    refill(campaign_id, now=WED_10_DC)
    queued = hopper.claim(campaign_id, 100, 60, WED_10_DC.timestamp())
    assert consenting.id not in queued  # the first refill took the first fifty, by id
    for contact_id in queued:
        assert try_attempt(campaign_id, contact_id, now=WED_10_DC) == (None, "consent_required")
    refill(campaign_id, now=WED_10_DC + timedelta(seconds=5))
    queued = hopper.claim(campaign_id, 100, 60, WED_10_DC.timestamp() + 5)
    assert consenting.id in queued  # the refused ones wait: the rest are reached
    call_id, held = try_attempt(campaign_id, consenting.id, now=WED_10_DC + timedelta(seconds=5))
    assert held is None and call_id is not None
    waiting = db.session.get(Contact, without[0].id)
    assert waiting.next_due_at == WED_10_DC + timedelta(days=1)
    consents.record_consent(waiting, "prior_express", WED_10_DC, "call")  # consent comes in
    db.session.commit()
    assert db.session.get(Contact, waiting.id).next_due_at is None  # and it may be called again


def test_the_frequency_cap_counts_one_placement_at_a_time_per_number(app):
    """The count of a seller's calls to a capped number is taken under a per-number lock that
    lasts to the end of the placement's transaction, so two workers cannot both count two."""
    from app.compliance import checks

    with app.app_context():
        checks.seller_calls_last_24h("+13055550150", "Acme", WED_10_DC)  # holds the lock, uncommitted
        with db.engine.connect() as other:  # a second worker, on its own connection
            taken = other.execute(text("SELECT pg_try_advisory_xact_lock(hashtext(:n))"),
                                  {"n": "+13055550150"}).scalar()
            assert taken is False
            assert other.execute(text("SELECT pg_try_advisory_xact_lock(hashtext(:n))"),
                                 {"n": "+13055550151"}).scalar() is True  # another number: free
        db.session.rollback()


def test_an_instant_out_of_range_is_refused_with_the_field_named(login_as):
    admin = login_as("admin")
    for at in ("0001-01-01T03:00:00Z", "9999-12-31T23:00:00-05:00"):
        response = admin.get(f"/api/compliance/check?phone=%2B12025550100&campaign_id=1&at={at}")
        assert response.status_code == 422 and "at" in response.get_json()["error"]["fields"]


def test_a_callback_on_an_alabama_sunday_is_refused_with_the_state_s_reason(ctx):
    from app.campaigns.models import Campaign
    from app.contacts.models import Contact
    from app.interactions.services import callback_problems

    campaign = db.session.get(Campaign, _campaign(dial_mode="preview"))
    contact = Contact(campaign_id=campaign.id, phone_e164="+12055550160", timezone="America/Chicago")
    db.session.add(contact)
    db.session.flush()
    sunday_2pm = datetime(2026, 12, 6, 20, 0, tzinfo=timezone.utc)
    problems = callback_problems(contact, campaign, sunday_2pm, WED_10_DC)
    assert problems and "Sunday" in " ".join(problems)
    assert problems[-1] == "The next allowed time is 2026-12-07T14:00:00+00:00."
    assert callback_problems(contact, campaign, sunday_2pm + timedelta(days=1), WED_10_DC) == []


def test_offered_callback_slots_follow_the_state_s_rules_and_each_is_accepted(app, connected):  # noqa: F811
    """Slots skip what the contact's state forbids (an Alabama Sunday), and every slot offered
    is one the disposition check accepts."""
    from zoneinfo import ZoneInfo

    from app.auth.models import User
    from app.calls.models import Call
    from app.campaigns.models import Campaign
    from app.contacts.models import Contact
    from app.interactions.services import callback_problems
    from app.web.callback_slots import callback_slots

    console, campaign_id, call_id, _, interaction_id = connected
    saturday_noon = datetime(2026, 12, 5, 18, 0, tzinfo=timezone.utc)  # 12:00 in Birmingham
    with app.app_context():
        contact = db.session.get(Contact, db.session.get(Call, call_id).contact_id)
        contact.phone_e164, contact.timezone, contact.region = "+12055550177", "America/Chicago", "AL"
        db.session.commit()
        agent = db.session.get(User, console.user.id)
        slots = callback_slots(agent, interaction_id, now=saturday_noon)["slots"]
        assert slots
        local_days = {s.astimezone(ZoneInfo("America/Chicago")).strftime("%A") for s in slots}
        assert "Sunday" not in local_days and {"Saturday", "Monday"} <= local_days
        campaign = db.session.get(Campaign, campaign_id)
        contact = db.session.get(Contact, contact.id)
        assert all(callback_problems(contact, campaign, s, saturday_noon) == [] for s in slots)
        db.session.rollback()


def test_the_cap_counts_a_call_from_when_the_carrier_started_it_not_from_when_it_was_queued(ctx):
    """A call queued 24 h 10 min ago that waited through 429s and was started 23 h 50 min ago
    still counts: the window frees when the call leaves it, not when its attempt was made."""
    from app.calls.models import Call
    from app.compliance import checks

    campaign_id = _campaign(scrub_national_registry=False)
    for i in range(3):
        db.session.add(Call(campaign_id=campaign_id, to_number="+13055550170", from_number="+12025550100",
                            call_sid=f"CA{i:032d}", status="completed",
                            queued_at=WED_10_DC - timedelta(hours=24, minutes=10),
                            initiated_at=WED_10_DC - timedelta(hours=23, minutes=50)))
    db.session.commit()
    count, oldest = checks.seller_calls_last_24h("+13055550170", "Acme", WED_10_DC)
    assert (count, oldest) == (3, WED_10_DC - timedelta(hours=23, minutes=50))
    db.session.rollback()
