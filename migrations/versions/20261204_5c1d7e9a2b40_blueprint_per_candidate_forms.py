"""blueprint option: one form per candidate (千人千卷)

Revision ID: 5c1d7e9a2b40
Revises: 5b1e9c07d2a4
Create Date: 2026-12-04 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1d7e9a2b40'
down_revision = '5b1e9c07d2a4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('paper_blueprints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('per_candidate', sa.Boolean(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('paper_blueprints', schema=None) as batch_op:
        batch_op.drop_column('per_candidate')
