"""Objects of the process record by name, in bulk: one query per kind of object on a page, each
name with the page that shows it (an endpoint and its arguments, which the caller turns into a
URL or leaves out). ``presenting`` uses it to show events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from examsys.accounts.models import Candidate, Organisation, User
from examsys.assembly.models import Paper, PaperBlueprint
from examsys.bank.models import Item, ItemVersion
from examsys.delivery.models import (
    Attempt,
    Batch,
    CandidateSession,
    Incident,
    ItemScore,
    Mark,
    ResultReview,
    RosterEntry,
    ScoreCorrection,
    ScoreReviewRequest,
    SurveyResponse,
)
from examsys.standards.models import AssessmentPoint, KnowledgeRange, Standard

NOTHING = "—"


@dataclass(frozen=True)
class ObjectRef:
    """An object by name, and the page that shows it (endpoint and arguments), if any."""

    name: str
    endpoint: str | None = None
    args: tuple = ()


def candidate_of(name: str, ticket: str) -> str:
    return f"{name}（{ticket}）"


def _by_id(session, columns, ids) -> list:
    return list(session.execute(select(*columns).where(columns[0].in_(ids))))


def _entries(session, model, ids, suffix: str = "") -> dict[int, ObjectRef]:
    """Objects of one roster entry (or entries themselves): named after the candidate, linked to
    the batch."""
    entry_id = RosterEntry.id if model is RosterEntry else model.roster_entry_id
    stmt = select(model.id, RosterEntry.batch_id, RosterEntry.ticket_no, Candidate.name)
    if model is not RosterEntry:
        stmt = stmt.join(RosterEntry, RosterEntry.id == entry_id)
    rows = session.execute(stmt.join(Candidate, Candidate.id == RosterEntry.candidate_id).where(model.id.in_(ids)))
    return {r[0]: ObjectRef(candidate_of(r[3], r[2]) + suffix, "delivery.batch", (("batch_id", r[1]),))
            for r in rows}


def _batch_named(session, model, ids, endpoint: str, word: str) -> dict[int, ObjectRef]:
    rows = session.execute(select(model.id, Batch.id, Batch.name).join(Batch, Batch.id == model.batch_id)
                           .where(model.id.in_(ids)))
    return {r[0]: ObjectRef(f"{r[2]} · {word} #{r[0]}", endpoint, (("batch_id", r[1]),)) for r in rows}


def _simple(model, endpoint: str, arg: str, name: Callable[[Any], str], *columns):
    def resolve(session, ids):
        return {r[0]: ObjectRef(name(r), endpoint, ((arg, r[0]),))
                for r in _by_id(session, [model.id, *columns], ids)}
    return resolve


def _in_standard(model):
    def resolve(session, ids):
        return {r[0]: ObjectRef(f"{r[1]} {r[2]}", "standards.detail", (("standard_id", r[3]),))
                for r in _by_id(session, [model.id, model.code, model.name, model.standard_id], ids)}
    return resolve


def _item_versions(session, ids):
    return {r[0]: ObjectRef(f"试题 #{r[1]} 第 {r[2]} 版", "bank.item_detail", (("item_id", r[1]),))
            for r in _by_id(session, [ItemVersion.id, ItemVersion.item_id, ItemVersion.number], ids)}


def _attempts(session, ids):
    return _entries(session, Attempt, ids, " 的作答")


def _corrections(session, ids):
    rows = session.execute(select(ScoreCorrection.id, Attempt.batch_id, RosterEntry.ticket_no, Candidate.name)
                           .join(Attempt, Attempt.id == ScoreCorrection.attempt_id)
                           .join(RosterEntry, RosterEntry.id == Attempt.roster_entry_id)
                           .join(Candidate, Candidate.id == RosterEntry.candidate_id)
                           .where(ScoreCorrection.id.in_(ids)))
    return {r[0]: ObjectRef(f"{candidate_of(r[3], r[2])} 的成绩更正", "delivery.results", (("batch_id", r[1]),))
            for r in rows}


def _marks(session, ids):
    rows = session.execute(select(Mark.id, ItemScore.batch_id, ItemScore.marking_code)
                           .join(ItemScore, ItemScore.id == Mark.item_score_id).where(Mark.id.in_(ids)))
    return {r[0]: ObjectRef(f"评卷码 {r[2] or NOTHING}", "delivery.batch", (("batch_id", r[1]),)) for r in rows}


RESOLVERS: dict[str, Callable] = {
    "organisation": _simple(Organisation, "accounts.organisation_edit", "org_id", lambda r: r[1], Organisation.name),
    "user": _simple(User, "accounts.user_edit", "user_id", lambda r: f"{r[1]}（{r[2]}）",
                    User.display_name, User.username),
    "candidate": _simple(Candidate, "accounts.candidate_detail", "candidate_id", lambda r: r[1], Candidate.name),
    "standard": _simple(Standard, "standards.detail", "standard_id", lambda r: f"{r[1]}（{r[2]}，{r[3]}版）",
                        Standard.name, Standard.code, Standard.edition),
    "knowledge_range": _in_standard(KnowledgeRange),
    "assessment_point": _in_standard(AssessmentPoint),
    "item": _simple(Item, "bank.item_detail", "item_id", lambda r: f"试题 #{r[0]}"),
    "item_version": _item_versions,
    "paper_blueprint": _simple(PaperBlueprint, "assembly.blueprint_edit", "blueprint_id", lambda r: r[1],
                               PaperBlueprint.name),
    "paper": _simple(Paper, "assembly.paper", "paper_id", lambda r: r[1], Paper.name),
    "batch": _simple(Batch, "delivery.batch", "batch_id", lambda r: r[1], Batch.name),
    "roster_entry": lambda s, ids: _entries(s, RosterEntry, ids),
    "candidate_session": lambda s, ids: _entries(s, CandidateSession, ids, " 的登录"),
    "survey_response": lambda s, ids: _entries(s, SurveyResponse, ids, " 的满意度调查"),
    "score_review_request": lambda s, ids: _entries(s, ScoreReviewRequest, ids, " 的成绩复核申请"),
    "attempt": _attempts,
    "incident": lambda s, ids: _batch_named(s, Incident, ids, "delivery.batch", "考场记录"),
    "result_review": lambda s, ids: _batch_named(s, ResultReview, ids, "delivery.results", "成绩复核"),
    "score_correction": _corrections,
    "mark": _marks,
}


def resolve_objects(session, refs: Iterable[tuple[str, Any]]) -> dict[tuple[str, int], ObjectRef]:
    """{(object type, id): ObjectRef} for every ref that still exists: one query per type."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for kind, ident in refs:
        if kind in RESOLVERS and ident is not None and str(ident).isdigit():
            wanted[kind].add(int(ident))
    out: dict[tuple[str, int], ObjectRef] = {}
    for kind, ids in wanted.items():
        for ident, ref in RESOLVERS[kind](session, sorted(ids)).items():
            out[(kind, ident)] = ref
    return out


def ticket_names(session, tickets: set[str]) -> dict[str, str]:
    if not tickets:
        return {}
    return dict(session.execute(select(RosterEntry.ticket_no, Candidate.name)
                                .join(Candidate, Candidate.id == RosterEntry.candidate_id)
                                .where(RosterEntry.ticket_no.in_(sorted(tickets)))).all())
