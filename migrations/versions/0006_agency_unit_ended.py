"""an agency or a unit may be ended (kept for the record, closed to new work): agency.ended_at, unit.ended_at

Revision ID: 0006_agency_unit_ended
Revises: 0005_childs_plan
Create Date: 2026-12-08
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import coordination.model_base


revision: str = '0006_agency_unit_ended'
down_revision: Union[str, None] = '0005_childs_plan'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', coordination.model_base.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', coordination.model_base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('ended_at')

    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_column('ended_at')
