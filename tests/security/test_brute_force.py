"""An attacker guessing passwords: the lockout engages silently and the sign-in tiers answer 429."""
from __future__ import annotations

from limits import parse


def _amount(app, key: str) -> int:
    return parse(app.config[key]).amount


def test_guessing_one_password_locks_the_account_without_saying_so(app, api, users):
    victim = users.create("admin")
    wrong = api.login(victim.username, "guess-0", environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert wrong.status_code == 401
    # Rotating addresses dodges the per-address tier; the per-username tier and the lockout still bite.
    answers = [api.login(victim.username, f"guess-{i}", environ_base={"REMOTE_ADDR": f"198.51.100.{i + 2}"})
               for i in range(1, _amount(app, "RATELIMIT_LOGIN_USER") + 5)]
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {401, 429}
    assert 429 in statuses, "the per-username tier never answered 429"
    assert all(a.get_json() == wrong.get_json() for a in answers if a.status_code == 401)
    limited = next(a for a in answers if a.status_code == 429)
    assert limited.get_json()["error"]["code"] == "rate_limited" and int(limited.headers["Retry-After"]) > 0

    # Once the tier's window has passed (a fresh limiter window), the right password is still
    # refused, with exactly the wrong-password answer: the name is locked, and nothing says so.
    from app.extensions import limiter

    limiter.reset()
    right = api.login(victim.username, victim.password, environ_base={"REMOTE_ADDR": "203.0.113.50"})
    assert right.status_code == 401
    assert right.get_json() == wrong.get_json()
    assert "user" not in right.get_json()


def test_lockout_is_audited_with_its_reason(app, api, users, login_as):
    victim = users.create("agent")
    for i in range(app.config["LOGIN_LOCKOUT_FAILURES"] + 1):
        api.login(victim.username, f"guess-{i}", environ_base={"REMOTE_ADDR": f"198.51.100.{i + 1}"})
    admin = login_as("admin")
    entries = admin.get("/api/audit?action=auth.login_failed&per_page=100").get_json()["items"]
    reasons = [e["details"].get("reason") for e in entries if e["actor_id"] == victim.id]
    assert "bad_credentials" in reasons and "locked" in reasons


def test_spraying_many_usernames_from_one_address_is_cut_off(app, api):
    limit = _amount(app, "RATELIMIT_LOGIN_IP")
    statuses = [api.login(f"user-{i}", "Winter2026!").status_code for i in range(limit + 3)]
    assert statuses[:limit] == [401] * limit
    assert statuses[limit:] == [429] * 3
