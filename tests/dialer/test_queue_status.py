"""GET /api/campaigns/<id>/queue: what a supervisor sees of the dial queue, and who may see it."""
from datetime import datetime, timezone

from app.contacts.models import Contact
from app.compliance import gates
from app.dialer.refill import refill
from app.dnc.models import DncEntry
from app.extensions import db
from tests.agents.factories import assign, make_campaign

NOON_NY = datetime(2026, 7, 15, 16, 0, tzinfo=timezone.utc)  # 12:00 New York, 06:00 Honolulu


def test_a_supervisor_sees_the_depth_and_why_contacts_wait(app, users, signed_in):
    supervisor, agent, stranger = users.create("supervisor"), users.create("agent"), users.create("supervisor")
    with app.app_context():
        campaign = make_campaign()
        campaign.status = "active"
        assign(supervisor.id, campaign.id, role="supervisor")
        assign(agent.id, campaign.id)
        for phone, zone in [("+12125550101", "America/New_York"), ("+12125550102", "America/New_York"),
                            ("+12125550103", "Pacific/Honolulu"), ("+12125550104", "America/New_York"),
                            ("+18005550105", None)]:
            db.session.add(Contact(campaign_id=campaign.id, phone_e164=phone, timezone=zone))
        db.session.add(DncEntry(phone_e164="+12125550104", campaign_id=campaign.id))
        db.session.commit()
        campaign_id = campaign.id
        refill(campaign_id, now=NOON_NY)

    body = signed_in(supervisor).get(f"/api/campaigns/{campaign_id}/queue").get_json()
    assert (body["ready"], body["leased"], body["dialing"]) == (2, 0, 0)
    # Honolulu at 06:00 and the toll-free number (not inside the window in every zone it may
    # ring in) wait for the window; the DNC number is never queued.
    assert body["held_back"] == {gates.OUTSIDE_WINDOW: 2, gates.ON_DNC: 1}
    assert body["status"] == "active" and body["held_at_dial"] == {}

    assert signed_in(agent).get(f"/api/campaigns/{campaign_id}/queue").status_code == 403
    # A supervisor who does not watch this campaign cannot tell it exists.
    refused = signed_in(stranger).get(f"/api/campaigns/{campaign_id}/queue")
    assert refused.status_code == 404 and refused.get_json()["error"]["code"]
