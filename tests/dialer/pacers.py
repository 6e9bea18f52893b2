"""Pacers in a known state, for the pacing tests."""
import random

from app.dialer.pacing import make_pacer


def warmed(answer_rate=0.3, handle=100.0, seed=7, **settings):
    """A predictive pacer that has seen 10 minutes of a campaign's results."""
    rng = random.Random(seed)
    pacer = make_pacer("predictive", **settings)
    for i in range(1200):
        placed = i * 0.5
        if rng.random() < answer_rate:
            ring = rng.uniform(5, 25)
            pacer.on_dial_result(placed + ring, "human", ring)
        else:
            pacer.on_dial_result(placed + 25, rng.choice(["no-answer", "busy", "machine"]), 25.0)
    for _ in range(300):
        pacer.on_agent_free(600.0, rng.gauss(handle, handle * 0.1))
    return pacer
