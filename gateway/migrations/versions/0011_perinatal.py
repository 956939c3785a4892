"""the perinatal programme: episodes, screenings and referrals to support

A woman's follow-up in the programme "first 1000 days" (by pseudonym,
IC-R10), with her consent's state (PN-2); the screenings of psychosocial
vulnerability with their derived profiles, each with the questionnaire's
and the derivation rules' versions (PN-1); and which vulnerability each
referral to support answers (RF-3).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'perinatal_episode',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('woman_pseudonym', sa.String(length=64), nullable=False),
        sa.Column('care_team_id', sa.String(length=36), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('pregnancy_declared_on', sa.Date(), nullable=False),
        sa.Column('expected_delivery', sa.Date(), nullable=True),
        sa.Column('child_pseudonym', sa.String(length=64), nullable=True),
        sa.Column('child_born_on', sa.Date(), nullable=True),
        sa.Column('ends_on', sa.Date(), nullable=True),
        sa.Column('consent_status', sa.String(length=16), nullable=False),
        sa.Column('consent_given_on', sa.Date(), nullable=False),
        sa.Column('consent_recorded_by_pseudonym', sa.String(length=64), nullable=False),
        sa.Column('consent_recorded_by_role', sa.String(length=32), nullable=False),
        sa.Column('consent_withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('consent_withdrawn_by_role', sa.String(length=32), nullable=True),
        sa.Column('opened_by_pseudonym', sa.String(length=64), nullable=False),
        sa.Column('opened_by_nihii', sa.String(length=11), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_perinatal_episode_woman', 'perinatal_episode', ['woman_pseudonym'], unique=False)
    op.create_index('ix_perinatal_episode_child', 'perinatal_episode', ['child_pseudonym'], unique=False)
    op.create_table(
        'perinatal_screening',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('episode_id', sa.String(length=36), nullable=False),
        sa.Column('questionnaire_version', sa.String(length=16), nullable=False),
        sa.Column('profile_version', sa.String(length=16), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.Column('needs', sa.JSON(), nullable=False),
        sa.Column('screened_by_pseudonym', sa.String(length=64), nullable=False),
        sa.Column('screened_by_nihii', sa.String(length=11), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['episode_id'], ['perinatal_episode.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_perinatal_screening_episode_id'), 'perinatal_screening', ['episode_id'], unique=False)
    op.create_table(
        'perinatal_referral',
        sa.Column('referral_id', sa.String(length=36), nullable=False),
        sa.Column('episode_id', sa.String(length=36), nullable=False),
        sa.Column('screening_id', sa.String(length=36), nullable=False),
        sa.Column('domain', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['episode_id'], ['perinatal_episode.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('referral_id'),
    )
    op.create_index(op.f('ix_perinatal_referral_episode_id'), 'perinatal_referral', ['episode_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_perinatal_referral_episode_id'), table_name='perinatal_referral')
    op.drop_table('perinatal_referral')
    op.drop_index(op.f('ix_perinatal_screening_episode_id'), table_name='perinatal_screening')
    op.drop_table('perinatal_screening')
    op.drop_index('ix_perinatal_episode_child', table_name='perinatal_episode')
    op.drop_index('ix_perinatal_episode_woman', table_name='perinatal_episode')
    op.drop_table('perinatal_episode')
