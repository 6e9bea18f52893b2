"""The FTC's National Do Not Call Registry: its numbers, one partition per area code, the date
of each area code's copy, and a campaign setting to scrub against it (on by default).

The numbers table is partitioned by range of the ten-digit number, one partition per area
code, created by the import (`flask dnc registry-import`), never here: an import builds the
new partition beside the old one and swaps it in within one transaction.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 15:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("campaigns", sa.Column("scrub_national_registry", sa.Boolean(),
                                         server_default=sa.text("true"), nullable=False))
    op.create_table(
        "dnc_registry_numbers",
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_dnc_registry_numbers")),
        postgresql_partition_by="RANGE (number)",
    )
    op.create_table(
        "dnc_registry_area_codes",
        sa.Column("area_code", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("downloaded_on", sa.Date(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("import_job_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("area_code BETWEEN 200 AND 999", name=op.f("ck_dnc_registry_area_codes_area_code")),
        sa.ForeignKeyConstraint(["import_job_id"], ["import_jobs.id"],
                                name=op.f("fk_dnc_registry_area_codes_import_job_id_import_jobs"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("area_code", name=op.f("pk_dnc_registry_area_codes")),
    )
    op.drop_constraint(op.f("ck_import_jobs_kind"), "import_jobs", type_="check")
    op.create_check_constraint(op.f("ck_import_jobs_kind"), "import_jobs",
                               "kind IN ('contacts', 'dnc', 'registry')")


def downgrade():
    op.execute("DELETE FROM import_jobs WHERE kind = 'registry'")
    op.drop_constraint(op.f("ck_import_jobs_kind"), "import_jobs", type_="check")
    op.create_check_constraint(op.f("ck_import_jobs_kind"), "import_jobs", "kind IN ('contacts', 'dnc')")
    op.drop_table("dnc_registry_area_codes")
    op.drop_table("dnc_registry_numbers")  # and every area code's partition with it
    op.drop_column("campaigns", "scrub_national_registry")
