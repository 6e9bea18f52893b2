"""A full Omnivox stack for the fault and soak benches, with handles to hurt it.

Embedded PostgreSQL (pgserver) reached through a TCP proxy this process controls (block it to
make the database unreachable), an embedded redis-server on a fixed port (stop it and start it
again, empty, on the same port), the carrier simulator as its own process, gunicorn, one Celery
pool per queue and beat, each a process (group) that can be SIGKILLed and restarted. The bench
process itself seeds campaigns and runs bot agents through its own app.
"""
from __future__ import annotations

import os
import random
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import requests

from devtools import services

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable


def open_areas(now: datetime) -> dict[int, str]:
    """Area codes (201-989) whose every zone is inside 08:30-20:00 now, in 30 and in 60 minutes,
    each with its first zone's name: where the benches may seed fictional numbers (555-01xx,
    100 to an area code) that the calling-hours gate will let through for a whole run."""
    from app.compliance import gates

    window = gates.Window(dtime(8, 30), dtime(20, 0))
    found = {}
    for area in range(201, 990):
        zones = gates.candidate_zones(None, f"+1{area}5550100")  # the number's own zones
        if zones and all(gates.inside_window(now + timedelta(minutes=m), zones, window)
                         for m in (0, 30, 60)):
            found[area] = zones[0].key
    return found


DAYTIME_UTC = 18  # 13:00 in New York, 10:00 in Los Angeles: every mainland zone mid-window
SHIFT_ENV = "OMNIVOX_CLOCK_SHIFT_SECONDS"  # read by bench/clockshift.c
SHIM = "clockshift.so"


def areas_for(contacts: int) -> int:
    """Area codes `Stack.seed_campaign` takes for `contacts` numbers (100 fictional ones each)."""
    return (contacts + 99) // 100


def clock_moved() -> bool:
    """True in a bench re-run by `in_calling_hours`: the shim is preloaded and told a shift."""
    return bool(os.environ.get(SHIFT_ENV)) and SHIM in os.environ.get("LD_PRELOAD", "")


def in_calling_hours(module: str, areas_needed: int, argv: list[str] | None = None) -> None:
    """Run the bench where the calling-hours gate lets its numbers through.

    The live benches dial fictional numbers, 100 to an area code, and the gate (rightly) refuses
    any whose zones are outside calling hours. At night in the US too few area codes are open.
    Then this process becomes the same bench again (exec: signals and the exit code are its
    own), every process it starts included, with bench/clockshift.c preloaded: the wall clock
    moved forward to DAYTIME_UTC on the next weekday (state rules differ at weekends). The gate,
    PostgreSQL's now(), Redis, the carrier simulator and beat all read the one moved clock
    (`Stack.start` checks PostgreSQL and Redis); the monotonic clocks that time every sleep,
    timeout and duration are not moved. Returns when no move is needed, or in the moved run.
    `argv`: the bench's arguments, by default this process's."""
    from app.common.timeutil import utcnow

    if clock_moved():
        return
    now = utcnow()
    have = len(open_areas(now))
    if have >= areas_needed:
        return
    target = now.replace(hour=DAYTIME_UTC, minute=0, second=0, microsecond=0)
    if target <= now:
        target += timedelta(days=1)
    while target.weekday() >= 5:
        target += timedelta(days=1)
    there = len(open_areas(target))
    if there < areas_needed:
        raise SystemExit(f"this bench needs {areas_needed} area codes inside calling hours; "
                         f"{have} are now and only {there} would be at {DAYTIME_UTC}:00 UTC: "
                         "ask for fewer contacts (a shorter run or a smaller team)")
    folder = Path(tempfile.gettempdir()) / "omnivox-clockshift"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o755)  # PostgreSQL runs as its own user when the bench runs as root
    lib, part = folder / SHIM, folder / f"{SHIM}.{os.getpid()}"
    built = subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", str(part), str(REPO / "bench" / "clockshift.c"),
                            "-ldl"], capture_output=True, text=True)
    if built.returncode != 0:
        raise SystemExit(f"only {have} area codes of the {areas_needed} this bench needs are inside "
                         "calling hours now, and the clock shim would not build (a C compiler is "
                         f"needed):\n{built.stderr}")
    part.chmod(0o755)
    part.replace(lib)
    shift = int((target - now).total_seconds())
    print(f"only {have} area codes of the {areas_needed} needed are inside calling hours now: "
          f"running the whole bench with its wall clock moved forward {shift / 3600:.1f} h, to "
          f"{target:%A} {DAYTIME_UTC}:00 UTC (bench/clockshift.c; the gate holds as ever; "
          "durations are unchanged)", flush=True)
    preload = " ".join(filter(None, [str(lib), os.environ.get("LD_PRELOAD", "")]))
    env = {**os.environ, "LD_PRELOAD": preload, SHIFT_ENV: str(shift)}
    os.chdir(REPO)
    os.execve(PY, [PY, "-m", module, *(sys.argv[1:] if argv is None else argv)], env)


class TcpProxy:
    """Loopback TCP -> (unix socket or TCP) forwarder; `block()` drops every connection and
    refuses new ones until `unblock()`: the database is unreachable, as after a network cut."""

    def __init__(self, target):
        self.target = target
        self.port = services.free_port()
        self.blocked = False
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", self.port), backlog=256)
        threading.Thread(target=self._accept, daemon=True, name="pg-proxy").start()

    def _connect(self) -> socket.socket:
        if isinstance(self.target, str):
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.target)
            return s
        return socket.create_connection(self.target)

    def _accept(self) -> None:
        while True:
            client, _ = self._server.accept()
            if self.blocked:
                client.close()
                continue
            try:
                upstream = self._connect()
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        raise OSError
                    (b if src is a else a).sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass
            with self._lock:
                self._conns = [c for c in self._conns if c not in (a, b)]

    def block(self) -> None:
        self.blocked = True
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def unblock(self) -> None:
        self.blocked = False


class Stack:
    """Start with `Stack(...).start()`; `stop()` ends every process it started."""

    def __init__(self, *, sim_knobs: dict | None = None, dial_workers: int = 1, cps: float = 20,
                 web_threads: int = 32, env: dict | None = None, workdir: str | None = None):
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="omnivox-stack-"))
        self.sim_knobs = {"time_scale": 0.02, **(sim_knobs or {})}
        self.dial_workers = dial_workers
        self.cps = cps
        self.web_threads = web_threads
        self.extra_env = env or {}
        self.procs: dict[str, subprocess.Popen] = {}
        self.commands: dict[str, list[str]] = {}
        self.used_areas: set[int] = set()

    # --- services ------------------------------------------------------------------------
    def start(self) -> "Stack":
        pg_url = services.start_postgres(self.workdir / "pg", throwaway=True)
        sock_dir = pg_url.split("host=")[1]
        self.pg_proxy = TcpProxy(os.path.join(sock_dir, ".s.PGSQL.5432"))
        self.redis_port = services.free_port()
        self.start_redis()
        self.web_port, self.sim_port = services.free_port(), services.free_port()
        self.env = {**os.environ, **{
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{self.pg_proxy.port}/postgres",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16), "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
            "TWILIO_API_BASE_URL": f"http://127.0.0.1:{self.sim_port}",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.web_port}", "CARRIER_CPS": str(self.cps),
            "LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1",
            "RATELIMIT_API": "100000 per minute",
            "DIAL_LEASE_SECONDS": "10", "CELERY_VISIBILITY_TIMEOUT": "15", "REAPER_NEVER_PLACED_SECONDS": "10",
            # the simulator runs calls at a fraction of real time: silences are judged on that scale
            "REAPER_SILENT_SECONDS": "15", "REAPER_IN_PROGRESS_CHECK_SECONDS": "15",
            "WRAP_UP_TIMEOUT_SECONDS": "15",
        }, **self.extra_env}
        self.env.pop("FLASK_APP", None)
        for key in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
                    "TWILIO_API_BASE_URL", "PUBLIC_BASE_URL", "CARRIER_CPS", "LOG_LEVEL", "RATELIMIT_API",
                    "DIAL_LEASE_SECONDS", "CELERY_VISIBILITY_TIMEOUT", "REAPER_NEVER_PLACED_SECONDS",
                    "REAPER_SILENT_SECONDS", "REAPER_IN_PROGRESS_CHECK_SECONDS", "WRAP_UP_TIMEOUT_SECONDS"):
            os.environ[key] = self.env[key]  # the bench's own app (seeding, bots, checks)
        # The bench's own app is the referee: it pings before each checkout so that its checks
        # survive the faults it injects (the stack's processes run the production default).
        os.environ["DATABASE_POOL_PRE_PING"] = "1"
        from flask_migrate import upgrade

        from app import create_app

        self.app = create_app()
        with self.app.app_context():
            upgrade()
            if clock_moved():
                self._check_clocks()
        self._define_commands()
        for name in self.commands:
            self.start_process(name)
        self.wait_http(f"http://127.0.0.1:{self.web_port}/healthz", 90)
        self.wait_http(f"{self.sim_url}/_sim/stats", 30)
        return self

    def _check_clocks(self) -> None:
        """In a moved run, PostgreSQL and Redis must read the moved clock too (a shim the loader
        could not open is skipped with a warning, and their now() would be hours behind)."""
        from sqlalchemy import text

        from app.common.redis import get_redis
        from app.common.timeutil import utcnow
        from app.extensions import db

        ours = utcnow().timestamp()
        theirs = {"PostgreSQL": db.session.scalar(text("SELECT extract(epoch FROM now())")),
                  "Redis": get_redis().time()[0]}
        db.session.rollback()
        for name, at in theirs.items():
            if abs(float(at) - ours) > 60:
                raise RuntimeError(f"{name}'s clock is {(ours - float(at)) / 3600:.1f} h off the "
                                   "bench's: bench/clockshift.c did not load there")

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_redis(self) -> None:
        _, self.redis_proc = services.start_redis(self.workdir / "redis", self.redis_port, persist=False)

    def stop_redis(self) -> None:
        self.redis_proc.terminate()
        self.redis_proc.wait(10)

    def _define_commands(self) -> None:
        worker = [PY, "-m", "celery", "-A", "celery_app", "worker", "-P", "threads", "--without-gossip",
                  "--without-mingle", "-l", "warning"]
        self.commands["web"] = [PY, "-m", "gunicorn", "wsgi:app", "-b", f"127.0.0.1:{self.web_port}", "-w", "1",
                                "-k", "gthread", "--threads", str(self.web_threads), "--timeout", "60"]
        for i in range(self.dial_workers):
            self.commands[f"dial{i}"] = worker + ["-Q", "dial", "-c", "4", "-n", f"dial{i}@%h"]
        self.commands["telephony"] = worker + ["-Q", "telephony", "-c", "8", "-n", "telephony@%h"]
        self.commands["default"] = worker + ["-Q", "default,kpi", "-c", "2", "-n", "default@%h"]
        self.commands["beat"] = [PY, "-m", "celery", "-A", "celery_app", "beat", "-l", "warning",
                                 "--schedule", str(self.workdir / "beat-schedule")]
        sim = [PY, "-m", "carrier_sim", "--port", str(self.sim_port), "--account-sid",
               self.env["TWILIO_ACCOUNT_SID"], "--auth-token", self.env["TWILIO_AUTH_TOKEN"], "--log-level", "WARNING"]
        for key, value in self.sim_knobs.items():
            sim += ["--" + key.replace("_", "-"),
                    ",".join(map(str, value)) if isinstance(value, tuple) else str(value)]
        self.commands["sim"] = sim

    def start_process(self, name: str) -> None:
        log = open(self.workdir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(self.commands[name], cwd=REPO, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def kill_process(self, name: str) -> None:
        """SIGKILL the process and its children: a crash, no warm shutdown, nothing acked."""
        proc = self.procs[name]
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

    def stop(self) -> None:
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.redis_proc.poll() is None:
            self.stop_redis()
        from app.extensions import db

        with self.app.app_context():
            db.engine.dispose()

    @staticmethod
    def wait_http(url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{url} did not answer in {timeout}s")

    # --- simulator -----------------------------------------------------------------------
    def sim_configure(self, **knobs) -> None:
        requests.post(f"{self.sim_url}/_sim/config", json=knobs, timeout=10).raise_for_status()

    def sim_calls(self) -> list[dict]:
        return requests.get(f"{self.sim_url}/_sim/calls", timeout=30).json()["calls"]

    def sim_stats(self) -> dict:
        return requests.get(f"{self.sim_url}/_sim/stats", timeout=10).json()

    # --- data ----------------------------------------------------------------------------
    def seed_campaign(self, name: str, contacts: int, agents: int, *, mode: str = "progressive",
                      max_attempts: int = 1, area_seed: int = 0) -> tuple[int, list[int], list[str]]:
        """A started campaign with `contacts` fictional numbers (NANPA 555-01xx) whose zone is
        inside calling hours now, and `agents` agents assigned (unusable passwords)."""
        from sqlalchemy import select

        from app.agents.models import AgentProfile
        from app.auth.models import User
        from app.campaigns.models import Campaign, CampaignAssignment
        from app.common.timeutil import utcnow
        from app.contacts.models import Contact
        from app.extensions import db

        now = utcnow()
        # Area codes never reused within a run: the simulator's counts per number stay per trial;
        # only those whose every zone is well inside calling hours now and for the next hour
        # (a number's zones are its area code's), each contact stored in its area's zone.
        zones = open_areas(now)
        rng = random.Random(area_seed)
        free = [a for a in zones if a not in self.used_areas]
        rng.shuffle(free)
        wanted = areas_for(contacts)
        areas = free[:wanted]
        if len(areas) < wanted:
            raise RuntimeError(f"only {len(areas)} area codes of the {wanted} needed are inside "
                               "calling hours now; run the bench at another hour")
        self.used_areas.update(areas)
        placed = [(f"+1{areas[i // 100]}5550{100 + i % 100}", zones[areas[i // 100]]) for i in range(contacts)]
        numbers = [number for number, _ in placed]
        with self.app.app_context():
            campaign = Campaign(name=name, status="active", dial_mode=mode, caller_id="+12125550199",
                                window_start=dtime(8, 0), window_end=dtime(21, 0), max_attempts=max_attempts,
                                seller_name="Bench Ltd", seller_phone="+12125550199",
                                safe_harbour_message="Bench Ltd, 212 555 0199.", started_at=now)
            db.session.add(campaign)
            db.session.flush()
            ids = []
            for i in range(agents):
                user = db.session.scalar(select(User).where(User.username == f"bench-bot-{i}"))
                if user is None:
                    user = User(username=f"bench-bot-{i}", role="agent", password_hash="!unusable")
                    db.session.add(user)
                    db.session.flush()
                    db.session.add(AgentProfile(user_id=user.id, client_identity=f"agent-{user.id}"))
                ids.append(user.id)
                db.session.add(CampaignAssignment(campaign_id=campaign.id, user_id=user.id, role="agent"))
            db.session.add_all(Contact(campaign_id=campaign.id, phone_e164=number, timezone=zone)
                               for number, zone in placed)
            from app.campaigns.models import DispositionCode
            from app.campaigns.services import STANDARD_DISPOSITIONS

            db.session.add_all(DispositionCode(campaign_id=campaign.id, **c) for c in STANDARD_DISPOSITIONS)
            db.session.commit()
            return campaign.id, ids, numbers

    def sign_off(self, agent_ids: list[int]) -> None:
        from app.agents import state as agent_state
        from app.agents.transitions import apply

        with self.app.app_context():
            for agent_id in agent_ids:
                try:
                    snap = agent_state.snapshot(agent_id)
                    apply(agent_id, [snap["state"]], "offline", campaign_id=None, pause_code=None,
                          reason="bench")
                except Exception:  # noqa: BLE001 - best effort between trials
                    pass


def machine_load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"
