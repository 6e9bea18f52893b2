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
    assert sorted(int(r["Call ID"]) for r in rows) == sorted([world["calls"]["a1"], world["calls"]["a2"]])
    assert {r["Outcome"] for r in rows} == {"Answered by a person", "Busy"}
    assert rows[0]["Phone"] == "+12025550111"


@pytest.fixture
def named(app, users):
    """A supervised campaign with a named contact, an agent with a name, and calls with dispositions."""
    from app.campaigns.models import CampaignAssignment, DispositionCode
    from app.contacts.models import Contact
    from app.extensions import db
    from app.interactions.models import Interaction

    agent, other = _named_user(app, users, "Dana Dialer"), _named_user(app, users, "Omar Other")
    sup = users.create("supervisor")
    campaign = make_campaign(app, name="Spring Solar", timezone="America/New_York")
    with app.app_context():
        db.session.add(CampaignAssignment(campaign_id=campaign, user_id=sup.id, role="supervisor"))
        sale = DispositionCode(campaign_id=campaign, code="SALE", label="Sale", is_sale=True)
        ni = DispositionCode(campaign_id=campaign, code="NI", label="Not interested")
        evil = Contact(campaign_id=campaign, phone_e164="+13035550123", first_name='=HYPERLINK("x")', last_name="")
        ada = Contact(campaign_id=campaign, phone_e164="+13035550177", first_name="Ada", last_name="Lovelace")
        db.session.add_all([sale, ni, evil, ada])
        db.session.commit()
        ids = {"sale": sale.id, "ni": ni.id, "evil": evil.id, "ada": ada.id}
    calls = {
        "sold": make_call(app, campaign, "+13035550177", contact_id=ids["ada"], agent_id=agent.id,
                          status="completed", outcome="human", wait_seconds=0.8),
        "evil": make_call(app, campaign, "+13035550123", contact_id=ids["evil"], agent_id=other.id,
                          status="completed", outcome="human"),
        "dropped": make_call(app, campaign, "+13035550123", contact_id=ids["evil"], status="completed",
                             outcome="human", abandoned=True, attempt_no=2),
        "busy": make_call(app, campaign, "+13035550177", contact_id=ids["ada"], status="busy", outcome="busy",
                          attempt_no=2),
    }
    with app.app_context():
        db.session.add_all([
            Interaction(call_id=calls["sold"], campaign_id=campaign, agent_id=agent.id, talk_seconds=95.4,
                        disposition_code_id=ids["sale"], notes="Signed for the premium plan"),
            Interaction(call_id=calls["evil"], campaign_id=campaign, agent_id=other.id, talk_seconds=12,
                        disposition_code_id=ids["ni"], notes="-2+3 said no"),
        ])
        db.session.commit()
    return {"agent": agent, "other": other, "sup": sup, "campaign": campaign, "calls": calls}


def _named_user(app, users, full_name):
    from app.auth.models import User
    from app.extensions import db

    user = users.create("agent")
    with app.app_context():
        db.session.get(User, user.id).full_name = full_name
        db.session.commit()
    return user


def test_the_list_and_the_detail_carry_names_words_dispositions_and_notes(app, named):
    client = _signed_in(app, named["sup"])
    items = {i["id"]: i for i in client.get("/api/call-records").get_json()["items"]}
    sold = items[named["calls"]["sold"]]
    assert (sold["campaign_name"], sold["agent_name"], sold["contact_name"], sold["outcome_words"],
            sold["disposition"], sold["notes"], sold["talk_seconds"]) == (
        "Spring Solar", "Dana Dialer", "Ada Lovelace", "Answered by a person", "Sale",
        "Signed for the premium plan", 95)
    dropped = items[named["calls"]["dropped"]]
    assert (dropped["agent_name"], dropped["outcome_words"], dropped["disposition"]) == (
        None, "Answered, no agent free (abandoned)", None)
    detail = client.get(f"/api/call-records/{named['calls']['sold']}").get_json()
    assert detail["call"]["agent_name"] == "Dana Dialer" and detail["call"]["disposition"] == "Sale"


def test_filters_by_abandoned_disposition_and_phone_digits(app, named):
    client = _signed_in(app, named["sup"])
    calls = named["calls"]
    assert _ids(client.get("/api/call-records?abandoned=true")) == [calls["dropped"]]
    assert _ids(client.get("/api/call-records?disposition=Sale")) == [calls["sold"]]
    assert _ids(client.get("/api/call-records?phone=(303) 555-0177")) == sorted([calls["sold"], calls["busy"]])
    assert _ids(client.get("/api/call-records?phone=0123&abandoned=false")) == [calls["evil"]]
    assert _ids(client.get(f"/api/call-records?agent_id={named['agent'].id}&outcome=human")) == [calls["sold"]]
    assert _ids(client.get("/api/call-records?phone=abc")) == []


def test_the_filter_options_are_the_supervisors_own(app, named, world):
    body = _signed_in(app, named["sup"]).get("/api/call-records/filters").get_json()
    assert [c["name"] for c in body["campaigns"]] == ["Spring Solar"]
    assert body["dispositions"] == ["Not interested", "Sale"]
    assert {"value": "no-answer", "words": "No answer"} in body["outcomes"]
    assert body["agents"] == []  # nobody is assigned to the campaign as an agent
    mine = _signed_in(app, world["a"]).get("/api/call-records/filters").get_json()
    assert [a["id"] for a in mine["agents"]] == [world["a"].id]


def test_the_export_has_peoples_columns_follows_the_filters_and_defuses_formulas(app, named):
    client = _signed_in(app, named["sup"])
    response = client.get("/api/call-records/export?outcome=human&abandoned=false")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert list(rows[0]) == ["Date/time", "Direction", "Campaign", "Agent", "Contact", "Phone", "Outcome", "Disposition",
                             "Notes", "Talk seconds", "Wait seconds", "Abandoned", "Recording", "Caller ID",
                             "Call ID", "Compliance record"]
    by_id = {int(r["Call ID"]): r for r in rows}
    assert set(by_id) == {named["calls"]["sold"], named["calls"]["evil"]}
    sold, evil = by_id[named["calls"]["sold"]], by_id[named["calls"]["evil"]]
    assert (sold["Campaign"], sold["Agent"], sold["Contact"], sold["Phone"], sold["Outcome"], sold["Disposition"],
            sold["Notes"], sold["Talk seconds"], sold["Wait seconds"], sold["Abandoned"], sold["Recording"]) == (
        "Spring Solar", "Dana Dialer", "Ada Lovelace", "+13035550177", "Answered by a person", "Sale",
        "Signed for the premium plan", "95", "0.8", "No", "")
    assert sold["Date/time"][-6:] in ("-05:00", "-04:00")  # the campaign's New York time
    assert evil["Contact"] == "\'=HYPERLINK(\"x\")" and evil["Notes"] == "'-2+3 said no"


def test_call_records_need_sign_in(client):
    assert client.get("/api/call-records").status_code == 401
    assert client.get("/api/call-records/export").status_code == 401


def test_the_openapi_document_lists_call_records(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"/api/call-records", "/api/call-records/{call_id}", "/api/call-records/export",
            "/api/call-records/filters"} <= set(paths)


def test_the_exports_recording_link_uses_the_public_address_not_the_callers_host(app, login_as, monkeypatch):
    import csv
    import io

    from tests.calls.factories import make_campaign, make_call

    admin = login_as("admin")
    campaign = make_campaign(app)
    call_id = make_call(app, campaign, recording_sid="RE" + "5" * 32, outcome="human")
    # The request comes to http://localhost/; the configured public address is another one.
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://omnivox.example")
    answer = admin.get(f"/api/call-records/export?campaign_id={campaign}")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:200]
    body = answer.get_data(as_text=True)
    [row] = [r for r in csv.DictReader(io.StringIO(body)) if r["Call ID"] == str(call_id)]
    assert row["Recording"] == f"https://omnivox.example/api/call-records/{call_id}/recording"
