"""The campaign's own page (team and dialer), and the campaign form's messages in people's words."""
import pytest

from tests.campaign_factory import campaign_payload


@pytest.mark.parametrize("role, status", [("admin", 200), ("supervisor", 200), ("agent", 403)])
def test_the_campaign_page_is_for_admins_and_supervisors(login_as, campaigns, role, status):
    cid = campaigns.create()
    response = login_as(role).get(f"/admin/campaigns/{cid}")
    assert response.status_code == status
    if status == 200:
        page = response.get_data(as_text=True)
        assert "js/admin-campaign.js" in page and 'data-campaign-id="%d"' % cid in page


def test_a_rule_broken_is_summarised_with_the_fields_labels_not_their_keys(login_as):
    admin = login_as("admin")
    response = admin.post("/api/campaigns", json=campaign_payload(max_abandon_rate=3, ring_timeout_seconds=10))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["message"] == "Please correct: Ring timeout, Maximum abandonment rate."
    assert "_" not in error["message"]
    assert error["fields"]["max_abandon_rate"][0].startswith(
        "The abandonment limit must be above 0% and at most 3%")


def test_required_settings_say_so_in_words(login_as):
    admin = login_as("admin")
    response = admin.post("/api/campaigns", json={"dial_mode": "progressive"})
    fields = response.get_json()["error"]["fields"]
    for name in ("name", "caller_id", "seller_name", "seller_phone", "safe_harbour_message"):
        assert fields[name] == ["Required."], name
    empty = admin.post("/api/campaigns", json=campaign_payload(name=""))
    assert empty.get_json()["error"]["fields"]["name"] == ["Required, at most 120 characters."]


def test_assigning_someone_of_another_role_names_them(app, login_as, users, campaigns):
    from app.auth.models import User
    from app.extensions import db

    admin = login_as("admin")
    supervisor = users.create("supervisor")
    with app.app_context():
        db.session.get(User, supervisor.id).full_name = "Sofia Vega"
        db.session.commit()
    cid = campaigns.create()
    response = admin.put(f"/api/campaigns/{cid}/assignments", json={"agent_ids": [supervisor.id]})
    assert response.get_json()["error"]["fields"]["agent_ids"] == [
        "Only active agents can be assigned as agents: Sofia Vega cannot."]


def test_the_team_sections_calls_pick_by_role_save_and_read_back_names(app, login_as, users, campaigns):
    """What admin-campaign.js asks: the active agents and supervisors to choose from, the PUT of
    both lists, and the assignments read back with names; a supervisor reads their own team only."""
    from tests.helpers import ApiClient

    admin = login_as("admin")
    agent, retired = users.create("agent"), users.create("agent", active=False)
    supervisor, other = users.create("supervisor"), users.create("supervisor")
    cid = campaigns.create()
    agents = admin.get("/api/users", query_string={"role": "agent", "active": "true", "per_page": 500}).get_json()["items"]
    ids = {u["id"] for u in agents}
    assert agent.id in ids and retired.id not in ids and supervisor.id not in ids
    saved = admin.put(f"/api/campaigns/{cid}/assignments",
                      json={"agent_ids": [agent.id], "supervisor_ids": [supervisor.id]}).get_json()
    assert [(p["id"], p["username"]) for p in saved["agents"]] == [(agent.id, agent.username)]
    assert [p["id"] for p in saved["supervisors"]] == [supervisor.id]
    # Removing everyone is a save too: the lists given replace the team.
    emptied = admin.put(f"/api/campaigns/{cid}/assignments", json={"agent_ids": [], "supervisor_ids": [supervisor.id]})
    assert emptied.get_json()["agents"] == []

    def client_for(user):
        client = ApiClient(app.test_client())
        client.login(user.username, user.password)
        return client

    own = client_for(supervisor)
    assert [p["id"] for p in own.get(f"/api/campaigns/{cid}/assignments").get_json()["supervisors"]] == [supervisor.id]
    assert own.put(f"/api/campaigns/{cid}/assignments", json={"agent_ids": []}).status_code == 403
    assert client_for(other).get(f"/api/campaigns/{cid}/assignments").status_code == 404
