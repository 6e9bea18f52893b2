"""KPI rollups: occupancy seconds, the rollup watermark, read indexes and a jsonb-sum aggregate.

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-26 01:07:43.623835

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0003'
branch_labels = None
depends_on = None

# Adds two {key: number} objects key by key: how per-bucket dispositions and pause-by-code
# counters add up into longer windows. numeric keeps the sum exact, so a rerun is bit-identical.
JSONB_ADD = """
CREATE FUNCTION kpi_jsonb_add(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(jsonb_object_agg(key, total), '{}'::jsonb)
  FROM (SELECT key, sum(value::numeric) AS total
        FROM (SELECT * FROM jsonb_each_text(coalesce(a, '{}'::jsonb))
              UNION ALL
              SELECT * FROM jsonb_each_text(coalesce(b, '{}'::jsonb))) AS pairs
        GROUP BY key) AS sums
$$
"""
JSONB_SUM = "CREATE AGGREGATE kpi_jsonb_sum(jsonb) (SFUNC = kpi_jsonb_add, STYPE = jsonb, INITCOND = '{}')"


def upgrade():
    op.create_table('kpi_rollup_state',
    sa.Column('id', sa.SmallInteger(), server_default='1', nullable=False),
    sa.Column('calls_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('interactions_seen_id', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('interactions_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('states_seen_id', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('states_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('full_recompute_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_kpi_rollup_state_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_rollup_state'))
    )
    op.create_index('ix_agent_state_changes_at', 'agent_state_changes', ['at'], unique=False)
    op.create_index('ix_interactions_campaign_started', 'interactions', ['campaign_id', 'started_at'], unique=False)
    op.create_index('ix_interactions_dispositioned_at', 'interactions', ['dispositioned_at'], unique=False)
    op.create_index('ix_interactions_wrapup_ended_at', 'interactions', ['wrapup_ended_at'], unique=False)
    op.add_column('kpi_rollups', sa.Column('occupied_seconds', sa.Float(), server_default='0', nullable=False))
    op.create_index('ix_kpi_rollups_agent_granularity_bucket', 'kpi_rollups',
                    ['agent_id', 'granularity', 'bucket_start'], unique=False)
    op.create_index('ix_kpi_rollups_campaign_granularity_bucket', 'kpi_rollups',
                    ['campaign_id', 'granularity', 'bucket_start'], unique=False)
    op.execute(JSONB_ADD)
    op.execute(JSONB_SUM)


def downgrade():
    op.execute("DROP AGGREGATE IF EXISTS kpi_jsonb_sum(jsonb)")
    op.execute("DROP FUNCTION IF EXISTS kpi_jsonb_add(jsonb, jsonb)")
    op.drop_index('ix_kpi_rollups_campaign_granularity_bucket', table_name='kpi_rollups')
    op.drop_index('ix_kpi_rollups_agent_granularity_bucket', table_name='kpi_rollups')
    op.drop_column('kpi_rollups', 'occupied_seconds')
    op.drop_index('ix_interactions_wrapup_ended_at', table_name='interactions')
    op.drop_index('ix_interactions_dispositioned_at', table_name='interactions')
    op.drop_index('ix_interactions_campaign_started', table_name='interactions')
    op.drop_index('ix_agent_state_changes_at', table_name='agent_state_changes')
    op.drop_table('kpi_rollup_state')
