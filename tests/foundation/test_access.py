"""Role checks, CSRF and bearer tokens."""
import pytest

from app.auth.models import User
from app.auth.services import issue_api_token
from app.extensions import db


@pytest.mark.parametrize("role, status", [("agent", 403), ("supervisor", 403), ("admin", 200)])
def test_user_admin_routes_are_for_admins_only(login_as, role, status):
    client = login_as(role)
    assert client.get("/api/users").status_code == status
    assert client.get("/api/audit").status_code == status
    created = client.post("/api/users", json={"username": f"new-{role}", "password": "a-Long-and-unusual-pass",
                                              "role": "agent"})
    assert created.status_code == (201 if status == 200 else 403)


def test_anonymous_callers_get_401_with_the_error_shape(client):
    for path in ("/api/users", "/api/audit", "/api/auth/me"):
        body = client.get(path).get_json()
        assert set(body["error"]) == {"code", "message", "fields"} and body["error"]["code"] == "unauthorized"


def test_cookie_authenticated_write_without_csrf_token_is_refused(login_as):
    admin = login_as("admin")
    response = admin.client.post("/api/users", json={"username": "x-user", "password": "a-Long-and-unusual-pass",
                                                     "role": "agent"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "csrf_failed"
    forged = admin.post("/api/auth/logout", headers={"X-CSRFToken": "forged-token"})
    assert forged.status_code == 403
    assert admin.get("/api/auth/me").status_code == 200  # still signed in: the forged logout did nothing


def test_sign_in_itself_needs_the_csrf_token(client, users):
    user = users.create("agent")
    response = client.post("/api/auth/login", json={"username": user.username, "password": user.password})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "csrf_failed"


def test_bearer_token_authenticates_with_the_users_role_and_no_csrf(app, client, users):
    admin = users.create("admin")
    with app.app_context():
        _, raw = issue_api_token(db.session.get(User, admin.id), "integration")
        db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/users", headers=headers).status_code == 200
    created = client.post("/api/users", headers=headers,
                          json={"username": "via-token", "password": "a-Long-and-unusual-pass", "role": "agent"})
    assert created.status_code == 201
    assert client.get("/api/users", headers={"Authorization": "Bearer omx_wrong"}).status_code == 401


def test_revoked_token_is_refused(app, client, users):
    from app.common.timeutil import utcnow

    admin = users.create("admin")
    with app.app_context():
        token, raw = issue_api_token(db.session.get(User, admin.id), "old")
        token.revoked_at = utcnow()
        db.session.commit()
    assert client.get("/api/users", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_agent_token_keeps_the_agent_role(app, client, users):
    agent = users.create("agent")
    with app.app_context():
        _, raw = issue_api_token(db.session.get(User, agent.id), "script")
        db.session.commit()
    assert client.get("/api/users", headers={"Authorization": f"Bearer {raw}"}).status_code == 403


def test_security_headers_are_present(client):
    headers = client.get("/api/auth/csrf").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
