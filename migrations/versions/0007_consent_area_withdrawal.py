"""a consent's areas may be withdrawn one by one, and a wider consent may replace an older one:
consent_area.withdrawn_at, .withdrawn_by_giver_id, .withdrawal_recorded_by_id; consent.replaced_by_id,
.replaced_from

Revision ID: 0007_consent_area_withdrawal
Revises: 0006_agency_unit_ended
Create Date: 2026-12-08
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import coordination.model_base


revision: str = '0007_consent_area_withdrawal'
down_revision: Union[str, None] = '0006_agency_unit_ended'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('replaced_from', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_consent_replaced_by_id'), ['replaced_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_consent_replaced_by_id_consent'), 'consent', ['replaced_by_id'], ['id'])
        batch_op.create_check_constraint(
            batch_op.f('ck_consent_replaced_from_when_replaced'), '(replaced_by_id IS NULL) = (replaced_from IS NULL)'
        )

    with op.batch_alter_table('consent_area', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', coordination.model_base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_by_giver_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_recorded_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_consent_area_withdrawn_by_giver_id'), ['withdrawn_by_giver_id'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_consent_area_withdrawal_recorded_by_id'), ['withdrawal_recorded_by_id'], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_consent_area_withdrawn_by_giver_id_consent_giver'), 'consent_giver', ['withdrawn_by_giver_id'], ['id']
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_consent_area_withdrawal_recorded_by_id_staff_person'),
            'staff_person',
            ['withdrawal_recorded_by_id'],
            ['id'],
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_consent_area_withdrawal_recorded_when_withdrawn'),
            '(withdrawn_at IS NULL) = (withdrawal_recorded_by_id IS NULL)',
        )


def downgrade() -> None:
    with op.batch_alter_table('consent_area', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_consent_area_withdrawal_recorded_when_withdrawn'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_consent_area_withdrawal_recorded_by_id_staff_person'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_consent_area_withdrawn_by_giver_id_consent_giver'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_consent_area_withdrawal_recorded_by_id'))
        batch_op.drop_index(batch_op.f('ix_consent_area_withdrawn_by_giver_id'))
        batch_op.drop_column('withdrawal_recorded_by_id')
        batch_op.drop_column('withdrawn_by_giver_id')
        batch_op.drop_column('withdrawn_at')

    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_consent_replaced_from_when_replaced'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_consent_replaced_by_id_consent'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_consent_replaced_by_id'))
        batch_op.drop_column('replaced_from')
        batch_op.drop_column('replaced_by_id')
