"""The words an operator reads when a call is held back: the state, its rule, and the callee's
local time, e.g. "Florida allows calls 8:00-20:00 its local time; it is 20:30 in
America/New_York." Kept apart from the evaluation so the wording can change on its own."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from app.common.phones import STATE_NAMES

NO_ZONE = "The callee's time zone is unknown, so no calling hours can be checked; the call is held."
_NAMES = {code: name.title().replace(" Of ", " of ") for name, code in STATE_NAMES.items()}
_NAMES.update({"VI": "U.S. Virgin Islands", "AS": "American Samoa", "MP": "Northern Mariana Islands"})
_DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_DAY = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def place(jurisdiction: str) -> str:
    if jurisdiction == "US":
        return "Federal law"
    return _NAMES.get(jurisdiction[3:], jurisdiction)


def clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}"


def _zone_label(zone: ZoneInfo) -> str:
    if zone.key.startswith("Etc/GMT"):  # POSIX sign: Etc/GMT+6 is UTC-6
        offset = zone.key[7:]
        return f"UTC{'-' if offset.startswith('+') else '+'}{offset[1:]}" if offset else "UTC"
    return zone.key


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def hours(rule, start: int, end: int, local: datetime, zone: ZoneInfo, ring: int, *, campaign: bool) -> str:
    span = f"{clock(start)}-{clock(end)}"
    if rule is None:
        who = f"The campaign calls {span}" if campaign else f"Federal law allows calls {span}"
        whose = "the callee's local time"
    else:
        who = f"{place(rule.jurisdiction)} allows calls {span}{_days_phrase(rule.hours, local.weekday())}"
        whose = "its local time" if not rule.zone else f"in {_zone_label(zone)}, the zone its statute names"
        if rule.jurisdiction == "US":
            whose = "the callee's local time"
    now = f"{local.hour}:{local.minute:02d}"
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    if start <= seconds <= end and ring:
        return (f"{who} {whose}; a call started at {now}:{local.second:02d} in {_zone_label(zone)} "
                f"could still be ringing at {clock(end)} ({ring} s ring time).")
    return f"{who} {whose}; it is {now} in {_zone_label(zone)}."


def _days_phrase(week, today: int) -> str:
    """ "" when the hours hold every day, else the run of days sharing today's hours:
    " Monday-Saturday", " on Sundays"."""
    same = [d for d in range(7) if week[d] == week[today]]
    if len(same) == 7:
        return ""
    if len(same) == 1:
        return f" on {_DAYS[today]}"
    if same == list(range(same[0], same[-1] + 1)):
        return f" {_DAY[same[0]]}-{_DAY[same[-1]]}"
    return " on " + ", ".join(_DAYS[d] for d in same)


def ban(code: str, rule, what: str, local: datetime, zone: ZoneInfo) -> str:
    state = place(rule.jurisdiction)
    today = f"{local:%A} {local.day} {local:%B %Y} in {_zone_label(zone)}"
    if code == "state_holiday":
        return f"{state} bans sales calls on its holidays; it is {what}, {today}."
    days = ", ".join(_DAYS[d] for d in sorted(rule.days))
    return f"{state} bans sales calls on {days}; it is {today}."


def blackout(item) -> str:
    span = (f"on {item.date_from:%Y-%m-%d}" if item.date_from == item.date_to
            else f"from {item.date_from:%Y-%m-%d} to {item.date_to:%Y-%m-%d}")
    where = "every state" if item.jurisdiction == "US" else place(item.jurisdiction)
    return f"Calls to {where} are suspended {span} (declared): {item.reason.rstrip('.')}."


def cap(rule, made: int, frees: datetime, exact: bool) -> str:
    state = place(rule.jurisdiction)
    when = (f"the oldest of them leaves the window at {_when(frees)}" if exact
            else f"the window is clear by {_when(frees)} at the latest")
    return (f"{state} allows at most {rule.max_calls} calls in {rule.window_hours} hours to one person "
            f"on one subject, counting every campaign of the seller; {made} already made, so {when}.")


def consent(rule) -> str:
    state = place(rule.jurisdiction)
    what = "any sales call" if rule.scope == "all_calls" else "an automatically dialled sales call"
    return f"{state} requires the callee's prior express written consent for {what}; none is on record."


def broken(jurisdiction: str) -> str:
    where = "every jurisdiction" if jurisdiction == "*" else place(jurisdiction)
    return (f"The rule table has invalid entries for {where}; calls there are held until the rule file "
            "is fixed (see its problems).")
