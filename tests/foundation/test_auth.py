"""Sign-in, sessions, lockout and the absence of any default credentials."""
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.auth.models import User
from app.extensions import db
from tests.helpers import ApiClient


def test_fresh_database_has_no_users_and_admin_admin_is_refused(app, api):
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
    response = api.login("admin", "admin")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"


def test_sign_in_sets_a_hardened_session_cookie_and_me_answers(api, users):
    user = users.create("supervisor")
    response = api.login(user.username, user.password)
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["username"] == user.username and body["user"]["role"] == "supervisor"
    assert "password_hash" not in body["user"] and "password" not in body["user"]
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    me = api.get("/api/auth/me")
    assert me.status_code == 200 and me.get_json()["user"]["id"] == user.id


def test_username_is_case_insensitive(api, users):
    user = users.create("agent", username="Jane.Doe")
    assert api.login("jane.doe", user.password).status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(api, users):
    user = users.create("agent")
    wrong = api.login(user.username, "not-the-password")
    unknown = api.login("nobody-" + user.username, "whatever-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_logout_ends_the_session(api, users):
    user = users.create("agent")
    api.login(user.username, user.password)
    assert api.post("/api/auth/logout").status_code == 204
    assert api.get("/api/auth/me").status_code == 401


def test_a_session_cookie_copied_before_logout_is_refused_after_it(app, api, users):
    user = users.create("supervisor")
    assert api.login(user.username, user.password).status_code == 200
    copied = api.client.get_cookie("omnivox_session").value
    elsewhere = ApiClient(app.test_client())  # the same user signed in on another computer
    assert elsewhere.login(user.username, user.password).status_code == 200

    assert api.post("/api/auth/logout").status_code == 204
    replay = app.test_client()
    replay.set_cookie("omnivox_session", copied)
    refused = replay.get("/api/auth/me")
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "unauthorized"
    assert replay.get("/api/campaigns").status_code == 401
    assert elsewhere.get("/api/auth/me").status_code == 200  # only the session signed out ends
    api.fetch_csrf()  # a signed-out browser starts a new session
    assert api.login(user.username, user.password).status_code == 200  # and signing in again works
    assert api.get("/api/auth/me").status_code == 200


def test_signing_in_over_a_session_ends_the_one_it_replaces(app, api, users):
    first, second = users.create("agent"), users.create("supervisor")
    assert api.login(first.username, first.password).status_code == 200
    copied = api.client.get_cookie("omnivox_session").value
    assert api.login(second.username, second.password).status_code == 200
    assert api.get("/api/auth/me").get_json()["user"]["id"] == second.id
    replay = app.test_client()
    replay.set_cookie("omnivox_session", copied)
    assert replay.get("/api/auth/me").status_code == 401


def test_me_requires_sign_in(client):
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_five_failures_lock_the_account_and_the_answer_does_not_say_so(app, api, users):
    user = users.create("agent")
    answers = [api.login(user.username, f"wrong-password-{i}").get_json() for i in range(5)]
    locked = api.login(user.username, user.password)
    assert locked.status_code == 401
    assert locked.get_json() == answers[0]
    with app.app_context():
        failures = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "auth.login_failed",
                                     AuditEntry.actor_id == user.id)).all()
        assert [f.details["reason"] for f in failures][-1] == "locked"


def test_four_failures_do_not_lock(api, users):
    user = users.create("agent")
    for i in range(4):
        api.login(user.username, f"wrong-password-{i}")
    assert api.login(user.username, user.password).status_code == 200


def test_lockout_is_per_username(api, users):
    victim, other = users.create("agent"), users.create("agent")
    for i in range(6):
        api.login(victim.username, f"wrong-password-{i}")
    assert api.login(other.username, other.password).status_code == 200


def test_inactive_user_cannot_sign_in(api, users):
    user = users.create("agent", active=False)
    assert api.login(user.username, user.password).status_code == 401


def test_rotating_the_session_token_signs_the_user_out_everywhere(app, api, users):
    from app.auth.services import end_sessions

    user = users.create("admin")
    api.login(user.username, user.password)
    assert api.get("/api/auth/me").status_code == 200
    with app.app_context():
        end_sessions(db.session.get(User, user.id))
        db.session.commit()
    assert api.get("/api/auth/me").status_code == 401


def test_sign_ins_and_failures_are_audited(app, api, users):
    user = users.create("agent")
    api.login(user.username, "wrong-password")
    api.login(user.username, user.password)
    with app.app_context():
        rows = db.session.execute(
            select(AuditEntry.action, AuditEntry.success, AuditEntry.ip)
            .where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id)).all()
    assert [(a, s) for a, s, _ in rows] == [("auth.login_failed", False), ("auth.login", True)]
    assert all(ip for _, _, ip in rows)


def test_passwords_are_stored_as_argon2_hashes(app, users):
    user = users.create("agent")
    with app.app_context():
        stored = db.session.get(User, user.id).password_hash
    assert stored.startswith("$argon2id$") and user.password not in stored
