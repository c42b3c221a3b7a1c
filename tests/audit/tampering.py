"""Tampering with the process record as someone with database rights would: the append-only
triggers are dropped first (inside the test's transaction, so the rollback restores them)."""

from __future__ import annotations

from sqlalchemy import select, text

from examsys.audit import chain
from examsys.audit.models import AuditEvent

_COLS = ("occurred_at", "action", "actor_user_id", "actor_label", "actor_roles", "organisation_id", "object_type",
         "object_id", "data", "ip", "user_agent")


def disable_triggers(db) -> None:
    if db.engine.dialect.name == "postgresql":
        for table in ("audit_events", "answer_history"):
            db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    else:
        for table in ("audit_events", "answer_history"):
            for kind in ("update", "delete"):
                db.session.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{kind}"))


def _set_seq(db, scope: str, old: int, new: int) -> None:
    db.session.execute(text("UPDATE audit_events SET seq = :new WHERE scope = :s AND seq = :old"),
                       {"new": new, "s": scope, "old": old})


def tamper(db, case: str, scope: str, seq: int) -> int | None:
    """Apply `case` at link `seq` of `scope`; returns the seq verification must name first."""
    disable_triggers(db)
    where = {"s": scope, "q": seq}
    if case == "edited":
        db.session.execute(text("UPDATE audit_events SET ip = '6.6.6.6' WHERE scope = :s AND seq = :q"), where)
        return seq
    if case in ("deleted", "truncate"):
        db.session.execute(text("DELETE FROM audit_events WHERE scope = :s AND seq = :q"), where)
        return seq
    if case == "inserted":
        last = db.session.scalar(text("SELECT max(seq) FROM audit_events WHERE scope = :s"), {"s": scope})
        for n in range(last, seq - 1, -1):
            _set_seq(db, scope, n, n + 1)
        before = db.session.scalar(select(AuditEvent).where(AuditEvent.scope == scope, AuditEvent.seq == seq - 1))
        values = {c: getattr(before, c) for c in _COLS}
        values["data"] = {"forged": True}
        link = chain.entry_hash(values, scope=scope, seq=seq, prev=before.entry_hash)
        db.session.execute(AuditEvent.__table__.insert().values(
            **values, scope=scope, seq=seq, prev_hash=before.entry_hash, entry_hash=link))
        return seq + 1
    if case == "reordered":
        _set_seq(db, scope, seq, -1)
        _set_seq(db, scope, seq + 1, seq)
        _set_seq(db, scope, -1, seq + 1)
        return seq
    if case == "history":
        attempt_id = chain.parse_scope(scope)[1]
        db.session.execute(text("UPDATE answer_history SET answer = :a WHERE attempt_id = :t AND seq = :q"),
                           {"a": '"D"', "t": attempt_id, "q": seq})
        return None
    if case == "drop_chain":
        db.session.execute(text("DELETE FROM audit_events WHERE scope = :s"), {"s": scope})
        return None
    raise ValueError(case)
