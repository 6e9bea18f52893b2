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
    "callbacks", "import_jobs", "import_rejections", "audit_log", "kpi_rollups", "blackout_days",
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


def test_migration_0008_replaces_zone_guesses_and_keeps_known_zones(_app, empty_database):
    """Contacts stored by the earlier rules: a 208 number with the alphabetically first of its
    two zones, a Texas contact with the state's majority zone, a Boise ZIP put in the Pacific
    zone. After the upgrade they hold what is known for sure; zones that were right stay."""
    from flask_migrate import upgrade

    url, _ = empty_database
    engine = create_engine(url)
    with _app.app_context():
        db.engines  # noqa: B018
        state = _app.extensions["sqlalchemy"]._app_engines[_app]
        default_engine = state[None]
        state[None] = engine
        try:
            upgrade(revision="0007")
            with engine.begin() as conn:
                cid = conn.execute(text(
                    "INSERT INTO campaigns (name, caller_id, seller_name, seller_phone, "
                    "safe_harbour_message) VALUES ('c', '+12125550100', 'Acme', '+12125550101', "
                    "'Acme, 212 555 0101') RETURNING id")).scalar()
                rows = [("+12085550100", "America/Boise", None, None),          # 208: a guess
                        ("+12125550134", "America/Chicago", "TX", None),        # split state: both
                        ("+12085550101", "America/Los_Angeles", None, "83702"),  # Boise ZIP
                        ("+12125550135", "America/New_York", None, None),       # right
                        ("+12085550102", "Europe/Paris", None, None),           # explicit
                        ("+12125550136", "America/Chicago", "IL", None)]        # right
                for phone, zone, region, postal in rows:
                    conn.execute(text(
                        "INSERT INTO contacts (campaign_id, phone_e164, timezone, region, postal_code) "
                        "VALUES (:c, :p, :z, :r, :pc)"), {"c": cid, "p": phone, "z": zone,
                                                          "r": region, "pc": postal})
            upgrade()
            with engine.connect() as conn:
                zones = conn.execute(text("SELECT timezone FROM contacts ORDER BY id")).scalars().all()
            assert zones == [None, None, "America/Boise", "America/New_York",
                             "Europe/Paris", "America/Chicago"]
        finally:
            state[None] = default_engine
            engine.dispose()
