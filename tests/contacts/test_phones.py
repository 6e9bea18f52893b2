"""Phone helpers the importer and the dialer share: E.164 and the callee's time zone."""
import pytest

from app.common.phones import contact_timezone, normalize_phone, timezones_for_number, zone_for_postal


@pytest.mark.parametrize("raw, region, expected", [
    ("(212) 555-0134", "US", "+12125550134"),
    ("1-212-555-0134", "US", "+12125550134"),
    ("+44 20 7946 0000", "US", "+442079460000"),
    ("020 7946 0000", "GB", "+442079460000"),
])
def test_normalize_phone(raw, region, expected):
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize("raw, reason", [
    ("", "empty"), ("call me", "not a phone number"), ("555-01", "not a valid number"),
    ("+999 1234567", "unknown country code"), ("1" * 25, "too long"),
])
def test_normalize_phone_says_why_it_refuses(raw, reason):
    with pytest.raises(ValueError, match=reason):
        normalize_phone(raw, "US")


def test_timezone_precedence_explicit_then_zip_then_state_then_number():
    number = "+12125550134"  # New York
    assert contact_timezone(number) == "America/New_York"
    assert contact_timezone(number, state="Illinois") == "America/Chicago"
    # Texas spans two zones (El Paso keeps Mountain time): the state alone is no answer, the
    # ZIP code is; without one no zone is stored (and the dialer checks both Texan zones; a
    # New York number says nothing about where in Texas its owner lives).
    assert contact_timezone(number, state="Texas") is None
    assert contact_timezone(number, state="TX", postal="79901") == "America/Denver"  # El Paso
    assert contact_timezone(number, explicit="europe/paris", postal="79901") == "Europe/Paris"
    with pytest.raises(ValueError, match="unknown time zone"):
        contact_timezone(number, explicit="Mars/Base")


def test_zip_prefixes_cover_split_states():
    assert zone_for_postal("32501") == "America/Chicago"  # Pensacola
    assert zone_for_postal("33101") == "America/New_York"  # Miami
    assert zone_for_postal("83702") == "America/Boise"  # Boise, not the Pacific panhandle
    assert zone_for_postal("83864") == "America/Los_Angeles"  # Sandpoint
    assert zone_for_postal("37501") == "America/Chicago"  # Memphis, not East Tennessee
    assert zone_for_postal("37902") == "America/New_York"  # Knoxville
    assert zone_for_postal("ABCDE") is None


def test_a_number_in_two_zones_stores_no_zone_so_the_dialer_checks_both():
    """Area code 208 is southern Idaho (Mountain) and the panhandle (Pacific): storing either
    would let a call reach the other at 7 am. No zone is stored; the gate checks both."""
    assert timezones_for_number("+12085550100") == ("America/Boise", "America/Los_Angeles")
    assert contact_timezone("+12085550100") is None
    assert contact_timezone("+12085550100", state="Idaho") is None  # Idaho is split as well
    assert contact_timezone("+12085550100", postal="83814") == "America/Los_Angeles"  # Coeur d'Alene
    assert contact_timezone("+12085550100", postal="83702") == "America/Boise"


def test_numbers_in_several_zones_choose_deterministically_and_toll_free_is_unknown():
    assert timezones_for_number("+19155550102") == ("America/Denver",)
    assert contact_timezone("+18005550100") is None
    assert len(timezones_for_number("+18005550100")) > 3


@pytest.mark.parametrize("raw, reason", [
    ("+1 900 555 0123", "premium-rate number (area code 900)"),
    ("212-976-0123", "pay-per-call number (exchange 976)"),
    ("212-411-0123", "service code (411)"),
    ("202-911-4567", "service code (911)"),
    ("212-555-1212", "directory assistance"),
    ("+44 909 879 0000", "premium-rate number"),
])
def test_numbers_no_campaign_may_call_are_refused_with_the_reason(raw, reason):
    from app.common.phones import parse_phone

    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_phone(raw, "US")
    # ... but may still be written down, e.g. on a do-not-call list
    assert normalize_phone(raw, "US").startswith("+")


@pytest.mark.parametrize("raw", ["202-555-0143", "212-555-0199", "212-555-0200", "212-555-9999", "800-555-0100",
                                 "+44 20 7946 0000"])
def test_fictional_555_numbers_and_other_lines_stay_callable(raw):
    assert normalize_phone(raw, "US", callable_only=True).startswith("+")


@pytest.mark.parametrize("state, number, expected", [
    ("NY", "+12125550101", "NY"), ("ny", "+12125550101", "NY"), ("New York", "+12125550101", "NY"),
    ("District of Columbia", "+12025550101", "DC"), ("PR", "+17875550101", "PR"), ("GU", "+16715550101", "GU"),
    ("", "+12125550101", None), ("ON", "+14165550101", "ON"),       # a Canadian number's province
    ("Bavaria", "+493012345678", "Bavaria"),                         # not read as a US address
])
def test_a_state_is_a_us_state_dc_or_territory(state, number, expected):
    from app.common.phones import check_state

    assert check_state(state, number) == expected


@pytest.mark.parametrize("state, number", [("ZZ", "+12125550101"), ("ON", "+12125550101"), ("Narnia", "+12125550101")])
def test_a_state_that_is_not_one_is_refused(state, number):
    from app.common.phones import check_state

    with pytest.raises(ValueError, match="is not a US state, DC or territory"):
        check_state(state, number)
