"""a manual dial whose check at dial passes but whose placement refuses (the
calling window closed between the two, say) must leave no contact the dialer calls later."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.calls.placement import place_call
from app.common.redis import get_redis
from app.contacts.models import Contact
from app.dialer.hopper import ready_key
from app.dialer.refill import refill
from app.extensions import db
from tests.dialer.test_manual_dial import predictive  # noqa: F401  (fixture)
from tests.zones import number_in_zone, zone_in_calling_hours


def _local_hour(zone: str, start: datetime, hour: int) -> datetime:
    at = start
    while at.astimezone(ZoneInfo(zone)).hour != hour:
        at += timedelta(minutes=30)
    return at


def test_manual_dial_refused_at_placement_leaves_no_contact_the_dialer_calls(app, predictive, sent_tasks):  # noqa: F811
    console, campaign_id = predictive
    assert console.post("/api/agents/me/state", json={"state": "paused", "campaign_id": campaign_id,
                                                      "pause_code": "break"}).status_code == 200
    zone = zone_in_calling_hours()
    number = number_in_zone(zone, 4321)
    dialled = console.post(f"/api/campaigns/{campaign_id}/manual-dial", json={"phone": number})
    assert dialled.status_code == 202, dialled.get_json()
    call_id = dialled.get_json()["call_id"]
    now = datetime.now(timezone.utc)
    late = _local_hour(zone, now, 23)           # the window closed before the worker placed it
    with app.app_context():
        assert place_call(call_id, now=late).outcome == "held"
        contact = db.session.scalar(select(Contact).where(Contact.campaign_id == campaign_id,
                                                          Contact.phone_e164 == number))
        leftover = None if contact is None else (contact.status, contact.attempts, contact.next_due_at,
                                                 contact.custom_fields)
        # The next morning the refill queues it for the predictive dialer: an autodialled call
        # to a number an agent typed and was never connected to.
        morning = _local_hour(zone, late, 11)
        refill(campaign_id, agents_signed_in=6, now=morning)
        queued = [int(i) for i in get_redis().zrange(ready_key(campaign_id), 0, -1)]
        assert contact is None, f"manual-dial contact left behind: {leftover}; queued next morning: {contact.id in queued}"


def test_an_unanswered_manual_dial_is_not_left_for_the_dialer_to_autodial(app, predictive, sent_tasks):  # noqa: F811
    """Lower severity (beyond the issue's literal 'refused' case): a number typed by an agent that
    did not answer becomes a nameless 'retry' contact which the predictive dialer autodials."""
    from app.calls.models import Call
    from app.dialer.call_end import on_call_finished

    console, campaign_id = predictive
    console.post("/api/agents/me/state", json={"state": "paused", "campaign_id": campaign_id, "pause_code": "break"})
    zone = zone_in_calling_hours()
    number = number_in_zone(zone, 4322)
    dialled = console.post(f"/api/campaigns/{campaign_id}/manual-dial", json={"phone": number})
    assert dialled.status_code == 202, dialled.get_json()
    now = datetime.now(timezone.utc)
    with app.app_context():
        call = db.session.get(Call, dialled.get_json()["call_id"])
        call.status, call.outcome, call.ended_at = "no-answer", "no-answer", now
        on_call_finished(call, outcome="no-answer", at=now)
        db.session.commit()
        contact = db.session.scalar(select(Contact).where(Contact.phone_e164 == number))
        later = _local_hour(zone, now + timedelta(days=1), 11)
        refill(campaign_id, agents_signed_in=6, now=later)
        queued = [int(i) for i in get_redis().zrange(ready_key(campaign_id), 0, -1)]
        assert contact.id not in queued, (contact.status, contact.first_name, contact.custom_fields)


def test_a_hand_dialled_number_a_list_brings_later_becomes_that_lists_lead(app, login_as, campaigns, upload_dir):
    """Left alone, a number dialled by hand and then uploaded would stay the hand-made contact:
    never dialled on its own, and beyond the list's reach."""
    from tests.foundation.test_csv_exports import _import

    cid = campaigns.create()
    with app.app_context():
        hand = Contact(campaign_id=cid, phone_e164="+12125550188", status="retry", attempts=1,
                       timezone="America/New_York", custom_fields={"source": "manual dial"})
        db.session.add(hand)
        db.session.commit()
        hand_id = hand.id
    job_id = _import(app, login_as("admin"), cid, "phone,first_name,plan\n2125550188,Grace,gold\n")
    with app.app_context():
        contact = db.session.get(Contact, hand_id)
        assert (contact.import_job_id, contact.first_name, contact.custom_fields) == (job_id, "Grace", {"plan": "gold"})
        assert db.session.scalar(select(func.count()).select_from(Contact).where(Contact.campaign_id == cid)) == 1
