"""`flask dnc registry-import FILE --area-code 212 --downloaded-on 2026-12-01` and
`flask dnc registry-status`: the national Do Not Call Registry's copy, kept by the operators."""
from __future__ import annotations

import time
from datetime import timezone

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.common.timeutil import utcnow
from app.dnc import registry
from app.dnc.models import RegistryAreaCode
from app.dnc.registry_import import SHRINK_LIMIT, Progress, RegistryImportError, import_area_code
from app.extensions import db
from app.imports.models import ImportRejection

dnc_cli = AppGroup("dnc", help="Do-not-call lists: the national registry's copy.")
SHOWN_REJECTIONS = 20


@dnc_cli.command("registry-import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=False))
@click.option("--area-code", type=int, required=True, help="The area code the file is for (e.g. 212).")
@click.option("--downloaded-on", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
              help="The registry's download date for the file (YYYY-MM-DD).")
@click.option("--allow-shrink", is_flag=True,
              help=f"Accept a file with under {SHRINK_LIMIT:.0%} of the numbers of the copy it replaces.")
def registry_import_command(file, area_code, downloaded_on, allow_shrink):
    """Replace the area code's copy of the registry with FILE (one ten-digit number a line)."""
    printer = ProgressPrinter(area_code)
    try:
        job = import_area_code(file, area_code, downloaded_on.date(), allow_shrink=allow_shrink,
                               on_progress=printer)
    except RegistryImportError as exc:
        raise click.ClickException(str(exc)) from None
    if job.status != "done":
        raise click.ClickException(f"Import job {job.id} failed: {job.error}")
    seconds = max(printer.last.seconds if printer.last else 0.0, 1e-9)
    click.echo(f"Area code {area_code}: {job.imported:,} numbers imported from {job.rows_read:,} lines in "
               f"{seconds:.1f} s ({job.rows_read / seconds:,.0f} rows/s); import job {job.id}.")
    click.echo(f"  bad lines: {job.rejected:,}; numbers listed twice (kept once): {job.duplicates:,}; "
               f"the registry's download date: {downloaded_on.date().isoformat()}.")
    if not registry.copy_is_fresh(downloaded_on.date(), utcnow()):
        click.echo(f"Warning: this copy is over {registry.MAX_COPY_AGE_DAYS} days old already: calls to "
                   f"area code {area_code} stay held until a newer one is imported.")
    if job.rejected:
        rejections = db.session.scalars(select(ImportRejection).where(ImportRejection.import_job_id == job.id)
                                        .order_by(ImportRejection.line).limit(SHOWN_REJECTIONS))
        click.echo(f"Bad lines{' (the first %d)' % SHOWN_REJECTIONS if job.rejected > SHOWN_REJECTIONS else ''}; "
                   f"all of them: GET /api/imports/{job.id}/rejections")
        for rejection in rejections:
            click.echo(f"  line {rejection.line}: {rejection.reason}: {rejection.raw!r}")


class ProgressPrinter:
    """Prints a line every couple of seconds while loading, and one per later phase."""

    EVERY_SECONDS = 2.0

    def __init__(self, area_code: int):
        self.area_code = area_code
        self.last: Progress | None = None
        self.printed_at = float("-inf")

    def __call__(self, progress: Progress) -> None:
        self.last = progress
        now = time.monotonic()
        if progress.phase == "loading" and now - self.printed_at < self.EVERY_SECONDS:
            return
        self.printed_at = now
        rate = progress.lines / progress.seconds if progress.seconds > 0 else 0.0
        if progress.phase == "loading":
            percent = 100 * progress.bytes_read / progress.size_bytes if progress.size_bytes else 0.0
            click.echo(f"{self.area_code}: {percent:5.1f}%  {progress.lines:,} lines, {progress.rejected:,} bad, "
                       f"{rate:,.0f} rows/s")
        elif progress.phase == "indexing":
            click.echo(f"{self.area_code}: loaded {progress.rows:,} numbers in {progress.seconds:.1f} s; "
                       "building the index ...")
        elif progress.phase == "swapping":
            click.echo(f"{self.area_code}: indexed at {progress.seconds:.1f} s; replacing the copy ...")


@dnc_cli.command("registry-status")
def registry_status_command():
    """List the area codes held, their registry date, age and whether calls may rely on them."""
    today = utcnow().date()
    rows = db.session.execute(select(RegistryAreaCode).order_by(RegistryAreaCode.area_code)).scalars().all()
    if not rows:
        click.echo("No area code of the national registry has been imported: calls to US numbers are "
                   "held in every campaign that scrubs against it.")
        return
    click.echo(f"{'area code':>9}  {'downloaded on':<13} {'age (days)':>10} {'numbers':>12}  {'imported at':<20}  state")
    stale = 0
    for row in rows:
        fresh = registry.copy_is_fresh(row.downloaded_on, utcnow())
        stale += not fresh
        state = f"fresh through {registry.fresh_through(row.downloaded_on).isoformat()}" if fresh else "STALE: calls held"
        click.echo(f"{row.area_code:>9}  {row.downloaded_on.isoformat():<13} {(today - row.downloaded_on).days:>10} "
                   f"{row.rows:>12,}  {row.imported_at.astimezone(timezone.utc):%Y-%m-%d %H:%M UTC}  {state}")
    total = db.session.scalar(select(func.sum(RegistryAreaCode.rows)))
    click.echo(f"{len(rows)} area codes, {total:,} numbers; {stale} stale.")
