"""Start-up refuses an incomplete environment and names what is missing."""
import pytest

from config import REQUIRED, Config, ConfigError

GOOD = {
    "SECRET_KEY": "k" * 40,
    "DATABASE_URL": "postgresql://u@db/omnivox",
    "REDIS_URL": "redis://redis:6379/0",
    "TWILIO_ACCOUNT_SID": "AC123",
    "TWILIO_AUTH_TOKEN": "token",
    "PUBLIC_BASE_URL": "https://dialer.example.com",
}


@pytest.mark.parametrize("name", REQUIRED)
def test_each_missing_secret_stops_start_up_naming_it(name):
    env = {k: v for k, v in GOOD.items() if k != name}
    with pytest.raises(ConfigError, match=name):
        Config(env)


def test_empty_environment_names_every_missing_variable():
    with pytest.raises(ConfigError) as info:
        Config({})
    for name in REQUIRED:
        assert name in str(info.value)


def test_create_app_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    from app import create_app

    for name in REQUIRED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_short_secret_key_is_refused():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Config({**GOOD, "SECRET_KEY": "short"})


@pytest.mark.parametrize("url", ["sqlite:///omnivox.db", "mysql://u@h/db", "not-a-url"])
def test_only_postgresql_is_accepted(url):
    with pytest.raises(ConfigError, match="PostgreSQL"):
        Config({**GOOD, "DATABASE_URL": url})


def test_complete_environment_configures_the_app():
    config = Config(GOOD)
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db/omnivox"
    assert config.PORT == 5000
    assert config.SESSION_COOKIE_SECURE is True  # https public URL: cookies only over TLS
    assert config.SESSION_COOKIE_HTTPONLY is True
    assert Config({**GOOD, "PORT": "8080"}).PORT == 8080


def test_dotenv_file_is_honoured(monkeypatch, tmp_path):
    """A .env beside the code fills in what the environment lacks."""
    import app as app_package

    # Every name the file sets is recorded first, so the test leaves the environment as it was:
    # the .env load writes os.environ directly, and monkeypatch records nothing for a name it
    # deletes that was not set (those leaked into every later test: Redis at redis:6379).
    for name in {*REQUIRED, *GOOD}:
        monkeypatch.setenv(name, "recorded")
        monkeypatch.delenv(name)
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(f"{k}={v}" for k, v in GOOD.items()) + "\n")
    monkeypatch.setattr(app_package, "_dotenv_path", lambda: str(env_file))
    config = app_package.config_from_environment()
    assert config.PUBLIC_BASE_URL == "https://dialer.example.com"


def test_dialer_recovery_knobs_keep_production_defaults_and_can_be_shortened():
    defaults = Config(GOOD)
    assert (defaults.DIAL_LEASE_SECONDS, defaults.REAPER_NEVER_PLACED_SECONDS,
            defaults.CELERY_VISIBILITY_TIMEOUT) == (60, 60, 120)
    assert defaults.CELERY["broker_transport_options"]["visibility_timeout"] == 120
    short = Config({**GOOD, "DIAL_LEASE_SECONDS": "5", "REAPER_NEVER_PLACED_SECONDS": "4",
                    "CELERY_VISIBILITY_TIMEOUT": "6"})
    assert (short.DIAL_LEASE_SECONDS, short.REAPER_NEVER_PLACED_SECONDS) == (5, 4)
    # Lost tasks are swept for often enough that redelivery follows the timeout closely.
    assert short.CELERY["broker_transport_options"] == {
        "visibility_timeout": 6, "unacked_restore_interval": 1, "unacked_restore_throttle": 1}


@pytest.mark.parametrize("value", ["soon", "0", "-5"])
def test_a_recovery_knob_that_is_not_a_positive_number_is_refused(value):
    with pytest.raises(ConfigError, match="DIAL_LEASE_SECONDS"):
        Config({**GOOD, "DIAL_LEASE_SECONDS": value})


def test_terminal_statuses_are_defined_once():
    from app.calls import models
    from app.telephony import carrier

    assert models.TERMINAL_STATUSES is carrier.TERMINAL_STATUSES


def test_the_live_socket_s_allowed_origins_are_a_setting(test_environ):
    from config import Config

    assert Config(test_environ).SOCKETIO_CORS_ORIGINS is None  # same origin only
    assert Config({**test_environ, "SOCKETIO_CORS_ORIGINS": "https://wall.example/, https://tv.example"}
                  ).SOCKETIO_CORS_ORIGINS == ["http://localhost", "https://tv.example", "https://wall.example"]


def test_building_an_app_leaves_the_process_s_logging_to_the_entry_point():
    import logging

    from flask import Flask

    from app.kpi.queries import abandon_counts_many
    from app.ops import configure_process_logging, init_ops

    root = logging.getLogger()
    before = list(root.handlers), root.level
    app = Flask("logging-check")
    app.config.update(LOG_JSON=True, LOG_LEVEL="INFO")
    init_ops(app, abandon_counts_many)  # what the app factory runs
    assert (list(root.handlers), root.level) == before
    try:
        configure_process_logging(app)  # what wsgi.py and celery_app.py run
        assert list(root.handlers) != before[0]
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in before[0]:
            root.addHandler(handler)
        root.setLevel(before[1])
