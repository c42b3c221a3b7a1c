"""The answer history: every acknowledged save, written with the save itself, and its link in
the attempt's chain (`attempt.answer_saved`, holding the answer's digest, so an edited history
row no longer matches its event).

The hottest path of an exam calls `saved` with the statements built once and, when this process
stored the attempt's previous link, with that link as `known_head`: then a save costs two
INSERTs and no read. A head that is no longer the chain's head (another process appended)
makes the event's INSERT a no-op, and `saved` answers None: the caller rolls back and takes the
general path, which reads the head (`chain.append`)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from examsys.audit import chain
from examsys.audit.actions import AuditAction
from examsys.audit.models import AnswerHistory

CANDIDATE_ROLE = "candidate"
_INSERT_HISTORY = insert(AnswerHistory.__table__)
_ACTION = AuditAction.ATTEMPT_ANSWER_SAVED.value

# attempt id → (seq, entry_hash) of the last link this process committed to its chain. Only a
# shortcut: a stale entry costs one rolled-back try (see the module's docstring).
_HEADS: OrderedDict[int, tuple[int, str]] = OrderedDict()
_HEADS_SIZE = 20_000
_LOCK = threading.Lock()


def known_head(attempt_id: int) -> tuple[int, str] | None:
    with _LOCK:
        return _HEADS.get(attempt_id)


def remember_head(attempt_id: int, link: tuple[int, str]) -> None:
    """After the commit of a save: its link is the attempt chain's head (as far as we know)."""
    with _LOCK:
        _HEADS[attempt_id] = link
        _HEADS.move_to_end(attempt_id)
        while len(_HEADS) > _HEADS_SIZE:
            _HEADS.popitem(last=False)


def forget_head(attempt_id: int) -> None:
    with _LOCK:
        _HEADS.pop(attempt_id, None)


def event_values(*, attempt_id: int, organisation_id: int | None, form_item_id: int, seq: int, answer: Any,
                 flagged: bool | None, now: datetime, ip: str | None, user_agent: str | None) -> dict:
    return {"occurred_at": now, "action": _ACTION, "actor_user_id": None, "actor_label": None,
            "actor_roles": CANDIDATE_ROLE, "organisation_id": organisation_id, "object_type": "attempt",
            "object_id": str(attempt_id),
            "data": {"item": form_item_id, "seq": seq, "answer_sha256": chain.answer_digest(answer),
                     "flagged": flagged},
            "ip": ip, "user_agent": (user_agent or "")[:255] or None}


def saved(conn, *, attempt_id: int, organisation_id: int | None, form_item_id: int, seq: int, answer: Any,
          flagged: bool | None, now: datetime, ip: str | None, user_agent: str | None,
          head: tuple[int, str] | None = None) -> tuple[int, str] | None:
    """Write one acknowledged save's history row and chain link (flushes, never commits);
    returns the link (seq, entry_hash). With `head` (a remembered link): None when it is no
    longer the chain's head — nothing of the event was written, and the caller must roll back.
    Without: the head is read, and appending retries under contention (chain.append)."""
    conn.execute(_INSERT_HISTORY, {"attempt_id": attempt_id, "form_item_id": form_item_id, "seq": seq,
                                   "answer": answer, "flagged": flagged, "saved_at": now, "ip": ip})
    values = event_values(attempt_id=attempt_id, organisation_id=organisation_id, form_item_id=form_item_id,
                          seq=seq, answer=answer, flagged=flagged, now=now, ip=ip, user_agent=user_agent)
    scope = chain.attempt_scope(attempt_id)
    if head is None:
        return chain.append(conn, scope, values)[2:]
    link_seq = head[0] + 1
    link = chain.entry_hash(values, scope=scope, seq=link_seq, prev=head[1])
    inserted = conn.execute(chain.insert_link(conn.dialect.name), {
        **values, "scope": scope, "seq": link_seq, "prev_hash": head[1], "entry_hash": link}).first()
    return (link_seq, link) if inserted is not None else None


__all__ = ["forget_head", "known_head", "remember_head", "saved"]
