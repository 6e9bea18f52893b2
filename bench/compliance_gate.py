"""Jurisdiction gate benchmark: `evaluate` per call, beside the plain calling-window gate.

    python -m bench.compliance_gate [--n 100000] [--seed 7]

Draws N random (zone, jurisdictions, instant) triples: a state among the 50 and DC, one of its
zones, one jurisdiction (a tenth of them two, as when address and area code disagree), an
instant anywhere in 2026-2027, and a recent-call count of 0-4. Times each call on its own
(perf_counter_ns) and prints p50/p99/max in microseconds for:
- baseline: app.compliance.gates.inside_window over the same instants and zones (federal
  window only, no explanation);
- evaluate, all calls; and separately the refused ones, which also search for the next
  callable instant and build the reasons.
Caches warm up during the run as they would in a dial worker; the first pass is reported too.
"""
from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.common.phones import SPLIT_STATE_ZONES, STATE_NAMES, STATE_ZONES
from app.compliance import gates
from app.compliance.jurisdictions import default_ruleset, evaluate

STATES = sorted(set(STATE_NAMES.values()) - {"PR", "GU"})
START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_MINUTES = 2 * 365 * 24 * 60


def triples(n: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        state = rng.choice(STATES)
        zone = ZoneInfo(rng.choice(SPLIT_STATE_ZONES.get(state, (STATE_ZONES[state],))))
        places = (f"US-{state}",) if rng.random() > 0.1 else (f"US-{state}", f"US-{rng.choice(STATES)}")
        at = START + timedelta(minutes=rng.randrange(SPAN_MINUTES), seconds=rng.randrange(60))
        calls = rng.choice((0, 0, 0, 1, 2, 3, 4))
        oldest = at - timedelta(minutes=rng.randrange(1, 24 * 60)) if calls else None
        out.append(((zone,), places, at, calls, oldest))
    return out


def percentiles(samples_ns: list[int]) -> str:
    if not samples_ns:
        return "n=0"
    ordered = sorted(samples_ns)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000
    return (f"n={len(ordered):>6}  p50={pick(0.50):7.1f} us  p99={pick(0.99):7.1f} us  "
            f"max={ordered[-1] / 1000:8.1f} us  mean={statistics.fmean(ordered) / 1000:6.1f} us")


def run(cases: list[tuple]) -> tuple[list[int], list[int], list[int], int]:
    window = gates.Window.for_campaign(clock(0, 0), clock(23, 59))
    base, every, refused, allowed = [], [], [], 0
    clock_ns = time.perf_counter_ns
    for zones, places, at, calls, oldest in cases:
        t0 = clock_ns()
        gates.inside_window(at, zones, window)
        t1 = clock_ns()
        verdict = evaluate(at, zones, places, calls_last_24h=calls, oldest_call_in_window=oldest,
                           has_written_consent=True, ring_seconds=15)
        t2 = clock_ns()
        base.append(t1 - t0)
        every.append(t2 - t1)
        if verdict.callable:
            allowed += 1
        else:
            refused.append(t2 - t1)
    return base, every, refused, allowed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    ruleset = default_ruleset()
    cases = triples(args.n, args.seed)
    print(f"compliance gate: {args.n} random (zone, jurisdictions, instant) triples, rules "
          f"{ruleset.version} ({len(ruleset.rules)} rules), Python {platform.python_version()}")
    for label in ("first pass (caches filling)", "second pass (warm)"):
        base, every, refused, allowed = run(cases)
        print(f"\n{label}: {allowed} callable, {len(refused)} refused")
        print(f"  baseline gates.inside_window  {percentiles(base)}")
        print(f"  evaluate, every call          {percentiles(every)}")
        print(f"  evaluate, refused (+next time) {percentiles(refused)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
