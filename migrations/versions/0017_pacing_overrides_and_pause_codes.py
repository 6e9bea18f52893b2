"""Steering a campaign's dialler by hand, and pause codes every campaign can use.

`pacing_overrides`: at most one row per campaign, written when an admin or the campaign's
supervisor steers its pacing (a dial-level ceiling, a fixed dial level, an abandonment target
of at most 3%); no row is automatic pacing. The database keeps the legal cap too.

A small standard set of pause codes for every campaign (campaign_id NULL), so the agents of a
campaign created today can take a break without an admin first inventing codes. Codes already
there are left as they are.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 18:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# (code, label, paid, max_minutes): what a floor calls its breaks on day one.
STANDARD_PAUSE_CODES = (
    ("SHORT_BREAK", "Short break", True, 15),
    ("LUNCH", "Lunch", False, 60),
    ("TRAINING", "Training", True, None),
    ("MEETING", "Meeting or coaching", True, None),
)


def upgrade():
    op.create_table(
        "pacing_overrides",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("max_dial_level", sa.Numeric(4, 2), nullable=True),
        sa.Column("fixed_dial_level", sa.Numeric(4, 2), nullable=True),
        sa.Column("abandon_target", sa.Numeric(5, 4), nullable=True),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("abandon_target IS NULL OR (abandon_target > 0 AND abandon_target <= 0.03)",
                           name=op.f("ck_pacing_overrides_abandon_target_cap")),
        sa.CheckConstraint("max_dial_level IS NULL OR (max_dial_level >= 1 AND max_dial_level <= 10)",
                           name=op.f("ck_pacing_overrides_max_dial_level_range")),
        sa.CheckConstraint("fixed_dial_level IS NULL OR (fixed_dial_level >= 1 AND fixed_dial_level <= 10)",
                           name=op.f("ck_pacing_overrides_fixed_dial_level_range")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
                                name=op.f("fk_pacing_overrides_campaign_id_campaigns")),
        sa.ForeignKeyConstraint(["set_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_pacing_overrides_set_by_id_users")),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_pacing_overrides")),
    )
    insert_standard_pause_codes(op.get_bind())


def insert_standard_pause_codes(bind) -> None:
    for code, label, paid, max_minutes in STANDARD_PAUSE_CODES:
        bind.execute(sa.text(
            "INSERT INTO pause_codes (campaign_id, code, label, paid, max_minutes, active) "
            "VALUES (NULL, :code, :label, :paid, :max_minutes, true) "
            "ON CONFLICT ON CONSTRAINT uq_pause_codes_campaign_id_code DO NOTHING"),
            {"code": code, "label": label, "paid": paid, "max_minutes": max_minutes})


def downgrade():
    # The standard pause codes stay: agents' past pauses point at them.
    op.drop_table("pacing_overrides")
