"""`attempts.transition` takes the attempt row as its guarded UPDATE returns it, not as it was
loaded: what others changed since (saves on other connections count answers) is what the
closing event records; and the seal names the attempt chain's head as the closing event made it."""

from __future__ import annotations

from sqlalchemy import select, update

from examsys.audit import chain
from examsys.audit.models import AuditEvent
from examsys.audit.verify import verify_database
from examsys.delivery.exam import services as exam
from examsys.delivery.models import Attempt, AttemptStatus


def test_submit_records_the_row_as_updated_and_seals_the_new_head(delivery_world, candidate_api, db):
    candidate_api.login(0)
    aid = candidate_api.start()
    attempt = db.session.get(Attempt, aid)
    assert attempt.answered_count == 0
    db.session.execute(update(Attempt).where(Attempt.id == aid).values(answered_count=3)
                       .execution_options(synchronize_session=False))  # behind the loaded object's back
    exam.submit(attempt)
    assert attempt.status == AttemptStatus.SUBMITTED and attempt.answered_count == 3
    assert attempt.finished_at is not None and attempt.finish_reason == "submitted"
    submitted = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attempt.submitted",
                                                           AuditEvent.object_id == str(aid)))
    assert submitted.data["answered"] == 3
    seal = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attempt.sealed"))
    assert (seal.data["size"], seal.data["head"]) == chain.head(db.session.connection(), chain.attempt_scope(aid))
    assert (seal.data["size"], seal.data["head"]) == (submitted.seq, submitted.entry_hash)
    assert exam.submit(attempt) is attempt and attempt.status == AttemptStatus.SUBMITTED  # again: no change
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "attempt.sealed",
                                                         AuditEvent.id != seal.id)) is None
    assert verify_database().ok
