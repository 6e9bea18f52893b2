"""Security headers on every kind of answer: API success and errors, health, metrics."""
from __future__ import annotations

import pytest

EVERYWHERE = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _check(response, api: bool):
    for name, expected in EVERYWHERE.items():
        assert response.headers.get(name) == expected, f"{name} on {response.request.path}"
    csp = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert "X-Request-ID" in response.headers
    assert "Server" not in response.headers or "Werkzeug" not in response.headers["Server"]
    if api:
        assert response.headers.get("Cache-Control") == "no-store", response.request.path


@pytest.mark.parametrize("path,status", [
    ("/api/auth/csrf", 200), ("/api/auth/me", 401), ("/api/users", 401), ("/api/no-such-thing", 404),
    ("/api/openapi.json", 200),
])
def test_api_answers_carry_the_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    _check(response, api=True)


def test_api_errors_from_validation_and_method_carry_the_headers(login_as):
    admin = login_as("admin")
    invalid = admin.post("/api/users", json={"username": ""})
    assert invalid.status_code == 422
    _check(invalid, api=True)
    wrong_method = admin.client.put("/api/auth/me", headers={"X-CSRFToken": admin.csrf_token})
    assert wrong_method.status_code == 405
    _check(wrong_method, api=True)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_operations_endpoints_carry_the_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    _check(response, api=False)


def test_hsts_over_https(client):
    response = client.get("/healthz", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
