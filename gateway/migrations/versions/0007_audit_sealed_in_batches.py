"""audit records appended without a lock, sealed into the hash chain in batches

An act used to lock the audit head row to chain its record, so every act of
every instance waited on one row. Now a record takes the next ``seq`` from
the database (PostgreSQL: a sequence; SQLite: the rowid it already was) and
stays unsealed (``position``, ``prev_hash``, ``hash`` NULL) until a sealer
chains it after the head. Records already chained keep their hash: their
``position`` is their ``seq``, and a record's hash never covered its
position (the links fix the order).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', _ID, nullable=True))
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=True)
    op.execute("UPDATE audit_record SET position = seq")
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.create_index('ux_audit_position', ['position'], unique=True)
        batch_op.create_index('ix_audit_unsealed', ['seq'], unique=False,
                              sqlite_where=sa.text('position IS NULL'), postgresql_where=sa.text('position IS NULL'))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE SEQUENCE IF NOT EXISTS audit_record_seq_seq OWNED BY audit_record.seq")
        op.execute("SELECT setval('audit_record_seq_seq', COALESCE((SELECT MAX(seq) FROM audit_record), 0) + 1, false)")
        op.execute("ALTER TABLE audit_record ALTER COLUMN seq SET DEFAULT nextval('audit_record_seq_seq')")


def downgrade() -> None:
    """Only a trail whose every record is sealed at the position of its seq
    fits the older chain; anything else is refused, never dropped."""
    bind = op.get_bind()
    misplaced = bind.execute(sa.text(
        "SELECT COUNT(*) FROM audit_record WHERE position IS NULL OR position <> seq")).scalar_one()
    if misplaced:
        raise RuntimeError(f"{misplaced} audit record(s) are unsealed or sealed out of seq order: the older schema "
                           "cannot hold them; run care-gateway audit seal, or stay on this revision.")
    if bind.dialect.name == 'postgresql':
        op.execute("ALTER TABLE audit_record ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS audit_record_seq_seq")
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_unsealed')
        batch_op.drop_index('ux_audit_position')
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('position')
