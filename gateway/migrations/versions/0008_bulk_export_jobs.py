"""bulk-export jobs of the insurers (IC-R7, FHIR Bulk Data)

``export_job`` (who asked, which cohort and types, progress, heartbeat),
``export_file`` (one NDJSON output file) and ``export_chunk`` (its lines,
sealed with AES-GCM under a key derived for the job): the gateway keeps no
state outside its database, and its database no plaintext NISS (IC-R10).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('export_job',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('insurer_code', sa.String(length=3), nullable=False),
    sa.Column('cohort', sa.String(length=16), nullable=False),
    sa.Column('types', sa.JSON(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('request_url', sa.Text(), nullable=False),
    sa.Column('requester_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('requester_role', sa.String(length=32), nullable=False),
    sa.Column('requester_organisation', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('transaction_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.create_index('ix_export_job_insurer', ['insurer_code', 'status'], unique=False)
    op.create_table('export_file',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('resource_type', sa.String(length=32), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['export_job.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('export_file', schema=None) as batch_op:
        batch_op.create_index('ix_export_file_job_id', ['job_id'], unique=False)
    op.create_table('export_chunk',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['export_file.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('export_chunk', schema=None) as batch_op:
        batch_op.create_index('ix_export_chunk_file_id', ['file_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('export_chunk', schema=None) as batch_op:
        batch_op.drop_index('ix_export_chunk_file_id')
    op.drop_table('export_chunk')
    with op.batch_alter_table('export_file', schema=None) as batch_op:
        batch_op.drop_index('ix_export_file_job_id')
    op.drop_table('export_file')
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.drop_index('ix_export_job_insurer')
    op.drop_table('export_job')
