"""Holidays computed for any year from their definition: a fixed date, the nth (or last)
weekday of a month, the first given weekday on or after a date, or an offset from Easter."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OBSERVED_RULES = ("none", "sun_to_mon", "sat_to_fri_sun_to_mon")


@dataclass(frozen=True)
class Holiday:
    key: str
    name: str
    how: str                 # fixed | nth_weekday | weekday_on_or_after | easter_offset
    month: int = 0
    day: int = 0
    weekday: int = 0         # 0 = Monday
    n: int = 0               # 1..5, or -1 for the last one in the month
    offset_days: int = 0     # added after the rule (Easter offset, "day after" holidays)

    def on(self, year: int) -> date:
        if self.how == "fixed":
            base = date(year, self.month, self.day)
        elif self.how == "nth_weekday":
            base = nth_weekday(year, self.month, self.weekday, self.n)
        elif self.how == "weekday_on_or_after":
            start = date(year, self.month, self.day)
            base = start + timedelta(days=(self.weekday - start.weekday()) % 7)
        else:  # easter_offset: the offset is the whole rule
            base = easter(year)
        return base + timedelta(days=self.offset_days)


def easter(year: int) -> date:
    """Western (Gregorian) Easter Sunday: the anonymous Gregorian computus."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    next_month = date(year + month // 12, month % 12 + 1, 1)
    last = next_month - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7 + 7 * (-n - 1))


def observed(day: date, rule: str) -> date | None:
    """The weekday a weekend holiday moves to under `rule`, or None when it does not move."""
    if rule == "sat_to_fri_sun_to_mon" and day.weekday() == 5:
        return day - timedelta(days=1)
    if rule in ("sun_to_mon", "sat_to_fri_sun_to_mon") and day.weekday() == 6:
        return day + timedelta(days=1)
    return None


@lru_cache(maxsize=4096)
def holiday_dates(holidays: tuple[Holiday, ...], rule: str, year: int) -> dict[date, str]:
    """Every banned date in `year`, with the holiday's name: the calendar date and, where the
    state moves a weekend holiday, the observed weekday too (both are banned: the stricter
    reading). Neighbouring years are looked at because 1 January on a Saturday is observed on
    31 December."""
    out: dict[date, str] = {}
    for holiday in holidays:
        for y in (year - 1, year, year + 1):
            actual = holiday.on(y)
            for day, label in ((actual, holiday.name), (observed(actual, rule), f"{holiday.name} (observed)")):
                if day is not None and day.year == year:
                    out.setdefault(day, label)
    return out
