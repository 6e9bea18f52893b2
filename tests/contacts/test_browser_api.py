"""The contact browser's API: search by name or number digits, filter by list and status, one
contact with its history, and an edit that is checked and audited."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.calls.models import Call
from app.campaigns.models import DispositionCode
from app.common.timeutil import utcnow
from app.contacts.models import Contact
from app.dnc.models import DncEntry
from app.extensions import db
from app.imports.models import ImportJob
from app.interactions.models import Interaction


@pytest.fixture
def book(app, users, campaigns, login_as):
    supervisor = login_as("supervisor")
    with app.app_context():
        agent = users.create("agent")
        campaign_id = campaigns.create(supervisors=[supervisor.user], agents=[agent])
        job = ImportJob(kind="contacts", campaign_id=campaign_id, filename="may.csv", status="done")
        db.session.add(job)
        db.session.flush()
        ada = Contact(campaign_id=campaign_id, phone_e164="+12025550142", first_name="Ada", last_name="Lovelace",
                      import_job_id=job.id, timezone="America/New_York", status="done", last_outcome="no-answer")
        alan = Contact(campaign_id=campaign_id, phone_e164="+13105550177", first_name="Alan", last_name="Turing",
                       timezone="America/Los_Angeles")
        db.session.add_all([ada, alan])
        db.session.flush()
        code = db.session.scalar(select(DispositionCode).where(DispositionCode.campaign_id == campaign_id,
                                                               DispositionCode.code == "SALE"))
        call = Call(campaign_id=campaign_id, contact_id=ada.id, agent_id=agent.id, to_number=ada.phone_e164,
                    from_number="+12025550123", outcome="human", connected_at=utcnow() - timedelta(hours=1))
        db.session.add(call)
        db.session.flush()
        db.session.add(Interaction(call_id=call.id, campaign_id=campaign_id, contact_id=ada.id, agent_id=agent.id,
                                   talk_seconds=95, disposition_code_id=code.id, notes="Wants the blue plan"))
        db.session.commit()
        return {"client": supervisor, "campaign_id": campaign_id, "ada": ada.id, "alan": alan.id,
                "list": job.id, "agent": agent.username, "sale_label": code.label}


def search(book, **params):
    response = book["client"].get(f"/api/campaigns/{book['campaign_id']}/contacts", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_search_by_whole_name_part_of_a_name_or_some_digits(book):
    assert [c["id"] for c in search(book, q="ada love")] == [book["ada"]]
    assert [c["id"] for c in search(book, q="TURING")] == [book["alan"]]
    assert [c["id"] for c in search(book, q="555-0177")] == [book["alan"]]
    assert [c["id"] for c in search(book, q="(202) 555")] == [book["ada"]]
    (ada,) = search(book, q="Ada")
    assert ada["list_name"] == "may.csv" and ada["status_words"] == "Finished"
    assert ada["last_outcome_words"] == "No answer"


def test_filter_by_list_and_status(book):
    assert [c["id"] for c in search(book, list=str(book["list"]))] == [book["ada"]]
    (alan,) = search(book, list="hand")
    assert alan["id"] == book["alan"] and alan["list_name"] == "Added by hand"
    assert [c["id"] for c in search(book, status="new")] == [book["alan"]]
    bad = book["client"].get(f"/api/campaigns/{book['campaign_id']}/contacts", query_string={"list": "x"})
    assert bad.status_code == 422 and "list" in bad.get_json()["error"]["fields"]


def test_one_contact_comes_with_its_history_in_words(book):
    response = book["client"].get(f"/api/campaigns/{book['campaign_id']}/contacts/{book['ada']}")
    assert response.status_code == 200
    body = response.get_json()
    (call,) = body["history"]["calls"]
    assert call["agent_name"] == book["agent"]
    assert call["disposition"] == book["sale_label"] and call["notes"] == "Wants the blue plan"
    assert call["outcome_words"] == "Answered by a person" and call["talk_seconds"] == 95
    assert body["history"]["callbacks"] == []


def test_an_edit_is_checked_normalised_and_audited(app, book):
    url = f"/api/campaigns/{book['campaign_id']}/contacts/{book['ada']}"
    client = book["client"]
    response = client.patch(url, json={"phone": "12"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["phone"]
    response = client.patch(url, json={"phone": "(310) 555-0177"})  # Alan's number
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["phone"] == ["Another contact of this campaign has this number."]
    response = client.patch(url, json={"email": "not-an-email", "timezone": "Mars/Olympus"})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"email"}
    response = client.patch(url, json={"timezone": "Mars/Olympus"})
    assert response.status_code == 422 and "timezone" in response.get_json()["error"]["fields"]
    with app.app_context():
        db.session.add(DncEntry(phone_e164="+12025550150", campaign_id=None, source="manual"))
        db.session.commit()
    response = client.patch(url, json={"phone": "202 555 0150"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["phone"] == ["This number is on a do-not-call list."]
    with app.app_context():  # nothing of the refused edits was kept
        ada = db.session.get(Contact, book["ada"])
        assert (ada.phone_e164, ada.email, ada.timezone) == ("+12025550142", None, "America/New_York")

    response = client.patch(url, json={"phone": "(212) 555-0199", "first_name": " Augusta ", "email": "ada@example.org",
                                       "region": "NY", "postal_code": "10001", "timezone": "",
                                       "custom_fields": {"policy_no": "P-77"}})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["phone_e164"] == "+12125550199" and body["first_name"] == "Augusta"
    assert body["timezone"] == "America/New_York" and body["custom_fields"] == {"policy_no": "P-77"}
    assert body["history"]["calls"]  # the history stays with the contact
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contact.update"))
        assert entry.actor_id == client.user.id and entry.target_id == str(book["ada"])
        assert entry.details["old_phone"] == "+12025550142" and entry.details["new_phone"] == "+12125550199"
        assert set(entry.details["fields"]) >= {"phone", "first_name", "email", "region", "postal_code",
                                                "custom_fields"}
        assert db.session.get(Contact, book["ada"]).zones_agree is True


def test_an_agent_cannot_browse_contacts(app, book, login_as):
    agent = login_as("agent")
    assert agent.get(f"/api/campaigns/{book['campaign_id']}/contacts").status_code in (403, 404)
    assert agent.patch(f"/api/campaigns/{book['campaign_id']}/contacts/{book['ada']}",
                       json={"first_name": "X"}).status_code in (403, 404)
