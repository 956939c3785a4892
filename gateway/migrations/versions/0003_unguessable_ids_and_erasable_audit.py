"""research-consent decisions get a random public id

A decision was shown by its integer key, which can be enumerated (IC-A3:
another project's decision must be indistinguishable from one that does not
exist). Each existing decision gets a random UUID; the integer stays as the
internal order of recording.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('consent_decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_id', sa.String(length=36), nullable=True))
    connection = op.get_bind()
    consent = sa.table('consent_decision', sa.column('id', sa.Integer()), sa.column('public_id', sa.String(36)))
    for (key,) in connection.execute(sa.select(consent.c.id)).all():
        connection.execute(consent.update().where(consent.c.id == key).values(public_id=str(uuid.uuid4())))
    with op.batch_alter_table('consent_decision', schema=None) as batch_op:
        batch_op.alter_column('public_id', existing_type=sa.String(length=36), nullable=False)
        batch_op.create_index('ux_consent_public_id', ['public_id'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('consent_decision', schema=None) as batch_op:
        batch_op.drop_index('ux_consent_public_id')
        batch_op.drop_column('public_id')
