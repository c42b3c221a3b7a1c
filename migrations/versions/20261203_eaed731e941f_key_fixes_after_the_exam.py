"""key fixes after the exam: a reviewer's confirmed key for one item of a batch's form, and
when and by whom it was applied as a regrade (the regrade itself is score corrections)

Revision ID: eaed731e941f
Revises: 117280d31997
Create Date: 2026-12-03 11:28:15.278970

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import examsys.dbtypes

# revision identifiers, used by Alembic.
revision = 'eaed731e941f'
down_revision = '117280d31997'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('key_fixes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('form_item_id', sa.Integer(), nullable=False),
    sa.Column('item_version_id', sa.Integer(), nullable=False),
    sa.Column('old_key', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('new_key', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('confirmed', 'applied', name='key_fix_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('applied_by_id', sa.Integer(), nullable=True),
    sa.Column('applied_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('affected', sa.Integer(), nullable=False),
    sa.CheckConstraint('applied_by_id IS NULL OR applied_by_id <> confirmed_by_id', name=op.f('ck_key_fixes_second_person')),
    sa.ForeignKeyConstraint(['applied_by_id'], ['users.id'], name=op.f('fk_key_fixes_applied_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_key_fixes_batch_id_batches'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_key_fixes_confirmed_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['form_item_id'], ['paper_form_items.id'], name=op.f('fk_key_fixes_form_item_id_paper_form_items'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['item_version_id'], ['item_versions.id'], name=op.f('fk_key_fixes_item_version_id_item_versions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_fixes'))
    )
    with op.batch_alter_table('key_fixes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_fixes_batch_id'), ['batch_id'], unique=False)



def downgrade():
    with op.batch_alter_table('key_fixes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_fixes_batch_id'))

    op.drop_table('key_fixes')
