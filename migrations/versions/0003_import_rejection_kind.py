"""import rejections say what kind of skip they are: invalid, duplicate or do-not-call

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-26 01:10:23.080875

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_rejections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='invalid', nullable=False))
        batch_op.create_check_constraint(op.f('ck_import_rejections_kind'),
                                         "kind IN ('invalid', 'duplicate', 'dnc')")


def downgrade():
    with op.batch_alter_table('import_rejections', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_import_rejections_kind'), type_='check')
        batch_op.drop_column('kind')
