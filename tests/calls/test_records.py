"""The call records API: who sees what, filters, detail with events, CSV export."""
from __future__ import annotations

import csv
import io

import pytest

from tests.calls.factories import make_call, make_campaign, post_signed, status_form


@pytest.fixture
def world(app, users):
    """Two campaigns; agent A's calls on the first, agent B's on the second."""
    a, b = users.create("agent"), users.create("agent")
    first, second = make_campaign(app), make_campaign(app)
    calls = {
        "a1": make_call(app, first, agent_id=a.id, status="completed", outcome="human"),
        "a2": make_call(app, first, agent_id=a.id, status="busy", outcome="busy"),
        "b1": make_call(app, second, agent_id=b.id, status="completed", outcome="machine"),
        "none": make_call(app, first, status="no-answer", outcome="no-answer"),
    }
    return {"a": a, "b": b, "first": first, "second": second, "calls": calls,
            "assign": lambda user_id, campaign_id: _assign(app, user_id, campaign_id)}


def _assign(app, user_id, campaign_id):
    from app.campaigns.models import CampaignAssignment
    from app.extensions import db

    with app.app_context():
        db.session.add(CampaignAssignment(campaign_id=campaign_id, user_id=user_id, role="supervisor"))
        db.session.commit()


def _ids(response):
    assert response.status_code == 200, response.get_json()
    return sorted(item["id"] for item in response.get_json()["items"])


def _signed_in(app, user):
    from tests.helpers import ApiClient

    client = ApiClient(app.test_client())
    assert client.login(user.username, user.password).status_code == 200
    return client


def test_an_agent_sees_only_their_own_calls(app, world):
    client = _signed_in(app, world["a"])
    calls = world["calls"]
    assert _ids(client.get("/api/call-records")) == sorted([calls["a1"], calls["a2"]])
    assert client.get(f"/api/call-records/{calls['a1']}").status_code == 200
    assert client.get(f"/api/call-records/{calls['b1']}").status_code == 404
    assert _ids(client.get(f"/api/call-records?agent_id={world['b'].id}")) == []


def test_a_supervisor_sees_the_campaigns_they_supervise(app, world, users):
    sup = users.create("supervisor")
    world["assign"](sup.id, world["second"])
    client = _signed_in(app, sup)
    assert _ids(client.get("/api/call-records")) == [world["calls"]["b1"]]
    assert client.get(f"/api/call-records/{world['calls']['a1']}").status_code == 404


def test_an_admin_sees_all_and_filters(app, world, login_as):
    admin, calls = login_as("admin"), world["calls"]
    assert _ids(admin.get("/api/call-records")) == sorted(calls.values())
    assert _ids(admin.get(f"/api/call-records?campaign_id={world['first']}&status=busy")) == [calls["a2"]]
    assert _ids(admin.get("/api/call-records?outcome=machine")) == [calls["b1"]]
    assert _ids(admin.get(f"/api/call-records?agent_id={world['a'].id}")) == sorted([calls["a1"], calls["a2"]])
    assert _ids(admin.get("/api/call-records?from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z")) \
        == sorted(calls.values())
    assert _ids(admin.get("/api/call-records?to=2000-01-01T00:00:00Z")) == []
    body = admin.get("/api/call-records?per_page=2").get_json()
    assert body["meta"]["total"] == 4 and len(body["items"]) == 2
    bad = admin.get("/api/call-records?status=sleeping")
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["fields"]


def test_detail_includes_the_carrier_events(app, world, login_as, client):
    call_id = world["calls"]["a1"]
    post_signed(client, app, f"/twilio/status?attempt={call_id}", status_form("CA-det", "ringing", 1))
    body = login_as("admin").get(f"/api/call-records/{call_id}").get_json()
    assert body["call"]["id"] == call_id
    assert [(e["kind"], e["status"], e["sequence_number"]) for e in body["events"]] == [
        ("status", "ringing", 1)]


def test_csv_export_streams_only_what_the_user_may_see(app, world):
    response = _signed_in(app, world["a"]).get("/api/call-records/export")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(int(r["id"]) for r in rows) == sorted([world["calls"]["a1"], world["calls"]["a2"]])
    assert {r["outcome"] for r in rows} == {"human", "busy"}
    assert rows[0]["to_number"] == "+12025550111"


def test_call_records_need_sign_in(client):
    assert client.get("/api/call-records").status_code == 401
    assert client.get("/api/call-records/export").status_code == 401


def test_the_openapi_document_lists_call_records(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"/api/call-records", "/api/call-records/{call_id}", "/api/call-records/export"} <= set(paths)
