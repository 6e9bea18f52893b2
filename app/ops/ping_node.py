"""``python -m app.ops.ping_node dial@$HOSTNAME``: exit 0 when that Celery node answers a ping.

A container health check for workers and beat (`celery beat --enable-remote-control` answers
only while its scheduler ticks). Lighter than ``celery -A celery_app inspect ping``: it needs
only REDIS_URL and never builds the Flask app, so it costs one broker round trip every 30 s.
"""
from __future__ import annotations

import argparse
import os
import sys


def ping(node: str, broker_url: str, timeout: float) -> bool:
    from celery import Celery

    probe = Celery("omnivox-probe", broker=broker_url)
    try:
        replies = probe.control.ping(destination=[node], timeout=timeout)
    finally:
        probe.close()
    return any(node in reply for reply in replies or [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.ops.ping_node")
    parser.add_argument("node", help="node name, e.g. dial@$HOSTNAME or beat@$HOSTNAME")
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    broker = os.environ.get("REDIS_URL")
    if not broker:
        print("REDIS_URL is not set", file=sys.stderr)
        return 2
    try:
        ok = ping(args.node, broker, args.timeout)
    except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
        print(f"ping {args.node} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if not ok:
        print(f"{args.node} did not answer within {args.timeout}s", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
