"""pulse comments

One optional open question per pulse: the agency's choice of prompt, the prompt each pulse was
started with, what officers wrote (masked, with nothing that joins it to an answer sheet), the
themes leaders give comments, and the theme a tracker step answers.

Revision ID: d7e4a9c1b3f0
Revises: c3a1e5f07b21
Create Date: 2026-12-07 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7e4a9c1b3f0'
down_revision = 'c3a1e5f07b21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment_prompt', sa.String(length=20), nullable=True))
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment_prompt', sa.String(length=20), nullable=True))
    op.create_table('comment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_comment_wave_id_wave')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_wave_id'), ['wave_id'], unique=False)
    op.create_table('comment_theme',
    sa.Column('comment_id', sa.Uuid(), nullable=False),
    sa.Column('theme', sa.String(length=44), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_comment_theme_comment_id_comment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('comment_id', 'theme', name=op.f('pk_comment_theme'))
    )
    with op.batch_alter_table('tracker_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('theme', sa.String(length=44), nullable=True))


def downgrade():
    with op.batch_alter_table('tracker_item', schema=None) as batch_op:
        batch_op.drop_column('theme')
    op.drop_table('comment_theme')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_wave_id'))
    op.drop_table('comment')
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_column('comment_prompt')
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_column('comment_prompt')
