"""Blackout days: dates an admin declares closed to calls, for one state or every state.

The state rule table (app/compliance/rules/us.json) knows the holidays a statute names; a
state of emergency or a holiday a governor proclaims for this year is declared here instead,
and every placement honours it (app/compliance/checks.assess).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 15:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'blackout_days',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('jurisdiction', sa.String(length=8), nullable=False),
        sa.Column('date_from', sa.Date(), nullable=False),
        sa.Column('date_to', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("jurisdiction ~ '^US(-[A-Z]{2})?$'", name=op.f('ck_blackout_days_jurisdiction')),
        sa.CheckConstraint('date_from <= date_to', name=op.f('ck_blackout_days_dates_in_order')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_blackout_days_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_blackout_days')),
    )


def downgrade():
    op.drop_table('blackout_days')
