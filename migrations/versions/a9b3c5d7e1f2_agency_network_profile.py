"""agency network profile

The profile a comparison group is drawn by (agency type, state, who leads the program) and
the administrator's opt-in to the network's benchmarks (off by default), and the comparison
groups its benchmark has shown.

Revision ID: a9b3c5d7e1f2
Revises: d7e4a9c1b3f0
Create Date: 2026-12-08 00:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9b3c5d7e1f2'
down_revision = 'd7e4a9c1b3f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('state', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('program_model', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('benchmark_opt_in', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('benchmark_groups', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_column('benchmark_groups')
        batch_op.drop_column('benchmark_opt_in')
        batch_op.drop_column('program_model')
        batch_op.drop_column('state')
        batch_op.drop_column('kind')
