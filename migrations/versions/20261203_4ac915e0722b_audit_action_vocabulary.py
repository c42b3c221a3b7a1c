"""audit actions renamed to one vocabulary (examsys.audit.actions.AuditAction)

Every stored audit_events.action is renamed to `<object>.<past participle>`, the object being the
audit name of the model the event is about; organisations and users now record their audit name
(`organisation`, `user`) as object_type instead of their table names.

The mapping is written out here, not imported: a migration must keep meaning what it meant when
it was written, whatever the enum becomes later.

Revision ID: 4ac915e0722b
Revises: df11c318b4a3
Create Date: 2026-12-03 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '4ac915e0722b'
down_revision = 'df11c318b4a3'
branch_labels = None
depends_on = None

RENAMED = {
    'organisation.create': 'organisation.created',
    'organisation.update': 'organisation.updated',
    'user.create': 'user.created',
    'user.update': 'user.updated',
    'auth.login': 'user.logged_in',
    'auth.login_failed': 'user.login_failed',
    'auth.locked': 'user.locked',
    'auth.logout': 'user.logged_out',
    'auth.session_end': 'user.session_ended',
    'candidate.create': 'candidate.created',
    'candidate.id_reveal': 'candidate.id_revealed',
    'candidate.photo': 'candidate.photo_set',
    'standard.create': 'standard.created',
    'standard.update': 'standard.updated',
    'standard.edition_create': 'standard.edition_created',
    'standard.tree_load': 'standard.tree_loaded',
    'bank.import': 'standard.items_imported',
    'knowledge_range.create': 'knowledge_range.created',
    'knowledge_range.update': 'knowledge_range.updated',
    'knowledge_range.delete': 'knowledge_range.deleted',
    'assessment_point.create': 'assessment_point.created',
    'assessment_point.update': 'assessment_point.updated',
    'assessment_point.retire': 'assessment_point.retired',
    'assessment_point.restore': 'assessment_point.restored',
    'item.create': 'item.created',
    'item.edit': 'item.edited',
    'item.retire': 'item.retired',
    'item.fault_report': 'item.fault_reported',
    'item.flag_revision': 'item.flagged_for_revision',
    'item.enemy_group': 'item.enemy_group_set',
    'item_version.submit': 'item_version.submitted',
    'item_version.approve': 'item_version.approved',
    'item_version.return': 'item_version.returned',
    'asset.upload': 'asset.uploaded',
    'blueprint.create': 'paper_blueprint.created',
    'blueprint.update': 'paper_blueprint.updated',
    'paper.assemble_failed': 'paper_blueprint.assembly_failed',
    'paper.assemble': 'paper.assembled',
    'paper.freeze': 'paper.frozen',
    'paper.discard': 'paper.discarded',
    'paper.replace_item': 'paper.item_replaced',
    'batch.create': 'batch.created',
    'batch.update': 'batch.updated',
    'batch.file': 'batch.filed',
    'batch.filing_change': 'batch.filing_changed',
    'batch.state': 'batch.state_changed',
    'batch.open': 'batch.opened',
    'batch.extend': 'batch.extended',
    'batch.roster_import': 'batch.roster_imported',
    'batch.roster_clear': 'batch.roster_cleared',
    'batch.demo_window': 'batch.demo_window_set',
    'results.computed': 'batch.results_computed',
    'results.published': 'batch.results_published',
    'candidate.login_failed': 'roster_entry.login_failed',
    'candidate.seb_check_failed': 'roster_entry.seb_check_failed',
    'candidate.login': 'candidate_session.opened',
    'candidate.session_replaced': 'candidate_session.replaced',
    'candidate.logout': 'candidate_session.closed',
    'attempt.start': 'attempt.started',
    'attempt.submit': 'attempt.submitted',
    'attempt.timeout': 'attempt.timed_out',
    'attempt.terminate': 'attempt.terminated',
    'attempt.reopen': 'attempt.reopened',
    'attempt.extend': 'attempt.extended',
    'candidate.stale_session': 'attempt.stale_session_used',
    'proctor.note': 'incident.noted',
    'proctor.extra_time': 'incident.extra_time_granted',
    'proctor.reopen': 'incident.attempt_reopened',
    'proctor.terminate': 'incident.attempt_terminated',
    'survey.submit': 'survey_response.submitted',
    'grading.attempt_scored': 'attempt.scored',
    'marking.mark': 'mark.given',
    'results.reviewed': 'result_review.recorded',
    'results.correction_requested': 'score_correction.requested',
    'results.correction_self_approval_refused': 'score_correction.self_approval_refused',
    'results.correction_approved': 'score_correction.approved',
    'results.correction_rejected': 'score_correction.rejected',
    'results.review_applied': 'score_review_request.submitted',
    'results.review_answered': 'score_review_request.answered',
}

# Object types that were table names; `user` was already written by session ends.
OBJECT_TYPES = {'organisations': 'organisation', 'users': 'user'}
USER_OBJECT_TYPE_BEFORE = ('auth.logout', 'auth.session_end')

events = sa.table('audit_events', sa.column('action', sa.String), sa.column('object_type', sa.String))


def _rename(mapping):
    for old, new in mapping.items():
        op.execute(events.update().where(events.c.action == old).values(action=new))


def upgrade():
    _rename(RENAMED)
    for old, new in OBJECT_TYPES.items():
        op.execute(events.update().where(events.c.object_type == old).values(object_type=new))


def downgrade():
    _rename({new: old for old, new in RENAMED.items()})
    op.execute(events.update().where(events.c.object_type == 'organisation')
               .values(object_type='organisations'))
    op.execute(events.update().where(events.c.object_type == 'user',
                                     events.c.action.not_in(USER_OBJECT_TYPE_BEFORE))
               .values(object_type='users'))
