"""Refill picks only contacts that may be called now; the moment of dialling re-checks it all."""
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from app.calls.models import Call
from app.common.redis import get_redis
from app.compliance import gates
from app.dialer.attempts import held_at_dial_key, start_attempt
from app.dialer.hopper import Hopper
from app.contacts.attempts import apply_call_outcome
from app.dialer.refill import refill
from app.dnc.models import DncEntry
from app.extensions import db

UTC = timezone.utc
NOON_NY = datetime(2026, 7, 15, 16, 0, tzinfo=UTC)   # 12:00 New York, 09:00 Los Angeles
EARLY = datetime(2026, 7, 15, 11, 0, tzinfo=UTC)     # 07:00 New York


def test_refill_queues_dialable_contacts_in_priority_order(make_campaign, make_contacts):
    campaign = make_campaign()
    new = make_contacts(campaign, ["+12125550101", "+12125550102"], timezone="America/New_York")
    retry = make_contacts(campaign, ["+12125550103"], timezone="America/New_York", status="retry",
                          attempts=1, next_due_at=NOON_NY - timedelta(minutes=5))
    callback = make_contacts(campaign, ["+12125550104"], timezone="America/New_York",
                             status="callback", attempts=1, next_due_at=NOON_NY - timedelta(minutes=1))
    result = refill(campaign.id, now=NOON_NY)
    assert result["added"] == 4
    claimed = Hopper(get_redis()).claim(campaign.id, 10, lease_seconds=30)
    assert claimed == [callback[0].id, new[0].id, new[1].id, retry[0].id]


def test_refill_holds_back_each_ineligible_contact_with_its_reason(make_campaign, make_contacts):
    campaign = make_campaign()
    make_contacts(campaign, ["+12125550111"], timezone="America/New_York")               # ok
    make_contacts(campaign, ["+13105550112"], timezone="America/Los_Angeles")            # 09:00: ok
    make_contacts(campaign, ["+12125550113"], timezone="Pacific/Honolulu")               # 06:00: window
    make_contacts(campaign, ["+12125550114"], timezone="America/New_York")               # DNC
    make_contacts(campaign, ["+12125550115"], timezone="America/New_York", status="retry", attempts=3)
    make_contacts(campaign, ["+12125550116"], timezone="America/New_York", status="retry", attempts=1,
                  next_due_at=NOON_NY + timedelta(hours=1))
    make_contacts(campaign, ["+12125550117"], timezone="America/New_York", status="done")
    db.session.add(DncEntry(phone_e164="+12125550114", campaign_id=campaign.id))
    db.session.commit()
    result = refill(campaign.id, now=NOON_NY)
    assert result["added"] == 2
    assert result["held_back"] == {gates.OUTSIDE_WINDOW: 1, gates.ON_DNC: 1, gates.MAX_ATTEMPTS: 1,
                                   gates.RETRY_NOT_DUE: 1}


def test_contacts_of_unknown_zone_held_by_the_hour_never_stall_the_others(make_campaign, make_contacts):
    """Sixty toll-free contacts (no zone: a toll-free number may ring anywhere from Newfoundland
    to Guam, and the window is open in all of those zones for about two hours a day) sit first
    in the queue's order; at noon in New York they are held, and the New York contacts behind
    them are queued all the same."""
    campaign = make_campaign()
    make_contacts(campaign, [f"+1800555{i:04d}" for i in range(60)], timezone=None)
    new_york = make_contacts(campaign, [f"+1212555{i:04d}" for i in range(5)], timezone="America/New_York")
    result = refill(campaign.id, now=NOON_NY)
    assert result["added"] == 5
    assert result["held_back"] == {gates.OUTSIDE_WINDOW: 60}
    assert set(Hopper(get_redis()).claim(campaign.id, 100, lease_seconds=30)) == {c.id for c in new_york}
    # 18:30 in New York: 20:00 in St John's, 12:30 in Honolulu, 08:30 next morning in Guam.
    assert refill(campaign.id, now=NOON_NY + timedelta(hours=6, minutes=30))["added"] == 50  # its depth


def test_a_number_in_two_zones_waits_for_the_window_in_both(make_campaign, make_contacts):
    """208 is Mountain (Boise) and Pacific (the panhandle): 08:30 in Boise is 07:30 in Coeur
    d'Alene, too early; an hour later it is callable in both."""
    campaign = make_campaign()
    idaho = make_contacts(campaign, ["+12085550100"], timezone=None)
    boise_0830 = datetime(2026, 7, 15, 14, 30, tzinfo=UTC)
    assert refill(campaign.id, now=boise_0830)["added"] == 0
    assert start_attempt(campaign.id, idaho[0].id, now=boise_0830) is None  # and at the dial
    assert get_redis().hget(held_at_dial_key(campaign.id), gates.OUTSIDE_WINDOW) == "1"
    assert refill(campaign.id, now=boise_0830 + timedelta(hours=1))["added"] == 1


def test_a_partly_full_queue_is_topped_up_to_its_depth(make_campaign, make_contacts):
    campaign = make_campaign()
    make_contacts(campaign, [f"+1212556{i:04d}" for i in range(120)], timezone="America/New_York")
    assert refill(campaign.id, now=NOON_NY)["added"] == 50
    Hopper(get_redis()).claim(campaign.id, 20, lease_seconds=30)  # in flight: still counted
    assert refill(campaign.id, now=NOON_NY)["added"] == 0
    Hopper(get_redis()).claim(campaign.id, 10, lease_seconds=-1)  # leases already expired
    Hopper(get_redis()).requeue_expired(campaign.id, now=time.time())
    result = refill(campaign.id, agents_signed_in=3, now=NOON_NY)  # depth 60 now
    assert result["added"] == 10 and result["ready"] + result["leased"] == 60


def test_paused_campaign_is_not_refilled(make_campaign, make_contacts):
    campaign = make_campaign(status="paused")
    make_contacts(campaign, ["+12125550121"], timezone="America/New_York")
    assert refill(campaign.id, now=NOON_NY)["added"] == 0


def test_start_attempt_creates_one_call_and_counts_the_attempt(make_campaign, make_contacts):
    campaign = make_campaign()
    (contact,) = make_contacts(campaign, ["+12125550131"], timezone="America/New_York")
    call_id = start_attempt(campaign.id, contact.id, now=NOON_NY)
    call = db.session.get(Call, call_id)
    assert (call.attempt_no, call.status, call.to_number, call.from_number) == (
        1, "queued", "+12125550131", campaign.caller_id)
    db.session.refresh(contact)
    assert (contact.attempts, contact.status) == (1, "dialing")
    # the same contact claimed again (a refill race, a redelivered task) is not dialled again
    assert start_attempt(campaign.id, contact.id, now=NOON_NY) is None
    assert db.session.scalar(select(func.count()).select_from(Call)) == 1


def test_dnc_added_after_refill_stops_the_next_dial(make_campaign, make_contacts):
    campaign = make_campaign()
    (contact,) = make_contacts(campaign, ["+12125550141"], timezone="America/New_York")
    refill(campaign.id, now=NOON_NY)
    assert Hopper(get_redis()).claim(campaign.id, 1, lease_seconds=30) == [contact.id]
    db.session.add(DncEntry(phone_e164=contact.phone_e164, campaign_id=None, source="manual"))
    db.session.commit()
    assert start_attempt(campaign.id, contact.id, now=NOON_NY) is None
    assert db.session.scalar(select(func.count()).select_from(Call)) == 0
    assert get_redis().hgetall(held_at_dial_key(campaign.id)) == {gates.ON_DNC: "1"}
    assert Hopper(get_redis()).depth(campaign.id)["leased"] == 0


def test_the_window_is_checked_again_at_the_moment_of_dialling(make_campaign, make_contacts):
    campaign = make_campaign()
    (contact,) = make_contacts(campaign, ["+12125550151"], timezone="America/New_York")
    assert start_attempt(campaign.id, contact.id, now=EARLY) is None
    assert start_attempt(campaign.id, contact.id, now=NOON_NY) is not None


def test_outcomes_schedule_retries_until_max_attempts(make_campaign, make_contacts):
    campaign = make_campaign(max_attempts=2, retry_busy_seconds=600, retry_no_answer_seconds=3600)
    (contact,) = make_contacts(campaign, ["+12125550161"], timezone="America/New_York")
    start_attempt(campaign.id, contact.id, now=NOON_NY)
    apply_call_outcome(contact, campaign, "busy", abandoned=False, now=NOON_NY)
    assert (contact.status, contact.next_due_at) == ("retry", NOON_NY + timedelta(seconds=600))
    db.session.commit()
    # not due yet: held back at the moment of dialling
    assert start_attempt(campaign.id, contact.id, now=NOON_NY + timedelta(seconds=599)) is None
    assert start_attempt(campaign.id, contact.id, now=NOON_NY + timedelta(seconds=600)) is not None
    db.session.refresh(contact)
    apply_call_outcome(contact, campaign, "no-answer", abandoned=False, now=NOON_NY)
    assert (contact.status, contact.attempts, contact.next_due_at) == ("done", 2, None)


def test_a_connected_person_is_left_to_the_disposition(make_campaign, make_contacts):
    campaign = make_campaign()
    (contact,) = make_contacts(campaign, ["+12125550171"], timezone="America/New_York")
    start_attempt(campaign.id, contact.id, now=NOON_NY)
    apply_call_outcome(contact, campaign, "human", abandoned=False, now=NOON_NY)
    assert contact.status == "dialing" and contact.last_outcome == "human"
    apply_call_outcome(contact, campaign, "human", abandoned=True, now=NOON_NY)
    assert contact.status == "retry" and contact.last_outcome == "abandoned"


def test_unknown_zone_contacts_beyond_one_refills_scan_are_reached_by_the_next(
        make_campaign, make_contacts, monkeypatch):
    """More held toll-free contacts than one refill looks at stand in front of a Texan with no
    ZIP code (callable at noon in New York): a later refill goes on from where it stopped."""
    from app.dialer import refill as refill_module

    monkeypatch.setattr(refill_module, "UNKNOWN_ZONE_SCAN", 200)
    campaign = make_campaign()
    make_contacts(campaign, [f"+1800556{i:04d}" for i in range(450)], timezone=None)
    [texan] = make_contacts(campaign, ["+12125559999"], timezone=None, region="TX")
    found = [refill(campaign.id, now=NOON_NY)["added"] for _ in range(3)]
    assert found == [0, 0, 1]
    assert Hopper(get_redis()).claim(campaign.id, 10, lease_seconds=30) == [texan.id]
