"""referral workflow and versions of referrals and care teams (RF-1, RF-4, CT-5)

A referral's status becomes FHIR's request status (draft, active, on-hold,
revoked, completed) with a reason; each performer gets its own Task status
and reason on its party row; every version of a referral and of a care team
is kept (vread, history). Existing referrals are carried over: 'accepted'
becomes an active referral whose performers' Tasks are accepted, and each
referral and care team gets its current version as its first kept one.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# the referral's old status -> (its request status, its performers' Task status)
_CARRIED = {"draft": ("draft", "draft"), "active": ("active", "requested"), "accepted": ("active", "accepted"),
            "completed": ("completed", "completed"), "revoked": ("revoked", "cancelled")}


def upgrade() -> None:
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('referral_party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('task_reason', sa.Text(), nullable=True))
    op.create_table('referral_version',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('referral_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_role', sa.String(length=32), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ux_referral_version', 'referral_version', ['referral_id', 'version'], unique=True)
    op.create_table('care_team_version',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('care_team_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_role', sa.String(length=32), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['care_team_id'], ['care_team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ux_care_team_version', 'care_team_version', ['care_team_id', 'version'], unique=True)
    _carry_over()


def _carry_over() -> None:
    """Existing rows in the new shape, each with its current version kept (the
    snapshot shapes of gateway/domain/referrals.py and care_teams.py as of this revision)."""
    bind = op.get_bind()
    for old, (status, task) in _CARRIED.items():
        bind.execute(sa.text("UPDATE referral_party SET task_status = :task WHERE role = 'performer' AND referral_id IN "
                             "(SELECT id FROM referral WHERE status = :old)"), {"task": task, "old": old})
        bind.execute(sa.text("UPDATE referral SET status = :status WHERE status = :old"), {"status": status, "old": old})
    versions = sa.table("referral_version", sa.column("referral_id"), sa.column("version"), sa.column("action"), sa.column("at"),
                        sa.column("actor_role"), sa.column("snapshot", sa.JSON()))
    parties: dict[str, list[list[object]]] = {}
    for row in bind.execute(sa.text("SELECT referral_id, id, task_status, task_reason FROM referral_party "
                                    "WHERE role = 'performer' ORDER BY id")):
        parties.setdefault(row.referral_id, []).append([row.id, row.task_status, row.task_reason])
    rows = [{"referral_id": r.id, "version": r.version, "action": "carried-over", "at": r.updated_at, "actor_role": "system",
             "snapshot": {"status": r.status, "status_reason": None, "tasks": parties.get(r.id, [])}}
            for r in bind.execute(sa.text("SELECT id, version, status, updated_at FROM referral"))]
    if rows:
        op.bulk_insert(versions, rows)
    teams = sa.table("care_team_version", sa.column("care_team_id"), sa.column("version"), sa.column("action"), sa.column("at"),
                     sa.column("actor_role"), sa.column("snapshot", sa.JSON()))
    members: dict[str, list[dict[str, object]]] = {}
    tokens = {row.pseudonym: row.token for row in bind.execute(sa.text("SELECT token, pseudonym FROM audit_subject"))}
    subjects = sa.table("audit_subject", sa.column("token"), sa.column("pseudonym"), sa.column("created_at"))

    def subject(pseudonym: str | None) -> str | None:
        """A member who is a person is named by their audit token, never by pseudonym (IC-R5, IC-R6)."""
        if pseudonym is None:
            return None
        if pseudonym not in tokens:
            tokens[pseudonym] = "s-" + uuid.uuid4().hex
            op.bulk_insert(subjects, [{"token": tokens[pseudonym], "pseudonym": pseudonym, "created_at": datetime.now(timezone.utc)}])
        return tokens[pseudonym]

    for m in bind.execute(sa.text("SELECT care_team_id, kind, member_pseudonym, member_nihii, role, period_start, period_end "
                                  "FROM care_team_member ORDER BY id")).all():
        members.setdefault(m.care_team_id, []).append({
            "kind": m.kind, "subject": subject(m.member_pseudonym), "nihii": m.member_nihii, "role": m.role,
            "period_start": str(m.period_start) if m.period_start else None,
            "period_end": str(m.period_end) if m.period_end else None})
    rows = [{"care_team_id": t.id, "version": t.version, "action": "carried-over", "at": t.updated_at, "actor_role": "system",
             "snapshot": {"kind": t.kind, "status": t.status, "name": t.name, "managing_organisation": t.managing_organisation,
                          "period_start": str(t.period_start) if t.period_start else None,
                          "period_end": str(t.period_end) if t.period_end else None,
                          "members": members.get(t.id, [])}}
            for t in bind.execute(sa.text("SELECT id, version, kind, status, name, managing_organisation, period_start, period_end, "
                                          "updated_at FROM care_team"))]
    if rows:
        op.bulk_insert(teams, rows)


def downgrade() -> None:
    op.drop_index('ux_care_team_version', table_name='care_team_version')
    op.drop_table('care_team_version')
    op.drop_index('ux_referral_version', table_name='referral_version')
    op.drop_table('referral_version')
    op.execute("UPDATE referral SET status = 'active' WHERE status = 'on-hold'")
    op.execute("UPDATE referral SET status = 'accepted' WHERE status = 'active' AND id IN "
               "(SELECT referral_id FROM referral_party WHERE task_status = 'accepted')")
    with op.batch_alter_table('referral_party', schema=None) as batch_op:
        batch_op.drop_column('task_reason')
        batch_op.drop_column('task_status')
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_column('status_reason')
