"""Test helpers: a CSRF-aware API client and a user factory."""
from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass

_seq = itertools.count(1)


@dataclass
class TestUser:
    id: int
    username: str
    password: str
    role: str


class UserFactory:
    def __init__(self, app):
        self.app = app

    def create(self, role: str = "agent", username: str | None = None, password: str | None = None,
               active: bool = True) -> TestUser:
        from app.users import services
        from app.extensions import db

        username = username or f"{role}{next(_seq)}-{secrets.token_hex(2)}"
        password = password or "pw-" + secrets.token_urlsafe(12)
        with self.app.app_context():
            user = services.create_user(username, password, role)
            user.active = active
            db.session.commit()
            return TestUser(user.id, user.username, password, role)


class ApiClient:
    """Wraps Flask's test client: JSON in, JSON out, CSRF token on every write."""

    def __init__(self, client):
        self.client = client
        self.csrf_token: str | None = None
        self.user: TestUser | None = None

    def fetch_csrf(self) -> str:
        self.csrf_token = self.client.get("/api/auth/csrf").get_json()["csrf_token"]
        return self.csrf_token

    def login(self, username: str, password: str, **kwargs):
        if self.csrf_token is None:
            self.fetch_csrf()
        response = self.post("/api/auth/login", json={"username": username, "password": password}, **kwargs)
        if response.status_code == 200:
            self.csrf_token = response.get_json()["csrf_token"]
        return response

    def _headers(self, headers: dict | None) -> dict:
        out = dict(headers or {})
        if self.csrf_token and "X-CSRFToken" not in out:
            out["X-CSRFToken"] = self.csrf_token
        return out

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path, headers=None, **kwargs):
        return self.client.post(path, headers=self._headers(headers), **kwargs)

    def put(self, path, headers=None, **kwargs):
        return self.client.put(path, headers=self._headers(headers), **kwargs)

    def patch(self, path, headers=None, **kwargs):
        return self.client.patch(path, headers=self._headers(headers), **kwargs)

    def delete(self, path, headers=None, **kwargs):
        return self.client.delete(path, headers=self._headers(headers), **kwargs)


def truncate_tables(database_url: str, tables: str) -> None:
    """Empty tables that a test committed to outside its rolled-back transaction (live servers)."""
    from sqlalchemy import create_engine, text

    from config import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(database_url))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def connect_audio(agent_id: int, via: str = "browser") -> str:
    """The agent's audio leg is in their room, as the carrier's join event reports it (inside an
    app context): without it an agent cannot go ready. Returns the leg's CallSid."""
    from app.agents import audio

    if audio.leg_of(agent_id):
        return audio.leg_of(agent_id)
    sid = f"CA{secrets.token_hex(16)}"
    assert audio.leg_joined(agent_id, sid, via)
    return sid


def audio_connected(app, agent_id: int, via: str = "browser") -> str:
    """`connect_audio` from outside an app context."""
    with app.app_context():
        return connect_audio(agent_id, via)


def give_written_consent(contact_id: int) -> None:
    """The contact gave prior express written consent yesterday (inside an app context; committed)."""
    from datetime import timedelta

    from app.common.timeutil import utcnow
    from app.contacts.consents import record_consent
    from app.contacts.models import Contact
    from app.extensions import db

    record_consent(db.session.get(Contact, contact_id), "prior_express_written",
                   utcnow() - timedelta(days=1), "web form")
    db.session.commit()
