"""rights requests handled and answered, consent decisions as versions of a
Consent (the bulk-export jobs came in 0008)

- ``rights_request``: what a request names (an inclusion, a consent
  decision, or all of the person's data), the processing an objection
  names, and the answer of whoever handled it (DS-2..DS-4). Existing
  requests named all of the person's data; an open one stays ``active``.
- ``consent_decision``: ``thread_id``, the Consent a decision is a version
  of when recorded by a FHIR update (DS-5), and ``withdrawn``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rights_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_type', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('target_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('processing', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('answer', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('answered_by_pseudonym', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('answered_by_role', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('answered_by_organisation', sa.String(length=16), nullable=True))
        batch_op.create_index('ix_rights_request_target_id', ['target_id'], unique=False)
    with op.batch_alter_table('consent_decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('withdrawn', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_consent_decision_thread_id', ['thread_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('consent_decision', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_decision_thread_id')
        batch_op.drop_column('withdrawn')
        batch_op.drop_column('thread_id')
    with op.batch_alter_table('rights_request', schema=None) as batch_op:
        batch_op.drop_index('ix_rights_request_target_id')
        for column in ('answered_by_organisation', 'answered_by_role', 'answered_by_pseudonym', 'answered_at', 'answer',
                       'processing', 'target_id', 'target_type'):
            batch_op.drop_column(column)
