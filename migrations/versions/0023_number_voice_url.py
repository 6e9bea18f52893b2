"""Where calls to each of the account's numbers go.

`phone_numbers.voice_url`: the number's voice URL as the carrier last reported it. Omnivox points
the numbers it shows as caller ID (a pool's, a campaign's own) at `/twilio/inbound`, so a person
who calls back reaches the seller; the numbers page says which numbers answer elsewhere.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 22:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("phone_numbers", sa.Column("voice_url", sa.Text(), nullable=True))


def downgrade():
    op.drop_column("phone_numbers", "voice_url")
