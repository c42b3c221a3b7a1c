"""Running a verification of the process record and keeping its result (the status page shows
the latest): the chains, the seals and the answer history, and a signed checkpoint if given."""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import select

from examsys import clock
from examsys.audit import checkpoints
from examsys.audit.models import VerificationRun
from examsys.audit.verify import Report, batch_scopes, verify_database
from examsys.extensions import db

KEPT_FAILURES = 50


def verify(batch_id: int | None = None, checkpoint_note: str | None = None, verifier: str | None = None) -> Report:
    """Verify (everything, or one batch's chains) and record the run (flushed). Raises
    ValidationError for a checkpoint whose signature or content does not hold."""
    started, timer = clock.now(), time.perf_counter()
    scopes = batch_scopes(batch_id) if batch_id is not None else None
    checkpoint = checkpoints.parse(checkpoint_note, verifier) if checkpoint_note is not None else None
    report = verify_database(scopes)
    if checkpoint is not None:
        report.failures.extend(checkpoints.compare(
            checkpoint, report.heads, checkpoints.links_at(checkpoint), set(scopes) if scopes is not None else None))
    report.seconds = round(time.perf_counter() - timer, 2)
    db.session.add(VerificationRun(
        started_at=started, finished_at=clock.now(), target="all" if batch_id is None else f"batch/{batch_id}",
        checkpoint_sha256=hashlib.sha256(checkpoint_note.encode()).hexdigest() if checkpoint_note else None,
        ok=report.ok, events=report.events, scopes=report.scopes,
        failures=[f.as_dict() for f in report.failures[:KEPT_FAILURES]]))
    db.session.flush()
    return report


def latest() -> VerificationRun | None:
    return db.session.scalar(select(VerificationRun).order_by(VerificationRun.id.desc()).limit(1))


__all__ = ["latest", "verify"]
