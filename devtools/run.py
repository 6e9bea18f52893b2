"""`make run`: set everything up and start the whole platform locally.

Uses DATABASE_URL / REDIS_URL / TWILIO_* from the environment when set; otherwise starts an
embedded PostgreSQL and Redis under instance/ and the carrier simulator on loopback. Creates an
admin with a freshly generated password (printed once) when no admin exists. Ctrl-C stops all.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"
PY = sys.executable


def _secret_key() -> str:
    """A random key kept under instance/ so sessions survive a restart of the local run."""
    path = INSTANCE / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _environment() -> dict[str, str]:
    from devtools import services

    INSTANCE.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault("PORT", "5000")
    env.setdefault("SECRET_KEY", _secret_key())
    env.update(services.env_or_embedded(INSTANCE))
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{env['PORT']}")
    if not env.get("TWILIO_ACCOUNT_SID"):
        # No carrier configured: the local carrier simulator stands in for Twilio.
        env["TWILIO_ACCOUNT_SID"] = "AC" + secrets.token_hex(16)
        env["TWILIO_AUTH_TOKEN"] = secrets.token_hex(16)
        env["OMNIVOX_SIMULATOR_PORT"] = str(services.free_port())
        env["TWILIO_API_BASE_URL"] = f"http://127.0.0.1:{env['OMNIVOX_SIMULATOR_PORT']}"
    env.setdefault("UPLOAD_DIR", str(INSTANCE / "uploads"))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _prepare(env: dict[str, str]) -> str | None:
    """Migrate, then create an admin if none exists; returns the new admin's password."""
    os.environ.update(env)
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.auth import services
    from app.auth.models import User
    from app.extensions import db

    app = create_app()
    with app.app_context():
        print("Applying database migrations ...", flush=True)
        upgrade()
        if db.session.scalar(select(User).where(User.role == "admin", User.active.is_(True))) is None:
            password = secrets.token_urlsafe(15)
            services.create_user("admin", password, "admin", full_name="Administrator")
            db.session.commit()
            return password
    return None


def _processes(env: dict[str, str]) -> list[tuple[str, list[str]]]:
    # One worker (Socket.IO rooms live in its memory; more web processes need sticky sessions),
    # and threads for every open console socket plus the HTTP requests: each WebSocket holds one.
    procs = [
        ("web", [PY, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{env['PORT']}",
                 "--workers", "1", "--threads", "256", "--timeout", "60"]),
    ]
    for queue in ("dial", "telephony", "kpi", "default"):
        procs.append((f"worker-{queue}", [PY, "-m", "celery", "-A", "celery_app", "worker", "-Q", queue,
                                          "-n", f"{queue}@%h", "--concurrency", "2", "--loglevel", "INFO"]))
    procs.append(("beat", [PY, "-m", "celery", "-A", "celery_app", "beat", "--loglevel", "INFO",
                           "--schedule", str(INSTANCE / "celerybeat-schedule")]))
    if env.get("OMNIVOX_SIMULATOR_PORT") and (ROOT / "carrier_sim" / "__main__.py").exists():
        procs.append(("carrier-sim", [PY, "-m", "carrier_sim", "--host", "127.0.0.1",
                                      "--port", env["OMNIVOX_SIMULATOR_PORT"],
                                      "--account-sid", env["TWILIO_ACCOUNT_SID"],
                                      "--auth-token", env["TWILIO_AUTH_TOKEN"]]))
    return procs


def main() -> int:
    env = _environment()
    password = _prepare(env)
    children: list[tuple[str, subprocess.Popen]] = []
    for name, cmd in _processes(env):
        log = open(INSTANCE / f"{name}.log", "ab")
        children.append((name, subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)))
    url = f"http://127.0.0.1:{env['PORT']}"
    print("\nOmnivox is running.")
    print(f"  Open {url}/  (health: {url}/healthz)")
    if password:
        print(f"  Admin sign-in: username 'admin', password '{password}'  (shown once; store it now)")
    else:
        print("  An admin already exists; sign in with the password you stored.")
    print(f"  Logs: {INSTANCE}/<process>.log   Processes: {', '.join(n for n, _ in children)}")
    print("  Ctrl-C stops everything.\n", flush=True)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        for name, proc in children:
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; see instance/{name}.log", flush=True)
                stopping = True
        time.sleep(0.5)
    print("Stopping ...", flush=True)
    for _, proc in children:
        if proc.poll() is None:
            proc.terminate()
    for _, proc in children:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
