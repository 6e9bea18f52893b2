"""Reads and strictly validates the rule table (us.json) into an immutable RuleSet.

A rule that fails validation is reported (its index in `rules`, its id, the reason) and left
out; the others are kept. Its jurisdiction is remembered as broken, because what the bad rule
said is unknown: the evaluation then refuses calls there rather than guess (fail closed).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.common.phones import STATE_ZONES
from app.compliance.rules.calendar import OBSERVED_RULES, WEEKDAYS, Holiday

KINDS = ("calling_hours", "no_calls_on", "holiday_ban", "frequency_cap", "written_consent_autodial",
         "all_party_recording_consent")
EVERY_JURISDICTION = "*"
_RULE_KEYS = {"id", "jurisdiction", "kind", "params", "effective_from", "effective_until", "source", "note"}
_PARAM_KEYS = {
    "calling_hours": {"hours", "zone", "when"}, "no_calls_on": {"days", "when"},
    "holiday_ban": {"holidays", "observed", "when"}, "frequency_cap": {"max_calls", "window_hours"},
    "written_consent_autodial": {"scope"}, "all_party_recording_consent": set(),
}
_HOLIDAY_HOW = ("fixed", "nth_weekday", "weekday_on_or_after", "easter_offset")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
_JURISDICTION = re.compile(r"^US(-[A-Z]{2})?$")
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


class Invalid(ValueError):
    """One reason a rule cannot be used."""


@dataclass(frozen=True)
class Source:
    citation: str
    url: str | None = None


@dataclass(frozen=True, eq=False)
class Rule:
    id: str
    jurisdiction: str
    kind: str
    effective_from: date
    effective_until: date | None
    source: Source
    note: str = ""
    autodialed_only: bool = False
    hours: tuple[tuple[int, int] | None, ...] = ()   # Monday..Sunday: (start, end) seconds, end exclusive
    zone: str | None = None                          # hours read in this fixed zone, not the callee's
    days: frozenset[int] = frozenset()               # no_calls_on: weekday numbers, Monday = 0
    holidays: tuple[Holiday, ...] = ()
    observed: str = "none"
    max_calls: int = 0
    window_hours: int = 0
    scope: str = "autodialed"                        # written consent: autodialed | all_calls

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_until is None or day <= self.effective_until)


@dataclass(frozen=True)
class Problem:
    index: int | None      # position in `rules`; None for the file or the holiday calendar
    rule_id: str | None
    reason: str

    def __str__(self) -> str:
        where = f"rules[{self.index}]" if self.index is not None else "file"
        who = f" ({self.rule_id})" if self.rule_id else ""
        return f"{where}{who}: {self.reason}"


@dataclass(frozen=True, eq=False)
class RuleSet:
    version: str
    rules: tuple[Rule, ...]
    problems: tuple[Problem, ...] = ()
    broken_jurisdictions: frozenset[str] = frozenset()
    by_jurisdiction: dict[str, tuple[Rule, ...]] = field(default_factory=dict)

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


def load_rules(text: str) -> tuple[RuleSet, list[Problem]]:
    """Parse the rule file. Never raises for bad content: problems come back as a list."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        return _unusable(f"not valid JSON: {exc}")
    if not isinstance(doc, dict):
        return _unusable("the file must be a JSON object")
    version = doc.get("version")
    if not isinstance(version, str) or not version.strip():
        return _unusable("version: a non-empty string is required")
    raw_rules = doc.get("rules")
    if not isinstance(raw_rules, list):
        return _unusable("rules: a list is required")
    problems: list[Problem] = []
    calendar = _holiday_calendar(doc.get("holidays", {}), problems)
    rules: list[Rule] = []
    broken: set[str] = set()
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        rule_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
        try:
            rule = _rule(raw, calendar)
            if rule.id in seen:
                raise Invalid(f"id: duplicate {rule.id!r}")
        except Invalid as exc:
            problems.append(Problem(index, rule_id, str(exc)))
            jurisdiction = raw.get("jurisdiction") if isinstance(raw, dict) else None
            ok = isinstance(jurisdiction, str) and _JURISDICTION.match(jurisdiction)
            broken.add(jurisdiction if ok else EVERY_JURISDICTION)
            continue
        seen.add(rule.id)
        rules.append(rule)
    index_by: dict[str, list[Rule]] = {}
    for rule in rules:
        index_by.setdefault(rule.jurisdiction, []).append(rule)
    ruleset = RuleSet(version.strip(), tuple(rules), tuple(problems), frozenset(broken),
                      {k: tuple(v) for k, v in index_by.items()})
    return ruleset, problems


def _unusable(reason: str) -> tuple[RuleSet, list[Problem]]:
    problem = Problem(None, None, reason)
    return RuleSet("unusable", (), (problem,), frozenset({EVERY_JURISDICTION})), [problem]


def _holiday_calendar(raw: Any, problems: list[Problem]) -> dict[str, Holiday]:
    if not isinstance(raw, dict):
        problems.append(Problem(None, "holidays", "holidays: an object of named holidays is required"))
        return {}
    calendar = {}
    for key, spec in raw.items():
        try:
            calendar[key] = _holiday(key, spec)
        except Invalid as exc:
            problems.append(Problem(None, f"holidays.{key}", str(exc)))
    return calendar


def _holiday(key: str, spec: Any) -> Holiday:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise Invalid("a holiday needs a name and one date rule")
    hows = [h for h in _HOLIDAY_HOW if h in spec]
    extra = set(spec) - {"name", "offset_days", *_HOLIDAY_HOW}
    if len(hows) != 1 or extra:
        raise Invalid(f"exactly one of {', '.join(_HOLIDAY_HOW)} is required (got {sorted(spec)})")
    how, value = hows[0], spec[hows[0]]
    offset = _int(spec.get("offset_days", 0), "offset_days", -366, 366)
    try:
        if how == "fixed":
            match = re.fullmatch(r"(\d\d)-(\d\d)", str(value))
            if not match:
                raise Invalid(f"fixed: expected MM-DD, got {value!r}")
            month, day = int(match.group(1)), int(match.group(2))
            date(2000, month, day)  # a leap year, so 02-29 is accepted
            return Holiday(key, spec["name"], how, month=month, day=day, offset_days=offset)
        if how == "easter_offset":
            return Holiday(key, spec["name"], how, offset_days=_int(value, "easter_offset", -120, 120) + offset)
        if not isinstance(value, dict):
            raise Invalid(f"{how}: an object is required")
        month = _int(value.get("month"), f"{how}.month", 1, 12)
        weekday = _weekday(value.get("weekday"), f"{how}.weekday")
        if how == "nth_weekday":
            n = _int(value.get("n"), "nth_weekday.n", -1, 5)
            if n == 0:
                raise Invalid("nth_weekday.n: 1..5, or -1 for the last")
            return Holiday(key, spec["name"], how, month=month, weekday=weekday, n=n, offset_days=offset)
        day = _int(value.get("day"), f"{how}.day", 1, 31)
        date(2000, month, day)
        return Holiday(key, spec["name"], how, month=month, day=day, weekday=weekday, offset_days=offset)
    except ValueError as exc:
        raise Invalid(f"{how}: {exc}") from None


def _rule(raw: Any, calendar: dict[str, Holiday]) -> Rule:
    if not isinstance(raw, dict):
        raise Invalid("a rule must be a JSON object")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise Invalid(f"unknown field(s): {', '.join(sorted(unknown))}")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise Invalid(f"id: lower-case letters, digits and dashes required, got {rule_id!r}")
    jurisdiction = raw.get("jurisdiction")
    if not isinstance(jurisdiction, str) or not _JURISDICTION.match(jurisdiction) or (
            jurisdiction != "US" and jurisdiction[3:] not in STATE_ZONES):
        raise Invalid(f"jurisdiction: 'US' or 'US-' and a state code required, got {jurisdiction!r}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise Invalid(f"kind: one of {', '.join(KINDS)} required, got {kind!r}")
    params = raw.get("params")
    if not isinstance(params, dict):
        raise Invalid("params: an object is required")
    unknown = set(params) - _PARAM_KEYS[kind]
    if unknown:
        raise Invalid(f"params: unknown for {kind}: {', '.join(sorted(unknown))}")
    start = _date(raw.get("effective_from"), "effective_from")
    until = _date(raw["effective_until"], "effective_until") if raw.get("effective_until") is not None else None
    if until is not None and until < start:
        raise Invalid("effective_until: before effective_from")
    source = raw.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("citation"), str) or not source["citation"].strip():
        raise Invalid("source.citation: a statute or regulation citation is required")
    url = source.get("url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise Invalid("source.url: an http(s) URL or null")
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise Invalid("note: a string")
    fields: dict[str, Any] = {"autodialed_only": _when(params.get("when"))}
    if kind == "calling_hours":
        fields["hours"] = _hours(params.get("hours"))
        if params.get("zone") is not None:
            fields["zone"] = _zone(params["zone"])
    elif kind == "no_calls_on":
        days = params.get("days")
        if not isinstance(days, list) or not days:
            raise Invalid("params.days: a non-empty list of weekdays (mon..sun)")
        fields["days"] = frozenset(_weekday(d, "params.days") for d in days)
    elif kind == "holiday_ban":
        keys = params.get("holidays")
        if not isinstance(keys, list) or not keys:
            raise Invalid("params.holidays: a non-empty list of holiday names from the calendar")
        missing = [k for k in keys if k not in calendar]
        if missing:
            raise Invalid(f"params.holidays: not in the (valid) holiday calendar: {', '.join(map(str, missing))}")
        fields["holidays"] = tuple(calendar[k] for k in keys)
        fields["observed"] = params.get("observed", "none")
        if fields["observed"] not in OBSERVED_RULES:
            raise Invalid(f"params.observed: one of {', '.join(OBSERVED_RULES)}")
    elif kind == "frequency_cap":
        fields["max_calls"] = _int(params.get("max_calls"), "params.max_calls", 1, 1000)
        fields["window_hours"] = _int(params.get("window_hours"), "params.window_hours", 1, 24 * 31)
    elif kind == "written_consent_autodial":
        fields["scope"] = params.get("scope", "autodialed")
        if fields["scope"] not in ("autodialed", "all_calls"):
            raise Invalid("params.scope: autodialed or all_calls")
    return Rule(rule_id, jurisdiction, kind, start, until, Source(source["citation"].strip(), url),
                note, **fields)


def _hours(raw: Any) -> tuple[tuple[int, int] | None, ...]:
    if not isinstance(raw, dict) or not raw:
        raise Invalid("params.hours: an object of day ranges to [start, end] is required")
    week: list[tuple[int, int] | None] = [None] * 7
    for days, span in raw.items():
        if not (isinstance(span, list) and len(span) == 2):
            raise Invalid(f"params.hours.{days}: [\"HH:MM\", \"HH:MM\"] required")
        start, end = (_clock(t, f"params.hours.{days}") for t in span)
        if start >= end:
            raise Invalid(f"params.hours.{days}: start must be before end")
        for d in _day_range(days):
            if week[d] is not None:
                raise Invalid(f"params.hours: {WEEKDAYS[d]} given twice")
            week[d] = (start, end)
    return tuple(week)


def _day_range(text: str) -> list[int]:
    if text == "daily":
        return list(range(7))
    first, _, last = text.partition("-")
    a = _weekday(first, "params.hours")
    b = _weekday(last, "params.hours") if last else a
    if b < a:
        raise Invalid(f"params.hours: {text!r} runs backwards")
    return list(range(a, b + 1))


def _when(raw: Any) -> bool:
    if raw is None:
        return False
    if raw == {"autodialed": True}:
        return True
    raise Invalid('params.when: only {"autodialed": true} is understood')


def _zone(name: Any) -> str:
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"params.zone: unknown time zone {name!r}") from None
    return str(name)


def _clock(text: Any, what: str) -> int:
    match = _CLOCK.match(text) if isinstance(text, str) else None
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        raise Invalid(f"{what}: HH:MM required, got {text!r}")
    return int(match.group(1)) * 3600 + int(match.group(2)) * 60


def _weekday(text: Any, what: str) -> int:
    if text not in WEEKDAYS:
        raise Invalid(f"{what}: one of {', '.join(WEEKDAYS)} required, got {text!r}")
    return WEEKDAYS.index(text)


def _date(text: Any, what: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise Invalid(f"{what}: an ISO date (YYYY-MM-DD) required, got {text!r}") from None


def _int(value: Any, what: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Invalid(f"{what}: an integer {low}..{high} required, got {value!r}")
    return value
