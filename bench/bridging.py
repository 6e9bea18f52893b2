"""Bridging latency: an answered person's `/twilio/voice` to the TwiML that joins them into a
ready agent's room, p50/p99 under load; and an agent's audio leg dropping (its final status at
`/twilio/agent/status`) to the agent being out of ready.

Side by side in the same run, on the same database, Redis and gunicorn settings, with the
minimal signed webhook (validate, insert, upsert: bench/minimal_webhook.py) as the baseline:
the least any signed webhook costs here. Rounds alternate between the handlers so that drift
on a shared machine falls on all alike.

Each round answers one call per agent from `--clients` concurrent connections: every answer
finds a ready agent (the case the 2-second rule is about), reserves it and is bridged; between
rounds the agents are put back to ready (not timed). The drop round ends the legs of every
ready agent and, after each response, reads Redis: the agent must already be out of ready.

    python -m bench.bridging [--quick] [--agents N] [--rounds N] [--clients N]
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from twilio.request_validator import RequestValidator  # noqa: E402

from bench.webhooks import fire, serve  # noqa: E402
from devtools.services import bench_services, free_port, fresh_migrated_schema, stop_processes  # noqa: E402


def _signed(env, port, path, form):
    signature = RequestValidator(env["TWILIO_AUTH_TOKEN"]).compute_signature(
        f"http://127.0.0.1:{port}{path}", form)
    return (path, urlencode(form).encode(), {"X-Twilio-Signature": signature,
                                             "Content-Type": "application/x-www-form-urlencoded"})


class Floor:
    """The bench's own app: a campaign, its agents with audio legs, and calls to answer."""

    def __init__(self, env: dict, agents: int):
        os.environ.update(env)
        from app import create_app

        self.app = create_app()
        self.agents = agents
        with self.app.app_context():
            from app.auth.models import User
            from app.campaigns.models import Campaign, CampaignAssignment
            from app.extensions import db
            from app.users.services import create_user

            campaign = Campaign(name="bridging", caller_id="+12025550100", seller_name="Acme",
                                seller_phone="+12025550199", safe_harbour_message="Acme, press 9.",
                                scrub_national_registry=False)
            db.session.add(campaign)
            db.session.flush()
            self.campaign_id = campaign.id
            self.agent_ids = []
            for i in range(agents):
                user = create_user(f"bench-agent-{i}-{secrets.token_hex(2)}", secrets.token_urlsafe(16), "agent")
                db.session.flush()
                db.session.add(CampaignAssignment(campaign_id=campaign.id, user_id=user.id, role="agent"))
                self.agent_ids.append(user.id)
            db.session.commit()
            self.users = {a: db.session.get(User, a) for a in self.agent_ids}
        self.legs: dict[int, str] = {}

    def all_ready(self) -> None:
        """Every agent with a leg and ready (whatever they were left in)."""
        from app.agents import audio, reservations
        from app.agents import services
        from app.agents import state as rstate
        from app.extensions import db

        with self.app.app_context():
            for agent_id in self.agent_ids:
                snap = rstate.snapshot(agent_id)
                if snap["state"] == "on-call":
                    reservations.end_call(agent_id, snap["call_id"])
                if not audio.leg_of(agent_id):
                    self.legs[agent_id] = f"CA{secrets.token_hex(16)}"
                    audio.leg_joined(agent_id, self.legs[agent_id], "browser")
                if rstate.snapshot(agent_id)["state"] != "ready":
                    services.set_own_state(db.session.merge(self.users[agent_id]), "ready",
                                           campaign_id=self.campaign_id)
            db.session.commit()

    def new_calls(self, n: int) -> list[tuple[int, str]]:
        from app.calls.models import Call
        from app.extensions import db

        with self.app.app_context():
            calls = [Call(campaign_id=self.campaign_id, to_number=f"+1202555{i % 10000:04d}",
                          from_number="+12025550100", status="ringing", call_sid=f"CA{secrets.token_hex(16)}")
                     for i in range(n)]
            db.session.add_all(calls)
            db.session.commit()
            return [(c.id, c.call_sid) for c in calls]

    def states(self) -> dict[int, dict]:
        from app.agents import state as rstate

        with self.app.app_context():
            return rstate.snapshots(self.agent_ids)


def answers(env, port, calls):
    return [_signed(env, port, f"/twilio/voice?attempt={call_id}",
                    {"AccountSid": env["TWILIO_ACCOUNT_SID"], "CallSid": sid, "CallStatus": "in-progress",
                     "To": "+12025550111", "From": "+12025550100", "Direction": "outbound-api"})
            for call_id, sid in calls]


def baseline_requests(env, port, calls, seq):
    return [_signed(env, port, f"/twilio/status?attempt={call_id}",
                    {"AccountSid": env["TWILIO_ACCOUNT_SID"], "CallSid": sid, "CallStatus": "in-progress",
                     "SequenceNumber": str(seq), "Timestamp": "Mon, 02 Nov 2026 10:00:00 GMT",
                     "To": "+12025550111", "From": "+12025550100"}) for call_id, sid in calls]


def drops(env, port, legs):
    return [_signed(env, port, "/twilio/agent/status",
                    {"AccountSid": env["TWILIO_ACCOUNT_SID"], "CallSid": sid, "CallStatus": "completed",
                     "From": f"client:agent-{agent_id}", "Direction": "inbound", "CallDuration": "600"})
            for agent_id, sid in legs.items()]


def quantiles(values):
    q = statistics.quantiles(values, n=100)
    return q[49], q[98]


def floor_arguments(doc: str, argv) -> argparse.Namespace:
    """The options every answer-webhook bench takes (this one, bench/inbound.py)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (2 rounds)")
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds = 2
    return args


def side_by_side(tmp: str, args: argparse.Namespace) -> tuple[dict, dict, int, int, list]:
    """Omnivox and the minimal signed webhook, each under gunicorn on the same services: their
    environments, their ports, and the server processes."""
    env = {**bench_services(tmp), "SECRET_KEY": secrets.token_hex(32),
           "TWILIO_ACCOUNT_SID": "AC" + "b" * 32, "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
           "LOG_LEVEL": "WARNING", "RATELIMIT_API": "100000 per minute"}
    ours_port, base_port = free_port(), free_port()
    ours_env = {**env, "PUBLIC_BASE_URL": f"http://127.0.0.1:{ours_port}"}
    base_env = {**env, "PUBLIC_BASE_URL": f"http://127.0.0.1:{base_port}"}
    fresh_migrated_schema(ours_env)
    servers = [serve("wsgi:app", ours_env, ours_port, args.workers, args.threads),
               serve("bench.minimal_webhook:app", base_env, base_port, args.workers, args.threads)]
    return ours_env, base_env, ours_port, base_port, servers


def main(argv=None) -> int:
    args = floor_arguments(__doc__, argv)
    with tempfile.TemporaryDirectory(prefix="bench-bridging-") as tmp:
        ours_env, base_env, ours_port, base_port, servers = side_by_side(tmp, args)
        floor = Floor(ours_env, args.agents)
        answer_ms, base_ms, drop_ms, bridged, late_drops = [], [], [], 0, 0
        try:
            floor.all_ready()
            fire(ours_port, answers(ours_env, ours_port, floor.new_calls(args.agents)), args.clients)  # warm-up
            for r in range(args.rounds):
                print(f"round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
                floor.all_ready()
                calls = floor.new_calls(args.agents)
                order = [("ours", calls), ("base", calls)] if r % 2 == 0 else [("base", calls), ("ours", calls)]
                for which, batch in order:
                    if which == "ours":
                        _, latencies, errors = fire(ours_port, answers(ours_env, ours_port, batch), args.clients)
                        answer_ms += latencies
                    else:
                        _, latencies, errors = fire(base_port, baseline_requests(base_env, base_port, batch, r + 1),
                                                    args.clients)
                        base_ms += latencies
                bridged += sum(1 for s in floor.states().values() if s["state"] == "on-call")
            floor.all_ready()
            for r in range(max(1, args.rounds // 2)):
                floor.all_ready()
                legs = dict(floor.legs)
                _, latencies, _ = fire(ours_port, drops(ours_env, ours_port, legs), args.clients)
                drop_ms += latencies
                late_drops += sum(1 for s in floor.states().values() if s["state"] == "ready")
                floor.legs.clear()
        finally:
            stop_processes(servers)
    a50, a99 = quantiles(answer_ms)
    b50, b99 = quantiles(base_ms)
    d50, d99 = quantiles(drop_ms)
    print(f"\nbridging: {args.agents} ready agents, {args.rounds} rounds of one answer per agent, "
          f"{args.clients} concurrent connections, gunicorn gthread {args.workers}x{args.threads}; load "
          f"{os.getloadavg()[0]:.1f}\n")
    print(f"| {'request':<62} | {'n':>5} | {'p50 ms':>7} | {'p99 ms':>7} |")
    print(f"|{'-' * 64}|{'-' * 7}|{'-' * 9}|{'-' * 9}|")
    print(f"| {'baseline: minimal signed webhook (validate, insert, upsert)':<62} | {len(base_ms):>5} | "
          f"{b50:>7.1f} | {b99:>7.1f} |")
    print(f"| {'answer to TwiML, agent ready (reserve, confirm, record, join)':<62} | {len(answer_ms):>5} | "
          f"{a50:>7.1f} | {a99:>7.1f} |")
    print(f"| {'agent leg drop to out of ready (/twilio/agent/status)':<62} | {len(drop_ms):>5} | "
          f"{d50:>7.1f} | {d99:>7.1f} |")
    print(f"\n{bridged} of {args.agents * args.rounds} answers bridged to an agent; "
          f"{late_drops} agents still ready after their leg's drop was answered (should be 0).")
    print(f"answer p99 / baseline p99: {a99 / b99:.1f}x; target: answer p99 at most 250 ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
