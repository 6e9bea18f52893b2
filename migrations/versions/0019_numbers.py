"""The account's phone numbers and campaign pools.

`phone_numbers`: each number the carrier lists for the account (read through the carrier seam),
with Omnivox's own settings (a daily cap of calls) and its health verdict (rested until when and
why, the last figures). `number_pool_members`: which numbers each campaign may show as caller ID
(local presence); the campaign's own caller ID stays the fallback. Calls already store the number
shown (`calls.from_number`), and health is computed from there: an index on it keeps that cheap.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 10:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "phone_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("carrier_sid", sa.String(length=64), nullable=False),
        sa.Column("friendly_name", sa.String(length=120), server_default="", nullable=False),
        sa.Column("state", sa.String(length=2), nullable=True),
        sa.Column("in_account", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("daily_cap", sa.Integer(), nullable=True),
        sa.Column("rested_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rest_reason", sa.Text(), nullable=True),
        sa.Column("health", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("health_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("daily_cap IS NULL OR daily_cap > 0", name=op.f("ck_phone_numbers_daily_cap_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_numbers")),
        sa.UniqueConstraint("phone_e164", name=op.f("uq_phone_numbers_phone_e164")),
    )
    op.create_table(
        "number_pool_members",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
                                name=op.f("fk_number_pool_members_campaign_id_campaigns")),
        sa.ForeignKeyConstraint(["number_id"], ["phone_numbers.id"], ondelete="CASCADE",
                                name=op.f("fk_number_pool_members_number_id_phone_numbers")),
        sa.ForeignKeyConstraint(["added_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_number_pool_members_added_by_id_users")),
        sa.PrimaryKeyConstraint("campaign_id", "number_id", name=op.f("pk_number_pool_members")),
    )
    op.create_index(op.f("ix_number_pool_members_number_id"), "number_pool_members", ["number_id"])
    op.create_index("ix_calls_from_number_created", "calls", ["from_number", "created_at"])


def downgrade():
    op.drop_index("ix_calls_from_number_created", table_name="calls")
    op.drop_index(op.f("ix_number_pool_members_number_id"), table_name="number_pool_members")
    op.drop_table("number_pool_members")
    op.drop_table("phone_numbers")
