"""State and federal calling rules, evaluated at the instant a call would be placed.

Pure: no database, no Redis and no clock of its own. The caller passes the instant, the zones
the callee may be in, the jurisdictions whose law applies (`jurisdictions_for`), the admin's
declared blackouts and the seller's recent calls to the person; `evaluate` answers whether the
call may start now, why not in words an operator can act on, and the next instant every rule
allows. The rules themselves are data (rules/us.json), versioned, effective-dated and cited.

Where rules or the callee's data disagree the stricter holds: hours apply in every zone the
callee may be in, the rules of every jurisdiction returned apply together, and a jurisdiction
whose rule data failed validation is refused outright rather than guessed at.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from app.compliance.rules import messages as say
from app.compliance.rules.calendar import holiday_dates
from app.compliance.rules.loader import (
    EVERY_JURISDICTION,
    Problem,
    Rule,
    RuleSet,
    load_rules,
)
from app.compliance.rules.places import jurisdiction_for, jurisdictions_for

__all__ = ["Blackout", "Problem", "Reason", "Rule", "RuleSet", "Verdict", "default_ruleset", "evaluate",
           "jurisdiction_for", "jurisdictions_for", "load_rules", "recording_consent_rules", "rules_in_force"]

RULES_FILE = Path(__file__).resolve().parent / "rules" / "us.json"
FEDERAL = "US"
FEDERAL_WINDOW = (8 * 3600, 21 * 3600)   # the floor even if the data lost its federal rule
HORIZON = timedelta(days=14)
_TIME_KINDS = ("calling_hours", "no_calls_on", "holiday_ban")


@dataclass(frozen=True)
class Blackout:
    """Days an admin has declared closed for a jurisdiction (a state of emergency, a holiday a
    governor proclaims), inclusive, in the callee's local dates. "US" closes every state."""

    jurisdiction: str
    date_from: date
    date_to: date
    reason: str


@dataclass(frozen=True)
class Reason:
    code: str                  # stable snake_case: the API and metrics count by it
    message: str               # plain English for an operator
    rule: str | None = None    # the rule's id in the table
    source: str | None = None  # the citation
    url: str | None = None


@dataclass(frozen=True)
class Verdict:
    callable: bool
    reasons: tuple[Reason, ...]
    next_callable_at: datetime | None  # `at` itself when callable; None past the horizon or never
    ruleset_version: str
    jurisdictions: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def default_ruleset() -> RuleSet:
    """The shipped table, read and validated once. Problems stay on `RuleSet.problems`."""
    ruleset, _problems = load_rules(RULES_FILE.read_text(encoding="utf-8"))
    return ruleset


def __getattr__(name: str):
    if name == "RULESET":  # loaded on first use, not at import
        return default_ruleset()
    raise AttributeError(name)


def evaluate(at: datetime, zones: tuple[ZoneInfo, ...], jurisdictions: Iterable[str], *,
             blackout_days: Iterable[Blackout] = (), calls_last_24h: int = 0,
             oldest_call_in_window: datetime | None = None, has_written_consent: bool = False,
             autodialed: bool = True, ring_seconds: int = 0, window: tuple[time, time] | None = None,
             ruleset: RuleSet | None = None) -> Verdict:
    """May a call start at `at` (timezone-aware) to a callee who may be in any of `zones`?

    `calls_last_24h` counts the seller's calls to this person on this subject in the cap's
    window, across every campaign; `oldest_call_in_window` (when known) says when the first of
    them leaves it. `ring_seconds`: a call may not start unless it can ring that long before a
    window closes. `window`: the campaign's own hours, intersected with the law's.
    """
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    rs = ruleset or default_ruleset()
    at = at.astimezone(UTC)
    places = tuple(dict.fromkeys(jurisdictions))
    ctx = _Context(_Rules(rs, places, autodialed, _seconds_window(window), max(0, int(ring_seconds))),
                   tuple(b for b in blackout_days if b.jurisdiction in places or b.jurisdiction == FEDERAL))
    if not zones:
        reason = Reason("unknown_time_zone", say.NO_ZONE)
        return Verdict(False, (reason,), None, rs.version, places)
    checks = _checks(ctx, tuple(zones))
    local_days = {at.astimezone(z).date() for z in zones}
    reasons: list[Reason] = []
    final = False  # a reason no amount of waiting fixes

    broken = sorted(rs.broken_jurisdictions & {EVERY_JURISDICTION, FEDERAL, *places})
    for jurisdiction in broken:
        reasons.append(Reason("rules_unavailable", say.broken(jurisdiction)))
        final = True
    release = at
    for rule in _rules(rs, places, ("written_consent_autodial", "frequency_cap")):
        if not any(rule.in_force(d) for d in local_days):
            continue
        if rule.kind == "written_consent_autodial":
            if not has_written_consent and (autodialed or rule.scope == "all_calls"):
                reasons.append(_reason("written_consent_required", say.consent(rule), rule))
                final = True
        elif calls_last_24h >= rule.max_calls:
            span = timedelta(hours=rule.window_hours)
            frees = (oldest_call_in_window + span) if oldest_call_in_window else at + span
            release = max(release, frees.astimezone(UTC))
            reasons.append(_reason("state_frequency_cap",
                                   say.cap(rule, calls_last_24h, frees, oldest_call_in_window is not None), rule))

    for zone, fixed in checks:
        if not _open_in(at, zone, fixed, ctx):
            reasons.extend(_closed_reasons(at, zone, fixed, ctx))
    if not reasons:
        return Verdict(True, (), at, rs.version, places)
    next_at = None if final else _next_open(release, checks, ctx, at + HORIZON)
    return Verdict(False, tuple(reasons), next_at, rs.version, places)


def rules_in_force(day: date, jurisdictions: Iterable[str], ruleset: RuleSet | None = None) -> tuple[Rule, ...]:
    """Every rule of these jurisdictions (and the federal ones) in force on `day`: for the
    "why is this number (not) callable" page."""
    rs = ruleset or default_ruleset()
    kinds = tuple(sorted({r.kind for r in rs.rules}))
    return tuple(r for r in _rules(rs, tuple(jurisdictions), kinds) if r.in_force(day))


def recording_consent_rules(day: date, jurisdictions: Iterable[str], ruleset: RuleSet | None = None
                            ) -> tuple[Rule, ...]:
    """The all-party-consent recording rules in force: non-empty means ask everyone first."""
    rs = ruleset or default_ruleset()
    return tuple(r for r in _rules(rs, tuple(jurisdictions), ("all_party_recording_consent",)) if r.in_force(day))


# --- the machinery -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Rules:
    """What decides a day's plan (the cache key): not the blackouts, which vary per call."""

    ruleset: RuleSet
    places: tuple[str, ...]
    autodialed: bool
    window: tuple[int, int] | None
    ring: int


@dataclass(frozen=True)
class _Context:
    rules: _Rules
    blackouts: tuple[Blackout, ...]

    @property
    def ring(self) -> int:
        return self.rules.ring


@dataclass(frozen=True)
class _Day:
    """What one local day allows in one zone: the bans, and the latest-opening, earliest-closing
    window (each window with the rule it comes from, to explain a refusal)."""

    bans: tuple[tuple[str, Rule, str], ...]            # (code, rule, what is banned)
    windows: tuple[tuple[Rule | None, int, int], ...]  # (rule or None = federal floor/campaign)
    opens: int
    last_start: int


def _reason(code: str, message: str, rule: Rule | None) -> Reason:
    if rule is None:
        return Reason(code, message)
    return Reason(code, message, rule.id, rule.source.citation, rule.source.url)


def _seconds_window(window: tuple[time, time] | None) -> tuple[int, int] | None:
    if window is None:
        return None
    start, end = window
    return (start.hour * 3600 + start.minute * 60 + start.second,
            end.hour * 3600 + end.minute * 60 + end.second if end != time(0) else 24 * 3600)


@lru_cache(maxsize=8192)
def _rules(rs: RuleSet, places: tuple[str, ...], kinds: tuple[str, ...]) -> tuple[Rule, ...]:
    found = []
    for jurisdiction in (FEDERAL, *places):
        found.extend(r for r in rs.by_jurisdiction.get(jurisdiction, ()) if r.kind in kinds)
    return tuple(found)


@lru_cache(maxsize=8192)
def _fixed_zones(rs: RuleSet, places: tuple[str, ...]) -> tuple[ZoneInfo, ...]:
    names = dict.fromkeys(r.zone for r in _rules(rs, places, ("calling_hours",)) if r.zone)
    return tuple(ZoneInfo(n) for n in names)


def _checks(ctx: _Context, zones: tuple[ZoneInfo, ...]) -> tuple[tuple[ZoneInfo, bool], ...]:
    """The callee's zones, plus any fixed zone a rule is read in (Mississippi's literal CST)."""
    fixed = _fixed_zones(ctx.rules.ruleset, ctx.rules.places)
    return tuple((z, False) for z in zones) + tuple((z, True) for z in fixed)


@lru_cache(maxsize=65536)
def _day(ctx: _Rules, zone: ZoneInfo, fixed: bool, day: date) -> _Day:
    weekday = day.weekday()
    windows: list[tuple[Rule | None, int, int]] = []
    if not fixed:
        windows.append((None, *FEDERAL_WINDOW))
        if ctx.window:
            windows.append((None, *ctx.window))
    bans: list[tuple[str, Rule, str]] = []
    for rule in _rules(ctx.ruleset, ctx.places, _TIME_KINDS):
        if not rule.in_force(day) or (rule.autodialed_only and not ctx.autodialed):
            continue
        if rule.kind == "calling_hours":
            if (rule.zone == zone.key) == fixed and rule.hours[weekday] is not None:
                windows.append((rule, *rule.hours[weekday]))
        elif fixed:
            continue
        elif rule.kind == "no_calls_on" and weekday in rule.days:
            bans.append(("state_sunday_ban" if weekday == 6 else "state_no_calls_day", rule, ""))
        elif rule.kind == "holiday_ban":
            name = holiday_dates(rule.holidays, rule.observed, day.year).get(day)
            if name:
                bans.append(("state_holiday", rule, name))
    if not fixed and any(r is not None and r.jurisdiction == FEDERAL and FEDERAL_WINDOW[0] <= start
                         and end <= FEDERAL_WINDOW[1] for r, start, end in windows):
        windows.remove((None, *FEDERAL_WINDOW))  # the data says it, with its citation: not twice
    opens = max((w[1] for w in windows), default=0)
    closes = min((w[2] for w in windows), default=24 * 3600)
    return _Day(tuple(bans), tuple(windows), opens, closes - ctx.ring)


def _blackout(ctx: _Context, day: date) -> Blackout | None:
    return next((b for b in ctx.blackouts if b.date_from <= day <= b.date_to), None)


def _clock(local: datetime) -> float:
    return local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6


def _open_in(t: datetime, zone: ZoneInfo, fixed: bool, ctx: _Context) -> bool:
    local = t.astimezone(zone)
    plan = _day(ctx.rules, zone, fixed, local.date())
    if plan.bans or (not fixed and ctx.blackouts and _blackout(ctx, local.date())):
        return False
    return plan.opens <= _clock(local) <= plan.last_start


def _closed_reasons(t: datetime, zone: ZoneInfo, fixed: bool, ctx: _Context) -> list[Reason]:
    local = t.astimezone(zone)
    plan = _day(ctx.rules, zone, fixed, local.date())
    reasons = [_reason(code, say.ban(code, rule, what, local, zone), rule) for code, rule, what in plan.bans]
    blackout = None if fixed else _blackout(ctx, local.date())
    if blackout:
        reasons.append(Reason("declared_blackout", say.blackout(blackout)))
    clock = _clock(local)
    for rule, start, end in plan.windows:
        if not start <= clock <= end - ctx.ring:
            code = "state_calling_hours" if rule and rule.jurisdiction != FEDERAL else "outside_calling_window"
            campaign = rule is None and (start, end) != FEDERAL_WINDOW
            text = say.hours(rule, start, end, local, zone, ctx.ring, campaign=campaign)
            reasons.append(_reason(code, text, rule))
    return reasons


def _local(day: date, seconds: int, zone: ZoneInfo) -> datetime:
    hours, rest = divmod(seconds, 3600)
    if hours >= 24:
        return _local(day + timedelta(days=1), 0, zone)
    moment = datetime.combine(day, time(hours, rest // 60, rest % 60), tzinfo=zone)
    return moment.astimezone(UTC)


def _next_in(t: datetime, zone: ZoneInfo, fixed: bool, ctx: _Context) -> datetime:
    """`t` if this zone allows a call then, else the next instant at which it might."""
    local = t.astimezone(zone)
    day = local.date()
    plan = _day(ctx.rules, zone, fixed, day)
    clock = _clock(local)
    closed_day = plan.bans or plan.opens > plan.last_start or (not fixed and _blackout(ctx, day))
    if not closed_day and plan.opens <= clock <= plan.last_start:
        return t
    if not closed_day and clock < plan.opens:
        candidate = _local(day, plan.opens, zone)
    else:
        candidate = _local(day + timedelta(days=1), 0, zone)
    return candidate if candidate > t else t + timedelta(minutes=1)


def _next_open(start: datetime, checks: tuple[tuple[ZoneInfo, bool], ...], ctx: _Context,
               horizon: datetime) -> datetime | None:
    """The first instant from `start` at which every zone allows a call, jumping from one
    window edge or midnight to the next rather than scanning a grid."""
    t = start
    while t <= horizon:
        moved = False
        for zone, fixed in checks:
            nxt = _next_in(t, zone, fixed, ctx)
            if nxt > t:
                t, moved = nxt, True
        if not moved:
            return t
    return None
