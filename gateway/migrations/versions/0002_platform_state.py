"""simulated platform state, replay cache, rights requests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:49:08.207269
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hub_patient_consent',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('patient_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('consent_type', sa.String(length=32), nullable=False),
    sa.Column('sign_date', sa.Date(), nullable=False),
    sa.Column('revoke_date', sa.Date(), nullable=True),
    sa.Column('author_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('author_role', sa.String(length=32), nullable=False),
    sa.Column('author_nihii', sa.String(length=11), nullable=True),
    sa.Column('author_hcparty', sa.String(length=40), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_by_pseudonym', sa.String(length=64), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hub_patient_consent', schema=None) as batch_op:
        batch_op.create_index('ix_hub_patient_consent_patient', ['patient_pseudonym'], unique=False)

    op.create_table('oauth_authorization_code',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('nonce', sa.String(length=200), nullable=True),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('claims', sa.JSON(), nullable=False),
    sa.Column('auth_time', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('used_at', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('code_hash')
    )
    with op.batch_alter_table('oauth_authorization_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_authorization_code_expires_at'), ['expires_at'], unique=False)

    op.create_table('oauth_used_assertion',
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('jti', sa.String(length=128), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('client_id', 'jti')
    )
    with op.batch_alter_table('oauth_used_assertion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_used_assertion_expires_at'), ['expires_at'], unique=False)

    op.create_table('rights_request',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('patient_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rights_request', schema=None) as batch_op:
        batch_op.create_index('ix_rights_patient', ['patient_pseudonym', 'kind'], unique=False)

    op.create_table('seen_message',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('expires', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('digest')
    )
    with op.batch_alter_table('seen_message', schema=None) as batch_op:
        batch_op.create_index('ix_seen_message_expires', ['expires'], unique=False)

    op.create_table('therlink_link',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('patient_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('party_kind', sa.String(length=16), nullable=False),
    sa.Column('party_pseudonym', sa.String(length=64), nullable=True),
    sa.Column('party_nihii', sa.String(length=11), nullable=False),
    sa.Column('party_hcparty', sa.String(length=40), nullable=False),
    sa.Column('link_type', sa.String(length=40), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('proof_type', sa.String(length=32), nullable=True),
    sa.Column('comment', sa.String(length=255), nullable=True),
    sa.Column('author_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('author_role', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('revoked_by_pseudonym', sa.String(length=64), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('therlink_link', schema=None) as batch_op:
        batch_op.create_index('ix_therlink_link_patient', ['patient_pseudonym'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('therlink_link', schema=None) as batch_op:
        batch_op.drop_index('ix_therlink_link_patient')

    op.drop_table('therlink_link')
    with op.batch_alter_table('seen_message', schema=None) as batch_op:
        batch_op.drop_index('ix_seen_message_expires')

    op.drop_table('seen_message')
    with op.batch_alter_table('rights_request', schema=None) as batch_op:
        batch_op.drop_index('ix_rights_patient')

    op.drop_table('rights_request')
    with op.batch_alter_table('oauth_used_assertion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_used_assertion_expires_at'))

    op.drop_table('oauth_used_assertion')
    with op.batch_alter_table('oauth_authorization_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_authorization_code_expires_at'))

    op.drop_table('oauth_authorization_code')
    with op.batch_alter_table('hub_patient_consent', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_patient_consent_patient')

    op.drop_table('hub_patient_consent')
