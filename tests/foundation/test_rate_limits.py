"""Each rate-limit tier answers 429 in the error shape and says when to retry."""
from limits import parse


def _amount(app, key: str) -> int:
    return parse(app.config[key]).amount


def _assert_rate_limited(response):
    assert response.status_code == 429
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited"
    retry_after = error["fields"]["retry_after"]
    assert 0 < retry_after <= 61  # a one-minute window, rounded up
    assert f"retry after {retry_after} seconds" in error["message"]
    # the header is computed by the limiter a moment later: the same second, give or take one
    assert abs(int(response.headers["Retry-After"]) - retry_after) <= 1


def test_sign_in_is_limited_per_address(app, api):
    limit = _amount(app, "RATELIMIT_LOGIN_IP")
    for i in range(limit):
        assert api.login(f"someone-{i}", "wrong-password").status_code == 401
    _assert_rate_limited(api.login("someone-else", "wrong-password"))


def test_sign_in_is_limited_per_username_across_addresses(app, api):
    limit = _amount(app, "RATELIMIT_LOGIN_USER")
    for i in range(limit):
        response = api.login("target-user", "wrong-password", environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"})
        assert response.status_code == 401
    _assert_rate_limited(api.login("target-user", "wrong-password", environ_base={"REMOTE_ADDR": "10.0.1.1"}))
    # another username from a fresh address is not affected
    assert api.login("other-user", "wrong-password", environ_base={"REMOTE_ADDR": "10.0.2.1"}).status_code == 401


def test_creation_tier(app, login_as):
    admin = login_as("admin")
    limit = _amount(app, "RATELIMIT_CREATE")
    for i in range(limit):
        response = admin.post("/api/users", json={"username": f"bulk-{i}", "password": "Quite-unusual-pw-42",
                                                  "role": "agent"})
        assert response.status_code == 201, response.get_json()
    _assert_rate_limited(admin.post("/api/users", json={"username": "one-too-many",
                                                        "password": "Quite-unusual-pw-42", "role": "agent"}))
    assert admin.get("/api/users").status_code == 200  # reads are a different tier


def test_reporting_tier(app, login_as):
    admin = login_as("admin")
    limit = _amount(app, "RATELIMIT_REPORTING")
    for _ in range(limit):
        assert admin.get("/api/audit").status_code == 200
    _assert_rate_limited(admin.get("/api/audit"))


def test_general_api_tier_is_per_user(app, login_as):
    first, second = login_as("agent"), login_as("agent")
    limit = _amount(app, "RATELIMIT_API")
    statuses = [first.get("/api/auth/me").status_code for _ in range(limit + 1)]
    assert statuses.count(200) <= limit
    _assert_rate_limited(first.get("/api/auth/me"))
    assert second.get("/api/auth/me").status_code == 200


def test_health_checks_are_never_limited(app, client):
    limit = _amount(app, "RATELIMIT_API")
    assert all(client.get("/healthz").status_code == 200 for _ in range(limit + 5))
