"""The state rule table for people: each rule's parameters in words ("Calls 8:00–20:00 local
time, every day", "No calls on Sundays"), its holidays with the year's dates, its dates in
force, source and note, federal rules first and then each state by name."""
from __future__ import annotations

from datetime import date

from app.compliance.jurisdictions import FEDERAL, Rule, default_ruleset
from app.compliance.rules.calendar import holiday_dates
from app.compliance.rules.loader import KINDS
from app.compliance.rules.messages import clock, place

KIND_NAMES = {
    "calling_hours": "Calling hours", "no_calls_on": "Days without calls",
    "holiday_ban": "Holidays without calls", "frequency_cap": "Calls per person",
    "written_consent_autodial": "Written consent", "all_party_recording_consent": "Recording consent",
}
_DAY = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_OBSERVED = {
    "sun_to_mon": "; one that falls on a Sunday also closes the Monday after",
    "sat_to_fri_sun_to_mon": ("; one that falls on a Saturday also closes the Friday before, "
                              "one on a Sunday the Monday after"),
}
AUTODIALED_ONLY = " (automatically dialled calls only)"


def rule_table(on: date, year: int | None = None) -> dict:
    """The whole table as the admin page shows it; `on` decides which rules are in force."""
    rs = default_ruleset()
    year = year or on.year
    order = sorted(rs.rules, key=lambda r: (r.jurisdiction != FEDERAL, place_of(r), KINDS.index(r.kind)))
    return {"version": rs.version, "year": year, "problems": [str(p) for p in rs.problems],
            "rules": [_entry(rule, on, year) for rule in order]}


def place_of(rule: Rule) -> str:
    return "Federal law (every state)" if rule.jurisdiction == FEDERAL else place(rule.jurisdiction)


def _entry(rule: Rule, on: date, year: int) -> dict:
    holidays = []
    if rule.kind == "holiday_ban":
        holidays = [{"name": name, "date": day}
                    for day, name in sorted(holiday_dates(rule.holidays, rule.observed, year).items())]
    return {"id": rule.id, "jurisdiction": rule.jurisdiction, "place": place_of(rule), "kind": rule.kind,
            "kind_name": KIND_NAMES.get(rule.kind, rule.kind), "summary": in_words(rule),
            "effective_from": rule.effective_from, "effective_until": rule.effective_until,
            "in_force": rule.in_force(on), "source": {"citation": rule.source.citation, "url": rule.source.url},
            "note": rule.note, "holidays": holidays}


def in_words(rule: Rule) -> str:
    """The rule's parameters as a sentence for people."""
    only = AUTODIALED_ONLY if rule.autodialed_only else ""
    if rule.kind == "calling_hours":
        return _hours(rule) + only
    if rule.kind == "no_calls_on":
        return "No calls on " + _either(sorted(rule.days)) + only
    if rule.kind == "holiday_ban":
        count = len(rule.holidays)
        return (f"No calls on {count} holiday{'s' if count != 1 else ''}{_OBSERVED.get(rule.observed, '')}"
                + only)
    if rule.kind == "frequency_cap":
        calls = f"{rule.max_calls} call{'s' if rule.max_calls != 1 else ''}"
        return f"At most {calls} in {rule.window_hours} hours to one person from one seller"
    if rule.kind == "written_consent_autodial":
        if rule.scope == "all_calls":
            return "Every sales call needs the person's prior express written consent"
        return "Automatically dialled sales calls need the person's prior express written consent"
    if rule.kind == "all_party_recording_consent":
        return "Recording a call needs the consent of everyone on it"
    return KIND_NAMES.get(rule.kind, rule.kind)


def _hours(rule: Rule) -> str:
    spans: dict[tuple[int, int], list[int]] = {}
    for day, span in enumerate(rule.hours):
        if span is not None:
            spans.setdefault(span, []).append(day)
    where = "local time" if not rule.zone else f"by the clock of {_zone_words(rule.zone)} all year"
    parts = [f"{clock(start)}–{clock(end)}" + (f" {where}," if i == 0 else "") + f" {_days_words(days)}"
             for i, ((start, end), days) in enumerate(spans.items())]
    return "Calls " + "; ".join(parts)


def _days_words(days: list[int]) -> str:
    if len(days) == 7:
        return "every day"
    if len(days) == 1:
        return f"on {_DAYS[days[0]]}"
    if days == list(range(days[0], days[-1] + 1)):
        return f"{_DAY[days[0]]} to {_DAY[days[-1]]}"
    return "on " + ", ".join(_DAYS[d] for d in days[:-1]) + f" and {_DAYS[days[-1]]}"


def _either(days: list[int]) -> str:
    names = [_DAYS[d] for d in days]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"


def _zone_words(zone: str) -> str:
    if zone.startswith("Etc/GMT") and zone[7:]:  # POSIX sign: Etc/GMT+6 is UTC-6
        offset = zone[7:]
        return f"UTC{'−' if offset.startswith('+') else '+'}{offset[1:]}"
    return zone.replace("_", " ")
