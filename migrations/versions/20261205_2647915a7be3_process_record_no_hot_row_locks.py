"""process record: the log tables no longer lock the organisation and the form item they name

A foreign key check takes a KEY SHARE lock on the row it finds. Every acknowledged save writes an
answer-history row naming its paper form item and a chain link naming the organisation, so the
saves of a whole exam room locked the same organisation row and the same form-item rows at once:
on PostgreSQL, row locks held by several transactions at once become MultiXacts (measured: about
one per two saves under a burst), which cost the save path about a tenth of its throughput. The
two columns stay as they are (the values are facts of the record, protected by the chains and the
append-only triggers); `answer_history.attempt_id` keeps its key (the save's own statement holds
that attempt's row already) and so does `audit_events.actor_user_id` (staff actions only).

SQLite rebuilds both tables to drop a constraint, and a rebuilt table has lost its triggers: the
append-only triggers are created again, as in 7c1d2e3f4a5b.

Revision ID: 2647915a7be3
Revises: 5c1d7e9a2b40
Create Date: 2026-12-05 07:40:00.000000

"""
from alembic import op

revision = '2647915a7be3'
down_revision = '5c1d7e9a2b40'
branch_labels = None
depends_on = None

MESSAGE = '过程记录只能追加，不能修改或删除'
KEYS = (
    ('audit_events', 'fk_audit_events_organisation_id_organisations', 'organisations', 'organisation_id'),
    ('answer_history', 'fk_answer_history_form_item_id_paper_form_items', 'paper_form_items', 'form_item_id'),
)


def _sqlite_triggers(table: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    op.execute(f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
               f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
    op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
               f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, name, _referred, _column in KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_='foreignkey')
        if sqlite:
            _sqlite_triggers(table)


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, name, referred, column in KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(name, referred, [column], ['id'], ondelete='RESTRICT')
        if sqlite:
            _sqlite_triggers(table)
