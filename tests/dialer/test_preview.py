"""Preview mode: the agent sees the next contact, then dials (held for the call) or skips."""
import pytest

from tests.zones import number_in_zone, zone_in_calling_hours
from sqlalchemy import select

from app.agents import state as agent_state
from app.calls.models import Call
from app.common.redis import get_redis
from app.contacts.models import Contact
from app.dialer.hopper import Hopper, ready_key
from app.dialer.refill import refill
from app.dnc.models import DncEntry
from app.extensions import db
from tests.agents.factories import assign, make_campaign
from tests.helpers import audio_connected


@pytest.fixture
def preview_floor(app, users, signed_in):
    agent = users.create("agent")
    with app.app_context():
        campaign = make_campaign()
        campaign.dial_mode, campaign.status = "preview", "active"
        campaign.window_start, campaign.window_end = campaign.window_start.replace(hour=8), \
            campaign.window_end.replace(hour=21)
        assign(agent.id, campaign.id)
        # Contacts whose own time zone is inside calling hours right now, whatever the hour here.
        zone = zone_in_calling_hours()
        for i in range(3):
            db.session.add(Contact(campaign_id=campaign.id, phone_e164=number_in_zone(zone, i),
                                   first_name=f"Pat{i}", timezone=zone))
        db.session.commit()
        refill(campaign.id)
        campaign_id = campaign.id
    console = signed_in(agent)
    audio_connected(app, console.user.id)
    assert console.post("/api/agents/me/state", json={"state": "ready", "campaign_id": campaign_id}).status_code == 200
    return console, campaign_id


def test_next_then_dial_holds_the_agent_for_that_call(app, preview_floor):
    console, campaign_id = preview_floor
    contact = console.post(f"/api/campaigns/{campaign_id}/preview/next").get_json()["contact"]
    assert contact["first_name"] == "Pat0"
    dialled = console.post(f"/api/campaigns/{campaign_id}/preview/{contact['id']}/dial")
    assert dialled.status_code == 202, dialled.get_json()
    with app.app_context():
        call = db.session.get(Call, dialled.get_json()["call_id"])
        assert (call.kind, call.agent_id, call.contact_id, call.status) == (
            "preview", console.user.id, contact["id"], "queued")
        snap = agent_state.snapshot(console.user.id)
        assert (snap["state"], snap["call_id"]) == ("reserved", call.id)
    # held for that call: no second preview dial meanwhile
    second = console.post(f"/api/campaigns/{campaign_id}/preview/next")
    assert second.status_code == 409


def test_skip_puts_the_contact_back_for_later(app, preview_floor):
    console, campaign_id = preview_floor
    contact = console.post(f"/api/campaigns/{campaign_id}/preview/next").get_json()["contact"]
    assert console.post(f"/api/campaigns/{campaign_id}/preview/{contact['id']}/skip").status_code == 204
    with app.app_context():
        assert db.session.get(Contact, contact["id"]).next_due_at is not None
        assert Hopper(get_redis()).depth(campaign_id)["leased"] == 0
    following = console.post(f"/api/campaigns/{campaign_id}/preview/next").get_json()["contact"]
    assert following["id"] != contact["id"]


def test_a_contact_left_on_screen_past_its_lease_goes_back_to_the_queue(app, preview_floor):
    """An agent who walks away from a previewed contact does not take it out of the campaign:
    once the lease runs out, the pacing tick (which dials nothing in preview) puts it back."""
    from datetime import timedelta

    from app.common.timeutil import utcnow
    from app.dialer.preview import PREVIEW_LEASE_SECONDS
    from app.dialer.tick import pacing_tick

    console, campaign_id = preview_floor
    contact = console.post(f"/api/campaigns/{campaign_id}/preview/next").get_json()["contact"]
    with app.app_context():
        hopper = Hopper(get_redis())
        assert pacing_tick(campaign_id) == 0
        depth = hopper.depth(campaign_id)
        assert (depth["ready"], depth["leased"]) == (2, 1)
        later = utcnow() + timedelta(seconds=PREVIEW_LEASE_SECONDS + 1)
        assert pacing_tick(campaign_id, now=later) == 0
        depth = hopper.depth(campaign_id)
        assert (depth["ready"], depth["leased"]) == (3, 0)
        assert get_redis().zscore(ready_key(campaign_id), contact["id"]) is not None


def test_dnc_added_after_preview_refuses_the_dial(app, preview_floor):
    console, campaign_id = preview_floor
    contact = console.post(f"/api/campaigns/{campaign_id}/preview/next").get_json()["contact"]
    with app.app_context():
        db.session.add(DncEntry(phone_e164=contact["phone_e164"], campaign_id=campaign_id))
        db.session.commit()
    refused = console.post(f"/api/campaigns/{campaign_id}/preview/{contact['id']}/dial")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_dialable"
    with app.app_context():
        assert db.session.scalar(select(Call).where(Call.contact_id == contact["id"])) is None
        assert agent_state.snapshot(console.user.id)["state"] == "ready"


def test_preview_rules(app, preview_floor, users, signed_in):
    console, campaign_id = preview_floor
    stranger = signed_in(users.create("agent"))
    assert stranger.post(f"/api/campaigns/{campaign_id}/preview/next").status_code == 404
    console.post("/api/agents/me/state", json={"state": "offline"})
    assert console.post(f"/api/campaigns/{campaign_id}/preview/next").status_code == 409


def test_manual_dial_passes_the_same_gates(app, preview_floor):
    console, campaign_id = preview_floor
    bad = console.post(f"/api/campaigns/{campaign_id}/manual-dial", json={"phone": "12"})
    assert bad.status_code == 422 and "phone" in bad.get_json()["error"]["fields"]
    with app.app_context():
        db.session.add(DncEntry(phone_e164="+12025550999", campaign_id=None))
        db.session.commit()
    refused = console.post(f"/api/campaigns/{campaign_id}/manual-dial", json={"phone": "+1 202 555 0999"})
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    # Refused for the do-not-call list, and told so (not a window that happens to be shut).
    assert error["fields"] == {"reason": ["do_not_call"]} and "do-not-call" in error["message"]
    with app.app_context():  # a contact of the campaign, in calling hours where it lives
        number = db.session.scalar(select(Contact.phone_e164).where(Contact.campaign_id == campaign_id)
                                   .order_by(Contact.id).offset(1).limit(1))
    existing = console.post(f"/api/campaigns/{campaign_id}/manual-dial", json={"phone": number})
    assert existing.status_code == 202, existing.get_json()
    with app.app_context():
        call = db.session.get(Call, existing.get_json()["call_id"])
        assert (call.kind, call.to_number, call.agent_id) == ("manual", number, console.user.id)


def test_an_empty_preview_says_when_a_contact_it_could_dial_falls_due(app, preview_floor):
    """"More is due at ..." counts only contacts the queue would take: not a number dialled by
    hand, one on a do-not-call list, or one out of attempts; a real retry's time is what shows."""
    from datetime import timedelta

    from app.common.timeutil import utcnow
    from app.contacts.models import MANUAL_DIAL_SOURCE

    console, campaign_id = preview_floor
    zone = zone_in_calling_hours()
    with app.app_context():
        Hopper(get_redis()).remove(campaign_id, [int(i) for i in get_redis().zrange(ready_key(campaign_id), 0, -1)])
        for contact in db.session.scalars(select(Contact).where(Contact.campaign_id == campaign_id)):
            contact.status = "done"
        due_soon = utcnow() + timedelta(hours=2)
        db.session.add_all([
            Contact(campaign_id=campaign_id, phone_e164=number_in_zone(zone, 10), timezone=zone,
                    custom_fields={"source": MANUAL_DIAL_SOURCE}),
            Contact(campaign_id=campaign_id, phone_e164=number_in_zone(zone, 11), timezone=zone),
            Contact(campaign_id=campaign_id, phone_e164=number_in_zone(zone, 12), timezone=zone,
                    attempts=3),
            Contact(campaign_id=campaign_id, phone_e164=number_in_zone(zone, 13), timezone=zone,
                    status="retry", next_due_at=due_soon),
        ])
        db.session.add(DncEntry(phone_e164=number_in_zone(zone, 11), campaign_id=None))
        db.session.commit()
    answer = console.post(f"/api/campaigns/{campaign_id}/preview/next").get_json()
    assert answer["contact"] is None
    from datetime import datetime

    assert abs(datetime.fromisoformat(answer["next_due_at"]) - due_soon) < timedelta(seconds=1)
    with app.app_context():  # and with that retry gone too, nothing is due at all
        db.session.execute(Contact.__table__.update().where(Contact.phone_e164 == number_in_zone(zone, 13))
                           .values(status="done"))
        db.session.commit()
    assert console.post(f"/api/campaigns/{campaign_id}/preview/next").get_json()["next_due_at"] is None
