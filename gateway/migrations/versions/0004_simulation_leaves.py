"""the simulated platform's tables leave the gateway's database

The simulation (register mutation feed, TherLink links, hub consents, the
sandbox IdP's authorization codes and spent client assertions) now keeps
its state in its own database (``gateway.ehealth.store``): the gateway's
database holds no plaintext NISS and no name (IC-R10). Their rows are
sandbox data; they are dropped, not moved.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_INDEXES = {
    'therlink_link': ['ix_therlink_link_patient'],
    'hub_patient_consent': ['ix_hub_patient_consent_patient'],
    'oauth_authorization_code': ['ix_oauth_authorization_code_expires_at'],
    'oauth_used_assertion': ['ix_oauth_used_assertion_expires_at'],
    'register_mutation': [],
}


def upgrade() -> None:
    for table, indexes in _INDEXES.items():
        if indexes:
            with op.batch_alter_table(table, schema=None) as batch_op:
                for index in indexes:
                    batch_op.drop_index(index)
        op.drop_table(table)


def downgrade() -> None:
    """Recreate the tables empty, as revisions 0001 and 0002 made them."""
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
