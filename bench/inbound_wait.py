"""Calls to our numbers: how long a caller waiting in the queue goes on waiting once an agent
is free for them, with the sweep that hands waiting callers to agents each second (a REST
redirect into the agent's room, mid-message) and, as the baseline in the same run, without it
(the caller is taken only when their wait URL is next asked, after the hold message, their
place and a two-second silence have played).

The whole stack (`bench.stack.Stack`: embedded PostgreSQL and Redis, the carrier simulator,
gunicorn, one Celery pool per queue and beat) with bot agents who take each call, wrap up and go
ready again. Callers ring the campaign's number at random: first 0.9 times as many as the
agents can take (a queue now and then: a caller who has just joined hears the hold message and
their place), then 1.1 times (a queue that stays and grows slowly: the first in line mostly
hears silence). Phases alternate: the sweep on (beat running, as in production), then off (beat
stopped: the pacing tick has nothing to do, the campaign being paused for outbound calls), four
times each.

The figure, for each caller who was waiting when the agent who took them freed up: the carrier
seconds from the agent going ready to the caller leaving the queue (the simulator's record of
the queue; a caller told `<Leave/>` then waits one more webhook round trip to be joined, so the
baseline reads slightly better than a caller hears it). Carrier seconds = wall seconds / the
time scale, so the stack's own work (a webhook's round trip, the sweep's) counts 5 times over at
the default scale: both paths read slower than at real speed.

    python -m bench.inbound_wait            # 5 agents, 2 loads x 8 phases of 4 carrier minutes (~14 min)
    python -m bench.inbound_wait --quick    # phases of 1.5 carrier minutes (~6 min)
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

OUR_NUMBER = "+12025550101"  # one of the simulator's numbers: the campaign's caller ID
TALK = (30.0, 90.0)   # carrier seconds a caller talks
WRAP = (5.0, 15.0)    # carrier seconds a bot wraps up
# Callers ringing per agent freeing up: a queue now and then, and a queue that forms and stays.
LOADS = (0.9, 1.1)
ROUNDS = 4  # pairs of phases, the sweep on then off, so that drift falls on both alike


def _stack(scale: float):
    from bench.stack import Stack

    return Stack(sim_knobs={"time_scale": scale, "talk_seconds": TALK}, cps=0,
                 env={"DIALER_TIME_SCALE": str(scale)})


def _campaign(stack, agents: int) -> tuple[int, list[int]]:
    """A campaign paused for outbound calls that takes calls to OUR_NUMBER now (its hours open
    in its own zone), its number's voice URL pointing at the stack."""
    from app.campaigns.models import Campaign
    from app.extensions import db
    from app.telephony.factory import get_carrier
    from bench.inbound import open_zone
    from carrier_sim.numbers import number_sid

    cid, agent_ids, _ = stack.seed_campaign("inbound-wait", 0, agents)
    with stack.app.app_context():
        campaign = db.session.get(Campaign, cid)
        campaign.status, campaign.caller_id, campaign.timezone = "paused", OUR_NUMBER, open_zone()
        campaign.inbound_max_wait_seconds = 3600  # the longest allowed: longer than any wait here
        db.session.commit()
        # As the app points a number of its pools at itself (app.numbers), through its carrier.
        get_carrier().set_voice_url(number_sid(OUR_NUMBER), f"{stack.web_url}/twilio/inbound",
                                    f"{stack.web_url}/twilio/status")
    return cid, agent_ids


class Callers:
    """People ringing OUR_NUMBER at random (a Poisson stream), patient, each talking TALK."""

    def __init__(self, sim_url: str, per_second: float, seed: int):
        self.sim_url, self.per_second = sim_url, per_second
        self.rng = random.Random(seed)
        self.sids: list[str] = []
        self.failed = 0

    def run(self, stop: threading.Event) -> None:
        import requests

        n = 0
        while not stop.wait(self.rng.expovariate(self.per_second)):
            n += 1
            try:
                response = requests.post(f"{self.sim_url}/_sim/inbound", timeout=5, json={
                    "From": f"+1312555{n % 10000:04d}", "To": OUR_NUMBER, "patience": 10 ** 6,
                    "talk_seconds": self.rng.uniform(*TALK)})
                response.raise_for_status()
                self.sids.append(response.json()["call_sid"])
            except Exception:  # noqa: BLE001 - counted, and the run goes on
                self.failed += 1


def _gaps(stack, cid: int, sids: list[str], phases: list[tuple[str, float, float]], scale: float) -> dict:
    """Per phase: carrier seconds from the taking agent's ready to the caller leaving the queue,
    for callers waiting when that agent freed up; and how they left the queue."""
    import requests
    from sqlalchemy import text

    from app.extensions import db

    with stack.app.app_context():
        rows = db.session.execute(text(
            """SELECT c.call_sid, r.at AS reserved_at,
                      (SELECT max(s.at) FROM agent_state_changes s WHERE s.agent_id = r.agent_id
                         AND s.to_state = 'ready' AND s.at <= r.at) AS ready_at
               FROM calls c JOIN agent_state_changes r ON r.call_id = c.id AND r.to_state = 'reserved'
               WHERE c.campaign_id = :cid AND c.direction = 'inbound'"""), {"cid": cid}).all()
        db.session.rollback()
    taken = {sid: ready_at.timestamp() for sid, _, ready_at in rows if ready_at is not None}
    out = {name: {"gaps": [], "results": {}} for name, _, _ in phases}
    for sid in sids:
        if sid not in taken:
            continue
        record = requests.get(f"{stack.sim_url}/_sim/calls/{sid}", timeout=5).json()
        history = record.get("queue_history") or []
        if not history or history[0].get("left_at") is None or history[0].get("entered_at") is None:
            continue
        entered, left, ready = history[0]["entered_at"], history[0]["left_at"], taken[sid]
        if ready < entered:
            continue  # the agent was free before the caller came: not waiting for an agent
        for name, t0, t1 in phases:
            if t0 <= ready < t1:
                out[name]["gaps"].append((left - ready) / scale)
                result = history[0].get("result")
                out[name]["results"][result] = out[name]["results"].get(result, 0) + 1
    return out


def _summary(gaps: list[float]) -> str:
    if not gaps:
        return "no caller waited for an agent"
    ordered = sorted(gaps)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return (f"n {len(gaps):>4}  mean {statistics.fmean(gaps):5.2f} s  p50 {statistics.median(gaps):5.2f} s"
            f"  p90 {p90:5.2f} s  max {ordered[-1]:5.2f} s")


def _run_load(stack, cid: int, agents: int, load: float, minutes: float, scale: float) -> tuple[dict, Callers]:
    """Callers at `load` times what the agents can take; a first stretch unmeasured (the queue
    forms), then the phases. Returns the figures per phase, and the callers."""
    from bench.stack import machine_load

    handle = statistics.fmean(TALK) + statistics.fmean(WRAP)
    callers = Callers(stack.sim_url, load * agents / handle / scale, seed=int(agents * 100 * load))
    stop = threading.Event()
    thread = threading.Thread(target=callers.run, args=(stop,), daemon=True, name="callers")
    thread.start()
    print(f"callers at {load:.1f}x what {agents} agents can take: {machine_load()}", flush=True)
    time.sleep(3 * 60 * scale)
    phases = []
    names = ("sweep", "poll only") * ROUNDS
    for i, name in enumerate(names):
        if name == "sweep" and stack.procs["beat"].poll() is not None:
            stack.start_process("beat")
        elif name != "sweep":
            stack.kill_process("beat")
        time.sleep(2 * scale)  # the last sweep's redirects land before the phase starts
        t0 = time.time()
        time.sleep(minutes * 60 * scale)
        phases.append((f"{name} {i // 2 + 1}", t0, time.time()))
        print(f"  phase {i + 1}/{len(names)} ({name}) done: {len(callers.sids)} callers so far; {machine_load()}",
              flush=True)
    stop.set()
    thread.join(10)
    if stack.procs["beat"].poll() is not None:
        stack.start_process("beat")
    return _gaps(stack, cid, callers.sids, phases, scale), callers


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1.5 carrier minutes per phase")
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=None, help="carrier minutes per phase")
    parser.add_argument("--scale", type=float, default=0.2, help="wall seconds per carrier second")
    args = parser.parse_args(argv)
    minutes = args.minutes or (1.5 if args.quick else 4.0)
    scale = args.scale

    from devtools.bot_agents import BotAgents

    stack = _stack(scale).start()
    results = {}
    try:
        cid, agent_ids = _campaign(stack, args.agents)
        stop = threading.Event()
        with stack.app.app_context():
            bots = BotAgents(stack.app, agent_ids, cid, wrap_seconds=(WRAP[0] * scale, WRAP[1] * scale),
                             seed=args.agents)
            thread = threading.Thread(target=bots.run, args=(stop, 0.02), daemon=True, name="bots")
            thread.start()
            print(f"{args.agents} agents; time scale {scale} ({1 / scale:.0f}x)", flush=True)
            for load in LOADS:
                results[load] = _run_load(stack, cid, args.agents, load, minutes, scale)
            stop.set()
            thread.join(10)
    finally:
        stack.stop()

    print(f"\nA caller waiting when an agent frees up: carrier seconds from the agent's ready to the "
          f"caller leaving the queue\n({args.agents} agents, {minutes:g} carrier minutes per phase, "
          f"callers talk U{TALK} s, bots wrap up U{WRAP} s; time scale {scale})")
    for load, (measured, callers) in results.items():
        print(f"callers at {load:.1f}x what the agents can take ({len(callers.sids)} placed, "
              f"{callers.failed} not placed):")
        pooled: dict[str, list[float]] = {}
        for name, figures in measured.items():
            kind = name.rsplit(" ", 1)[0]
            pooled.setdefault(kind, []).extend(figures["gaps"])
            print(f"  {name:<14} {_summary(figures['gaps'])}   left by {figures['results']}")
        for kind, gaps in pooled.items():
            print(f"  {kind + ', all':<14} {_summary(gaps)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
