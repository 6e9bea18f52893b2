"""Call lengths in the demo are the real ones (issue 20, bug 4: a 49-second call showed 01:37).

The demo's carrier simulator ran at half time scale and reported simulated seconds, twice the
wall-clock seconds a person watched; the wallboard and the records showed them as they came.
"""
from types import SimpleNamespace

from carrier_sim.__main__ import build_parser, config_from_args
from carrier_sim.calls import duration_seconds
from devtools import run


def _demo_config():
    return config_from_args(build_parser().parse_args(run.SIMULATOR_KNOBS))


def test_a_49_second_call_is_reported_as_49_seconds():
    config = _demo_config()
    # Answered and hung up 49 wall-clock seconds apart, as the engine stamps them (time.time()).
    call = SimpleNamespace(answered_at=1000.0, ended_at=1049.0)
    assert duration_seconds(call, config.time_scale) == 49


def test_the_demo_keeps_its_brisk_pace_in_real_seconds():
    config = _demo_config()
    talk = tuple(s * config.time_scale for s in config.talk_seconds)   # wall-clock seconds
    ring = tuple(s * config.time_scale for s in config.ring_seconds)
    assert talk == (15, 60) and ring == (2, 12)
    assert config.max_call_seconds == 86400  # agents' legs last the session
