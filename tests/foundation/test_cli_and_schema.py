"""The only way in is a user someone created; migrations build the schema on an empty database."""
import secrets
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, inspect, select, text

from app.auth.models import User
from app.extensions import db

EXPECTED_TABLES = {
    "users", "api_tokens", "agents", "campaigns", "campaign_assignments", "contacts", "dnc_entries",
    "calls", "call_events", "interactions", "disposition_codes", "pause_codes", "agent_state_changes",
    "callbacks", "import_jobs", "import_rejections", "audit_log", "kpi_rollups",
}


def test_users_create_reads_the_password_from_stdin_and_it_signs_in(app, api):
    runner = app.test_cli_runner()
    password = "Correct-Horse-" + secrets.token_hex(4)
    result = runner.invoke(args=["users", "create", "ops-admin", "--role", "admin", "--password-stdin"],
                           input=password + "\n")
    assert result.exit_code == 0, result.output
    assert "Created admin ops-admin" in result.output
    assert api.login("ops-admin", password).status_code == 200


def test_users_create_asks_twice_and_refuses_a_mismatch(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "typo-admin", "--role", "admin"],
                           input="First-Password-123\nSecond-Password-456\nFirst-Password-123\nFirst-Password-123\n")
    assert "do not match" in result.output.lower()
    assert result.exit_code == 0  # the prompt asked again and the matching pair was taken
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "typo-admin")) is not None


def test_users_create_refuses_a_weak_password(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "weak", "--role", "admin", "--password-stdin"],
                           input="admin\n")
    assert result.exit_code != 0
    assert "at least 12" in result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "weak")) is None


@pytest.fixture
def empty_database(test_environ):
    from config import sqlalchemy_url

    base = sqlalchemy_url(test_environ["DATABASE_URL"])
    name = f"omnivox_migrate_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    parts = urlsplit(base)
    yield urlunsplit(parts._replace(path="/" + name)), name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_build_the_whole_schema_on_an_empty_database(_app, empty_database):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import downgrade, upgrade

    url, _ = empty_database
    engine = create_engine(url)
    original = _app.config["SQLALCHEMY_DATABASE_URI"]
    with _app.app_context():
        # Point the migration environment at the empty database for this test only.
        db.engines  # noqa: B018 - make sure the default engine exists before swapping it
        state = _app.extensions["sqlalchemy"]._app_engines[_app]
        default_engine = state[None]
        state[None] = engine
        try:
            upgrade()
            tables = set(inspect(engine).get_table_names())
            assert EXPECTED_TABLES <= tables
            with engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == [], f"models and migrations disagree: {diff}"
            downgrade(revision="base")
            assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        finally:
            state[None] = default_engine
            engine.dispose()
    assert _app.config["SQLALCHEMY_DATABASE_URI"] == original


def test_readyz_reports_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}
