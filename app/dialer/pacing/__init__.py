"""Pacers decide how many calls a campaign launches now (pure: no I/O, no clock)."""

from app.dialer.pacing.answers import DialOutcomes
from app.dialer.pacing.distributions import Empirical
from app.dialer.pacing.factory import (STATE_VERSION, StateRejected, dump_state, load_state,
                                       make_pacer)
from app.dialer.pacing.model import STEP, LearnedModel
from app.dialer.pacing.policy import (GRACE_SECONDS, HELD_REASONS, MAX_ABANDON_RATE, OUTCOMES,
                                      Predictive, Preview, Progressive)

__all__ = ["DialOutcomes", "Empirical", "GRACE_SECONDS", "HELD_REASONS", "LearnedModel",
           "MAX_ABANDON_RATE", "OUTCOMES", "Predictive", "Preview", "Progressive", "STATE_VERSION",
           "STEP", "StateRejected", "dump_state", "load_state", "make_pacer"]
