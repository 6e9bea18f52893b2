"""Fault figures: what the dialer loses, double-dials or leaves stuck when things break.

    python -m bench.faults [--quick] [--trials N] [--contacts N]

One full stack (bench/stack.py); each trial is a fresh campaign (max one attempt per contact,
so every number must be dialled exactly once) worked by bot agents, with one fault injected:

  baseline   no fault (same run, same settings)
  kill-dial  SIGKILL the dial worker at a random moment while dialling, restart it
  redis      stop Redis (no persistence: broker queues, hopper, leases, agent states go) and
             start it again, empty, on the same port
  pg-down    the database unreachable for a few seconds while callbacks arrive
  chaos      the carrier sends duplicates, reorders callbacks and answers 429 bursts, at once

Checked against the simulator: double-dialled = creates beyond one per number; lost = a number
never dialled, or a call whose final status at the carrier never reached our database; stuck =
contacts or calls not settled when the trial ends. Recovery knobs are shortened through env
(DIAL_LEASE_SECONDS=10, CELERY_VISIBILITY_TIMEOUT=15, REAPER_NEVER_PLACED_SECONDS=10,
REAPER_SILENT_SECONDS=15, REAPER_IN_PROGRESS_CHECK_SECONDS=15, WRAP_UP_TIMEOUT_SECONDS=15).
"""
from __future__ import annotations

import argparse
import random
import re
import time
from collections import Counter

from sqlalchemy import text

from bench.stack import Stack, machine_load

TERMINAL = {"completed", "busy", "no-answer", "failed", "canceled"}


def _db_state(stack: Stack, cid: int) -> dict:
    from app.extensions import db

    with stack.app.app_context():
        rows = db.session.execute(text(
            "SELECT c.id, c.status, c.call_sid, c.to_number, (SELECT count(*) FROM call_events e "
            "WHERE e.call_id = c.id AND e.processed_at IS NULL) AS pending FROM calls c "
            "WHERE c.campaign_id = :cid"), {"cid": cid}).mappings().all()
        contacts = Counter(dict(db.session.execute(text(
            "SELECT status, count(*) FROM contacts WHERE campaign_id = :cid GROUP BY status"),
            {"cid": cid}).all()))
        never = db.session.scalar(text(
            "SELECT count(*) FROM contacts WHERE campaign_id = :cid AND attempts = 0"), {"cid": cid})
        db.session.rollback()
    return {"calls": [dict(r) for r in rows], "contacts": contacts, "never_attempted": never}


def _settled(state: dict) -> bool:
    open_contacts = sum(state["contacts"].get(s, 0) for s in ("new", "retry", "dialing"))
    return open_contacts == 0 and all(c["status"] in TERMINAL and c["pending"] == 0 for c in state["calls"])


def _reap(stack: Stack) -> None:
    """A reaper pass now (beat runs it every 30 s; the trial need not wait for the next one)."""
    from app.dialer.reaper import reap

    with stack.app.app_context():
        try:
            reap()
        except Exception:  # noqa: BLE001 - Redis or the database may be the fault right now
            pass


def run_trial(stack: Stack, kind: str, trial: int, contacts: int, agents: int, rng: random.Random,
              timeout: float = 150.0) -> dict:
    from devtools.bot_agents import BotAgents

    cid, agent_ids, numbers = stack.seed_campaign(f"fault {kind} {trial} {time.time()}", contacts, agents,
                                                  area_seed=trial)
    bots = BotAgents(stack.app, agent_ids, cid, wrap_seconds=(0.2, 0.6), seed=trial)
    bot_thread, bot_stop = bots.start()
    notes = ""
    started = time.monotonic()
    try:
        # Let dialling get going, then hurt it at a random moment.
        time.sleep(rng.uniform(2.0, 6.0))
        if kind == "kill-dial":
            victim = rng.choice([n for n in stack.procs if n.startswith("dial")])
            stack.kill_process(victim)
            time.sleep(rng.uniform(0.5, 2.0))
            stack.start_process(victim)
        elif kind == "redis":
            stack.stop_redis()
            time.sleep(rng.uniform(1.0, 3.0))
            stack.start_redis()
        elif kind == "pg-down":
            stack.pg_proxy.block()
            time.sleep(rng.uniform(3.0, 6.0))
            stack.pg_proxy.unblock()
        deadline = time.monotonic() + timeout
        state = _db_state(stack, cid)
        last_reap = time.monotonic()
        while not _settled(state) and time.monotonic() < deadline:
            time.sleep(1.0)
            if time.monotonic() - last_reap > 12:
                _reap(stack)
                last_reap = time.monotonic()
            state = _db_state(stack, cid)
        elapsed = time.monotonic() - started
    finally:
        bot_stop.set()
        bot_thread.join(5)
        stack.sign_off(agent_ids)
    time.sleep(1.0)  # late duplicates from the carrier land now, if at all
    return _score(stack, state, numbers, elapsed, notes)


def _score(stack: Stack, state: dict, numbers: list[str], elapsed: float, notes: str) -> dict:
    wanted = set(numbers)
    sim = [c for c in stack.sim_calls() if c["to"] in wanted]
    creates = Counter(c["to"] for c in sim)
    double = sum(n - 1 for n in creates.values() if n > 1)
    db_by_id = {c["id"]: c for c in state["calls"]}
    mismatched = 0
    for call in sim:
        match = re.search(r"attempt=(\d+)", call["request"]["url"] or "")
        row = db_by_id.get(int(match.group(1))) if match else None
        if call["status"] in TERMINAL and (row is None or (row["status"] != call["status"]
                                                            and row["status"] != "failed")):
            mismatched += 1  # the carrier's final word never reached us (or was overwritten)
    stuck = (sum(state["contacts"].get(s, 0) for s in ("new", "retry", "dialing"))
             + sum(1 for c in state["calls"] if c["status"] not in TERMINAL or c["pending"]))
    interrupted = sum(1 for c in state["calls"] if c["status"] == "failed" and c["call_sid"] is None
                      and creates.get(c["to_number"]))
    return {"calls": len(state["calls"]), "lost": state["never_attempted"] + mismatched,
            "double": double, "stuck": stuck, "seconds": elapsed, "interrupted": interrupted}


FAULTS = ["baseline", "kill-dial", "redis", "pg-down", "chaos"]
NOTES = {
    "baseline": "no fault",
    "kill-dial": "SIGKILL dial worker mid-dialling, restart",
    "redis": "redis-server restarted empty (no persistence)",
    "pg-down": "PostgreSQL unreachable 3-6 s via proxy",
    "chaos": "dup 0.2 + reorder 0.2 + 429 p=0.2 and bursts",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 kill-dial trials, 1 of each other fault")
    parser.add_argument("--trials", type=int, default=None, help="trials of kill-dial (default 10)")
    parser.add_argument("--other-trials", type=int, default=None, help="trials of each other fault (default 3)")
    parser.add_argument("--contacts", type=int, default=None)
    parser.add_argument("--faults", default=",".join(FAULTS))
    args = parser.parse_args(argv)
    trials = args.trials or (2 if args.quick else 10)
    other_trials = args.other_trials or (1 if args.quick else 3)
    contacts = args.contacts or (20 if args.quick else 30)
    agents = 8
    kinds = args.faults.split(",")
    runs = sum(trials if kind == "kill-dial" else other_trials for kind in kinds)
    from bench.stack import areas_for, in_calling_hours

    in_calling_hours("bench.faults", runs * areas_for(contacts), argv)
    rng = random.Random(9)
    # The carrier retries a failed callback 8 times from 0.5 s (about two minutes in all).
    stack = Stack(sim_knobs={"time_scale": 0.02, "talk_seconds": (30, 120), "callback_max_attempts": 8,
                             "callback_retry_seconds": 0.5}, cps=30).start()
    print(f"stack up ({machine_load()}); {trials} kill-dial trials, {other_trials} of each other fault, "
          f"{contacts} contacts, {agents} bot agents", flush=True)
    results = []
    try:
        for kind in kinds:
            if kind == "chaos":
                stack.sim_configure(duplicate_probability=0.2, out_of_order_probability=0.2,
                                    rate_limit_probability=0.2, rate_limit_period_seconds=5,
                                    rate_limit_burst_seconds=1)
            totals = Counter()
            n_trials = trials if kind == "kill-dial" else other_trials
            for trial in range(n_trials):
                r = run_trial(stack, kind, trial, contacts, agents, rng)
                totals.update({k: v for k, v in r.items()})
                print(f"  {kind:<10} trial {trial + 1:>2}: calls {r['calls']:>3} lost {r['lost']} "
                      f"double {r['double']} stuck {r['stuck']} settled in {r['seconds']:.0f}s "
                      f"({machine_load()})", flush=True)
            if kind == "chaos":
                stack.sim_configure(duplicate_probability=0, out_of_order_probability=0,
                                    rate_limit_probability=0, rate_limit_period_seconds=0,
                                    rate_limit_burst_seconds=0)
            results.append((kind, n_trials, totals))
    finally:
        stack.stop()
    print()
    print(f"{'fault':<10} {'trials':>6} {'calls':>6} {'lost':>5} {'double-dialled':>15} {'stuck':>6}  notes")
    for kind, n, t in results:
        extra = f"; {t['interrupted']} interrupted placements failed, not redialled" if t["interrupted"] else ""
        print(f"{kind:<10} {n:>6} {t['calls']:>6} {t['lost']:>5} {t['double']:>15} {t['stuck']:>6}  "
              f"{NOTES[kind]}; mean settle {t['seconds'] / n:.0f}s{extra}")
    print(f"machine: {machine_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
