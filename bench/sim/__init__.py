"""Discrete-event simulation of an outbound campaign, driving the production pacer code."""

from bench.sim.engine import RunResult, simulate
from bench.sim.scenario import Scenario, make_policy

__all__ = ["RunResult", "Scenario", "make_policy", "simulate"]
