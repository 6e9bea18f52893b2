"""Contacts' time zones: a guess is no longer stored as if it were known.

Before this revision a number in two zones (area code 208: Boise and the Idaho panhandle)
stored the alphabetically first, a split state without a ZIP code (Texas, Florida, ...) its
majority zone (now none: the dialer checks every zone of the state), and ZIP prefixes 836-837 (Boise) and 375 (Memphis) the wrong one; the dialer
then checked the calling window in that one zone only. Such contacts now store the zone the
current rules give: none when it is not one zone for sure, so the dialer waits until the
window is open in every zone the number may be in. A contact whose zone was given explicitly
and happens to equal the old guess is made stricter, never looser.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 13:00:00
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
BATCH = 5000
# ZIP prefixes whose zone the earlier table got wrong, and what it said.
_OLD_ZIP3 = {836: "America/Los_Angeles", 837: "America/Los_Angeles", 375: "America/New_York",
             586: "America/Chicago"}


def _old_guess(phone, region, postal):
    """The zone the earlier rules derived from the number, state and ZIP code."""
    from app.common.phones import STATE_ZONES, state_code, timezones_for_number, zone_for_postal

    if phone.startswith("+1"):
        digits = (postal or "").strip()[:5]
        zone = None
        if len(digits) == 5 and digits.isdigit():
            zone = _OLD_ZIP3.get(int(digits[:3])) or zone_for_postal(postal)
        if zone is None:
            code = state_code(region)
            zone = STATE_ZONES.get(code) if code else None
        if zone is not None:
            return zone
    zones = timezones_for_number(phone)
    return zones[0] if 0 < len(zones) <= 3 else None


def upgrade():
    from app.common.phones import contact_timezone

    # Outside the migration's one transaction: each batch commits on its own, so a large table
    # never holds its changed rows locked against the dialer until the very end (and a rerun
    # after an interruption simply finds fewer guesses left).
    with op.get_context().autocommit_block():
        _correct(op.get_bind(), contact_timezone)


def _correct(bind, contact_timezone):
    total = bind.execute(sa.text("SELECT count(*) FROM contacts WHERE timezone IS NOT NULL")).scalar()
    if not total:
        return
    log.info("Checking the time zones of %s contacts", total)
    changes, seen, last_id = {}, 0, 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT id, phone_e164, timezone, region, postal_code FROM contacts "
            "WHERE timezone IS NOT NULL AND id > :last ORDER BY id LIMIT :n"),
            {"last": last_id, "n": BATCH}).all()
        if not rows:
            break
        for row in rows:
            if row.timezone == _old_guess(row.phone_e164, row.region, row.postal_code):
                now = contact_timezone(row.phone_e164, None, row.region, row.postal_code)
                if now != row.timezone:
                    changes.setdefault(now, []).append(row.id)
        last_id, seen = rows[-1].id, seen + len(rows)
        for zone, ids in changes.items():
            bind.execute(sa.text("UPDATE contacts SET timezone = :zone WHERE id = ANY(:ids)"),
                         {"zone": zone, "ids": ids})
        changed = sum(len(ids) for ids in changes.values())
        log.info("  %s of %s contacts checked (%.0f%%), %s zones corrected in this batch",
                 seen, total, 100.0 * seen / total, changed)
        changes = {}


def downgrade():
    pass  # the earlier guesses were wrong; nothing to put back
