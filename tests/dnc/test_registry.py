"""The national Do Not Call Registry: an area code's file replaces its copy whole (or not at all),
bad lines are reported by line number, and the dial gates hold listed numbers and numbers whose
area code's copy is missing or over 31 days old, in every campaign that scrubs against it."""
from __future__ import annotations

import io
import random
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from app.extensions import db
from tests.compliance.test_placement_gates import _campaign, sim  # noqa: F401 - fixture and factory

WED_10_DC = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)  # Wednesday, 10:00 in Washington
COPY_DATE = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _fresh_copy_dates():
    """The area codes' dates are cached per process: a test's rolled-back copy must not outlive it."""
    from app.dnc.registry import forget_copy_dates

    forget_copy_dates()
    yield
    forget_copy_dates()


def _numbers(area_code: int, n: int, seed: int) -> list[str]:
    low = area_code * 10_000_000 + 2_000_000  # exchanges 200-999
    return [str(x) for x in random.Random(seed).sample(range(low, low + 8_000_000), n)]


def _write(path, lines: list[str], end: str = "\n") -> str:
    path.write_bytes(("\n".join(lines) + end).encode())
    return str(path)


def _import(source, area_code: int = 212, downloaded_on: date = COPY_DATE, **kwargs):
    from app.dnc.registry_import import import_area_code

    return import_area_code(source, area_code, downloaded_on, **kwargs)


def _copy(area_code: int) -> set[int]:
    low = area_code * 10_000_000
    return set(db.session.scalars(text("SELECT number FROM dnc_registry_numbers WHERE number >= :low "
                                       "AND number < :high"), {"low": low, "high": low + 10_000_000}))


def _area(area_code: int):
    from app.dnc.models import RegistryAreaCode

    db.session.expire_all()
    return db.session.get(RegistryAreaCode, area_code)


@pytest.mark.parametrize("chunk_bytes", [7, 4096, None])
def test_a_file_loads_its_good_lines_and_reports_each_bad_one_by_line(ctx, tmp_path, monkeypatch, chunk_bytes):
    from app.dnc import registry_file
    from app.imports.models import ImportRejection

    if chunk_bytes:  # lines split across reads, and reads of less than a line
        monkeypatch.setattr(registry_file, "CHUNK_BYTES", chunk_bytes)
    good = _numbers(212, 3000, seed=1)
    lines = list(good)
    bad = {5: "", 100: "21255501", 200: "2135550123", 300: "212736O100", 400: "2127" + "3" * 300}
    for line in sorted(bad):
        lines.insert(line - 1, bad[line])
    lines.insert(2500, good[7])  # listed twice: kept once
    lines[1000] = f"  {lines[1000]}\r"  # spaces and a carriage return around a good number
    job = _import(_write(tmp_path / "212.txt", lines))

    assert (job.status, job.error) == ("done", None)
    assert (job.rows_read, job.imported, job.rejected, job.duplicates) == (3006, 3000, 5, 1)
    assert _copy(212) == {int(n) for n in good}
    rejections = db.session.execute(select(ImportRejection.line, ImportRejection.reason, ImportRejection.raw)
                                    .where(ImportRejection.import_job_id == job.id)
                                    .order_by(ImportRejection.line)).all()
    assert [(r.line, r.reason) for r in rejections] == [
        (5, "blank line"), (100, "not a ten-digit number"), (200, "area code 213, not 212 (this file's)"),
        (300, "not a ten-digit number"), (400, "not a ten-digit number (the line is too long)")]
    assert rejections[2].raw == "2135550123"
    area = _area(212)
    assert (area.downloaded_on, area.rows, area.import_job_id) == (COPY_DATE, 3000, job.id)


def test_a_new_file_replaces_the_area_code_s_copy_and_leaves_the_others(ctx, tmp_path):
    first, second = _numbers(212, 2000, seed=2), _numbers(212, 1900, seed=3)
    neighbour = _numbers(213, 500, seed=4)
    assert _import(_write(tmp_path / "213.txt", neighbour), 213).status == "done"
    assert _import(_write(tmp_path / "a.txt", first), downloaded_on=COPY_DATE - timedelta(days=30)).status == "done"
    job = _import(_write(tmp_path / "b.txt", second))

    assert job.status == "done"
    assert _copy(212) == {int(n) for n in second}  # nothing of the first copy left
    assert _copy(213) == {int(n) for n in neighbour}
    assert (_area(212).downloaded_on, _area(212).rows) == (COPY_DATE, 1900)


def test_a_truncated_download_leaves_the_previous_copy(ctx, tmp_path):
    numbers = _numbers(212, 3000, seed=5)
    assert _import(_write(tmp_path / "full.txt", numbers), downloaded_on=COPY_DATE - timedelta(days=2)).status == "done"
    cut = tmp_path / "cut.txt"
    cut.write_bytes(("\n".join(_numbers(212, 3000, seed=6)) + "\n").encode()[:20_000])  # mid-line

    job = _import(str(cut))

    assert job.status == "failed" and "truncated" in job.error and "line 1,819" in job.error
    assert _copy(212) == {int(n) for n in numbers}
    assert (_area(212).downloaded_on, _area(212).rows) == (COPY_DATE - timedelta(days=2), 3000)


def test_a_file_that_cannot_be_read_to_the_end_leaves_the_previous_copy(ctx, tmp_path):
    numbers = _numbers(212, 3000, seed=7)
    assert _import(_write(tmp_path / "full.txt", numbers)).status == "done"

    class FailingDisk(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 10_000:
                raise OSError(5, "Input/output error")
            return super().read(min(size, 4096))

    job = _import(FailingDisk(("\n".join(_numbers(212, 3000, seed=8)) + "\n").encode()))

    assert job.status == "failed" and "Input/output error" in job.error
    assert _copy(212) == {int(n) for n in numbers} and _area(212).downloaded_on == COPY_DATE
    # The table the failed import had begun is gone with it: the next import starts clean.
    assert _import(_write(tmp_path / "again.txt", numbers)).status == "done"


def test_a_file_with_far_fewer_numbers_than_the_copy_is_refused_unless_allowed(ctx, tmp_path):
    assert _import(_write(tmp_path / "full.txt", _numbers(212, 3000, seed=9))).status == "done"
    half = _numbers(212, 1500, seed=10)

    refused = _import(_write(tmp_path / "half.txt", half))
    assert refused.status == "failed" and "1,500 numbers" in refused.error and _area(212).rows == 3000

    assert _import(_write(tmp_path / "half.txt", half), allow_shrink=True).status == "done"
    assert _copy(212) == {int(n) for n in half}


# --- the dial gates --------------------------------------------------------------------------


def _contact(campaign_id: int, phone: str) -> int:
    from app.contacts.models import Contact

    contact = Contact(campaign_id=campaign_id, phone_e164=phone, timezone="America/New_York",
                      zones_agree=True)
    db.session.add(contact)
    db.session.commit()
    return contact.id


def test_a_number_listed_while_its_call_waits_is_held_at_placement(ctx, tmp_path, sim):
    from app.calls import placement
    from app.calls.models import Call
    from app.contacts.models import Contact
    from app.dialer.attempts import try_attempt

    others = _numbers(202, 2000, seed=12)
    assert _import(_write(tmp_path / "202.txt", others[1:]), 202, COPY_DATE - timedelta(days=1)).status == "done"
    listed = f"+1{others[0]}"
    campaign_id = _campaign()
    contact_id = _contact(campaign_id, listed)
    call_id, held = try_attempt(campaign_id, contact_id, now=WED_10_DC)
    assert held is None  # not listed yet, and the copy is two days old
    # The next copy lists it before the call is placed.
    assert _import(_write(tmp_path / "202b.txt", others), 202).status == "done"

    result = placement.place_call(call_id, now=WED_10_DC)

    assert (result.outcome, result.error) == ("held", "national_registry")
    assert sim.calls(listed) == []
    db.session.rollback()
    assert db.session.get(Call, call_id) is None
    assert db.session.get(Contact, contact_id).attempts == 0
    # Waiting fixes nothing: no next legal time, and no new attempt either.
    assert try_attempt(campaign_id, contact_id, now=WED_10_DC + timedelta(days=1)) == (None, "national_registry")


def test_a_placed_call_s_proof_names_the_registry_copy_it_was_checked_against(ctx, tmp_path, sim):
    from app.calls import placement
    from app.calls.models import Call
    from app.dialer.attempts import try_attempt

    numbers = _numbers(202, 2000, seed=13)
    assert _import(_write(tmp_path / "202.txt", numbers[1:]), 202).status == "done"
    campaign_id = _campaign()
    call_id, _ = try_attempt(campaign_id, _contact(campaign_id, f"+1{numbers[0]}"), now=WED_10_DC)

    assert placement.place_call(call_id, now=WED_10_DC).outcome == "placed"
    assert "national_registry:202:2026-12-01" in db.session.get(Call, call_id).compliance["lists_checked"]


@pytest.mark.parametrize("age_days, held", [(None, "national_registry_stale"), (32, "national_registry_stale"),
                                            (31, None)])
def test_a_number_whose_area_code_has_no_fresh_copy_is_held(ctx, tmp_path, age_days, held):
    from app.compliance.checks import assess

    if age_days is not None:
        copy = _import(_write(tmp_path / "202.txt", _numbers(202, 100, seed=14)), 202,
                       WED_10_DC.date() - timedelta(days=age_days))
        assert copy.status == "done"
    campaign_id = _campaign()
    number = "+12027360142"
    from app.campaigns.models import Campaign

    verdict = assess(db.session.get(Campaign, campaign_id), number, None, WED_10_DC, ring_seconds=20)

    assert verdict.first_code == held
    if held:
        assert verdict.next_callable_at is None
        assert verdict.reasons[0]["source"] == "16 CFR 310.4(b)(1)(iii)(B); 47 CFR 64.1200(c)(2)"


def test_numbers_the_registry_does_not_cover_are_not_held_for_it(ctx):
    from app.dnc.registry import registry_hold

    for number in ("+442079460123", "+14165550123", "+18005550123", "+12025550142", "+12020360142"):
        # London, Toronto, toll-free, one reserved for fiction, one no exchange has: no copy needed.
        assert registry_hold(number, WED_10_DC) is None
    assert registry_hold("+12027360142", WED_10_DC) == "national_registry_stale"
    assert registry_hold("+17877360142", WED_10_DC) == "national_registry_stale"  # Puerto Rico


def test_a_campaign_that_does_not_scrub_against_the_registry_calls_a_listed_number(ctx, tmp_path, sim):
    from app.calls import placement
    from app.dialer.attempts import try_attempt

    numbers = _numbers(202, 2000, seed=15)
    assert _import(_write(tmp_path / "202.txt", numbers), 202).status == "done"
    listed = f"+1{numbers[0]}"
    scrubbing, not_scrubbing = _campaign(), _campaign(scrub_national_registry=False)

    assert try_attempt(scrubbing, _contact(scrubbing, listed), now=WED_10_DC) == (None, "national_registry")
    call_id, held = try_attempt(not_scrubbing, _contact(not_scrubbing, listed), now=WED_10_DC)
    assert held is None
    assert placement.place_call(call_id, now=WED_10_DC).outcome == "placed"


def test_the_refill_s_anti_join_leaves_out_listed_numbers_only(ctx, tmp_path):
    from app.contacts.models import Contact
    from app.dnc.registry import REGISTRY_ANTI_JOIN_SQL

    numbers = _numbers(212, 2000, seed=17)
    assert _import(_write(tmp_path / "212.txt", numbers[1:])).status == "done"
    campaign_id = _campaign()
    phones = [f"+1{numbers[1]}", f"+1{numbers[2]}", f"+1{numbers[0]}", "+12137360100", "+442079460123",
              "+1212abc4567"]  # two listed; unlisted, no copy, abroad, malformed: all kept
    db.session.add_all(Contact(campaign_id=campaign_id, phone_e164=p) for p in phones)
    db.session.commit()

    kept = db.session.scalars(text(f"SELECT c.phone_e164 FROM contacts c WHERE c.campaign_id = :cid "
                                   f"AND {REGISTRY_ANTI_JOIN_SQL}"), {"cid": campaign_id}).all()

    assert sorted(kept) == sorted(phones[2:])


def test_admins_turn_the_registry_scrub_off_and_on_per_campaign(login_as, campaigns):
    admin = login_as("admin")
    cid = campaigns.create()
    assert admin.get(f"/api/campaigns/{cid}").get_json()["scrub_national_registry"] is True
    response = admin.patch(f"/api/campaigns/{cid}", json={"scrub_national_registry": False})
    assert response.status_code == 200 and response.get_json()["scrub_national_registry"] is False


# --- the CLI ---------------------------------------------------------------------------------


def test_the_cli_imports_with_progress_and_a_summary_and_lists_the_copies(app, tmp_path):
    lines = _numbers(212, 3000, seed=16)
    lines.insert(41, "not a number")
    path = _write(tmp_path / "212.txt", lines)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["dnc", "registry-import", path, "--area-code", "212",
                                 "--downloaded-on", "2026-12-01"])

    assert result.exit_code == 0, result.output
    assert "100.0%" in result.output and "rows/s" in result.output
    assert "Area code 212: 3,000 numbers imported from 3,001 lines" in result.output
    assert "bad lines: 1;" in result.output and "line 42: not a ten-digit number: 'not a number'" in result.output

    status = runner.invoke(args=["dnc", "registry-status"])
    assert status.exit_code == 0, status.output
    row = next(line for line in status.output.splitlines() if line.split()[:1] == ["212"])
    assert "2026-12-01" in row and "3,000" in row and "fresh through 2027-01-01" in row

    refused = runner.invoke(args=["dnc", "registry-import", path, "--area-code", "555",
                                  "--downloaded-on", "2026-12-01"])
    assert refused.exit_code != 0 and "not a geographic area code" in refused.output


def test_a_contact_s_written_consent_exempts_a_listed_number(ctx, tmp_path):
    from app.campaigns.models import Campaign
    from app.compliance.checks import assess
    from app.contacts import consents
    from app.contacts.models import Contact

    numbers = _numbers(202, 500, seed=15)
    assert _import(_write(tmp_path / "202.txt", numbers), 202).status == "done"
    campaign = db.session.get(Campaign, _campaign())
    contact = db.session.get(Contact, _contact(campaign.id, f"+1{numbers[0]}"))
    assert assess(campaign, contact.phone_e164, contact, WED_10_DC, ring_seconds=20).first_code == "national_registry"
    consents.record_consent(contact, "prior_express", WED_10_DC - timedelta(days=3), "call")
    db.session.commit()  # consent, but not written: still held
    assert assess(campaign, contact.phone_e164, contact, WED_10_DC, ring_seconds=20).first_code == "national_registry"
    consents.record_consent(contact, "prior_express_written", WED_10_DC - timedelta(days=2), "signed web form")
    db.session.commit()
    verdict = assess(campaign, contact.phone_e164, contact, WED_10_DC, ring_seconds=20)
    assert verdict.callable and verdict.proof["consent_relied_on"]["kind"] == "prior_express_written"
