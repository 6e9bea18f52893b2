"""A real server (werkzeug, threaded, Flask-SocketIO on the Redis queue) and real Socket.IO clients.

Data here must be visible to the server's threads and to worker subprocesses, so it is
committed for real and the tables are truncated afterwards; these tests are marked slow.
"""
from __future__ import annotations

import queue
import secrets
import threading

import pytest
import redis as redis_lib
import requests
import socketio
from werkzeug.serving import make_server

from app.realtime.publish import NAMESPACE
from tests.helpers import truncate_tables

TOUCHED = "users, campaigns, pause_codes, agent_state_changes, audit_log, calls, contacts, api_tokens"


@pytest.fixture(scope="module")
def live_server(_app, service_urls):
    redis_lib.Redis.from_url(service_urls["redis"]).flushdb()
    server = make_server("127.0.0.1", 0, _app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    truncate_tables(service_urls["database"], TOUCHED)
    redis_lib.Redis.from_url(service_urls["redis"]).flushdb()



class Committed:
    """Creates users, campaigns and assignments that other threads and processes can see."""

    def __init__(self, app):
        self.app = app

    def user(self, role: str):
        from app.users import services
        from app.extensions import db

        password = "pw-" + secrets.token_urlsafe(12)
        with self.app.app_context():
            user = services.create_user(f"{role}-{secrets.token_hex(3)}", password, role)
            db.session.commit()
            return {"id": user.id, "username": user.username, "password": password, "role": role}

    def token(self, user: dict) -> str:
        """A bearer token for `user` (the raw value)."""
        from app.auth import services
        from app.auth.models import User
        from app.extensions import db

        with self.app.app_context():
            _, raw = services.issue_api_token(db.session.get(User, user["id"]), "live-test")
            db.session.commit()
            return raw

    def campaign(self, *watchers_and_agents):
        from app.extensions import db
        from tests.agents.factories import assign, make_campaign

        with self.app.app_context():
            campaign = make_campaign()
            for person in watchers_and_agents:
                assign(person["id"], campaign.id, "agent" if person["role"] == "agent" else "supervisor")
            db.session.commit()
            return campaign.id


@pytest.fixture
def committed(_app, live_server):
    return Committed(_app)


def http_session(base_url: str, user: dict) -> requests.Session:
    """A requests session signed in as `user`, sending its CSRF token on every request."""
    http = requests.Session()
    token = http.get(f"{base_url}/api/auth/csrf").json()["csrf_token"]
    response = http.post(f"{base_url}/api/auth/login", headers={"X-CSRFToken": token},
                         json={"username": user["username"], "password": user["password"]})
    assert response.status_code == 200, response.text
    http.headers["X-CSRFToken"] = response.json()["csrf_token"]
    return http


def session_cookie(base_url: str, user: dict) -> str:
    return f"omnivox_session={http_session(base_url, user).cookies['omnivox_session']}"


class LiveClient:
    """A python-socketio client on /live that records every event it receives, in order."""

    EVENTS = ("agent.state", "call.state", "campaign.figures", "call.screen_pop", "callback.due")

    def __init__(self, base_url: str, cookie: str | None = None, transports=("websocket",)):
        self.received: queue.Queue = queue.Queue()
        self.disconnected = threading.Event()
        self.sio = socketio.Client(reconnection=False)
        for event in self.EVENTS:
            self.sio.on(event, self._recorder(event), namespace=NAMESPACE)
        self.sio.on("disconnect", lambda *reason: self.disconnected.set(), namespace=NAMESPACE)
        headers = {"Cookie": cookie} if cookie else {}
        self.sio.connect(base_url, headers=headers, namespaces=[NAMESPACE], transports=list(transports),
                         wait_timeout=10)

    def _recorder(self, event):
        def record(payload):
            self.received.put((event, payload))
        return record

    def next(self, timeout: float = 10.0):
        return self.received.get(timeout=timeout)

    def until(self, predicate, timeout: float = 10.0) -> list:
        """Events received up to and including the first matching `predicate(event, payload)`."""
        seen = []
        while True:
            event, payload = self.received.get(timeout=timeout)
            seen.append((event, payload))
            if predicate(event, payload):
                return seen

    def empty(self) -> bool:
        return self.received.empty()

    def call(self, event: str, data=None):
        return self.sio.call(event, data, namespace=NAMESPACE, timeout=10)

    def close(self):
        self.sio.disconnect()


@pytest.fixture
def live_clients(live_server):
    opened = []

    def _open(user: dict | None, **kwargs) -> LiveClient:
        client = LiveClient(live_server, session_cookie(live_server, user) if user else None, **kwargs)
        opened.append(client)
        return client

    yield _open
    # websocket-client waits up to 3 s for each close handshake: close them side by side
    closers = [threading.Thread(target=client.close) for client in opened]
    for closer in closers:
        closer.start()
    for closer in closers:
        closer.join()
