"""Calling-window, DNC, attempts and retry gates with a frozen clock, across zones and DST."""
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.compliance import gates
from app.compliance.gates import GateInput, Window, candidate_zones, hold_reason, next_window_opening

UTC = timezone.utc
NYC = "+12125550100"      # America/New_York
LA = "+13105550100"       # America/Los_Angeles
PHOENIX = "+16025550100"  # America/Phoenix: no daylight saving time
LAW = Window.for_campaign(time(0, 0), time(23, 59))


def contact(phone=NYC, tz=None, status="new", attempts=0, due=None, region=None):
    return GateInput(status=status, attempts=attempts, next_due_at=due, phone_e164=phone, timezone=tz,
                     region=region)


def reason(c, now, window=LAW, max_attempts=3, on_dnc=False):
    return hold_reason(c, now=now, window=window, max_attempts=max_attempts, on_dnc=on_dnc)


def test_campaign_window_can_never_be_wider_than_the_law():
    assert Window.for_campaign(time(6, 0), time(23, 0)) == Window(time(8, 0), time(21, 0))
    assert Window.for_campaign(time(10, 0), time(18, 0)) == Window(time(10, 0), time(18, 0))


@pytest.mark.parametrize("utc_time, expected", [
    ("11:59", gates.OUTSIDE_WINDOW),  # 07:59 in New York (EDT, UTC-4)
    ("12:00", None),                  # 08:00 sharp
    ("00:59", None),                  # 20:59 the evening before
    ("01:00", gates.OUTSIDE_WINDOW),  # 21:00: too late
])
def test_new_york_window_in_summer(utc_time, expected):
    hh, mm = map(int, utc_time.split(":"))
    now = datetime(2026, 7, 15, hh, mm, tzinfo=UTC)
    assert reason(contact(NYC), now) == expected


def test_the_same_instant_is_allowed_in_new_york_and_refused_in_los_angeles():
    now = datetime(2026, 7, 15, 13, 0, tzinfo=UTC)  # 09:00 New York, 06:00 Los Angeles
    assert reason(contact(NYC), now) is None
    assert reason(contact(LA), now) == gates.OUTSIDE_WINDOW


def test_contact_time_zone_wins_over_the_numbers():
    now = datetime(2026, 7, 15, 13, 0, tzinfo=UTC)  # 06:00 in LA
    assert reason(contact(NYC, tz="America/Los_Angeles"), now) == gates.OUTSIDE_WINDOW


def test_daylight_saving_change_moves_the_window():
    # New York switches to EDT on 2026-03-08: 12:30 UTC is 07:30 EST the day before, 08:30 EDT after.
    before = datetime(2026, 3, 7, 12, 30, tzinfo=UTC)
    after = datetime(2026, 3, 9, 12, 30, tzinfo=UTC)
    assert reason(contact(NYC), before) == gates.OUTSIDE_WINDOW
    assert reason(contact(NYC), after) is None
    # Phoenix keeps MST all year: 15:30 UTC is 08:30 on both days.
    assert reason(contact(PHOENIX), before.replace(hour=15)) is None
    assert reason(contact(PHOENIX), after.replace(hour=14)) == gates.OUTSIDE_WINDOW


def test_ambiguous_number_must_be_inside_the_window_in_every_zone_it_may_be_in():
    toll_free = "+18005550100"
    assert len(candidate_zones(None, toll_free)) > 1
    noon_new_york = datetime(2026, 7, 15, 16, 0, tzinfo=UTC)  # 06:00 in Hawaii / Alaska
    assert reason(contact(toll_free), noon_new_york) == gates.OUTSIDE_WINDOW


def test_do_not_call_attempts_and_retry_delay():
    now = datetime(2026, 7, 15, 15, 0, tzinfo=UTC)
    assert reason(contact(), now, on_dnc=True) == gates.ON_DNC
    assert reason(contact(attempts=3, status="retry"), now, max_attempts=3) == gates.MAX_ATTEMPTS
    assert reason(contact(attempts=2, status="retry"), now, max_attempts=3) is None
    assert reason(contact(status="retry", attempts=1, due=now + timedelta(minutes=1)), now) == gates.RETRY_NOT_DUE
    assert reason(contact(status="retry", attempts=1, due=now), now) is None
    # a scheduled callback is honoured even past the attempt limit
    assert reason(contact(status="callback", attempts=3, due=now), now, max_attempts=3) is None
    for status in ("dialing", "done", "dnc", "invalid"):
        assert reason(contact(status=status), now) == gates.NOT_DIALABLE


def test_unknown_zone_is_never_called():
    now = datetime(2026, 7, 15, 15, 0, tzinfo=UTC)
    assert reason(contact("+999123", tz=None), now) == gates.NO_TIMEZONE


def test_next_window_opening_is_inside_calling_hours():
    narrow = Window.for_campaign(time(9, 0), time(17, 0))
    late_evening = datetime(2026, 11, 3, 23, 10, tzinfo=ZoneInfo("America/New_York"))
    opening = next_window_opening(late_evening, candidate_zones(None, NYC), narrow)
    assert opening.astimezone(ZoneInfo("America/New_York")) == datetime(
        2026, 11, 4, 9, 0, tzinfo=ZoneInfo("America/New_York"))


def test_a_texan_without_a_zip_code_waits_for_the_window_in_both_texan_zones_and_the_number_s():
    """Texas is Central, and Mountain in El Paso. With no ZIP code the window must be open in
    both, and in the number's own zone too: a New York number here (people move, numbers do
    not, and the stricter reading holds where the sources disagree)."""
    texan = contact(phone=NYC, region="TX")
    central_0830 = datetime(2026, 7, 15, 13, 30, tzinfo=timezone.utc)  # 07:30 in El Paso
    assert reason(texan, central_0830) == gates.OUTSIDE_WINDOW
    assert reason(texan, central_0830 + timedelta(hours=1)) is None
    new_york_2030 = datetime(2026, 7, 16, 0, 30, tzinfo=timezone.utc)
    assert reason(texan, new_york_2030) is None
    assert reason(texan, new_york_2030 + timedelta(minutes=45)) == gates.OUTSIDE_WINDOW  # 21:15 in New York
    assert sorted(str(z) for z in candidate_zones(None, NYC, "Texas")) == [
        "America/Chicago", "America/Denver", "America/New_York"]
