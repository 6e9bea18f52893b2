"""Consent records per contact (kind, when, source, evidence hash; revocation: when, how,
who), and the consent a campaign requires.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 14:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "consents",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("phone_e164", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("evidence_sha256", sa.String(64)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_via", sa.String(32)),
        sa.Column("revoked_by_id", sa.Integer()),
        sa.Column("created_by_id", sa.Integer()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_consents_contact_id_contacts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["revoked_by_id"], ["users.id"], name=op.f("fk_consents_revoked_by_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_consents_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.CheckConstraint("kind IN ('prior_express', 'prior_express_written')", name=op.f("ck_consents_kind")),
        sa.CheckConstraint("revoked_via IS NULL OR revoked_via IN ('opt_out_key', 'dnc_disposition', 'api')",
                           name=op.f("ck_consents_revoked_via")),
    )
    op.create_index("ix_consents_contact", "consents", ["contact_id"])
    op.create_index("ix_consents_phone", "consents", ["phone_e164"])
    op.add_column("campaigns", sa.Column("required_consent", sa.String(32), server_default="none", nullable=False))
    op.create_check_constraint(
        op.f("ck_campaigns_required_consent"), "campaigns",
        "required_consent IN ('none', 'prior_express', 'prior_express_written')")


def downgrade():
    op.drop_constraint(op.f("ck_campaigns_required_consent"), "campaigns", type_="check")
    op.drop_column("campaigns", "required_consent")
    op.drop_table("consents")
