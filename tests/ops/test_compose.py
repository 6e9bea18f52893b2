"""The compose stack, checked as YAML (no Docker engine here): what `docker compose up` would run."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
QUEUES = ("dial", "telephony", "kpi", "default")
WORKERS = {f"worker-{q}": q for q in QUEUES}
LONG_RUNNING = ("postgres", "redis", "web", *WORKERS, "beat", "carrier-sim")
APP_SERVICES = ("web", *WORKERS, "beat")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|AUTH|_SID$|_KEY$", re.I)
REQUIRED_SECRETS = ("SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD", "TWILIO_ACCOUNT_SID",
                    "TWILIO_AUTH_TOKEN")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _argv(service: dict) -> list[str]:
    command = service.get("command") or []
    return command.split() if isinstance(command, str) else [str(part) for part in command]


def _option(argv: list[str], *names: str) -> str | None:
    for i, part in enumerate(argv):
        if part in names and i + 1 < len(argv):
            return argv[i + 1]
    return None


def test_every_process_is_a_service(services):
    for name in ("postgres", "redis", "migrate", "web", *WORKERS, "beat", "carrier-sim"):
        assert name in services, f"missing service {name}"


def test_each_worker_pool_listens_to_exactly_its_queue(services):
    for name, queue in WORKERS.items():
        argv = _argv(services[name])
        assert argv[:4] == ["celery", "-A", "celery_app", "worker"], argv
        assert _option(argv, "-Q", "--queues") == queue, f"{name} must consume only {queue!r}"
        assert _option(argv, "-n", "--hostname") == f"{queue}@%h", f"{name}: node name per pool"
    # No pool consumes someone else's queue, and every routed queue has a pool.
    consumed = [_option(_argv(services[n]), "-Q", "--queues") for n in WORKERS]
    assert sorted(consumed) == sorted(QUEUES)


def test_queues_match_celery_routing():
    from config import Config

    env = {"SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://u@h/db", "REDIS_URL": "redis://h/0",
           "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "http://h"}
    routes = Config(env).CELERY["task_routes"]
    assert {r["queue"] for r in routes.values()} == set(QUEUES)


def test_migrations_run_once_before_web_workers_and_beat(services):
    migrate = services["migrate"]
    assert _argv(migrate)[-2:] == ["db", "upgrade"]
    assert migrate.get("restart") == "no", "a one-shot job must not be restarted"
    for name in APP_SERVICES:
        depends = services[name].get("depends_on") or {}
        assert depends.get("migrate", {}).get("condition") == "service_completed_successfully", name
        assert depends.get("postgres", {}).get("condition") == "service_healthy", name
        assert depends.get("redis", {}).get("condition") == "service_healthy", name


def test_long_running_services_have_health_checks_and_restart(services):
    for name in LONG_RUNNING:
        service = services[name]
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert service.get("restart") in ("unless-stopped", "always", "on-failure"), name


def test_worker_health_checks_ping_their_own_node(services):
    for name, queue in WORKERS.items():
        test = " ".join(services[name]["healthcheck"]["test"])
        assert f"{queue}@$$HOSTNAME" in test, f"{name} must ping its own node"
    beat = services["beat"]
    assert "--enable-remote-control" in _argv(beat)
    assert "beat@$$HOSTNAME" in " ".join(beat["healthcheck"]["test"])


def test_workers_scale(services):
    """`docker compose up --scale worker-dial=4` fails on a fixed name or a fixed host port."""
    for name in (*WORKERS, "beat"):
        assert "container_name" not in services[name], name
        assert "ports" not in services[name], name


def test_simulator_is_opt_in(services):
    sim = services["carrier-sim"]
    assert sim.get("profiles") == ["simulator"]
    argv = " ".join(_argv(sim))
    assert "-m carrier_sim" in argv and "--host 0.0.0.0" in argv and "--port 5055" in argv
    assert "--account-sid" in argv and "--auth-token" in argv
    for name, service in services.items():
        if name != "carrier-sim":
            assert "profiles" not in service, f"{name} must start by default"


def test_web_serves_socketio_threaded(services):
    argv = _argv(services["web"])
    assert argv[:2] == ["gunicorn", "wsgi:app"]
    assert _option(argv, "--workers", "-w") == "1"
    assert _option(argv, "--threads") is not None


def _walk(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")
    else:
        yield path, value


def test_no_hard_coded_secrets(compose, services):
    for name, service in services.items():
        env = service.get("environment") or {}
        assert isinstance(env, dict), f"{name}: use the mapping form for environment"
        for key, value in env.items():
            value = "" if value is None else str(value)
            if SECRET_NAME.search(key):
                assert value.startswith("${") and value.endswith("}"), f"{name}.{key} is hard-coded"
        # Credentials inside URLs come from the environment too.
        for key, value in env.items():
            for userinfo in re.findall(r"://([^@/\s]+)@", str(value)):
                _, _, password = userinfo.partition(":")
                assert not password or password.startswith("${"), f"{name}.{key} embeds a password"
    # Every required secret is demanded with ${VAR:?message}, never defaulted.
    text = (ROOT / "docker-compose.yml").read_text()
    for secret in REQUIRED_SECRETS:
        assert re.search(r"\$\{" + secret + r":\?[^}]+\}", text), f"{secret} must be ${{{secret}:?...}}"
        assert not re.search(r"\$\{" + secret + r":?-", text), f"{secret} must have no default"
    # Nothing that looks like a literal secret anywhere (Twilio SIDs, long hex or base64 runs).
    for path, value in _walk(compose):
        value = str(value)
        assert not re.search(r"\bAC[0-9a-f]{32}\b", value), path
        for run in re.findall(r"[A-Za-z0-9+_=-]{24,}", value):
            assert not (re.search(r"\d", run) and re.search(r"[A-Za-z]", run)), f"{path}: {run}"


def test_dockerfile_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert "requirements.txt" in dockerfile
