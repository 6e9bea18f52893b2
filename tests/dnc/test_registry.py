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
