"""Configuration, read from the environment only.

Secrets have no defaults: a missing one stops start-up with an error that names it.
A `.env` file beside this one is honoured (values already in the environment win).
"""
from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

REQUIRED = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "PUBLIC_BASE_URL",
)


class ConfigError(RuntimeError):
    """Start-up refused because the environment is incomplete or wrong."""


def sqlalchemy_url(url: str, name: str = "DATABASE_URL") -> str:
    """PostgreSQL is the only database; use the psycopg 3 driver whatever the URL says."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
        raise ConfigError(f"{name} must be a postgresql:// URL (Omnivox runs on PostgreSQL only)")
    return "postgresql+psycopg://" + rest


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _seconds(env: dict[str, str], name: str, default: float) -> float:
    try:
        value = float(env.get(name) or default)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value


def _prefixes(env: dict[str, str], name: str, default: str) -> tuple[str, ...]:
    raw = env.get(name)
    values = tuple(p.strip() for p in (default if raw is None else raw).split(",") if p.strip())
    bad = [p for p in values if not re.fullmatch(r"\+[1-9]\d{0,14}", p)]
    if bad:
        raise ConfigError(f"{name} must be comma-separated E.164 prefixes such as +1 or +44; "
                          f"not {', '.join(bad)}")
    return values


class Config:
    """Production configuration built from an environment mapping."""

    TESTING = False
    _log_json_default = True
    API_TITLE = "Omnivox API"
    API_VERSION = "1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"

    _pool_size, _max_overflow = 10, 20
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "omnivox_session"
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 12 * 3600  # one shift
    WTF_CSRF_CHECK_DEFAULT = False  # checked in app.security for cookie-authenticated writes only
    WTF_CSRF_TIME_LIMIT = None  # valid for the session's life: agents sign in for a whole shift
    WTF_CSRF_HEADERS = ["X-CSRFToken", "X-CSRF-Token"]
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    JSON_SORT_KEYS = False

    # Password hashing (argon2id). The defaults are argon2-cffi's RFC 9106 "low memory" profile.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 64 * 1024
    ARGON2_PARALLELISM = 4

    # Sign-in lockout: this many failures within the window lock the username for the window.
    LOGIN_LOCKOUT_FAILURES = 5
    LOGIN_LOCKOUT_WINDOW = 15 * 60

    def __init__(self, environ: dict[str, str] | None = None):
        env = dict(os.environ if environ is None else environ)
        missing = [name for name in REQUIRED if not env.get(name)]
        if missing:
            raise ConfigError(
                "Missing required environment variable(s): " + ", ".join(missing)
                + ". Set them in the environment or in a .env file."
            )
        if len(env["SECRET_KEY"]) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters of random data")
        self.SECRET_KEY = env["SECRET_KEY"]
        self.SQLALCHEMY_DATABASE_URI = sqlalchemy_url(env["DATABASE_URL"])
        self.REDIS_URL = env["REDIS_URL"]
        self.TWILIO_ACCOUNT_SID = env["TWILIO_ACCOUNT_SID"]
        self.TWILIO_AUTH_TOKEN = env["TWILIO_AUTH_TOKEN"]
        self.TWILIO_API_BASE_URL = env.get("TWILIO_API_BASE_URL") or None
        # What a person on hold hears after a word that they are held (an audio file's URL);
        # unset: Twilio's public hold music.
        self.HOLD_MUSIC_URL = env.get("HOLD_MUSIC_URL") or None
        # Numbers an agent may have Omnivox call (transfers to a number, an agent's own phone):
        # those starting with one of these prefixes (comma-separated E.164 prefixes). Premium
        # and pay-per-call ranges are refused whatever this says (app.telephony.dial_policy).
        self.TRANSFER_ALLOWED_PREFIXES = _prefixes(env, "TRANSFER_ALLOWED_PREFIXES", "+1")
        # A warm transfer's consultation left open this long is ended by the reaper: the
        # consulted party leaves and the person is taken off hold.
        self.CONSULT_TIMEOUT_SECONDS = _seconds(env, "CONSULT_TIMEOUT_SECONDS", 600)
        # Agents' audio (app.agents.audio). Browser audio (Twilio Voice JS) needs an API key,
        # its secret and a TwiML App whose voice URL is /twilio/agent/voice; without them agents
        # connect a phone Omnivox calls (from AGENT_CALLER_ID, else a campaign's caller ID).
        self.TWILIO_API_KEY_SID = env.get("TWILIO_API_KEY_SID") or None
        self.TWILIO_API_KEY_SECRET = env.get("TWILIO_API_KEY_SECRET") or None
        self.TWILIO_TWIML_APP_SID = env.get("TWILIO_TWIML_APP_SID") or None
        self.AGENT_CALLER_ID = env.get("AGENT_CALLER_ID") or None
        try:
            # Calls per second the carrier account allows (Twilio's default is 1); 0 = no limit.
            self.CARRIER_CPS = float(env.get("CARRIER_CPS") or 1)
        except ValueError:
            raise ConfigError("CARRIER_CPS must be a number of calls per second") from None
        # Recovery knobs of the dialer (seconds). A claimed contact whose attempt was never
        # created goes back to the queue after DIAL_LEASE_SECONDS; an attempt created but
        # never sent to the carrier is placed (or failed) by the reaper after
        # REAPER_NEVER_PLACED_SECONDS; a task held by a worker that died is redelivered after
        # CELERY_VISIBILITY_TIMEOUT. Tests shorten them; production keeps the defaults.
        self.DIAL_LEASE_SECONDS = _seconds(env, "DIAL_LEASE_SECONDS", 60)
        self.REAPER_NEVER_PLACED_SECONDS = _seconds(env, "REAPER_NEVER_PLACED_SECONDS", 60)
        # An attempt whose worker died mid-request waits this long for the carrier's callbacks
        # to show it was placed after all before it is failed (and never sent again).
        self.PLACEMENT_INTERRUPTED_GRACE_SECONDS = _seconds(env, "PLACEMENT_INTERRUPTED_GRACE_SECONDS", 120)
        self.CELERY_VISIBILITY_TIMEOUT = _seconds(env, "CELERY_VISIBILITY_TIMEOUT", 120)
        # A placed call that has heard nothing for REAPER_SILENT_SECONDS before it was answered,
        # or REAPER_IN_PROGRESS_CHECK_SECONDS after, is fetched from the carrier and settled.
        self.REAPER_SILENT_SECONDS = _seconds(env, "REAPER_SILENT_SECONDS", 120)
        self.REAPER_IN_PROGRESS_CHECK_SECONDS = _seconds(env, "REAPER_IN_PROGRESS_CHECK_SECONDS", 300)
        # A wrap-up whose agent is no longer on it (signed off, state lost) is closed without a
        # disposition after this long, and the contact scheduled like an undecided one.
        self.WRAP_UP_TIMEOUT_SECONDS = _seconds(env, "WRAP_UP_TIMEOUT_SECONDS", 300)
        # Wall seconds per carrier second: 1 in production. A bench or test whose carrier
        # simulator runs at a time scale sets the same figure here, so that the pacing tick
        # runs once per carrier second and the pacer reads every time in carrier seconds (its
        # bins, windows and learned distributions are whole seconds of the real world).
        self.DIALER_TIME_SCALE = _seconds(env, "DIALER_TIME_SCALE", 1)
        self.PUBLIC_BASE_URL = env["PUBLIC_BASE_URL"].rstrip("/")
        if urlsplit(self.PUBLIC_BASE_URL).scheme not in ("http", "https"):
            raise ConfigError("PUBLIC_BASE_URL must be an http(s) URL where Twilio reaches us")
        try:
            self.PORT = int(env.get("PORT") or 5000)
        except ValueError:
            raise ConfigError("PORT must be a number") from None
        secure_default = urlsplit(self.PUBLIC_BASE_URL).scheme == "https"
        self.SESSION_COOKIE_SECURE = _flag(env.get("SESSION_COOKIE_SECURE"), secure_default)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.TRUSTED_PROXIES = int(env.get("TRUSTED_PROXIES") or 0)
        self.DEFAULT_PHONE_REGION = env.get("DEFAULT_PHONE_REGION") or "US"
        self.UPLOAD_DIR = env.get("UPLOAD_DIR") or os.path.join(os.getcwd(), "instance", "uploads")
        self.IMPORT_MAX_BYTES = int(env.get("IMPORT_MAX_BYTES") or 50 * 1024 * 1024)

        # Observability: JSON log lines on stdout; /metrics for loopback or this bearer token.
        self.LOG_JSON = _flag(env.get("LOG_JSON"), self._log_json_default)
        # Dead pooled connections (PostgreSQL restarted, a proxy dropped them) are handled
        # optimistically by default: the first statement on one fails, SQLAlchemy then discards
        # every connection of that pool, and the webhook fast path retries once. A ping before
        # every checkout (DATABASE_POOL_PRE_PING=1) costs one more round trip per request: a
        # quarter more database round trips for a status callback, about 15% of its throughput.
        self.SQLALCHEMY_ENGINE_OPTIONS = {
            "pool_pre_ping": _flag(env.get("DATABASE_POOL_PRE_PING"), False),
            "pool_recycle": 1800, "pool_size": self._pool_size, "max_overflow": self._max_overflow}
        self.LOG_LEVEL = (env.get("LOG_LEVEL") or "INFO").upper()
        self.METRICS_TOKEN = env.get("METRICS_TOKEN") or None
        if self.METRICS_TOKEN is not None and len(self.METRICS_TOKEN) < 24:
            raise ConfigError("METRICS_TOKEN must be at least 24 characters of random data")

        # Rate-limit tiers (limits strings, e.g. "300 per minute").
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL
        self.RATELIMIT_KEY_PREFIX = "omnivox-rl"
        self.RATELIMIT_HEADERS_ENABLED = True
        self.RATELIMIT_API = env.get("RATELIMIT_API") or "600 per minute"
        self.RATELIMIT_LOGIN_IP = env.get("RATELIMIT_LOGIN_IP") or "30 per minute"
        self.RATELIMIT_LOGIN_USER = env.get("RATELIMIT_LOGIN_USER") or "10 per minute"
        self.RATELIMIT_CREATE = env.get("RATELIMIT_CREATE") or "120 per minute"
        self.RATELIMIT_REPORTING = env.get("RATELIMIT_REPORTING") or "60 per minute"

        # KPI rollups: how long minute buckets are kept, and how far back each run rereads
        # source rows changed before the previous run (covers transactions that committed late).
        self.KPI_MINUTE_RETENTION_HOURS = int(env.get("KPI_MINUTE_RETENTION_HOURS") or 48)
        self.KPI_ROLLUP_OVERLAP_SECONDS = int(env.get("KPI_ROLLUP_OVERLAP_SECONDS") or 300)

        # Number health (app.numbers.health): a number is rested for NUMBER_REST_DAYS when, with
        # at least NUMBER_HEALTH_MIN_DIALS dials from it and from the rest of its pool, its
        # person-answer rate is under NUMBER_HEALTH_RATIO of the pool's (and a one-sided
        # two-proportion test agrees).
        self.NUMBER_HEALTH_MIN_DIALS = int(env.get("NUMBER_HEALTH_MIN_DIALS") or 50)
        self.NUMBER_HEALTH_RATIO = float(env.get("NUMBER_HEALTH_RATIO") or 0.5)
        self.NUMBER_REST_DAYS = int(env.get("NUMBER_REST_DAYS") or 7)

        # Webhooks out (app.outbound_hooks): each POST's timeout; retries with exponential
        # backoff (doubling from the base, capped at the max, with jitter) for RETRY_FOR seconds
        # after the event; an endpoint failing that long is switched off. Retries due within
        # COUNTDOWN_MAX seconds are queued with a countdown, later ones by the beat sweep.
        self.WEBHOOKS_TIMEOUT_SECONDS = _seconds(env, "WEBHOOKS_TIMEOUT_SECONDS", 10)
        self.WEBHOOKS_RETRY_FOR_SECONDS = _seconds(env, "WEBHOOKS_RETRY_FOR_SECONDS", 24 * 3600)
        self.WEBHOOKS_DISABLE_AFTER_SECONDS = _seconds(env, "WEBHOOKS_DISABLE_AFTER_SECONDS", 24 * 3600)
        self.WEBHOOKS_BACKOFF_BASE_SECONDS = _seconds(env, "WEBHOOKS_BACKOFF_BASE_SECONDS", 30)
        self.WEBHOOKS_BACKOFF_MAX_SECONDS = _seconds(env, "WEBHOOKS_BACKOFF_MAX_SECONDS", 3600)
        self.WEBHOOKS_COUNTDOWN_MAX_SECONDS = _seconds(env, "WEBHOOKS_COUNTDOWN_MAX_SECONDS", 60)
        # Plain http:// and loopback endpoints, for tests and a local run only: refused
        # unless testing or PUBLIC_BASE_URL is on this machine (a deployment the carrier can reach
        # never is), so it cannot be switched on in production by mistake.
        self.WEBHOOKS_ALLOW_INSECURE_TARGETS = _flag(env.get("WEBHOOKS_ALLOW_INSECURE_TARGETS"), False)
        local = urlsplit(self.PUBLIC_BASE_URL).hostname in ("localhost", "127.0.0.1", "::1")
        if self.WEBHOOKS_ALLOW_INSECURE_TARGETS and not (self.TESTING or local):
            raise ConfigError("WEBHOOKS_ALLOW_INSECURE_TARGETS is for tests and local development only: "
                              "unset it (PUBLIC_BASE_URL is not on this machine)")

        self.SOCKETIO_MESSAGE_QUEUE = self.REDIS_URL
        # Browser origins, besides our own, allowed to open the live socket (comma-separated,
        # e.g. a wallboard served from another host). Unset: same origin only.
        extra = [o.strip().rstrip("/") for o in (env.get("SOCKETIO_CORS_ORIGINS") or "").split(",") if o.strip()]
        own = "{0.scheme}://{0.netloc}".format(urlsplit(self.PUBLIC_BASE_URL))
        self.SOCKETIO_CORS_ORIGINS = sorted({own, *extra}) if extra else None
        self.CELERY = {
            "broker_url": self.REDIS_URL,
            "result_backend": None,
            "task_ignore_result": True,
            "task_serializer": "json",
            "accept_content": ["json"],
            "task_default_queue": "default",
            "task_routes": {
                "workers.dial.*": {"queue": "dial"},
                "workers.telephony.*": {"queue": "telephony"},
                "workers.kpi.*": {"queue": "kpi"},
                "workers.default.*": {"queue": "default"},
            },
            "broker_connection_retry_on_startup": True,
            # A task held by a worker that died is redelivered after the visibility timeout
            # (tasks are short). Kombu sweeps for such tasks every interval x throttle
            # seconds (10 x 10 by default, longer than the timeout itself): sweep at a
            # quarter of the timeout instead, so redelivery comes within 1.25 of it.
            "broker_transport_options": {
                "visibility_timeout": self.CELERY_VISIBILITY_TIMEOUT,
                "unacked_restore_interval": max(1, min(10, int(self.CELERY_VISIBILITY_TIMEOUT // 4))),
                "unacked_restore_throttle": 1,
            },
            "worker_prefetch_multiplier": 4,
            "beat_schedule": {
                # Callbacks stored while the broker was down are applied within seconds.
                "telephony-sweep-unprocessed-events": {
                    "task": "workers.telephony.sweep_unprocessed_events",
                    "schedule": 10.0,
                },
                "dial-pacing-tick": {"task": "workers.dial.pacing_tick",
                                     "schedule": 1.0 * self.DIALER_TIME_SCALE,
                                     "options": {"expires": 2.0 * self.DIALER_TIME_SCALE}},
                "dial-refill-queues": {"task": "workers.dial.refill_queues", "schedule": 5.0,
                                       "options": {"expires": 10}},
                "dial-reap-stale-calls": {"task": "workers.dial.reap_stale_calls", "schedule": 30.0,
                                          "options": {"expires": 60}},
                # Callers waiting in a campaign's queue taken by an agent within a second of
                # their freeing up (a carrier second, as the tick's).
                "inbound-hand-waiting-callers": {
                    "task": "workers.telephony.hand_waiting_callers",
                    "schedule": 1.0 * self.DIALER_TIME_SCALE,
                    "options": {"expires": 2.0 * self.DIALER_TIME_SCALE},
                },
                "agents-expire-reservations": {
                    "task": "workers.telephony.expire_agent_reservations", "schedule": 1.0,
                    "options": {"expires": 5},
                },
                "interactions-close-forgotten-wrap-ups": {
                    "task": "workers.default.close_forgotten_wrap_ups", "schedule": 30.0,
                    "options": {"expires": 60},
                },
                "callbacks-release-due": {
                    "task": "workers.default.release_due_callbacks", "schedule": 30.0,
                    "options": {"expires": 60},
                },
                "agents-disconnect-silent": {
                    "task": "workers.default.disconnect_silent_agents", "schedule": 5.0,
                    "options": {"expires": 10},
                },
                # KPIs: incremental rollup (cheap when nothing changed) and minute-row retention.
                "kpi-rollup": {"task": "workers.kpi.roll_up_kpis", "schedule": 15.0},
                "kpi-purge-minutes": {"task": "workers.kpi.purge_minute_rollups", "schedule": 3600.0},
                # Webhooks out: retries that have come due, and deliveries the broker missed.
                "webhooks-send-due": {"task": "workers.default.send_due_webhooks", "schedule": 15.0,
                                      "options": {"expires": 30}},
                "numbers-assess-health": {"task": "workers.default.assess_number_health",
                                          "schedule": 900.0, "options": {"expires": 600}},
                # Recordings past their campaign's retention period, deleted at the carrier.
                "recordings-retention": {"task": "workers.telephony.sweep_recording_retention",
                                         "schedule": 3600.0, "options": {"expires": 1800}},
            },
        }


class TestConfig(Config):
    """Configuration for the test suite: same rules, cheaper password hashing."""

    TESTING = True
    _log_json_default = False  # pytest captures plain records; tests opt in to JSON
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8 * 1024
    ARGON2_PARALLELISM = 1
    _pool_size, _max_overflow = 5, 10

    def __init__(self, environ: dict[str, str] | None = None, **overrides):
        super().__init__(environ)
        for key, value in overrides.items():
            setattr(self, key, value)
