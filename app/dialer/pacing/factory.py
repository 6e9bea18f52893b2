"""A campaign's pacer: built fresh for its dialling mode, or taken up from a handed-over state."""

from __future__ import annotations

from app.dialer.pacing.policy import MAX_ABANDON_RATE, Predictive, Preview, Progressive

# The hand-over state's layout. Raise it when a field is added, dropped or changes meaning:
# a state of another version is then dropped, and the pacer relearns from the stream. Class
# and attribute names can change freely; only the state's own keys are the contract. The
# state carries what the predictive pacer learned and decided, not its own settings
# (setpoints, reserve, cushion, batch share, memory): those are the release's, so a change to
# one of them needs no new version. The learned model's settings (its windows and priors)
# still travel with its samples: raise the version when one of their defaults changes. (3: the
# credit went, and a wide gap closes at 0.1 a tick, not 0.3. 4: the pacer's settings left the
# state.) A key every release may lack or ignore needs no new version: `team` (the agents at
# the last tick, which size the risk's step; 2026-12-05) and `why` (why its governor held the
# last tick) are read with a default, and a release before them ignores them, so during a
# rolling deploy old and new dial workers hand a campaign's pacer to each other without
# either dropping its learning.
STATE_VERSION = 4
# Versions taken up: a version-3 state holds every key of a version-4 one, and the settings it
# also holds are ignored, so a release that moves to 4 keeps every campaign's learning rather
# than relearning (a campaign's first hour from scratch runs hot: docs/benchmarks.md).
READS = (3, STATE_VERSION)

_KINDS = {kind.mode: kind for kind in (Preview, Progressive, Predictive)}


class StateRejected(ValueError):
    """A handed-over state this release does not take up."""


def make_pacer(mode: str, abandon_target: float = MAX_ABANDON_RATE, **settings):
    """Build the pacer for a campaign's dialling mode; the target is capped at the legal 3%."""
    if mode not in _KINDS:
        raise ValueError(f"unknown dialling mode {mode!r}; expected one of {sorted(_KINDS)}")
    return _KINDS[mode](abandon_target=min(float(abandon_target), MAX_ABANDON_RATE), **settings)


def dump_state(pacer) -> dict:
    """The pacer as plain JSON types (dicts, lists, strings, numbers, booleans, null), with
    its schema version and mode; floats pass through JSON exactly."""
    return {"v": STATE_VERSION, **pacer.to_state()}


def load_state(state: dict, mode: str | None = None, abandon_target: float | None = None):
    """The pacer `dump_state` described: it decides exactly as the original would have, given
    the same settings (the release's: production builds every pacer with them).

    Raises StateRejected for a state of another version, or of another mode or target than
    those given (a campaign switched to progressive, or to a stricter target, starts over).
    """
    if state.get("v") not in READS:
        raise StateRejected(f"state version {state.get('v')!r}; this release reads "
                            f"{', '.join(map(str, READS))}")
    kind = _KINDS.get(state.get("mode"))
    if kind is None:
        raise StateRejected(f"state for unknown mode {state.get('mode')!r}")
    if mode is not None and state["mode"] != mode:
        raise StateRejected(f"state for mode {state['mode']!r}, not {mode!r}")
    if abandon_target is not None and \
            state.get("abandon_target") != min(float(abandon_target), MAX_ABANDON_RATE):
        raise StateRejected(f"state for target {state.get('abandon_target')!r}, "
                            f"not {abandon_target!r}")
    return kind.from_state(state)
