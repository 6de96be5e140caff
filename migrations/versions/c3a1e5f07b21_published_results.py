"""published results

A wave's seal (when it stopped taking answers for good), the agency's choice of interim pulse
snapshots, and the published results with their stored parts.

Revision ID: c3a1e5f07b21
Revises: c16a7e5d2b41
Create Date: 2026-12-07 06:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a1e5f07b21'
down_revision = 'c16a7e5d2b41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interim_results', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table('published_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('complete', 'failed', name='publication_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('k', sa.SmallInteger(), nullable=False),
    sa.Column('basis', sa.JSON(), nullable=False),
    sa.Column('interim', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_published_result_agency_id_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_published_result')),
    sa.UniqueConstraint('subject', 'version', name=op.f('uq_published_result_subject'))
    )
    with op.batch_alter_table('published_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_published_result_agency_id'), ['agency_id'], unique=False)
    op.create_table('published_part',
    sa.Column('result_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['result_id'], ['published_result.id'], name=op.f('fk_published_part_result_id_published_result'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('result_id', 'name', name=op.f('pk_published_part'))
    )


def downgrade():
    op.drop_table('published_part')
    with op.batch_alter_table('published_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_published_result_agency_id'))
    op.drop_table('published_result')
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_column('interim_results')
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_column('sealed_at')
