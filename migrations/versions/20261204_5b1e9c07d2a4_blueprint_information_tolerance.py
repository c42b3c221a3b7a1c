"""blueprint information tolerance: match the forms' test information at the pass mark

Revision ID: 5b1e9c07d2a4
Revises: e3a32406349e
Create Date: 2026-12-04 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e9c07d2a4'
down_revision = 'e3a32406349e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('paper_blueprints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('info_tolerance', sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table('paper_blueprints', schema=None) as batch_op:
        batch_op.drop_column('info_tolerance')
