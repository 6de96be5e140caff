"""accounts, agency settings, local items, favourable direction

Invitation and reset links (hashed tokens), platform administrators, the agency's retention
period, agencies' own local items, and which way each construct is hoped to move (for reliable
change: "improved" means lower on stigma, barriers, change fatigue and cynicism).

Revision ID: b00d9934b22d
Revises: f4dbc086aca2
Create Date: 2026-11-23 19:21:12.137314

"""
from alembic import op
import sqlalchemy as sa

LOWER_IS_FAVOURABLE = ("stigma", "barriers", "change_fatigue", "cynicism")


# revision identifiers, used by Alembic.
revision = 'b00d9934b22d'
down_revision = 'f4dbc086aca2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('invite', 'reset', name='link_purpose', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_account_link_staff_user_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_link_token_hash'))
    )
    with op.batch_alter_table('account_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_link_staff_user_id'), ['staff_user_id'], unique=False)

    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_months', sa.SmallInteger(), nullable=True))
        batch_op.create_check_constraint(
            'retention_positive', 'retention_months IS NULL OR retention_months >= 1')

    with op.batch_alter_table('construct', schema=None) as batch_op:
        batch_op.add_column(sa.Column('favourable', sa.String(length=6), nullable=False,
                                      server_default='higher'))
    construct = sa.table('construct', sa.column('code', sa.String), sa.column('favourable', sa.String))
    op.execute(construct.update().where(construct.c.code.in_(LOWER_IS_FAVOURABLE))
               .values(favourable='lower'))

    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_item_agency_id'), ['agency_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_item_agency_id_agency'), 'agency', ['agency_id'], ['id'])

    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform_admin', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))



def downgrade():
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('platform_admin')

    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_item_agency_id_agency'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_item_agency_id'))
        batch_op.drop_column('agency_id')

    with op.batch_alter_table('construct', schema=None) as batch_op:
        batch_op.drop_column('favourable')

    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_agency_retention_positive'), type_='check')
        batch_op.drop_column('retention_months')

    with op.batch_alter_table('account_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_link_staff_user_id'))

    op.drop_table('account_link')
