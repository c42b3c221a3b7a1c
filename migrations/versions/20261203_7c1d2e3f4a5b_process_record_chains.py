"""process record: hash chains per scope, the answer history, append-only triggers, verification runs

Every existing event becomes a link of its organisation's chain (`org/<id>`, or `province`),
in id order, hashed in the canonical form version 1 (written out here, not imported, so the
migration keeps meaning what it meant). New events choose their scope themselves
(examsys.audit.chain).

Revision ID: 7c1d2e3f4a5b
Revises: 4ac915e0722b
Create Date: 2026-12-03 12:00:00.000000

"""
import hashlib
from datetime import UTC

import orjson
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import examsys.dbtypes

revision = '7c1d2e3f4a5b'
down_revision = '4ac915e0722b'
branch_labels = None
depends_on = None

GENESIS = '0' * 64
MESSAGE = '过程记录只能追加，不能修改或删除'
TABLES = ('audit_events', 'answer_history')


def _canonical(row, scope, seq, prev):
    at = row.occurred_at
    at = (at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
    return orjson.dumps({
        'v': 1, 'scope': scope, 'seq': seq, 'prev': prev, 'at': at, 'action': row.action,
        'actor': {'id': row.actor_user_id, 'label': row.actor_label, 'roles': row.actor_roles},
        'org': row.organisation_id, 'object': {'type': row.object_type, 'id': row.object_id},
        'data': row.data or {}, 'ip': row.ip, 'ua': row.user_agent,
    }, option=orjson.OPT_SORT_KEYS)


def _backfill():
    conn = op.get_bind()
    events = sa.table(
        'audit_events', sa.column('id', sa.BigInteger), sa.column('occurred_at', examsys.dbtypes.UTCDateTime()),
        sa.column('action', sa.String), sa.column('actor_user_id', sa.Integer),
        sa.column('actor_label', sa.String), sa.column('actor_roles', sa.String),
        sa.column('organisation_id', sa.Integer), sa.column('object_type', sa.String),
        sa.column('object_id', sa.String), sa.column('data', sa.JSON), sa.column('ip', sa.String),
        sa.column('user_agent', sa.String), sa.column('scope', sa.String), sa.column('seq', sa.BigInteger),
        sa.column('prev_hash', sa.String), sa.column('entry_hash', sa.String))
    heads = {}
    rows = conn.execute(sa.select(events).order_by(events.c.id)).all()
    for row in rows:
        scope = 'province' if row.organisation_id is None else f'org/{row.organisation_id}'
        seq, prev = heads.get(scope, (0, GENESIS))
        seq += 1
        link = hashlib.sha256(_canonical(row, scope, seq, prev)).hexdigest()
        conn.execute(events.update().where(events.c.id == row.id)
                     .values(scope=scope, seq=seq, prev_hash=prev, entry_hash=link))
        heads[scope] = (seq, link)


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
    _backfill()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('scope', existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('entry_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint('uq_audit_events_scope_seq', ['scope', 'seq'])

    op.create_table('answer_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('form_item_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('answer', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('flagged', sa.Boolean(), nullable=True),
    sa.Column('saved_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_answer_history_attempt_id_attempts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['form_item_id'], ['paper_form_items.id'], name=op.f('fk_answer_history_form_item_id_paper_form_items'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_history')),
    sa.UniqueConstraint('attempt_id', 'form_item_id', 'seq', name='uq_answer_history_save')
    )

    op.create_table('audit_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('checkpoint_sha256', sa.String(length=64), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('events', sa.BigInteger(), nullable=False),
    sa.Column('scopes', sa.Integer(), nullable=False),
    sa.Column('failures', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_verifications'))
    )

    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE OR REPLACE FUNCTION examsys_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$")
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION examsys_refuse_change()")
    else:
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
            op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS examsys_refuse_change()")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    op.drop_table('audit_verifications')
    op.drop_table('answer_history')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_events_scope_seq', type_='unique')
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('entry_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.drop_column('seq')
        batch_op.drop_column('scope')
