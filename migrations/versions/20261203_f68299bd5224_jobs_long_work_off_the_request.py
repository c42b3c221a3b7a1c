"""jobs: long work off the request (examsys.jobs): what was asked for, by whom, its progress and
its result file

Revision ID: f68299bd5224
Revises: 8842a3f7129a
Create Date: 2026-12-03 11:29:21.056242

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import examsys.dbtypes

# revision identifiers, used by Alembic.
revision = 'f68299bd5224'
down_revision = '8842a3f7129a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', name='job_state', native_enum=False, length=16), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('object_type', sa.String(length=40), nullable=True),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=200), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('result_name', sa.String(length=200), nullable=True),
    sa.Column('result_size', sa.Integer(), nullable=True),
    sa.Column('result_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_jobs_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_jobs_requested_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index('ix_jobs_requested_by', ['requested_by_id', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_requested_by')
        batch_op.drop_index('ix_jobs_object')

    op.drop_table('jobs')
