"""session versions, co-trainers, reading other trainers' reports

Each staff account gets a session version (part of every session's user id, raised to end all
of the account's sessions); a class may name co-trainers who manage it with its trainer; an
agency decides whether trainers read the reports of classes they do not teach.

Revision ID: c16a7e5d2b41
Revises: b00d9934b22d
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c16a7e5d2b41'
down_revision = 'b00d9934b22d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1',
                                      nullable=False))
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trainers_read_all_reports', sa.Boolean(),
                                      server_default=sa.true(), nullable=False))
    op.create_table('cohort_trainer',
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_cohort_trainer_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_cohort_trainer_staff_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cohort_id', 'staff_user_id', name=op.f('pk_cohort_trainer'))
    )
    with op.batch_alter_table('cohort_trainer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_trainer_staff_user_id'), ['staff_user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('cohort_trainer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_trainer_staff_user_id'))
    op.drop_table('cohort_trainer')
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_column('trainers_read_all_reports')
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
