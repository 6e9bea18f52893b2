"""Shared by the security tests: the OpenAPI document, bearer headers per role, roomy limits."""
from __future__ import annotations

import re

import pytest

ROLES = ("agent", "supervisor", "admin")
UNSAFE = ("post", "put", "patch", "delete")
ID_PARAM = re.compile(r"\{(\w*id)\}$|\{(\w*_id|id)\}")


@pytest.fixture
def spec(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def operations(spec: dict, methods=None):
    """(method, path, operation) for every operation under /api, in document order."""
    for path, item in spec.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            if method in ("get", "head", "post", "put", "patch", "delete") and (
                    methods is None or method in methods):
                yield method, path, operation


@pytest.fixture
def roomy_limits(app, monkeypatch):
    """Rate tiers out of the way for tests that send many requests (the 429 tests use the real ones)."""
    for name in ("RATELIMIT_API", "RATELIMIT_LOGIN_IP", "RATELIMIT_LOGIN_USER", "RATELIMIT_CREATE",
                 "RATELIMIT_REPORTING"):
        monkeypatch.setitem(app.config, name, "100000 per minute")


@pytest.fixture
def bearer(app, users):
    """bearer("agent") -> (TestUser, {"Authorization": "Bearer ..."}) for a fresh user of that role."""
    from app.auth import services
    from app.auth.models import User
    from app.extensions import db

    def _make(role: str):
        user = users.create(role)
        with app.app_context():
            _, raw = services.issue_api_token(db.session.get(User, user.id), f"security-{role}")
            db.session.commit()
        return user, {"Authorization": f"Bearer {raw}"}

    return _make


def assert_error_shape(response, context: str = "") -> None:
    body = response.get_json(silent=True)
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), (
        f"{context}: {response.status_code} is not in the error shape: {response.get_data(as_text=True)[:300]}")
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], context
    assert isinstance(error.get("message"), str), context
    assert isinstance(error.get("fields", {}), dict), context
