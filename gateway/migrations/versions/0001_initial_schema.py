"""initial schema: inclusions, consent, care teams, referrals, audit, register feed

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 22:18:03.210077
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('audit_record',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.String(length=32), nullable=False),
    sa.Column('actor_organisation', sa.String(length=16), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=True),
    sa.Column('rule', sa.String(length=16), nullable=True),
    sa.Column('patient_pseudonym', sa.String(length=64), nullable=True),
    sa.Column('resource_type', sa.String(length=32), nullable=True),
    sa.Column('resource_id', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.create_index('ix_audit_patient', ['patient_pseudonym', 'seq'], unique=False)

    op.create_table('care_team',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('patient_pseudonym', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('managing_organisation', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('care_team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_team_patient_pseudonym'), ['patient_pseudonym'], unique=False)

    op.create_table('consent_decision',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('patient_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('decision', sa.String(length=8), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('recorded_by_role', sa.String(length=32), nullable=False),
    sa.Column('recorded_by_organisation', sa.String(length=16), nullable=True),
    sa.Column('inclusion_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consent_decision', schema=None) as batch_op:
        batch_op.create_index('ix_consent_patient', ['patient_pseudonym', 'id'], unique=False)

    op.create_table('feed_cursor',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('inclusion',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('patient_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('psi_nihii', sa.String(length=11), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('billing_start', sa.Date(), nullable=False),
    sa.Column('billing_end', sa.Date(), nullable=True),
    sa.Column('declared_by_nihii', sa.String(length=11), nullable=True),
    sa.Column('declared_by_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('declared_by_role', sa.String(length=32), nullable=False),
    sa.Column('last_actor_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('last_actor_role', sa.String(length=32), nullable=False),
    sa.Column('closed_reason', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inclusion', schema=None) as batch_op:
        batch_op.create_index('ix_inclusion_patient', ['patient_pseudonym'], unique=False)
        batch_op.create_index('ix_inclusion_psi_patient', ['psi_nihii', 'patient_pseudonym'], unique=False)

    op.create_table('patient',
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.Column('lock_counter', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('pseudonym')
    )
    op.create_table('referral',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('patient_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('programme', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('service_requested', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_patient_pseudonym'), ['patient_pseudonym'], unique=False)

    op.create_table('register_mutation',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('niss', sa.String(length=11), nullable=False),
    sa.Column('new_niss', sa.String(length=11), nullable=True),
    sa.Column('effective', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sqlite_autoincrement=True
    )
    op.create_table('care_team_member',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('care_team_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('member_pseudonym', sa.String(length=64), nullable=True),
    sa.Column('member_nihii', sa.String(length=11), nullable=True),
    sa.Column('role', sa.String(length=64), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['care_team_id'], ['care_team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('care_team_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_team_member_care_team_id'), ['care_team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_team_member_member_pseudonym'), ['member_pseudonym'], unique=False)

    op.create_table('inclusion_change',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('inclusion_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.String(length=32), nullable=False),
    sa.Column('actor_organisation', sa.String(length=16), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['inclusion_id'], ['inclusion.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inclusion_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inclusion_change_inclusion_id'), ['inclusion_id'], unique=False)

    op.create_table('referral_party',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('referral_id', sa.String(length=36), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('party_pseudonym', sa.String(length=64), nullable=True),
    sa.Column('party_nihii', sa.String(length=11), nullable=True),
    sa.Column('party_cbe', sa.String(length=10), nullable=True),
    sa.Column('party_role', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('referral_party', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_party_referral_id'), ['referral_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('referral_party', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_party_referral_id'))

    op.drop_table('referral_party')
    with op.batch_alter_table('inclusion_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inclusion_change_inclusion_id'))

    op.drop_table('inclusion_change')
    with op.batch_alter_table('care_team_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_team_member_member_pseudonym'))
        batch_op.drop_index(batch_op.f('ix_care_team_member_care_team_id'))

    op.drop_table('care_team_member')
    op.drop_table('register_mutation')
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_patient_pseudonym'))

    op.drop_table('referral')
    op.drop_table('patient')
    with op.batch_alter_table('inclusion', schema=None) as batch_op:
        batch_op.drop_index('ix_inclusion_psi_patient')
        batch_op.drop_index('ix_inclusion_patient')

    op.drop_table('inclusion')
    op.drop_table('feed_cursor')
    with op.batch_alter_table('consent_decision', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_patient')

    op.drop_table('consent_decision')
    with op.batch_alter_table('care_team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_team_patient_pseudonym'))

    op.drop_table('care_team')
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_patient')

    op.drop_table('audit_record')
    op.drop_table('audit_head')
