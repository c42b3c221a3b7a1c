"""What each volume of a batch archive holds, read from the database (nothing here writes, nothing
here renders): the header every document carries, the sign-in sheet, the paper hand-out and
collection log, incidents, the supervision record, the papers, the results, 复核 and score
reviews, the survey summary and the candidates' answer sheets.

Times from the process record (`EventRow.at`, canonical UTC strings) are turned into aware
datetimes here; templates show them in Asia/Shanghai. ID numbers appear masked only."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from examsys import clock
from examsys.accounts.models import Organisation
from examsys.assembly.models import Paper, PaperForm
from examsys.assembly.queries import FormView, form_view
from examsys.audit.actions import label_for
from examsys.audit.verify import EventRow
from examsys.bank.richtext import to_plain
from examsys.delivery.batches import services as batches
from examsys.delivery.exam import services as exam
from examsys.delivery.models import Attempt, Batch, CandidateSession, Response, RosterEntry, SurveyResponse
from examsys.delivery.scoring import services as scoring
from examsys.extensions import db
from examsys.reports.papers import option_relabel, relabel_answer
from examsys.standards.models import LEVELS, Standard

# How an attempt ended, by the action of its closing event.
FINISH_LABELS = {"attempt.submitted": "考生交卷", "attempt.timed_out": "到时收卷", "attempt.terminated": "违纪终止"}
JUDGE = {True: "√", False: "×"}


def parse_at(at: str | None) -> datetime | None:
    """An event's canonical time (`2026-12-03T08:00:00.123456Z`) as an aware UTC datetime."""
    if not at:
        return None
    return datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    shown = clock.to_display(value)
    return shown.strftime(fmt) if shown else ""


def header(batch: Batch) -> dict:
    """What every volume's heading and running title show."""
    paper = db.session.get(Paper, batch.paper_id) if batch.paper_id else None
    return {"batch": batch, "org": db.session.get(Organisation, batch.organisation_id),
            "standard": db.session.get(Standard, batch.standard_id), "paper": paper,
            "level_label": LEVELS.get(batch.level, str(batch.level)), "window": batches.window_label(batch),
            "local": local, "printed_at": local(clock.now(), "%Y-%m-%d %H:%M")}


# --- the process record, read once -------------------------------------------------------------


@dataclass
class Timeline:
    """What the build gathers from the batch's events while writing data/events.jsonl: per attempt
    its start and its closing, how many times it was reopened; the supervision-related events."""

    started: dict[int, datetime] = field(default_factory=dict)
    finished: dict[int, tuple[datetime, str]] = field(default_factory=dict)
    reopened: Counter = field(default_factory=Counter)
    form: dict[int, str] = field(default_factory=dict)
    supervision: list[dict] = field(default_factory=list)

    def add(self, row: EventRow) -> None:
        if row.object_type == "attempt" and row.object_id:
            attempt_id = int(row.object_id)
            if row.action == "attempt.started":
                self.started.setdefault(attempt_id, parse_at(row.at))
                self.form.setdefault(attempt_id, str((row.data or {}).get("form") or ""))
            elif row.action in FINISH_LABELS:
                self.finished[attempt_id] = (parse_at(row.at), row.action)
            elif row.action == "attempt.reopened":
                self.reopened[attempt_id] += 1
        if row.scope.startswith("batch/") and is_supervision_event(row):
            self.supervision.append({"at": parse_at(row.at), "action": label_for(row.action),
                                     "actor": row.actor_label or "系统", "seq": row.seq, "data": row.data or {}})


def is_supervision_event(row: EventRow) -> bool:
    """Events of the batch's chain that belong in the supervision record: what a supervisor did,
    and the appointment or change of the supervisor. The supervision package's own events
    (spot checks, findings) are named `supervision.*` / `spot_check.*` and are taken as well."""
    if "supervisor" in (row.actor_roles or "").split(","):
        return True
    if row.action.startswith(("supervision.", "spot_check.", "finding.")):
        return True
    data = row.data or {}
    return row.action == "batch.filing_changed" and "supervisor_id" in (data.get("changes") or {})


# --- roster, sign-in, hand-out -----------------------------------------------------------------


def roster(batch: Batch) -> list[RosterEntry]:
    """Every roster entry, by room and seat (as seated), candidates and rooms loaded."""
    entries = db.session.scalars(select(RosterEntry).where(RosterEntry.batch_id == batch.id)
                                 .options(selectinload(RosterEntry.candidate), selectinload(RosterEntry.room)))
    return sorted(entries, key=lambda e: (e.room.position if e.room else 999, e.seat_no or 0, e.ticket_no))


def attempts_by_entry(batch: Batch) -> dict[int, Attempt]:
    return {a.roster_entry_id: a for a in db.session.scalars(select(Attempt).where(Attempt.batch_id == batch.id))}


def sign_ins(batch: Batch) -> dict[int, datetime]:
    """roster entry id → the candidate's first sign-in (their first session)."""
    stmt = (select(CandidateSession.roster_entry_id, func.min(CandidateSession.created_at))
            .join(RosterEntry, RosterEntry.id == CandidateSession.roster_entry_id)
            .where(RosterEntry.batch_id == batch.id).group_by(CandidateSession.roster_entry_id))
    return dict(db.session.execute(stmt).all())


def candidate_rows(entries: list[RosterEntry], attempts: dict[int, Attempt], signed: dict[int, datetime],
                   timeline: Timeline) -> list[dict]:
    """One row per roster entry: the sign-in sheet's and the hand-out log's data (and the CSV's)."""
    rows = []
    for n, e in enumerate(entries, 1):
        a = attempts.get(e.id)
        finished = timeline.finished.get(a.id) if a else None
        rows.append({
            "no": n, "entry_id": e.id, "ticket_no": e.ticket_no, "name": e.candidate.name,
            "id_masked": e.candidate.id_number_masked, "photo_sha256": e.candidate.photo_sha256,
            "room": e.room.name if e.room else "", "seat": e.seat_no,
            "form": (timeline.form.get(a.id) if a else None) or e.form_label or "",
            "signed_in": signed.get(e.id), "attempt_id": a.id if a else None,
            "started": (timeline.started.get(a.id) or a.started_at) if a else None,
            "finished": finished[0] if finished else (a.finished_at if a else None),
            "finish_how": FINISH_LABELS.get(finished[1], "") if finished else "",
            "answered": a.answered_count if a else 0, "reopened": timeline.reopened.get(a.id, 0) if a else 0,
            "status": a.status_label if a else "缺考"})
    return rows


def handout_summary(rows: list[dict]) -> dict:
    sat = [r for r in rows if r["attempt_id"]]
    return {"expected": len(rows), "sat": len(sat), "absent": len(rows) - len(sat),
            "by_how": Counter(r["finish_how"] or "未收卷" for r in sat)}


# --- rooms, supervision, papers --------------------------------------------------------------


def incident_rows(batch: Batch, entries: list[RosterEntry], attempts: dict[int, Attempt]) -> list[dict]:
    by_attempt = {a.id: e for e in entries if (a := attempts.get(e.id))}
    out = []
    for i in exam.incidents(batch):
        who = by_attempt.get(i.attempt_id)
        out.append({"at": i.recorded_at, "kind": exam.INCIDENT_LABELS.get(i.kind, str(i.kind)),
                    "room": i.room.name if i.room else "全批次", "who": f"{who.candidate.name} {who.ticket_no}" if who
                    else "", "reason": i.reason, "by": i.recorded_by.display_name,
                    "minutes": (i.data or {}).get("minutes")})
    return out


def supervision(batch: Batch, timeline: Timeline) -> dict:
    """The supervision record (督导记录): the batch's supervisor and the supervision-related
    events of its chain. Extend here with the supervision package's spot checks and findings
    when it exists (its events already land in `events` through `is_supervision_event`)."""
    sup = batch.supervisor
    return {"supervisor": sup, "supervisor_org": sup.organisation.name if sup and sup.organisation else "",
            "events": timeline.supervision, "findings": []}


def paper_views(batch: Batch) -> list[FormView]:
    paper = db.session.get(Paper, batch.paper_id) if batch.paper_id else None
    return [form_view(paper, f) for f in paper.forms] if paper else []


# --- results, 复核, score reviews, survey --------------------------------------------------------


def review_record(batch: Batch) -> dict:
    return {"reviews": list(reversed(scoring.reviews(batch))), "corrections": scoring.corrections(batch),
            "requests": scoring.review_requests(batch)}


def survey_summary(batch: Batch) -> dict:
    responses = list(db.session.scalars(select(SurveyResponse).where(SurveyResponse.batch_id == batch.id)
                                        .order_by(SurveyResponse.submitted_at, SurveyResponse.id)))
    questions = []
    for key, text in exam.SURVEY_QUESTIONS:
        counts = Counter(r.answers.get(key) for r in responses)
        answered = sum(counts[v] for v in exam.SURVEY_SCALE)
        mean = sum(v * counts[v] for v in exam.SURVEY_SCALE) / answered if answered else None
        questions.append({"key": key, "text": text, "counts": [counts[v] for v in sorted(exam.SURVEY_SCALE)],
                          "mean": mean})
    satisfied = sum(1 for r in responses if r.satisfied)
    return {"responses": responses, "count": len(responses), "satisfied": satisfied,
            "rate": satisfied / len(responses) if responses else None, "questions": questions,
            "scale": [exam.SURVEY_SCALE[v] for v in sorted(exam.SURVEY_SCALE)],
            "comments": [r.comment for r in responses if r.comment]}


# --- answer sheets (考生答卷) --------------------------------------------------------------------


class AnswerSheets:
    """The candidates' answer sheets, a chunk of attempts at a time: each item's number (as on
    the printed form), type, the answer in the form's printed option labels, score and points."""

    def __init__(self, batch: Batch):
        self.batch = batch
        self.paper = db.session.get(Paper, batch.paper_id) if batch.paper_id else None
        self._forms: dict[int, tuple[FormView, dict[int, dict[str, str]]]] = {}

    def _form(self, form_id: int) -> tuple[FormView, dict[int, dict[str, str]]]:
        if form_id not in self._forms:
            view = form_view(self.paper, db.session.get(PaperForm, form_id))
            relabels = {r.form_item.id: option_relabel(self.paper, view.label, r) for r in view.rows}
            self._forms[form_id] = (view, relabels)
        return self._forms[form_id]

    def sheets(self, rows: list[dict]) -> list[dict]:
        """Answer sheets of the candidate rows (see `candidate_rows`) that sat the exam."""
        ids = [r["attempt_id"] for r in rows if r["attempt_id"]]
        attempts = {a.id: a for a in db.session.scalars(select(Attempt).where(Attempt.id.in_(ids or [-1])))}
        answers: dict[int, dict[int, Response]] = {}
        for resp in db.session.scalars(select(Response).where(Response.attempt_id.in_(ids or [-1]))):
            answers.setdefault(resp.attempt_id, {})[resp.form_item_id] = resp
        out = []
        for row in rows:
            attempt = attempts.get(row["attempt_id"])
            if attempt is None or self.paper is None:
                continue
            view, relabels = self._form(attempt.form_id)
            items, effective, override = scoring.effective_scores(attempt)
            scores = {s.form_item_id: effective[s.id] for s in items}
            given = answers.get(attempt.id, {})
            lines = []
            for r in view.rows:
                resp = given.get(r.form_item.id)
                lines.append({"number": r.number, "type": view_type(view, r), "points": r.form_item.points,
                              "answer": show_answer(r.version.qtype, resp.answer if resp else None,
                                                    relabels.get(r.form_item.id, {})),
                              "score": scores.get(r.form_item.id), "marked": r.version.qtype in OPEN_TYPES})
            out.append({**row, "form": view.label, "lines": lines, "override": override,
                        "total": sum(v or 0.0 for v in scores.values()) if override is None else override})
        return out


OPEN_TYPES = {"short", "calc", "essay", "case"}


def view_type(view: FormView, row) -> str:
    return next((s.name for s in view.sections if row in s.rows), "")


def show_answer(qtype: str, answer: Any, relabel: dict[str, str]) -> str:
    """An answer as people read it, choice labels as printed on the candidate's form."""
    if answer is None or answer == "" or answer == []:
        return "（未作答）"
    if qtype == "judge":
        return JUDGE.get(answer, str(answer))
    if qtype in ("single", "multi"):
        value = relabel_answer(relabel, list(answer) if qtype == "multi" and isinstance(answer, str) else answer)
        return "".join(value) if isinstance(value, list) else str(value)
    if isinstance(answer, list):
        return "；".join(to_plain(str(a)) if a is not None else "" for a in answer)
    return to_plain(str(answer))


__all__ = ["AnswerSheets", "Timeline", "attempts_by_entry", "candidate_rows", "handout_summary", "header",
           "incident_rows", "is_supervision_event", "local", "paper_views", "parse_at", "review_record",
           "roster", "show_answer", "sign_ins", "supervision", "survey_summary"]
