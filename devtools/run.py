"""`make run`: set everything up and start the whole platform locally.

Uses DATABASE_URL / REDIS_URL / TWILIO_* from the environment when set; otherwise starts an
embedded PostgreSQL and Redis under instance/ and the carrier simulator on loopback. Creates an
admin with a freshly generated password (printed once) when no admin exists, and the live
demo (devtools/demo.py: a predictive campaign, bot agents, a supervisor and an agent for you,
their passwords printed once too) unless OMNIVOX_DEMO=0. Ctrl-C stops all, embedded
PostgreSQL and Redis included.
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
    env.pop("OMNIVOX_SIMULATOR_PORT", None)  # set below only for a simulator started here
    own_database = not env.get("DATABASE_URL")
    env.update(services.env_or_embedded(INSTANCE))
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{env['PORT']}")
    if not env.get("TWILIO_ACCOUNT_SID"):
        # No carrier configured: the local carrier simulator stands in for Twilio.
        env["TWILIO_ACCOUNT_SID"] = "AC" + secrets.token_hex(16)
        env["TWILIO_AUTH_TOKEN"] = secrets.token_hex(16)
        env["OMNIVOX_SIMULATOR_PORT"] = str(services.free_port())
        env["TWILIO_API_BASE_URL"] = f"http://127.0.0.1:{env['OMNIVOX_SIMULATOR_PORT']}"
        if own_database:  # every call in it went to a simulator of ours (forget_the_last_carrier)
            env["OMNIVOX_FORGET_LAST_CARRIER"] = "1"
    env.setdefault("UPLOAD_DIR", str(INSTANCE / "uploads"))
    env.setdefault("CARRIER_CPS", "10")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _demo_enabled(env: dict[str, str]) -> bool:
    return env.get("OMNIVOX_DEMO", "1").lower() not in ("0", "false", "no", "off")


def _prepare(env: dict[str, str]) -> dict[str, str]:
    """Migrate, create an admin if none exists and seed the demo; returns new users' passwords."""
    os.environ.update(env)
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.users import services as users
    from app.auth.models import User
    from app.extensions import db

    app = create_app()
    with app.app_context():
        print("Applying database migrations ...", flush=True)
        upgrade()
        passwords = {}
        if db.session.scalar(select(User).where(User.role == "admin", User.active.is_(True))) is None:
            passwords["admin"] = secrets.token_urlsafe(15)
            users.create_user("admin", passwords["admin"], "admin", full_name="Administrator")
            db.session.commit()
        if env.get("OMNIVOX_FORGET_LAST_CARRIER"):
            forget_the_last_carrier()
        if _demo_enabled(env):
            from devtools.demo import seed_demo

            passwords.update(seed_demo()["passwords"])
        db.session.remove()
        db.engine.dispose()  # no connection of ours lingers into the children's lifetime
    return passwords


def forget_the_last_carrier() -> tuple[int, int]:
    """The carrier simulator starts afresh on every run: the calls and audio legs of the last
    run went with the one before, and no callback will ever end them. (Only with the embedded
    database as well: one given in DATABASE_URL may hold another deployment's live calls.)
    Each ends now as its lost callback would have ended it (the reaper's `settle_as_lost`, the
    leg's `leg_ended`), so no agent stays 'ready' on a leg nobody hears, and no call counts as
    dialling for ever. Returns (calls settled, legs ended)."""
    from sqlalchemy import select

    from app.agents.audio import leg_ended, leg_of
    from app.auth.models import User
    from app.calls.models import TERMINAL_STATUSES, Call
    from app.dialer.reaper import settle_as_lost
    from app.extensions import db

    live = db.session.scalars(select(Call).where(
        Call.call_sid.is_not(None), Call.status.not_in(TERMINAL_STATUSES))).all()
    for call in live:
        settle_as_lost(call)
    legs = 0
    for user_id in db.session.scalars(select(User.id)).all():  # any role may hold a leg
        leg = leg_of(user_id)
        if leg:
            leg_ended(user_id, leg, "completed")
            legs += 1
    if live or legs:
        print(f"The carrier simulator starts afresh: {len(live)} calls and {legs} audio legs of the "
              f"last run ended.", flush=True)
    return len(live), legs


# The demo's carrier runs in real time (time scale 1), so every length it reports (a call's
# CallDuration, a recording's) is the length a person lived through: at half scale it reported
# simulated seconds, twice the real ones, and a 49-second call read 01:37 in the records. The
# demo stays brisk with short rings (2-12 s) and talks (15-60 s) instead, and a plausible outcome
# mix. The simulated account's call length limit is raised to 24 hours, as the README asks of a
# real one: agents' legs last the session.
SIMULATOR_KNOBS = ["--time-scale", "1", "--ring-seconds", "2,12", "--busy-seconds", "0.5,2.5",
                   "--talk-seconds", "15,60", "--max-call-seconds", "86400", "--p-human", "0.35",
                   "--p-machine", "0.15", "--p-no-answer", "0.30", "--p-busy", "0.12", "--p-failed", "0.08"]


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
                                      "--auth-token", env["TWILIO_AUTH_TOKEN"], *SIMULATOR_KNOBS]))
    if _demo_enabled(env):
        procs.append(("demo-agents", [PY, "-m", "devtools.demo", "agents"]))
    return procs


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _stop_all(children: list[tuple[str, subprocess.Popen]], grace: float = 20.0) -> None:
    """SIGTERM every group at once (workers finish their task: a warm shutdown), SIGKILL what is
    left after the grace period. The embedded PostgreSQL and Redis stop at exit (atexit)."""
    for _, proc in children:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for name, proc in children:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in {grace:.0f}s; killing it", flush=True)
        _signal_group(proc, signal.SIGKILL)  # pool children a dead parent left behind
        proc.wait()


REPORT_EVERY_SECONDS = 60


def _simulator_report(env: dict[str, str]) -> str:
    """One line on what the carrier simulator saw: calls, people bridged, and every person who
    sat in a conference with no agent connected (it must stay 0)."""
    import json
    from urllib.request import urlopen

    try:
        with urlopen(f"http://127.0.0.1:{env['OMNIVOX_SIMULATOR_PORT']}/_sim/stats", timeout=2) as response:
            stats = json.load(response)
    except (OSError, ValueError) as exc:
        return f"  [{time.strftime('%H:%M:%S')}] carrier simulator not answering: {exc}"
    line = (f"  [{time.strftime('%H:%M:%S')}] demo so far: {stats.get('calls_created', 0)} calls placed, "
            f"{stats.get('conference_joins', 0)} conference joins (agents' legs, people bridged); people left alone in a "
            f"conference with no agent: {stats.get('persons_alone', 0)} (the simulator's count; must be 0)")
    supply = _demo_supply(env)
    return f"{line}\n    {supply}" if supply else line


def _demo_supply(env: dict[str, str]) -> str | None:
    """The demo's latest top-up in words (devtools/demo_supply.py), e.g. that no contact may be
    called at this hour and when calls resume, so a quiet wallboard is never a mystery."""
    import json

    import redis

    try:
        client = redis.Redis.from_url(env["REDIS_URL"], socket_timeout=2)
        raw = client.get("demo:supply")
        client.close()
    except (redis.RedisError, KeyError):
        return None
    return json.loads(raw)["message"] if raw else None


READY_WITHIN_SECONDS = 120
# What each process writes to its log once it is up (its log is appended to at every start, so
# only what it wrote since this start counts). The web process and the simulator are asked.
READY_LINES = {"worker": " ready.", "beat": "beat: Starting", "demo-agents": "bots working"}


def _log_to_file() -> Path:
    """This process's own log lines and warnings go to instance/run.log, never the terminal,
    so nothing lands inside the welcome banner. Called again after the app was created (it
    adds a stdout handler of its own)."""
    import logging

    path = INSTANCE / "run.log"
    INSTANCE.mkdir(exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    logging.captureWarnings(True)
    return path


def _answers(url: str) -> bool:
    from urllib.request import urlopen

    try:
        with urlopen(url, timeout=1) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def _not_ready(env: dict[str, str], children: list[tuple[str, subprocess.Popen]], offsets: dict[str, int]) -> list[str]:
    """The processes not up yet."""
    waiting = []
    for name, proc in children:
        if proc.poll() is not None:
            continue  # exited: the main loop says so
        if name == "web":
            up = _answers(f"http://127.0.0.1:{env['PORT']}/readyz")
        elif name == "carrier-sim":
            up = _answers(f"http://127.0.0.1:{env['OMNIVOX_SIMULATOR_PORT']}/_sim/stats")
        else:
            line = READY_LINES.get(name.split("-")[0] if name.startswith("worker-") else name)
            with open(INSTANCE / f"{name}.log", "rb") as log:
                log.seek(offsets.get(name, 0))
                up = line is None or line.encode() in log.read()
        if not up:
            waiting.append(name)
    return waiting


def _wait_until_ready(env, children, offsets, within: float = READY_WITHIN_SECONDS,
                      stopped=lambda: False) -> list[str]:
    deadline = time.monotonic() + within
    while True:
        waiting = _not_ready(env, children, offsets)
        if not waiting or time.monotonic() > deadline or stopped():
            return waiting
        time.sleep(0.5)


def welcome(url: str, passwords: dict[str, str], processes: list[str], *, demo: bool,
            still_starting: list[str] = (), log_dir: Path = INSTANCE) -> str:
    """The banner, as one block: where to open Omnivox, the passwords generated now (shown once)
    and where every process logs."""
    lines = ["", "Omnivox is running." if not still_starting else "Omnivox is starting (most of it is up).",
             f"  Open {url}/  (health: {url}/healthz)"]
    if "admin" in passwords:
        lines.append(f"  Admin sign-in: username 'admin', password '{passwords['admin']}'  (shown once; store it now)")
    else:
        lines.append("  An admin already exists; sign in with the password you stored.")
    if demo:
        from devtools import demo as the_demo

        lines.append(f"  Demo: campaign '{the_demo.DEMO_CAMPAIGN}' (predictive, fictional numbers), "
                     f"{the_demo.BOT_COUNT} bot agents taking calls.")
        for username, what in ((the_demo.SUPERVISOR, "watch the wallboard"), (the_demo.AGENT, "take calls yourself")):
            if username in passwords:
                lines.append(f"  Sign in as '{username}' to {what}: password '{passwords[username]}'  (shown once)")
            else:
                lines.append(f"  Sign in as '{username}' to {what} (password shown at first start).")
    for name in still_starting:
        lines.append(f"  Still starting after {READY_WITHIN_SECONDS} s: {name} (see {log_dir}/{name}.log)")
    lines.append(f"  Processes: {', '.join(processes)}")
    lines.append(f"  Logs: {log_dir}/<process>.log (this terminal's own: {log_dir}/run.log)")
    lines.append("  Ctrl-C stops everything.")
    return "\n".join(lines) + "\n\n"


def main() -> int:
    _log_to_file()
    env = _environment()
    passwords = _prepare(env)
    _log_to_file()  # the app added a stdout handler of its own
    children: list[tuple[str, subprocess.Popen]] = []
    offsets: dict[str, int] = {}
    for name, cmd in _processes(env):
        path = INSTANCE / f"{name}.log"
        offsets[name] = path.stat().st_size if path.exists() else 0
        log = open(path, "ab")
        # Each in its own process group, so stopping one takes its pool children with it.
        children.append((name, subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)))
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # The banner once everything is up, as one block: the processes log to their files only.
    print(f"Starting {', '.join(n for n, _ in children)} ...", flush=True)
    still_starting = _wait_until_ready(env, children, offsets, stopped=lambda: stopping)
    if not stopping:
        sys.stdout.write(welcome(f"http://127.0.0.1:{env['PORT']}", passwords, [n for n, _ in children],
                                 demo=_demo_enabled(env), still_starting=still_starting))
        sys.stdout.flush()
    next_report = time.monotonic() + REPORT_EVERY_SECONDS
    while not stopping:
        for name, proc in children:
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; see instance/{name}.log", flush=True)
                stopping = True
        if env.get("OMNIVOX_SIMULATOR_PORT") and time.monotonic() >= next_report:
            next_report = time.monotonic() + REPORT_EVERY_SECONDS
            print(_simulator_report(env), flush=True)
        time.sleep(0.5)
    print("Stopping ...", flush=True)
    _stop_all(children)
    return 0


if __name__ == "__main__":
    sys.exit(main())
