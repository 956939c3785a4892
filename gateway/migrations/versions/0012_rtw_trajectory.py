"""return to work, the trajectory: requests and their trainings and history, decisions and their publications, hours, messages

Training and coaching requests (RP-F3, RF-2) with their status history
(RP-F4), INAMI's decisions and their publication per recipient (RP-F5),
the hours the regional services report (RP-F7), and the messages of the
dossiers, the medical exchange among them (RP-F6, RP-F8). Only these tables.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rtw_message',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('dossier_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sender', sa.String(length=10), nullable=False),
    sa.Column('recipient', sa.String(length=10), nullable=False),
    sa.Column('party_low', sa.String(length=10), nullable=False),
    sa.Column('party_high', sa.String(length=10), nullable=False),
    sa.Column('sender_role', sa.String(length=32), nullable=False),
    sa.Column('sender_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['rtw_dossier.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rtw_message', schema=None) as batch_op:
        batch_op.create_index('ix_rtw_message_conversation', ['dossier_id', 'party_low', 'party_high', 'sent_at'], unique=False)

    op.create_table('rtw_request',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('dossier_id', sa.String(length=36), nullable=False),
    sa.Column('form_id', sa.String(length=36), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('project', sa.Text(), nullable=False),
    sa.Column('counsellor_name', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('filed_by_party', sa.String(length=16), nullable=False),
    sa.Column('filed_by_cbe', sa.String(length=10), nullable=False),
    sa.Column('filed_by_role', sa.String(length=32), nullable=False),
    sa.Column('filed_by_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('insurer_cbe', sa.String(length=10), nullable=False),
    sa.Column('insurer_code', sa.String(length=3), nullable=False),
    sa.Column('regional_cbe', sa.String(length=10), nullable=True),
    sa.Column('region', sa.String(length=16), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['rtw_dossier.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rtw_request', schema=None) as batch_op:
        batch_op.create_index('ix_rtw_request_created', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_rtw_request_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rtw_request_insurer_cbe'), ['insurer_cbe'], unique=False)
        batch_op.create_index(batch_op.f('ix_rtw_request_regional_cbe'), ['regional_cbe'], unique=False)
        batch_op.create_index('ix_rtw_request_status', ['status', 'received_at'], unique=False)

    op.create_table('rtw_decision',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('costs_granted_cents', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_by_role', sa.String(length=32), nullable=False),
    sa.Column('decided_by_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['rtw_request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id')
    )
    with op.batch_alter_table('rtw_decision', schema=None) as batch_op:
        batch_op.create_index('ix_rtw_decision_week', ['week', 'published_at'], unique=False)

    op.create_table('rtw_request_step',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('actor_role', sa.String(length=32), nullable=False),
    sa.Column('actor_cbe', sa.String(length=10), nullable=True),
    sa.Column('rule', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['rtw_request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'seq', name='uq_rtw_request_step_seq')
    )
    with op.batch_alter_table('rtw_request_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rtw_request_step_request_id'), ['request_id'], unique=False)

    op.create_table('rtw_training',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=True),
    sa.Column('hours_planned', sa.Integer(), nullable=False),
    sa.Column('cost_cents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['rtw_request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rtw_training', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rtw_training_request_id'), ['request_id'], unique=False)

    op.create_table('rtw_hours',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('training_id', sa.String(length=36), nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('regional_cbe', sa.String(length=10), nullable=False),
    sa.Column('performed_on', sa.Date(), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('reported_by_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['rtw_request.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['training_id'], ['rtw_training.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rtw_hours', schema=None) as batch_op:
        batch_op.create_index('ix_rtw_hours_period', ['regional_cbe', 'performed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_rtw_hours_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rtw_hours_training_id'), ['training_id'], unique=False)

    op.create_table('rtw_publication',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('decision_id', sa.String(length=36), nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('recipient', sa.String(length=10), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['rtw_decision.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['rtw_request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('decision_id', 'recipient', name='uq_rtw_publication')
    )
    with op.batch_alter_table('rtw_publication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rtw_publication_decision_id'), ['decision_id'], unique=False)
        batch_op.create_index('ix_rtw_publication_list', ['recipient', 'week'], unique=False)
        batch_op.create_index(batch_op.f('ix_rtw_publication_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rtw_publication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rtw_publication_request_id'))
        batch_op.drop_index('ix_rtw_publication_list')
        batch_op.drop_index(batch_op.f('ix_rtw_publication_decision_id'))

    op.drop_table('rtw_publication')
    with op.batch_alter_table('rtw_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rtw_hours_training_id'))
        batch_op.drop_index(batch_op.f('ix_rtw_hours_request_id'))
        batch_op.drop_index('ix_rtw_hours_period')

    op.drop_table('rtw_hours')
    with op.batch_alter_table('rtw_training', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rtw_training_request_id'))

    op.drop_table('rtw_training')
    with op.batch_alter_table('rtw_request_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rtw_request_step_request_id'))

    op.drop_table('rtw_request_step')
    with op.batch_alter_table('rtw_decision', schema=None) as batch_op:
        batch_op.drop_index('ix_rtw_decision_week')

    op.drop_table('rtw_decision')
    with op.batch_alter_table('rtw_request', schema=None) as batch_op:
        batch_op.drop_index('ix_rtw_request_status')
        batch_op.drop_index(batch_op.f('ix_rtw_request_regional_cbe'))
        batch_op.drop_index(batch_op.f('ix_rtw_request_insurer_cbe'))
        batch_op.drop_index(batch_op.f('ix_rtw_request_dossier_id'))
        batch_op.drop_index('ix_rtw_request_created')

    op.drop_table('rtw_request')
    with op.batch_alter_table('rtw_message', schema=None) as batch_op:
        batch_op.drop_index('ix_rtw_message_conversation')

    op.drop_table('rtw_message')
