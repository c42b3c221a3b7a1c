"""A candidate's access to their own exam: their attempt by id (someone else's is "not found"),
and the Safe Exam Browser check of a batch that requires it. Refusals that are evidence (a failed
SEB check) are recorded by the error path after the request's rollback."""

from __future__ import annotations

from examsys import audit, transaction
from examsys.audit.actions import AuditAction
from examsys.delivery.exam import integrity
from examsys.delivery.models import Attempt, RosterEntry
from examsys.errors import NotFound, PermissionDenied
from examsys.extensions import db

SEB_REQUIRED = "请使用指定的安全考试浏览器（Safe Exam Browser）参加考试"


def check_seb(entry: RosterEntry, attempt: Attempt | None, *, url: str, header: str | None, path: str) -> None:
    """Raises PermissionDenied (code `seb_required`) unless the batch needs no Safe Exam Browser
    or `header` matches `url`; the failure is recorded after the rollback (an integrity event of
    the attempt, or an audit event before there is one)."""
    key = entry.batch.seb_config_key
    if not key or integrity.seb_ok(key, url, header):
        return
    data = {"path": path[:200], "header": "missing" if not header else "wrong"}
    attempt_id, entry_id = (attempt.id if attempt is not None else None), entry.id
    if attempt_id is not None:
        transaction.on_rollback(lambda: integrity.record_server_event(attempt_id, "seb_check_failed", data))
    else:
        transaction.on_rollback(lambda: audit.record(
            AuditAction.ROSTER_ENTRY_SEB_CHECK_FAILED, obj=db.session.get(RosterEntry, entry_id), data=data))
    exc = PermissionDenied(SEB_REQUIRED)
    exc.code = "seb_required"
    raise exc


def own_attempt(entry: RosterEntry, attempt_id: int, *, url: str, seb_header: str | None, path: str) -> Attempt:
    """The entry's own attempt. Raises NotFound (also for someone else's: no hint that it exists)
    and PermissionDenied `seb_required` (see `check_seb`)."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or attempt.roster_entry_id != entry.id:
        raise NotFound("考试记录不存在")
    check_seb(entry, attempt, url=url, header=seb_header, path=path)
    return attempt


__all__ = ["check_seb", "own_attempt"]
