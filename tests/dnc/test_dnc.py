"""Do-not-call lists: add, search, remove, import; every change audited; checked at dial time."""
import io

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.dnc.importer import run_dnc_import
from app.dnc.services import is_dnc
from app.extensions import db


def _audit_actions(app):
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_add_search_and_remove_numbers_with_an_audit_trail(app, login_as, users, campaigns):
    supervisor = login_as("supervisor")
    cid = campaigns.create(supervisors=[supervisor.user])
    internal = supervisor.post("/api/dnc", json={"phone": "(212) 555-0142", "reason": "asked on the phone"})
    assert internal.status_code == 201 and internal.get_json()["phone_e164"] == "+12125550142"
    per_campaign = supervisor.post("/api/dnc", json={"phone": "212-555-0143", "campaign_id": cid})
    assert per_campaign.status_code == 201
    assert supervisor.post("/api/dnc", json={"phone": "2125550142"}).status_code == 409
    bad = supervisor.post("/api/dnc", json={"phone": "12"})
    assert bad.status_code == 422 and "phone" in bad.get_json()["error"]["fields"]

    assert supervisor.get("/api/dnc?phone=212 555 0142").get_json()["meta"]["total"] == 1
    assert supervisor.get("/api/dnc?phone=5550143").get_json()["items"][0]["campaign_id"] == cid
    assert supervisor.get("/api/dnc?list=internal").get_json()["meta"]["total"] == 1
    assert supervisor.get(f"/api/dnc/check?phone=2125550143&campaign_id={cid}").get_json()["dnc"] is True
    assert supervisor.get("/api/dnc/check?phone=2125550143").get_json()["dnc"] is False

    entry_id = internal.get_json()["id"]
    assert supervisor.delete(f"/api/dnc/{entry_id}").status_code == 403  # removal is for admins
    admin = login_as("admin")
    assert admin.delete(f"/api/dnc/{entry_id}").status_code == 204
    assert admin.get("/api/dnc?phone=2125550142").get_json()["meta"]["total"] == 0
    actions = _audit_actions(app)
    assert actions.count("dnc.add") == 2 and actions.count("dnc.remove") == 1


def test_is_dnc_checks_the_internal_and_the_campaigns_list(ctx, campaigns, app):
    from app.dnc.models import DncEntry

    a, b = campaigns.create(), campaigns.create()
    db.session.add_all([DncEntry(phone_e164="+12125550150"), DncEntry(phone_e164="+12125550151", campaign_id=a)])
    db.session.flush()
    assert is_dnc("+12125550150", a) and is_dnc("+12125550150", b) and is_dnc("+12125550150", None)
    assert is_dnc("+12125550151", a) and not is_dnc("+12125550151", b) and not is_dnc("+12125550151", None)
    assert not is_dnc("+12125550152", a)


def test_dnc_import_adds_numbers_and_reports_the_rest(app, login_as, campaigns, upload_dir):
    admin = login_as("admin")
    cid = campaigns.create()
    admin.post("/api/dnc", json={"phone": "2125550160", "campaign_id": cid})
    text = "Number,Why\n2125550160,already\n2125550161,asked\nnonsense,x\n2125550161,twice\n2125550162,\n"
    response = admin.post("/api/dnc/import", content_type="multipart/form-data", data={
        "file": (io.BytesIO(text.encode()), "dnc.csv"), "campaign_id": str(cid),
        "column_map": '{"phone": "Number", "reason": "Why"}'})
    assert response.status_code == 202, response.get_json()
    with app.app_context():
        run_dnc_import(response.get_json()["id"])
    job = admin.get(f"/api/imports/{response.get_json()['id']}").get_json()
    assert (job["status"], job["rows_read"], job["imported"], job["rejected"], job["duplicates"]) == (
        "done", 5, 2, 1, 2)
    lines = {r["line"]: r["kind"] for r in admin.get(f"/api/imports/{job['id']}/rejections").get_json()["items"]}
    assert lines == {2: "duplicate", 4: "invalid", 5: "duplicate"}
    listed = admin.get(f"/api/dnc?campaign_id={cid}&per_page=10").get_json()["items"]
    assert {(d["phone_e164"], d["reason"]) for d in listed} >= {("+12125550161", "asked"), ("+12125550162", "")}
    assert "dnc.import" in _audit_actions(app) and "dnc.import_done" in _audit_actions(app)


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_contacts_on_a_dnc_list_are_not_created(login_as, campaigns, role):
    client = login_as(role)
    cid = campaigns.create(supervisors=[client.user] if role == "supervisor" else [])
    client.post("/api/dnc", json={"phone": "2125550170"})
    refused = client.post(f"/api/campaigns/{cid}/contacts", json={"phone": "212 555 0170"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "on_dnc_list"
    created = client.post(f"/api/campaigns/{cid}/contacts", json={
        "phone": "212 555 0171", "first_name": "Rae", "region": "CA", "custom_fields": {"tier": "gold"}})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["phone_e164"], body["timezone"], body["status"]) == ("+12125550171", "America/Los_Angeles", "new")
    assert client.post(f"/api/campaigns/{cid}/contacts", json={"phone": "2125550171"}).status_code == 409
    listed = client.get(f"/api/campaigns/{cid}/contacts?q=Rae").get_json()
    assert listed["meta"]["total"] == 1
