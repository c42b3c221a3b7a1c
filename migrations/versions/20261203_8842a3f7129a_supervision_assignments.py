"""supervision by the authority: assignments of supervisors to batches, conflict-of-interest
declarations, findings and the internal supervision form (versions, frozen once signed)

Revision ID: 8842a3f7129a
Revises: 7c1d2e3f4a5b
Create Date: 2026-12-03 08:20:03.021506

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import examsys.dbtypes

# revision identifiers, used by Alembic.
revision = '8842a3f7129a'
down_revision = '7c1d2e3f4a5b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('conflict_declarations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('declared_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_conflict_declarations_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['supervisor_id'], ['users.id'], name=op.f('fk_conflict_declarations_supervisor_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conflict_declarations')),
    sa.UniqueConstraint('supervisor_id', 'organisation_id', name=op.f('uq_conflict_declarations_supervisor_id_organisation_id'))
    )
    op.create_table('supervision_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_supervision_assignments_assigned_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_supervision_assignments_batch_id_batches'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_supervision_assignments_ended_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['supervisor_id'], ['users.id'], name=op.f('fk_supervision_assignments_supervisor_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_assignments'))
    )
    with op.batch_alter_table('supervision_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_assignments_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_assignments_supervisor_id'), ['supervisor_id'], unique=False)

    op.create_table('supervision_forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('checks', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('conclusion', sa.Text(), nullable=False),
    sa.Column('content', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signed_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_supervision_forms_batch_id_batches'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['supervisor_id'], ['users.id'], name=op.f('fk_supervision_forms_supervisor_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_forms')),
    sa.UniqueConstraint('batch_id', 'supervisor_id', 'version', name=op.f('uq_supervision_forms_batch_id_supervisor_id_version'))
    )
    with op.batch_alter_table('supervision_forms', schema=None) as batch_op:
        batch_op.create_index('ix_supervision_forms_batch', ['batch_id'], unique=False)

    op.create_table('supervision_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('supervisor_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_supervision_findings_attempt_id_attempts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_supervision_findings_batch_id_batches'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['supervisor_id'], ['users.id'], name=op.f('fk_supervision_findings_supervisor_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_findings'))
    )
    with op.batch_alter_table('supervision_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_findings_batch_id'), ['batch_id'], unique=False)



def downgrade():
    with op.batch_alter_table('supervision_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_findings_batch_id'))

    op.drop_table('supervision_findings')
    with op.batch_alter_table('supervision_forms', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_forms_batch')

    op.drop_table('supervision_forms')
    with op.batch_alter_table('supervision_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_assignments_supervisor_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_assignments_batch_id'))

    op.drop_table('supervision_assignments')
    op.drop_table('conflict_declarations')
