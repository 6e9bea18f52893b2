"""Admins edit and deactivate users, issue and revoke API tokens; supervisors see their agents."""
import hashlib

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.models import ApiToken
from app.extensions import db
from tests.helpers import ApiClient


def _signed_in(app, user):
    client = ApiClient(app.test_client())
    assert client.login(user.username, user.password).status_code == 200
    return client


def test_deactivating_a_user_ends_their_sessions_and_tokens(app, login_as, users):
    admin = login_as("admin")
    agent = users.create("agent")
    session = _signed_in(app, agent)
    token = admin.post(f"/api/users/{agent.id}/tokens", json={"name": "crm"}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert session.get("/api/auth/me").status_code == 200
    assert app.test_client().get("/api/agents", headers=bearer).status_code == 200

    response = admin.post(f"/api/users/{agent.id}/deactivate")
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert session.get("/api/auth/me").status_code == 401
    assert app.test_client().get("/api/agents", headers=bearer).status_code == 401
    assert ApiClient(app.test_client()).login(agent.username, agent.password).status_code == 401
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == str(agent.id))))
    assert "user.deactivate" in actions


def test_admins_cannot_lock_themselves_out(login_as):
    admin = login_as("admin")
    assert admin.post(f"/api/users/{admin.user.id}/deactivate").status_code == 409
    assert admin.patch(f"/api/users/{admin.user.id}", json={"role": "agent"}).status_code == 409


def test_password_change_follows_the_policy_and_signs_the_user_out(app, login_as, users):
    admin = login_as("admin")
    agent = users.create("agent")
    session = _signed_in(app, agent)
    weak = admin.patch(f"/api/users/{agent.id}", json={"password": agent.username + "-123456"})
    assert weak.status_code == 422 and "username" in weak.get_json()["error"]["fields"]["password"][0]
    common = admin.patch(f"/api/users/{agent.id}", json={"password": "password1234"})
    assert common.status_code == 422
    assert session.get("/api/auth/me").status_code == 200  # refused changes changed nothing
    assert admin.patch(f"/api/users/{agent.id}", json={"password": "Quiet-Harbour-Lamp-77"}).status_code == 200
    assert session.get("/api/auth/me").status_code == 401
    assert ApiClient(app.test_client()).login(agent.username, "Quiet-Harbour-Lamp-77").status_code == 200


def test_role_change_drops_assignments_of_the_old_role(app, login_as, users, campaigns):
    admin = login_as("admin")
    agent = users.create("agent")
    cid = campaigns.create(agents=[agent])
    response = admin.patch(f"/api/users/{agent.id}", json={"role": "supervisor", "full_name": "Now Lead"})
    assert response.status_code == 200 and response.get_json()["role"] == "supervisor"
    assert admin.get(f"/api/campaigns/{cid}/assignments").get_json()["agents"] == []


def test_tokens_store_only_a_hash_work_without_csrf_and_revoke(app, login_as, users, campaigns):
    admin = login_as("admin")
    supervisor = users.create("supervisor")
    cid = campaigns.create(supervisors=[supervisor])
    issued = admin.post(f"/api/users/{supervisor.id}/tokens", json={"name": "dialer-sync"})
    assert issued.status_code == 201
    body = issued.get_json()
    raw = body["token"]
    with app.app_context():
        stored = db.session.get(ApiToken, body["id"])
        assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest() and raw not in stored.token_hash
    listed = admin.get(f"/api/users/{supervisor.id}/tokens").get_json()["items"]
    assert [t["name"] for t in listed] == ["dialer-sync"] and "token" not in listed[0]

    bare = app.test_client()  # no cookie, no CSRF token: the bearer token alone
    bearer = {"Authorization": f"Bearer {raw}"}
    assert bare.post(f"/api/campaigns/{cid}/start", headers=bearer).status_code == 200
    assert bare.get("/api/users", headers=bearer).status_code == 403  # the supervisor's role, no more
    assert admin.delete(f"/api/users/{supervisor.id}/tokens/{body['id']}").get_json()["revoked_at"]
    assert bare.get("/api/campaigns", headers=bearer).status_code == 401


def test_user_list_filters_and_pages(login_as, users):
    admin = login_as("admin")
    for _ in range(3):
        users.create("agent")
    page = admin.get("/api/users?role=agent&per_page=2").get_json()
    assert len(page["items"]) == 2 and page["meta"]["total"] == 3 and page["meta"]["pages"] == 2


def test_supervisors_see_the_agents_of_their_campaigns_only(login_as, users, campaigns):
    supervisor = login_as("supervisor")
    mine, theirs = users.create("agent"), users.create("agent")
    cid = campaigns.create(agents=[mine], supervisors=[supervisor.user])
    campaigns.create(agents=[theirs])
    listed = supervisor.get("/api/agents").get_json()
    assert [(a["id"], a["campaign_ids"]) for a in listed["items"]] == [(mine.id, [cid])]
    assert supervisor.get(f"/api/agents/{theirs.id}").status_code == 404
    assert supervisor.get(f"/api/agents?campaign_id={cid}&state=offline").get_json()["meta"]["total"] == 1


def test_a_caller_without_access_is_refused_before_its_input_is_read(app, login_as, users):
    admin = login_as("admin")
    supervisor = users.create("supervisor")
    session = _signed_in(app, supervisor)
    token = admin.post(f"/api/users/{supervisor.id}/tokens", json={"name": "crm"}).get_json()["token"]
    assert admin.post(f"/api/users/{supervisor.id}/deactivate").status_code == 200

    junk = {"phone": "x" * 5000, "campaign_id": "not a number"}
    bearer = {"Authorization": f"Bearer {token}"}
    for response in (session.post("/api/dnc", json=junk),
                     app.test_client().post("/api/dnc", json=junk, headers=bearer),
                     app.test_client().post("/api/dnc", data="[" * 5000, content_type="application/json",
                                            headers=bearer)):
        assert response.status_code == 401, response.get_json()
        assert response.get_json()["error"]["code"] == "unauthorized"
