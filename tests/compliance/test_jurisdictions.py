"""State calling rules evaluated at the instant of dialling: hours per weekday and zone, Sundays,
computed holidays, declared blackouts, the 3-in-24-hours cap, written consent, effective dates,
and the strict loading of the rule file. Pure: no database, no Redis, a fixed instant."""
import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.compliance import jurisdictions as jur
from app.compliance.jurisdictions import (
    Blackout,
    evaluate,
    jurisdiction_for,
    jurisdictions_for,
    load_rules,
    recording_consent_rules,
    rules_in_force,
)
from app.compliance.rules.calendar import easter

NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")


def local(zone, *args):
    return datetime(*args, tzinfo=zone)


def codes(verdict):
    return [r.code for r in verdict.reasons]


def consented(at, zones, places, **kw):
    """A call with written consent on file, so only the time and count rules speak."""
    return evaluate(at, zones, places, has_written_consent=True, **kw)


def test_shipped_rules_load_clean_and_say_their_version():
    ruleset = jur.RULESET
    assert ruleset.version == "2026.12.1"
    assert ruleset.problems == () and ruleset.broken_jurisdictions == frozenset()
    assert all(r.source.citation for r in ruleset.rules)
    verdict = consented(local(NY, 2026, 12, 3, 10, 0), (NY,), ("US-FL",))
    assert verdict.callable and verdict.ruleset_version == "2026.12.1"


def test_florida_at_half_past_eight_in_the_evening_waits_for_eight_next_morning():
    verdict = consented(local(NY, 2026, 12, 3, 20, 30), (NY,), ("US-FL",))
    assert not verdict.callable
    assert codes(verdict) == ["state_calling_hours"]
    reason = verdict.reasons[0]
    assert reason.rule == "fl-hours" and "501.616" in reason.source
    assert reason.message == "Florida allows calls 8:00-20:00 its local time; it is 20:30 in America/New_York."
    assert verdict.next_callable_at == local(NY, 2026, 12, 4, 8, 0)


def test_federal_window_applies_where_no_state_rule_does():
    verdict = consented(local(NY, 2026, 12, 3, 20, 30), (NY,), ("US-NY",))
    assert verdict.callable
    late = consented(local(NY, 2026, 12, 3, 21, 5), (NY,), ("US-NY",))
    assert codes(late) == ["outside_calling_window"] and late.reasons[0].rule == "us-federal-hours"
    assert late.reasons[0].message == ("Federal law allows calls 8:00-21:00 the callee's local time; "
                                       "it is 21:05 in America/New_York.")
    assert late.next_callable_at == local(NY, 2026, 12, 4, 8, 0)


def test_fourth_call_in_24_hours_to_a_florida_person_waits_for_the_oldest_to_leave_the_window():
    at = local(NY, 2026, 12, 3, 15, 0)
    oldest = local(NY, 2026, 12, 3, 9, 30)
    held = consented(at, (NY,), ("US-FL",), calls_last_24h=3, oldest_call_in_window=oldest)
    assert codes(held) == ["state_frequency_cap"]
    assert held.next_callable_at == oldest + timedelta(hours=24)
    # Once the oldest of the three has left the window, two remain and a third may be made.
    later = consented(oldest + timedelta(hours=24), (NY,), ("US-FL",), calls_last_24h=2)
    assert later.callable
    assert consented(at, (NY,), ("US-FL",), calls_last_24h=2).callable


def test_frequency_cap_without_the_oldest_call_gives_a_safe_latest_time():
    at = local(NY, 2026, 12, 3, 15, 0)
    held = consented(at, (NY,), ("US-MD",), calls_last_24h=5)
    assert codes(held) == ["state_frequency_cap"]
    assert held.next_callable_at == at + timedelta(hours=24)


def test_cap_release_after_closing_time_waits_for_the_morning():
    oldest = local(CHI, 2026, 12, 2, 19, 58)  # frees the cap at 19:58 tomorrow: too late to ring
    held = consented(local(CHI, 2026, 12, 3, 10, 0), (CHI,), ("US-OK",), calls_last_24h=3,
                     oldest_call_in_window=oldest, ring_seconds=180)
    assert codes(held) == ["state_frequency_cap"]
    # An autodialed Oklahoma call also keeps the 9:00 start of 15 O.S. 755.1 (stricter reading).
    assert held.next_callable_at == local(CHI, 2026, 12, 4, 9, 0)
    manual = consented(local(CHI, 2026, 12, 3, 10, 0), (CHI,), ("US-OK",), calls_last_24h=3,
                       oldest_call_in_window=oldest, ring_seconds=180, autodialed=False)
    assert manual.next_callable_at == local(CHI, 2026, 12, 4, 8, 0)


def test_alabama_on_a_sunday_waits_for_monday_at_eight():
    verdict = consented(local(CHI, 2026, 12, 6, 11, 0), (CHI,), ("US-AL",))
    assert codes(verdict) == ["state_sunday_ban"]
    assert "Alabama bans sales calls on Sundays" in verdict.reasons[0].message
    assert verdict.next_callable_at == local(CHI, 2026, 12, 7, 8, 0)


def test_texas_sunday_opens_at_noon():
    held = consented(local(CHI, 2026, 12, 6, 11, 0), (CHI,), ("US-TX",))
    assert codes(held) == ["state_calling_hours"]
    assert held.reasons[0].message == ("Texas allows calls 12:00-21:00 on Sundays its local time; "
                                       "it is 11:00 in America/Chicago.")
    assert held.next_callable_at == local(CHI, 2026, 12, 6, 12, 0)
    assert consented(local(CHI, 2026, 12, 6, 12, 30), (CHI,), ("US-TX",)).callable
    assert not consented(local(CHI, 2026, 12, 7, 8, 30), (CHI,), ("US-TX",)).callable  # Monday: 9:00


def test_declared_blackout_day_is_refused_and_the_next_time_follows_it():
    storm = Blackout("US-LA", date(2026, 12, 1), date(2026, 12, 3), "state of emergency, Hurricane test")
    verdict = consented(local(CHI, 2026, 12, 2, 10, 0), (CHI,), ("US-LA",), blackout_days=[storm])
    assert codes(verdict) == ["declared_blackout"]
    assert "Hurricane test" in verdict.reasons[0].message
    assert verdict.next_callable_at == local(CHI, 2026, 12, 4, 8, 0)
    other_state = Blackout("US-MS", date(2026, 12, 1), date(2026, 12, 3), "not ours")
    assert consented(local(CHI, 2026, 12, 2, 10, 0), (CHI,), ("US-LA",), blackout_days=[other_state]).callable


def _ruleset_with(*rules, version="test.1"):
    return load_rules(json.dumps({"version": version, "rules": list(rules)}))


def test_a_rule_applies_only_from_its_effective_date_in_the_callee_local_date():
    ruleset, problems = _ruleset_with({
        "id": "zz-sunday", "jurisdiction": "US-GA", "kind": "no_calls_on", "params": {"days": ["sun"]},
        "effective_from": "2027-01-03", "source": {"citation": "Test Act § 1"}})
    assert problems == []
    before = local(NY, 2026, 12, 27, 12, 0)  # a Sunday before the rule
    after = local(NY, 2027, 1, 3, 12, 0)     # the first Sunday it is in force
    assert consented(before, (NY,), ("US-GA",), ruleset=ruleset).callable
    held = consented(after, (NY,), ("US-GA",), ruleset=ruleset)
    assert codes(held) == ["state_sunday_ban"] and held.ruleset_version == "test.1"


def test_effective_date_is_read_in_the_callee_local_date():
    ruleset, _ = _ruleset_with({
        "id": "zz-hours", "jurisdiction": "US-HI", "kind": "calling_hours",
        "params": {"hours": {"daily": ["09:00", "17:00"]}}, "effective_from": "2027-01-03",
        "source": {"citation": "Test Act § 2"}})
    honolulu = ZoneInfo("Pacific/Honolulu")
    # 03:30 UTC on 3 January is 17:30 on 2 January in Honolulu: the rule is not in force yet.
    assert consented(datetime(2027, 1, 3, 3, 30, tzinfo=UTC), (honolulu,), ("US-HI",), ruleset=ruleset).callable
    held = consented(datetime(2027, 1, 4, 3, 30, tzinfo=UTC), (honolulu,), ("US-HI",), ruleset=ruleset)
    assert [r.rule for r in held.reasons] == ["zz-hours"]
    assert held.next_callable_at == local(honolulu, 2027, 1, 4, 9, 0)


def test_moving_holidays_are_computed_for_each_year():
    from app.compliance.rules.calendar import holiday_dates

    calendar = {h.key: h for r in jur.RULESET.rules for h in r.holidays}
    assert calendar["thanksgiving"].on(2026) == date(2026, 11, 26)
    assert calendar["thanksgiving"].on(2027) == date(2027, 11, 25)
    assert calendar["mardi_gras"].on(2026) == date(2026, 2, 17)
    assert calendar["mardi_gras"].on(2027) == date(2027, 2, 9)
    assert calendar["memorial_day"].on(2026) == date(2026, 5, 25)
    assert calendar["mlk_day"].on(2027) == date(2027, 1, 18)
    assert calendar["election_day"].on(2026) == date(2026, 11, 3)
    assert calendar["day_after_thanksgiving"].on(2026) == date(2026, 11, 27)
    assert easter(2026) == date(2026, 4, 5) and easter(2027) == date(2027, 3, 28)
    louisiana = jur.RULESET.rule("la-holidays")
    assert holiday_dates(louisiana.holidays, louisiana.observed, 2027)[date(2027, 2, 9)] == "Mardi Gras"


def test_louisiana_on_mardi_gras_and_alabama_on_thanksgiving_are_refused():
    mardi_gras = consented(local(CHI, 2027, 2, 9, 10, 0), (CHI,), ("US-LA",))
    assert codes(mardi_gras) == ["state_holiday"] and "Mardi Gras" in mardi_gras.reasons[0].message
    assert mardi_gras.next_callable_at == local(CHI, 2027, 2, 10, 8, 0)
    thanksgiving = consented(local(CHI, 2027, 11, 25, 10, 0), (CHI,), ("US-AL",))
    assert codes(thanksgiving) == ["state_holiday"]
    assert consented(local(CHI, 2027, 11, 24, 10, 0), (CHI,), ("US-AL",)).callable


def test_a_saturday_holiday_bans_the_observed_friday_too():
    # 4 July 2026 is a Saturday: Alabama observes it on Friday 3 July.
    assert codes(consented(local(CHI, 2026, 7, 3, 10, 0), (CHI,), ("US-AL",))) == ["state_holiday"]
    assert codes(consented(local(CHI, 2026, 7, 4, 10, 0), (CHI,), ("US-AL",))) == ["state_holiday"]
    monday = consented(local(CHI, 2026, 7, 3, 10, 0), (CHI,), ("US-AL",)).next_callable_at
    assert monday == local(CHI, 2026, 7, 6, 8, 0)  # Saturday holiday, Sunday ban


def test_an_oklahoma_number_with_a_texas_address_gets_both_states_and_the_stricter_rule():
    places = jurisdictions_for("TX", "75201", "+14055550123")
    assert places == ("US-TX", "US-OK")
    assert jurisdiction_for("TX", "75201", "+14055550123") == "US-TX"
    # 20:30 on a Monday: Texas would allow until 21:00, Oklahoma stops at 20:00.
    late = consented(local(CHI, 2026, 12, 7, 20, 30), (CHI,), places, autodialed=False)
    assert [r.rule for r in late.reasons] == ["ok-hours"]
    # 8:30: Oklahoma opens at 8:00 but Texas only at 9:00.
    early = consented(local(CHI, 2026, 12, 8, 8, 30), (CHI,), places, autodialed=False)
    assert [r.rule for r in early.reasons] == ["tx-hours"]
    assert late.next_callable_at == local(CHI, 2026, 12, 8, 9, 0)
    assert consented(local(CHI, 2026, 12, 8, 12, 0), (CHI,), places).callable


def test_a_call_that_would_still_ring_at_closing_may_not_start():
    at = local(NY, 2026, 12, 3, 19, 59, 45)
    held = consented(at, (NY,), ("US-FL",), ring_seconds=30)
    assert codes(held) == ["state_calling_hours"]
    assert "could still be ringing at 20:00 (30 s ring time)" in held.reasons[0].message
    assert held.next_callable_at == local(NY, 2026, 12, 4, 8, 0)
    assert consented(at, (NY,), ("US-FL",), ring_seconds=10).callable


def test_hours_hold_in_every_zone_the_callee_may_be_in():
    both = (NY, CHI)  # Florida: the panhandle is on Central time
    assert not consented(local(NY, 2026, 12, 3, 8, 30), both, ("US-FL",)).callable  # 7:30 Central
    held = consented(local(NY, 2026, 12, 3, 8, 30), both, ("US-FL",))
    assert held.next_callable_at == local(CHI, 2026, 12, 3, 8, 0)
    assert not consented(local(NY, 2026, 12, 3, 20, 5), both, ("US-FL",)).callable  # 20:05 Eastern


def test_campaign_window_narrows_the_law():
    held = consented(local(NY, 2026, 12, 3, 17, 30), (NY,), ("US-NY",), window=(time(9, 0), time(17, 0)))
    assert codes(held) == ["outside_calling_window"] and "campaign" in held.reasons[0].message
    assert held.next_callable_at == local(NY, 2026, 12, 4, 9, 0)


def test_mississippi_reads_central_standard_time_literally_in_summer():
    # 8:30 CDT is 7:30 CST: held until 9:00 CDT.
    held = consented(local(CHI, 2026, 7, 7, 8, 30), (CHI,), ("US-MS",))
    assert [r.rule for r in held.reasons] == ["ms-hours-cst"]
    assert held.next_callable_at == local(CHI, 2026, 7, 7, 9, 0)
    assert consented(local(CHI, 2026, 12, 8, 8, 30), (CHI,), ("US-MS",)).callable  # winter: CST is local


def test_written_consent_is_required_for_autodialed_calls_where_the_state_says_so():
    at = local(NY, 2026, 12, 3, 10, 0)
    held = evaluate(at, (NY,), ("US-FL",))
    assert codes(held) == ["written_consent_required"] and held.next_callable_at is None
    assert evaluate(at, (NY,), ("US-FL",), autodialed=False).callable
    assert not evaluate(at, (NY,), ("US-CT",), autodialed=False).callable  # Connecticut: every sales call
    assert evaluate(at, (NY,), ("US-NY",)).callable


def test_a_bad_rule_is_reported_by_index_and_the_good_ones_are_kept():
    good = {"id": "xx-hours", "jurisdiction": "US-GA", "kind": "calling_hours",
            "params": {"hours": {"daily": ["09:00", "20:00"]}}, "effective_from": "2020-01-01",
            "source": {"citation": "Test § 1"}}
    bad = dict(good, id="xx-broken", jurisdiction="US-NV", effective_from="2020-13-01")
    also_good = dict(good, id="xx-sunday", kind="no_calls_on", params={"days": ["sun"]})
    ruleset, problems = _ruleset_with(good, bad, also_good)
    assert [(p.index, p.rule_id) for p in problems] == [(1, "xx-broken")]
    assert "effective_from" in problems[0].reason
    assert str(problems[0]).startswith("rules[1] (xx-broken): effective_from")
    assert [r.id for r in ruleset.rules] == ["xx-hours", "xx-sunday"]
    at = local(NY, 2026, 12, 3, 10, 0)
    assert consented(at, (NY,), ("US-GA",), ruleset=ruleset).callable
    refused = consented(at, (NY,), ("US-NV",), ruleset=ruleset)  # what the bad rule said is unknown
    assert codes(refused) == ["rules_unavailable"] and refused.next_callable_at is None


@pytest.mark.parametrize("change, reason", [
    ({"kind": "lunch_break"}, "kind"),
    ({"params": {"hours": {"mon-fri": ["20:00", "08:00"]}}}, "start must be before end"),
    ({"params": {"hours": {"daily": ["08:00", "20:00"], "sun": ["12:00", "20:00"]}}}, "sun given twice"),
    ({"jurisdiction": "FL"}, "jurisdiction"),
    ({"source": {"url": "https://example.org"}}, "citation"),
    ({"effective_until": "2019-01-01"}, "before effective_from"),
    ({"colour": "red"}, "unknown field"),
])
def test_validation_names_the_reason(change, reason):
    rule = {"id": "xx-hours", "jurisdiction": "US-GA", "kind": "calling_hours",
            "params": {"hours": {"daily": ["09:00", "20:00"]}}, "effective_from": "2020-01-01",
            "source": {"citation": "Test § 1"}}
    _ruleset, problems = _ruleset_with(dict(rule, **change))
    assert len(problems) == 1 and reason in problems[0].reason


def test_duplicate_ids_unknown_holidays_and_unreadable_files_are_problems():
    rule = {"id": "xx-holidays", "jurisdiction": "US-GA", "kind": "holiday_ban",
            "params": {"holidays": ["no_such_day"]}, "effective_from": "2020-01-01",
            "source": {"citation": "Test § 1"}}
    _rs, problems = _ruleset_with(rule)
    assert "no_such_day" in problems[0].reason
    twice = dict(rule, params={"days": ["sun"]}, kind="no_calls_on")
    _rs, problems = _ruleset_with(twice, twice)
    assert [(p.index, "duplicate" in p.reason) for p in problems] == [(1, True)]
    ruleset, problems = load_rules("{not json")
    assert problems[0].index is None
    refused = consented(local(NY, 2026, 12, 3, 10, 0), (NY,), ("US-GA",), ruleset=ruleset)
    assert codes(refused) == ["rules_unavailable"]


def test_next_callable_is_none_beyond_the_horizon():
    month = Blackout("US", date(2026, 12, 1), date(2026, 12, 31), "national day of mourning")
    verdict = consented(local(NY, 2026, 12, 3, 10, 0), (NY,), ("US-NY",), blackout_days=[month])
    assert codes(verdict) == ["declared_blackout"] and verdict.next_callable_at is None


def test_no_zone_means_no_call():
    verdict = consented(local(NY, 2026, 12, 3, 10, 0), (), ("US-NY",))
    assert codes(verdict) == ["unknown_time_zone"] and verdict.next_callable_at is None


def test_jurisdiction_of_a_callee_from_address_zip_or_area_code():
    assert jurisdiction_for("Florida", None, "+12125550123") == "US-FL"
    assert jurisdiction_for(None, "33101-1234", "+12125550123") == "US-FL"
    assert jurisdiction_for(None, None, "+13055550123") == "US-FL"
    assert jurisdiction_for(None, "73301", None) == "US-TX"  # Austin's IRS prefix, not Oklahoma
    assert jurisdictions_for("NY", "10001", "+12125550123") == ("US-NY",)
    assert jurisdictions_for(None, None, "+18005550123") == ()   # toll-free: no state
    assert jurisdictions_for(None, None, "+442071234567") == ()  # not NANP
    assert jurisdictions_for(None, "12", "+14165550123") == ()   # Toronto


def test_rules_in_force_and_recording_consent_list_what_applies():
    florida = {r.id for r in rules_in_force(date(2026, 12, 3), ("US-FL",))}
    assert {"us-federal-hours", "fl-hours", "fl-frequency", "fl-autodial-consent", "fl-recording"} <= florida
    assert [r.id for r in recording_consent_rules(date(2026, 12, 3), ("US-TX", "US-FL"))] == ["fl-recording"]
    assert recording_consent_rules(date(2026, 12, 3), ("US-TX",)) == ()


def test_pennsylvania_sunday_ban_follows_its_effective_date():
    before = consented(local(NY, 2026, 10, 11, 12, 0), (NY,), ("US-PA",))
    after = consented(local(NY, 2026, 10, 18, 12, 0), (NY,), ("US-PA",))
    assert before.callable
    assert codes(after) == ["state_sunday_ban"]
