"""What each KPI means, in one place: the docstrings, the OpenAPI descriptions and `derive` use it.

Attribution (which bucket a record counts in):
- a call counts in the bucket of its `created_at` (when the dialer placed it), and only once it
  has reached a terminal status (completed, busy, no-answer, failed, canceled);
- an interaction counts in the bucket of its `started_at`, once its wrap-up has ended;
- agent time comes from `agent_state_changes`: each change opens an interval in `to_state`
  that lasts until the agent's next change (or until the rollup runs, for the current state),
  charged to the change's campaign and split across every bucket it spans.
Minute and hour buckets are UTC-aligned; day buckets run from local midnight to local midnight
in the campaign's time zone (23 or 25 hours on DST days). A window [from, to) sums the buckets
that start inside it.
"""
from __future__ import annotations

DEFINITIONS: dict[str, str] = {
    "calls_placed": "Calls the dialer placed (created) in the window that have reached a terminal status.",
    "answered": "Connected calls: placed calls that were answered (answered_at set), by a person or a machine.",
    "human_answered": "Calls placed that were answered by a person (outcome 'human'); calls to our numbers are not counted.",
    "machine_answered": "Calls answered by an answering machine (outcome 'machine').",
    "abandoned": "Calls answered by a person and not connected to an agent within 2 seconds "
                 "(the call's abandoned flag).",
    "abandon_rate": "abandoned / human_answered over the window; null when nobody answered.",
    "avg_ring_seconds": "Mean ring time (ring_seconds) over the calls that report one.",
    "handled": "Interactions (connected calls an agent handled) whose wrap-up has ended.",
    "talk_seconds": "Sum of the interactions' talk time.",
    "wrap_seconds": "Sum of the interactions' wrap-up time.",
    "avg_handle_seconds": "Average handle time: (talk_seconds + wrap_seconds) / handled.",
    "signed_in_seconds": "Agent time in any state but offline (ready, reserved, on-call, wrap-up, paused).",
    "paused_seconds": "Agent time in the paused state.",
    "occupied_seconds": "Agent time in the on-call and wrap-up states.",
    "occupancy": "occupied_seconds / (signed_in_seconds - paused_seconds): the share of available "
                 "(signed in and not paused) time spent on calls and wrap-up.",
    "talk_minutes_per_agent_hour": "(talk_seconds / 60) / (signed_in_seconds / 3600).",
    "contacts_reached": "Handled interactions whose disposition is flagged is_contact.",
    "contacts_per_hour": "contacts_reached / (signed_in_seconds / 3600): contacts per signed-in agent hour.",
    "sales": "Handled interactions whose disposition is flagged is_sale.",
    "conversion": "sales / contacts_reached; null when there were no contacts.",
    "dispositions": "Handled interactions per disposition code: {code: count}.",
    "pause_by_code": "Paused seconds per pause code: {code: seconds} ('unspecified' without a code).",
}

LIST_DEFINITIONS: dict[str, str] = {
    "total": "Contacts loaded in the campaign's list, now.",
    "attempted": "Contacts dialled at least once (attempts > 0).",
    "penetration": "attempted / total: the share of the list dialled at least once; null for an empty list.",
    "remaining": "Contacts that may still be dialled: status new, retry or callback.",
}

ABANDON_30D_DEFINITION = (
    "Abandonment over the rolling 30-day period the FTC/FCC rule measures: abandoned / human_answered "
    "over calls placed in [now - 30 x 24 h, now). A campaign younger than 30 days has no calls before "
    "its start, so the window is the whole campaign. Calls count from the moment they are placed "
    "(in-progress calls included, as their abandoned flag and outcome stand): older hours and days come "
    "from the rollups, the last hour or so and the calls still live come straight from the calls table."
)

SUM_COLUMNS = (
    "calls_placed", "answered", "human_answered", "machine_answered", "abandoned",
    "ring_seconds_sum", "ring_count", "talk_seconds", "wrap_seconds", "handled",
    "contacts_reached", "sales", "signed_in_seconds", "paused_seconds", "occupied_seconds",
)
JSON_COLUMNS = ("dispositions", "pause_by_code")
INT_COLUMNS = frozenset({"calls_placed", "answered", "human_answered", "machine_answered", "abandoned",
                         "ring_count", "handled", "contacts_reached", "sales"})


def ratio(numerator: float, denominator: float) -> float | None:
    return None if not denominator else numerator / denominator


def derive(sums: dict) -> dict:
    """The KPIs of one bucket or window, from its additive counters (see DEFINITIONS)."""
    s = {name: float(sums.get(name) or 0) for name in SUM_COLUMNS}
    available = s["signed_in_seconds"] - s["paused_seconds"]
    signed_in_hours = s["signed_in_seconds"] / 3600
    out = {name: (int(s[name]) if name in INT_COLUMNS else float(s[name]))
           for name in SUM_COLUMNS if name not in ("ring_seconds_sum", "ring_count")}
    out.update(
        abandon_rate=ratio(s["abandoned"], s["human_answered"]),
        avg_ring_seconds=ratio(s["ring_seconds_sum"], s["ring_count"]),
        avg_handle_seconds=ratio(s["talk_seconds"] + s["wrap_seconds"], s["handled"]),
        occupancy=ratio(s["occupied_seconds"], available),
        talk_minutes_per_agent_hour=ratio(s["talk_seconds"] / 60, signed_in_hours),
        contacts_per_hour=ratio(s["contacts_reached"], signed_in_hours),
        conversion=ratio(s["sales"], s["contacts_reached"]),
        dispositions={k: int(v) for k, v in (sums.get("dispositions") or {}).items()},
        pause_by_code={k: float(v) for k, v in (sums.get("pause_by_code") or {}).items()},
    )
    return out
