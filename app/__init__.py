"""Omnivox: outbound call-centre platform."""
from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def _dotenv_path() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".env")


def config_from_environment():
    """Config from the environment, with a .env file filling in what the environment lacks."""
    from dotenv import load_dotenv

    from config import Config

    load_dotenv(_dotenv_path(), override=False)
    return Config()


def create_app(config=None) -> Flask:
    """Build the app. `config` is a Config instance; by default it is read from the environment."""
    if config is None:
        config = config_from_environment()

    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config)

    from app import models  # noqa: F401 - register every table with the metadata
    from app.auth.security import init_security, refuse_callers_without_access
    from app.common.jsonbody import init_json_bodies
    from app.common.redis import init_redis
    from app.errors import register_error_handlers
    from app.extensions import api, db, limiter, migrate
    from app.web.live import init_live

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"))
    init_redis(app)
    init_security(app)
    limiter.init_app(app)
    api.init_app(app)
    _register_blueprints(app)
    register_error_handlers(app)
    _init_ops(app)
    _wire_features()
    # After the rate limits and the request id, before any view reads the body.
    app.before_request(refuse_callers_without_access)
    init_json_bodies(app)
    _init_celery(app)
    _register_cli(app)
    init_live(app)
    if app.config.get("TRUSTED_PROXIES"):
        # Outermost, so the Socket.IO middleware's same-origin check sees the public scheme/host too.
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)
    return app


def _register_blueprints(app: Flask) -> None:
    from app.agents.directory_routes import blp as agent_directory_blp
    from app.agents.routes import blp as agents_blp
    from app.users.audit_routes import blp as audit_blp
    from app.auth.routes import blp as auth_blp
    from app.calls.routes import blp as calls_blp
    from app.campaigns.code_routes import blp as codes_blp
    from app.campaigns.routes import blp as campaigns_blp
    from app.compliance.admin_routes import blp as calling_rules_blp
    from app.compliance.routes import blp as compliance_blp
    from app.contacts.routes import blp as contacts_blp
    from app.dialer.routes import blp as dialer_blp
    from app.dnc.routes import blp as dnc_blp
    from app.extensions import api
    from app.health.routes import bp as health_bp
    from app.imports.routes import blp as imports_blp
    from app.interactions.routes import blp as interactions_blp
    from app.interactions.routes import callbacks_blp as agent_callbacks_blp
    from app.kpi.routes import blp as kpi_blp
    from app.monitoring.routes import blp as monitoring_blp
    from app.monitoring.routes import supervisors_blp as supervisor_audio_blp
    from app.webhooks.routes import bp as twilio_bp
    from app.users.routes import blp as users_blp
    from app.web.api import blp as console_blp
    from app.web.routes import bp as web_bp

    for blp in (auth_blp, users_blp, audit_blp, campaigns_blp, codes_blp, contacts_blp,
                dnc_blp, calls_blp, agents_blp, interactions_blp, console_blp,
                agent_directory_blp, kpi_blp, dialer_blp, agent_callbacks_blp, imports_blp, compliance_blp,
                calling_rules_blp, monitoring_blp, supervisor_audio_blp):
        api.register_blueprint(blp)
    from app.kpi.report_routes import blp as reports_blp; api.register_blueprint(reports_blp)  # noqa: E702
    from app.outbound_hooks.routes import blp as hooks_blp; api.register_blueprint(hooks_blp)  # noqa: E702
    from app.numbers.routes import blp as numbers_blp; api.register_blueprint(numbers_blp)  # noqa: E702
    from app.campaigns.voicemail_routes import blp as voicemail_blp; api.register_blueprint(voicemail_blp)  # noqa: E702,E501
    from app.interactions.routes import voicemails_blp; api.register_blueprint(voicemails_blp)  # noqa: E702
    app.register_blueprint(health_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(twilio_bp)


def _wire_features() -> None:
    """Where a lower feature needs a higher one's work, it is plugged in here (idempotent): the
    end of a call reaches the dialer and interactions as a blinker signal without calls
    importing either, and the metrics read the dial queue through the dialer's own code."""
    from app.agents import pending
    from app.monitoring import sessions as monitoring
    from app.agents import services as agents
    from app.calls import recordings
    from app.dialer import call_end, hopper, transfers
    from app.contacts import services as contacts
    from app.interactions import history, services as interactions
    from app.ops import metrics

    agents.connect()
    monitoring.connect()
    pending.set_ringing_counter(hopper.calls_ringing)
    call_end.connect()
    interactions.connect()
    transfers.connect()
    recordings.connect()
    metrics.set_queue_depth_reader(hopper.ready_depths)
    metrics.connect()
    contacts.set_history_reader(history.contact_history)
    from app.outbound_hooks import receivers as webhooks_out
    webhooks_out.connect()


def _init_ops(app: Flask) -> None:
    from app.kpi.queries import abandon_counts_many
    from app.ops import init_ops

    init_ops(app, abandon_counts_many)


def _init_celery(app: Flask) -> None:
    from app.celery_setup import celery_init_app

    celery_init_app(app)


def _register_cli(app: Flask) -> None:
    from app.compliance.cli import compliance_cli
    from app.dnc.cli import dnc_cli
    from app.users.cli import users_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(compliance_cli)
    app.cli.add_command(dnc_cli)
