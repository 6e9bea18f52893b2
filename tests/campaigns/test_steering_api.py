"""Steering a campaign's dialer through the API: the law's limit refused with a field error,
who may steer, and every change audited with who, before and after."""
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db


def _audits(app, campaign_id):
    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "campaign.pacing_override",
            AuditEntry.target_id == str(campaign_id)).order_by(AuditEntry.id)).all()


def test_an_abandonment_target_above_the_legal_3_percent_is_refused_with_a_field_error(login_as, campaigns, app):
    admin = login_as("admin")
    cid = campaigns.create(dial_mode="predictive")
    response = admin.put(f"/api/campaigns/{cid}/pacing", json={"abandon_target": 0.035})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert list(error["fields"]) == ["abandon_target"]
    assert error["fields"]["abandon_target"][0].startswith("At most 3%: the law allows")
    assert "abandon_target" not in error["message"]
    assert admin.get(f"/api/campaigns/{cid}/pacing").get_json()["override"] is None
    assert _audits(app, cid) == []


def test_a_target_above_the_campaigns_own_limit_is_refused_too(login_as, campaigns):
    admin = login_as("admin")
    cid = campaigns.create(dial_mode="predictive", max_abandon_rate=0.02)
    response = admin.put(f"/api/campaigns/{cid}/pacing", json={"abandon_target": 0.025})
    assert response.status_code == 422
    assert "this campaign's own abandonment limit" in response.get_json()["error"]["fields"]["abandon_target"][0]
    assert admin.put(f"/api/campaigns/{cid}/pacing", json={"abandon_target": 0.015}).status_code == 200


def test_dial_levels_are_for_predictive_campaigns_and_not_both_at_once(login_as, campaigns):
    admin = login_as("admin")
    progressive = campaigns.create(dial_mode="progressive")
    refused = admin.put(f"/api/campaigns/{progressive}/pacing", json={"fixed_dial_level": 2})
    assert refused.status_code == 422
    assert "Only a predictive campaign" in refused.get_json()["error"]["fields"]["fixed_dial_level"][0]
    predictive = campaigns.create(dial_mode="predictive")
    both = admin.put(f"/api/campaigns/{predictive}/pacing", json={"fixed_dial_level": 2, "max_dial_level": 3})
    assert both.get_json()["error"]["fields"]["fixed_dial_level"] == ["Choose a fixed dial level or a ceiling, not both."]
    low = admin.put(f"/api/campaigns/{predictive}/pacing", json={"max_dial_level": 0.5})
    assert low.status_code == 422 and "max_dial_level" in low.get_json()["error"]["fields"]


def test_every_change_is_audited_with_who_before_and_after(login_as, users, campaigns, app):
    admin = login_as("admin")
    supervisor = users.create("supervisor")
    cid = campaigns.create(dial_mode="predictive", supervisors=[supervisor])
    body = admin.put(f"/api/campaigns/{cid}/pacing", json={"max_dial_level": 2.5}).get_json()
    assert body["override"]["max_dial_level"] == 2.5 and body["override"]["set_by"]

    from tests.helpers import ApiClient

    sup = ApiClient(app.test_client())
    sup.login(supervisor.username, supervisor.password)
    body = sup.put(f"/api/campaigns/{cid}/pacing", json={"fixed_dial_level": 1.5, "abandon_target": 0.015}).get_json()
    assert body["abandon_target_in_use"] == 0.015
    cleared = sup.delete(f"/api/campaigns/{cid}/pacing").get_json()
    assert cleared["override"] is None and cleared["abandon_target_in_use"] == 0.02  # the campaign's own limit again

    first, second, third = _audits(app, cid)
    assert first.actor_username != supervisor.username and first.details["before"] is None
    assert first.details["after"] == {"max_dial_level": 2.5, "fixed_dial_level": None, "abandon_target": None}
    assert second.actor_username == supervisor.username
    assert second.details["before"] == {"max_dial_level": 2.5, "fixed_dial_level": None, "abandon_target": None}
    assert second.details["after"] == {"max_dial_level": None, "fixed_dial_level": 1.5, "abandon_target": 0.015}
    assert third.actor_username == supervisor.username and third.details["after"] is None
    assert third.details["before"]["fixed_dial_level"] == 1.5


def test_only_admins_and_the_campaigns_supervisors_steer(app, login_as, users, campaigns):
    from tests.helpers import ApiClient

    agent, own, other = users.create("agent"), users.create("supervisor"), users.create("supervisor")
    cid = campaigns.create(dial_mode="predictive", agents=[agent], supervisors=[own])

    def client_for(user):
        client = ApiClient(app.test_client())
        client.login(user.username, user.password)
        return client

    assert client_for(own).get(f"/api/campaigns/{cid}/pacing").status_code == 200
    assert client_for(other).put(f"/api/campaigns/{cid}/pacing", json={"max_dial_level": 2}).status_code == 404
    assert client_for(other).get(f"/api/campaigns/{cid}/pacing").status_code == 404
    assert client_for(agent).put(f"/api/campaigns/{cid}/pacing", json={"max_dial_level": 2}).status_code == 403


def test_the_openapi_document_describes_the_pacing_routes(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"get", "put", "delete"} <= set(paths["/api/campaigns/{campaign_id}/pacing"])
