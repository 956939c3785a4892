"""return to work: the dossier and its registration forms

An insured person's return-to-work dossier (by pseudonym, IC-R10) and its
registration forms (AMF, RP-F1). What the partners' sources say (names,
employers, prevention services, insurer, registrations, TRIO) is never
stored (RP-A7). Rows go 3 years after 1 January of the year after their
last change (RP-R1), hence the index on the last change.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rtw_dossier',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('insured_pseudonym', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('opened_via', sa.String(length=16), nullable=False),
        sa.Column('opened_by_pseudonym', sa.String(length=64), nullable=False),
        sa.Column('opened_by_role', sa.String(length=32), nullable=False),
        sa.Column('opened_by_cbe', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('rtw_dossier', schema=None) as batch_op:
        batch_op.create_index('ix_rtw_dossier_person', ['insured_pseudonym'], unique=False)
        batch_op.create_index('ix_rtw_dossier_updated', ['updated_at'], unique=False)
    op.create_table(
        'rtw_form',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('dossier_id', sa.String(length=36), nullable=False),
        sa.Column('routing', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('expectations', sa.Text(), nullable=True),
        sa.Column('work_problems', sa.Text(), nullable=True),
        sa.Column('incapacity_start', sa.Date(), nullable=False),
        sa.Column('coordinator_name', sa.String(length=200), nullable=True),
        sa.Column('advising_physician_name', sa.String(length=200), nullable=True),
        sa.Column('team_member_name', sa.String(length=200), nullable=True),
        sa.Column('target_group', sa.Boolean(), nullable=True),
        sa.Column('occupational_physician_name', sa.String(length=200), nullable=True),
        sa.Column('physician_expectations', sa.Text(), nullable=True),
        sa.Column('functional_capacities', sa.Text(), nullable=True),
        sa.Column('created_by_pseudonym', sa.String(length=64), nullable=False),
        sa.Column('created_by_role', sa.String(length=32), nullable=False),
        sa.Column('created_by_cbe', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['dossier_id'], ['rtw_dossier.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('rtw_form', schema=None) as batch_op:
        batch_op.create_index('ix_rtw_form_dossier_id', ['dossier_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rtw_form', schema=None) as batch_op:
        batch_op.drop_index('ix_rtw_form_dossier_id')
    op.drop_table('rtw_form')
    with op.batch_alter_table('rtw_dossier', schema=None) as batch_op:
        batch_op.drop_index('ix_rtw_dossier_updated')
        batch_op.drop_index('ix_rtw_dossier_person')
    op.drop_table('rtw_dossier')
