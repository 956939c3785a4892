"""audit records name people by a token whose link can be cut (IC-R6, DS-8)

A new table holds, for each audit token, the pseudonym it stands for. Records
written from now on name the patient (and a patient acting about themselves)
by the token; purging a person deletes the link, so the sealed records need
no change. Records written before keep the pseudonym they were sealed with
(docs/security.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_subject',
    sa.Column('token', sa.String(length=36), nullable=False),
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token')
    )
    with op.batch_alter_table('audit_subject', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_subject_pseudonym'), ['pseudonym'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_subject', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_subject_pseudonym'))
    op.drop_table('audit_subject')
