"""Calls to our numbers: `/twilio/inbound` to its TwiML, p50/p99, with agents ready (the
caller is looked up among the contacts and joined into the agent who last spoke with them, or
the longest idle) and with a queue (nobody ready: the caller is recorded and enqueued).

Side by side in the same run, on the same database, Redis and gunicorn settings, with the
minimal signed webhook (validate, insert, upsert: bench/minimal_webhook.py) as the baseline:
the least any signed webhook costs here. Rounds alternate between the handlers so that drift
on a shared machine falls on all alike.

Each round makes one call per agent from `--clients` concurrent connections, every caller one
of the campaign's contacts whom an agent spoke with before: first with every agent ready (each
call is joined into an agent's room), then with every agent on those calls (each caller
queues); between rounds the agents are freed and the queue emptied (not timed).

    python -m bench.inbound [--quick] [--agents N] [--rounds N] [--clients N]
"""
from __future__ import annotations

import os
import secrets
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.bridging import Floor, _signed, baseline_requests, floor_arguments, quantiles, side_by_side  # noqa: E402
from bench.webhooks import fire, serve  # noqa: E402
from devtools.services import stop_processes  # noqa: E402

OUR_NUMBER = "+12025550100"  # the bench campaign's caller ID: calls to it are the campaign's


def open_zone() -> str:
    """A fixed-offset zone where it is now about 14:00: inside the campaign's hours."""
    hours = (14 - datetime.now(timezone.utc).hour + 12) % 24 - 12
    return f"Etc/GMT{-hours:+d}" if hours else "UTC"


class InboundFloor(Floor):
    """The bridging bench's floor, taking calls: its campaign active in its hours, and one
    contact per caller whom an agent spoke with yesterday."""

    def __init__(self, env: dict, agents: int):
        super().__init__(env, agents)
        from app.calls.models import Call
        from app.campaigns.models import Campaign
        from app.contacts.models import Contact
        from app.extensions import db

        with self.app.app_context():
            campaign = db.session.get(Campaign, self.campaign_id)
            campaign.status, campaign.timezone = "active", open_zone()
            yesterday = datetime.now(timezone.utc) - timedelta(days=1)
            self.callers = [f"+1312555{i:04d}" for i in range(agents)]
            for caller, agent_id in zip(self.callers, self.agent_ids):
                contact = Contact(campaign_id=self.campaign_id, phone_e164=caller)
                db.session.add(contact)
                db.session.flush()
                db.session.add(Call(campaign_id=self.campaign_id, contact_id=contact.id, agent_id=agent_id,
                                    to_number=caller, from_number=OUR_NUMBER, status="completed",
                                    connected_at=yesterday))
            db.session.commit()

    def empty_queue(self) -> None:
        from app.common.redis import get_redis
        from app.dialer.inbound_queue import queue_key

        with self.app.app_context():
            get_redis().delete(queue_key(self.campaign_id))


def calls_in(env, port, callers):
    return [_signed(env, port, "/twilio/inbound",
                    {"AccountSid": env["TWILIO_ACCOUNT_SID"], "CallSid": f"CA{secrets.token_hex(16)}",
                     "CallStatus": "ringing", "To": OUR_NUMBER, "From": caller, "Direction": "inbound"})
            for caller in callers]


def main(argv=None) -> int:
    args = floor_arguments(__doc__, argv)
    with tempfile.TemporaryDirectory(prefix="bench-inbound-") as tmp:
        ours_env, base_env, ours_port, base_port, servers = side_by_side(tmp, args)
        floor = InboundFloor(ours_env, args.agents)
        timings = {"base": [], "ready": [], "queue": []}
        bridged = 0
        try:
            floor.all_ready()
            fire(ours_port, calls_in(ours_env, ours_port, floor.callers), args.clients)  # warm-up
            for r in range(args.rounds):
                print(f"round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
                floor.all_ready()
                floor.empty_queue()
                rounds = [("ready", lambda: calls_in(ours_env, ours_port, floor.callers), ours_port),
                          ("base", lambda: baseline_requests(base_env, base_port, floor.new_calls(args.agents),
                                                             r + 1), base_port)]
                for which, batch, port in (rounds if r % 2 == 0 else rounds[::-1]):
                    timings[which] += fire(port, batch(), args.clients)[1]
                bridged += sum(1 for s in floor.states().values() if s["state"] == "on-call")
                # every agent is now on a call: the same callers again all queue
                timings["queue"] += fire(ours_port, calls_in(ours_env, ours_port, floor.callers), args.clients)[1]
        finally:
            stop_processes(servers)
    load = os.getloadavg()
    print(f"\ninbound: {args.agents} agents, {args.rounds} rounds of one call per agent, {args.clients} "
          f"concurrent connections, gunicorn gthread {args.workers}x{args.threads}; load average "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores\n")
    print(f"| {'request':<66} | {'n':>5} | {'p50 ms':>7} | {'p99 ms':>7} |")
    print(f"|{'-' * 68}|{'-' * 7}|{'-' * 9}|{'-' * 9}|")
    rows = [("baseline: minimal signed webhook (validate, insert, upsert)", "base"),
            ("/twilio/inbound, agents ready (contact, last agent, reserve, join)", "ready"),
            ("/twilio/inbound, nobody ready (contact, record the call, enqueue)", "queue")]
    for label, key in rows:
        p50, p99 = quantiles(timings[key])
        print(f"| {label:<66} | {len(timings[key]):>5} | {p50:>7.1f} | {p99:>7.1f} |")
    print(f"\n{bridged} of {args.agents * args.rounds} calls with agents ready joined to an agent.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
