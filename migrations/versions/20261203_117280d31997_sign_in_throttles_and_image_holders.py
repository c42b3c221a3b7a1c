"""sign-in lock-outs per name tried (login_throttles), rate-limit counters every worker and node
shares (rate_limit_hits), and every organisation holding a stored image (asset_holders, filled
from each image's first uploader)

Revision ID: 117280d31997
Revises: f68299bd5224
Create Date: 2026-12-03 11:26:09.435490

"""
import sqlalchemy as sa
from alembic import op

import examsys.dbtypes  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = '117280d31997'
down_revision = 'f68299bd5224'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_throttles',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('lockouts', sa.Integer(), nullable=False),
    sa.Column('locked_until', examsys.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttles'))
    )
    op.create_table('rate_limit_hits',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_limit_hits'))
    )
    with op.batch_alter_table('rate_limit_hits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_hits_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index('ix_rate_limit_hits_key_at', ['key', 'at'], unique=False)

    op.create_table('asset_holders',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_asset_holders_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['sha256'], ['assets.sha256'], name=op.f('fk_asset_holders_sha256_assets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sha256', 'organisation_id', name=op.f('pk_asset_holders'))
    )
    op.execute("INSERT INTO asset_holders (sha256, organisation_id, created_at) "
               "SELECT sha256, organisation_id, created_at FROM assets")


def downgrade():
    op.drop_table('asset_holders')
    with op.batch_alter_table('rate_limit_hits', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_limit_hits_key_at')
        batch_op.drop_index(batch_op.f('ix_rate_limit_hits_expires_at'))

    op.drop_table('rate_limit_hits')
    op.drop_table('login_throttles')
