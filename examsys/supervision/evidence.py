"""The one loader of a batch's anomaly analysis from the database: its attempts, their saves
(answer history), integrity events and candidate sessions, the final answers and the keys of the
items the candidates saw, fed to the pure `anomalies` and `copying` functions.

A fixed handful of queries per batch, never one per candidate. Reads only: nothing is flushed
or committed, so supervisors' pages can call it inside any request.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from examsys.assembly.models import PaperFormItem
from examsys.assembly.queries import EFFECTIVE_VERSION_ID
from examsys.audit.models import AnswerHistory
from examsys.bank.models import ItemVersion, QType
from examsys.delivery.models import Attempt, BatchRoom, CandidateSession, IntegrityEvent, Response, RosterEntry
from examsys.errors import NotFound
from examsys.extensions import db
from examsys.supervision import anomalies, copying
from examsys.supervision.anomalies import AttemptRecord, Flag, Save, SessionRecord, Signal, Thresholds
from examsys.supervision.copying import KeyedItem, PairResult, RoomCopying


@dataclass
class BatchAnomalies:
    batch_id: int
    flags: dict[int, list[Flag]]  # attempt id → its flags, most severe first
    rooms: dict[int, RoomCopying]  # room id → copying index of its pairs (candidates are attempt ids)
    room_names: dict[int, str] = field(default_factory=dict)
    median_rate: float | None = None  # items per minute, the batch's median
    thresholds: Thresholds = field(default_factory=Thresholds)

    @property
    def flagged_pairs(self) -> list[PairResult]:
        return [p for room in self.rooms.values() for p in room.flagged]

    @property
    def flagged_attempts(self) -> list[int]:
        return [a for a, flags in self.flags.items() if flags]


def _records(batch_id: int) -> tuple[dict[int, AttemptRecord], dict[int, int | None], dict[int, int]]:
    """(attempt id → record, attempt id → room id, attempt id → form id)."""
    rows = db.session.execute(
        select(Attempt.id, Attempt.started_at, Attempt.finished_at, Attempt.form_id, Attempt.roster_entry_id,
               RosterEntry.room_id)
        .join(RosterEntry, RosterEntry.id == Attempt.roster_entry_id)
        .where(Attempt.batch_id == batch_id).order_by(Attempt.id)).all()
    records = {r.id: AttemptRecord(attempt_id=r.id, started_at=r.started_at, finished_at=r.finished_at)
               for r in rows}
    of_entry = {r.roster_entry_id: r.id for r in rows}
    in_batch = select(Attempt.id).where(Attempt.batch_id == batch_id)
    for h in db.session.scalars(select(AnswerHistory).where(AnswerHistory.attempt_id.in_(in_batch))
                                .order_by(AnswerHistory.attempt_id, AnswerHistory.saved_at, AnswerHistory.seq)):
        records[h.attempt_id].saves.append(Save(form_item_id=h.form_item_id, seq=h.seq, answer=h.answer,
                                                saved_at=h.saved_at, ip=h.ip, id=h.id))
    for e in db.session.scalars(select(IntegrityEvent).where(IntegrityEvent.attempt_id.in_(in_batch))
                                .order_by(IntegrityEvent.occurred_at, IntegrityEvent.id)):
        records[e.attempt_id].signals.append(Signal(kind=e.kind, source=e.source, occurred_at=e.occurred_at,
                                                    data=e.data or {}, id=e.id))
    for s in db.session.scalars(select(CandidateSession).where(CandidateSession.roster_entry_id.in_(of_entry))
                                .order_by(CandidateSession.created_at, CandidateSession.id)):
        records[of_entry[s.roster_entry_id]].sessions.append(SessionRecord(
            created_at=s.created_at, ended_at=s.ended_at, end_reason=s.end_reason, ip=s.ip,
            user_agent=s.user_agent, id=s.id))
    return records, {r.id: r.room_id for r in rows}, {r.id: r.form_id for r in rows}


def _keys(form_ids: set[int]) -> tuple[dict[int, int], dict[int, KeyedItem]]:
    """(form item id → the effective version id a candidate saw, version id → its KeyedItem).
    Copying compares versions, so candidates on two forms sharing an item are compared on it."""
    fi = PaperFormItem.__table__
    version_of = dict(db.session.execute(select(fi.c.id, EFFECTIVE_VERSION_ID).where(fi.c.form_id.in_(form_ids)))
                      .all()) if form_ids else {}
    keys = {v.id: KeyedItem(item=v.id, qtype=str(v.qtype),
                            key=(v.content or {}).get("key"))
            for v in db.session.execute(select(ItemVersion.id, ItemVersion.qtype, ItemVersion.content)
                                        .where(ItemVersion.id.in_(set(version_of.values())))
                                        .where(ItemVersion.qtype.in_([QType(q) for q in copying.COPYING_QTYPES])))}
    return version_of, keys


def batch_anomalies(batch_id: int, thresholds: Thresholds = Thresholds(), *, alpha: float = copying.ALPHA,
                    min_matches: int = copying.MIN_MATCHES,
                    min_common: int = copying.MIN_COMMON_ITEMS) -> BatchAnomalies:
    """Every attempt's flags and every room's copying index for one batch (an empty result for a
    batch without attempts); `alpha`, `min_matches` and `min_common` as in
    `copying.room_copying`. Reads only."""
    records, room_of, form_of = _records(batch_id)
    version_of, keys = _keys(set(form_of.values()))
    answers: dict[int, dict] = {a: {} for a in records}
    for attempt_id, form_item_id, answer in db.session.execute(
            select(Response.attempt_id, Response.form_item_id, Response.answer)
            .where(Response.attempt_id.in_(select(Attempt.id).where(Attempt.batch_id == batch_id)))):
        version = version_of.get(form_item_id)
        if version in keys:
            answers[attempt_id][version] = answer
    members: dict[int, list[int]] = defaultdict(list)
    for attempt_id, room_id in room_of.items():
        # Candidates without a room are not known to have sat together: they only help estimate
        # chance agreement.
        if room_id is not None:
            members[room_id].append(attempt_id)
    rooms = copying.room_copying(answers, keys, members, alpha=alpha, min_matches=min_matches,
                                 min_common=min_common) if records else {}
    pairs = [p for room in rooms.values() for p in room.flagged]
    ordered = list(records.values())
    names = dict(db.session.execute(select(BatchRoom.id, BatchRoom.name).where(BatchRoom.batch_id == batch_id))
                 .all())
    return BatchAnomalies(batch_id=batch_id,
                          flags=anomalies.batch_flags(ordered, pairs, thresholds, identity=version_of),
                          rooms=rooms, room_names=names,
                          median_rate=anomalies.batch_median_rate(ordered, thresholds), thresholds=thresholds)


def batch_of(attempt_id: int) -> int:
    """The attempt's batch; raises NotFound for an unknown attempt."""
    batch_id = db.session.scalar(select(Attempt.batch_id).where(Attempt.id == attempt_id))
    if batch_id is None:
        raise NotFound("作答记录不存在")
    return batch_id


def attempt_anomalies(attempt_id: int, thresholds: Thresholds = Thresholds()) -> list[Flag]:
    """One attempt's flags. Its batch is analysed whole, since speed is judged against the batch's
    median and copying against the room. Raises NotFound for an unknown attempt."""
    return batch_anomalies(batch_of(attempt_id), thresholds).flags.get(attempt_id, [])


def item_positions(batch_id: int) -> tuple[dict[int, int], dict[int, int]]:
    """Where each item the batch's candidates saw stands on its form (positions count from 1):
    (form item id → position, item version id → position; copying evidence names versions),
    so evidence points at an item a person can find."""
    forms = select(Attempt.form_id).where(Attempt.batch_id == batch_id).distinct()
    fi = PaperFormItem.__table__
    by_item: dict[int, int] = {}
    by_version: dict[int, int] = {}
    for form_item_id, version_id, position in db.session.execute(
            select(fi.c.id, EFFECTIVE_VERSION_ID, fi.c.position).where(fi.c.form_id.in_(forms))
            .order_by(fi.c.form_id.desc())):
        by_item[form_item_id] = position
        by_version[version_id] = position
    return by_item, by_version


__all__ = ["BatchAnomalies", "attempt_anomalies", "batch_anomalies", "batch_of", "item_positions"]
