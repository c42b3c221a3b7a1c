"""Timelines for the supervisor: the whole batch, one candidate, one item's answer history.

Built from the process record itself: the batch's chain (`batch/<id>`: filing and its changes,
staff, rooms, proctor actions, marking, 复核, publication), each attempt's chain
(`attempt/<id>`: start, saves, signals, submit), the events about a candidate's sessions and
scores, and the answer history (every acknowledged save). Every entry has a Chinese label
(`label_for`), an aware UTC time (the templates show it in Beijing time) and its data as
key/value rows — never raw JSON; nested values are flattened, ISO times in the data are shown
in Beijing time too."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select

from examsys import clock
from examsys.accounts.models import User
from examsys.audit.actions import AuditAction, label_for
from examsys.audit.chain import attempt_scope
from examsys.audit.models import AnswerHistory, AuditEvent
from examsys.audit.verify import batch_scopes
from examsys.bank import qtypes
from examsys.delivery.exam import services as exam
from examsys.delivery.models import (
    Attempt,
    Batch,
    CandidateSession,
    Incident,
    IntegrityEvent,
    ItemScore,
    Mark,
    Result,
    ScoreCorrection,
    ScoreReviewRequest,
)
from examsys.delivery.models.attempts import ATTEMPT_STATUS_LABELS
from examsys.delivery.models.batches import BATCH_STATE_LABELS
from examsys.extensions import db
from examsys.supervision.models import CHECKS, FINDING_CATEGORY_LABELS

MAX_ENTRIES = 3000
SAVED = AuditAction.ATTEMPT_ANSWER_SAVED.value
SIGNAL = AuditAction.ATTEMPT_SIGNAL_RECORDED.value

INTEGRITY_LABELS = exam.INTEGRITY_LABELS
SOURCE_LABELS = exam.INTEGRITY_SOURCE_LABELS

# Chinese names of the keys events carry; a key without one is shown as it is.
KEY_LABELS = {
    "reason": "原因", "changes": "变更内容", "before": "变更前", "after": "变更后", "candidates": "考生人数",
    "paper_id": "试卷编号", "rooms": "考场", "snapshot": "备案内容", "from": "原状态", "to": "新状态",
    "minutes": "分钟", "attempt": "作答编号", "attempt_id": "作答编号", "size": "记录条数", "head": "链头摘要",
    "item": "试题（卷内编号）", "seq": "保存序号", "answer_sha256": "答案摘要", "flagged": "标记",
    "ticket_no": "准考证号", "kind": "类型", "source": "来源", "occurred_at": "发生时间", "room_id": "考场编号",
    "batch_id": "批次编号", "batch": "批次编号", "supervisor": "督导员", "supervisor_name": "督导员姓名",
    "supervisor_of_record": "备案督导员", "supervisor_before": "原督导员", "category": "类别", "text": "内容",
    "version": "版本", "checks": "检查项目", "conclusion": "结论", "findings": "督导发现", "flags": "异常提示",
    "view": "查阅内容", "forced": "强制", "in_progress": "作答中人数", "at": "时间", "note": "说明",
    "filing_change_id": "变更记录编号", "name": "名称", "venue": "考点", "window_start": "开始时间",
    "window_end": "结束时间", "duration_minutes": "时长（分钟）", "markers": "阅卷人员", "proctors": "考评员",
    "score": "得分", "round": "评次", "comment": "意见", "passed": "通过", "total": "总分", "replaced": "被取代的登录",
    "scope": "范围", "data": "详情", "organisation": "机构编号", "organisation_name": "机构", "replaces": "替代",
    "standard_id": "职业标准编号", "level": "等级", "supervisor_id": "督导员", "grace_seconds": "交卷宽限（秒）",
    "start_jitter_seconds": "错峰开考最长延迟（秒）", "candidates_per_proctor": "每名考评员最多监考人数",
    "min_proctors_per_room": "每考场最少考评员人数", "notice_days": "成绩公示天数",
    "review_apply_days": "复核申请期限（工作日）", "review_answer_days": "复核答复期限（工作日）",
    "require_access_code": "须考场口令", "shuffle_items": "试题乱序", "shuffle_options": "选项乱序",
    "seb_config_key": "安全考试浏览器密钥", "capacity": "座位数", "trigger": "触发", "form": "套别",
    "order_seed": "顺序种子", "started_at": "开始时间", "deadline_at": "截止时间", "status": "状态",
    "finished_at": "结束时间", "answered": "已答题数", "file": "文件", "reused": "沿用已有考生", "photos": "照片数",
    "photos_file": "照片文件", "username": "用户名", "roles": "角色", "reason_code": "原因",
}
# Keys whose values are user ids, shown by name.
USER_KEYS = {"supervisor_id", "supervisor", "supervisor_before", "proctors", "markers"}
# Values that mean something only under their key.
VALUES_BY_KEY = {"checks": CHECKS, "category": {k.value: v for k, v in FINDING_CATEGORY_LABELS.items()},
                 "status": {k.value: v for k, v in ATTEMPT_STATUS_LABELS.items()},
                 "trigger": {"first_start": "首位考生开始作答", "window_start": "到达开考时间"},
                 "view": {"timeline": "作答过程", "item_history": "单题作答记录"}}
VALUE_LABELS = {**{s.value: label for s, label in BATCH_STATE_LABELS.items()}, **INTEGRITY_LABELS, **SOURCE_LABELS}
MAX_VALUE = 400
_TAG = re.compile(r"<[^>]*>")


@dataclass
class Entry:
    at: datetime
    label: str
    actor: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    ip: str | None = None
    attempt_id: int | None = None
    form_item_id: int | None = None
    kind: str = "event"  # event | save | integrity | session


def _time_text(value: str) -> str | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return clock.to_display(moment).strftime("%Y-%m-%d %H:%M:%S")


def show(value, key: str | None = None, names: dict[int, str] | None = None) -> str:
    """One value as text: booleans as 是/否, times in Beijing time, states, kinds and codes by
    their Chinese names, user ids (under USER_KEYS) by name, lists and mappings flattened."""
    if value is None or value == "" or value == {} or value == []:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        text = "；".join(f"{KEY_LABELS.get(k, k)}：{show(v, k, names)}" for k, v in value.items())
    elif isinstance(value, list | tuple):
        text = "、".join(show(v, key, names) for v in value)
    elif isinstance(value, int) and key in USER_KEYS and names and value in names:
        text = names[value]
    elif isinstance(value, str):
        text = (VALUES_BY_KEY.get(key, {}).get(value) or VALUE_LABELS.get(value)
                or (_time_text(value) if len(value) >= 19 and value[4] == "-" else None) or value)
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"


def rows_of(data: dict | None, names: dict[int, str] | None = None) -> list[tuple[str, str]]:
    return [(KEY_LABELS.get(k, k), show(v, k, names)) for k, v in (data or {}).items()]


def _user_ids(value, key: str | None = None) -> set[int]:
    if isinstance(value, dict):
        return set().union(*(_user_ids(v, k) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return set().union(*(_user_ids(v, key) for v in value))
    return {value} if key in USER_KEYS and isinstance(value, int) and not isinstance(value, bool) else set()


def user_names(events: list[AuditEvent]) -> dict[int, str]:
    """The names of the users the events' data mention by id."""
    ids = set().union(*(_user_ids(ev.data) for ev in events))
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _actor(ev: AuditEvent) -> str:
    if ev.actor_label:
        return ev.actor_label
    return "考生" if ev.actor_roles == "candidate" else "系统"


def _entry(ev: AuditEvent, names: dict[int, str]) -> Entry:
    attempt_id = int(ev.object_id) if ev.object_type == "attempt" and (ev.object_id or "").isdigit() else None
    return Entry(at=ev.occurred_at, label=label_for(ev.action), actor=_actor(ev), rows=rows_of(ev.data, names),
                 ip=ev.ip, attempt_id=attempt_id)


def _entries(events: list[AuditEvent]) -> list[Entry]:
    names = user_names(events)
    return [_entry(ev, names) for ev in events]


def _events(condition, *, skip: tuple[str, ...] = ()) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(condition)
    if skip:
        stmt = stmt.where(AuditEvent.action.not_in(skip))
    return list(db.session.scalars(stmt.order_by(AuditEvent.occurred_at, AuditEvent.id).limit(MAX_ENTRIES)))


BATCH_PAGE = 200


def batch_timeline(batch: Batch, page: int = 1):
    """One page (BATCH_PAGE entries, oldest first) of the batch's chain, its attempts' chains and
    its candidates' sign-ins, without the single saves (each candidate's timeline has them): (entries, the
    pagination for the pager)."""
    scopes = batch_scopes(batch.id)
    stmt = (select(AuditEvent).where(AuditEvent.scope.in_(scopes), AuditEvent.action != SAVED)
            .order_by(AuditEvent.occurred_at, AuditEvent.id))
    rows = db.paginate(stmt, page=max(page, 1), per_page=BATCH_PAGE, error_out=False)
    return _entries(list(rows.items)), rows


def _related(attempt: Attempt) -> list[tuple[str, list[int]]]:
    """(audit name, ids) of the objects whose events belong to a candidate's timeline."""
    score_ids = list(db.session.scalars(select(ItemScore.id).where(ItemScore.attempt_id == attempt.id)))
    ids = {
        "candidate_session": select(CandidateSession.id).where(
            CandidateSession.roster_entry_id == attempt.roster_entry_id),
        "incident": select(Incident.id).where(Incident.attempt_id == attempt.id),
        "mark": select(Mark.id).where(Mark.item_score_id.in_(score_ids or [0])),
        "score_correction": select(ScoreCorrection.id).where(ScoreCorrection.attempt_id == attempt.id),
        "score_review_request": select(ScoreReviewRequest.id).where(ScoreReviewRequest.attempt_id == attempt.id),
        "result": select(Result.id).where(Result.attempt_id == attempt.id),
    }
    out = [(name, list(db.session.scalars(stmt))) for name, stmt in ids.items()]
    return out + [("item_score", score_ids), ("roster_entry", [attempt.roster_entry_id])]


def attempt_timeline(attempt: Attempt) -> list[Entry]:
    """One candidate: sign-ins (IP, device), the attempt's chain, every save (from the answer
    history), integrity events, proctor actions, marks, corrections, score reviews, oldest
    first."""
    related = [and_(AuditEvent.object_type == name, AuditEvent.object_id.in_([str(i) for i in ids]))
               for name, ids in _related(attempt) if ids]
    condition = or_(AuditEvent.scope == attempt_scope(attempt.id),
                    and_(AuditEvent.object_type == "attempt", AuditEvent.object_id == str(attempt.id)), *related)
    entries = _entries(_events(condition, skip=(SAVED, SIGNAL)))
    for s in db.session.scalars(select(CandidateSession).where(
            CandidateSession.roster_entry_id == attempt.roster_entry_id)):
        entries.append(Entry(at=s.created_at, label="考生登录（会话）", actor="考生", ip=s.ip, kind="session",
                             rows=[("IP", s.ip or "—"), ("设备（浏览器）", s.user_agent or "—"),
                                   ("结束", show(s.ended_at.isoformat()) if s.ended_at else "—"),
                                   ("结束原因", s.end_reason or "—")]))
    for ev in db.session.scalars(select(IntegrityEvent).where(IntegrityEvent.attempt_id == attempt.id)):
        entries.append(Entry(at=ev.received_at, label=INTEGRITY_LABELS.get(ev.kind, ev.kind), actor=SOURCE_LABELS.get(
            ev.source, ev.source), kind="integrity", rows=[("报告时间", show(ev.occurred_at.isoformat())),
                                                           *rows_of(ev.data)]))
    views = paper_view(attempt)
    for h in history_rows(attempt):
        item = views.get(h.form_item_id, {})
        entries.append(Entry(at=h.saved_at, label=f"保存答案：第 {item.get('number', '?')} 题", actor="考生",
                             ip=h.ip, kind="save", attempt_id=attempt.id, form_item_id=h.form_item_id,
                             rows=[("保存序号", str(h.seq)), ("答案", answer_text(item, h.answer)),
                                   ("标记", show(h.flagged))]))
    entries.sort(key=lambda e: e.at)
    return entries[:MAX_ENTRIES]


def history_rows(attempt: Attempt, form_item_id: int | None = None) -> list[AnswerHistory]:
    stmt = select(AnswerHistory).where(AnswerHistory.attempt_id == attempt.id)
    if form_item_id is not None:
        stmt = stmt.where(AnswerHistory.form_item_id == form_item_id)
    return list(db.session.scalars(stmt.order_by(AnswerHistory.saved_at, AnswerHistory.seq, AnswerHistory.id)))


def paper_view(attempt: Attempt) -> dict[int, dict]:
    """form item id → the item as this candidate saw it (number, question type, options in
    their displayed order)."""
    return {i["item_ref"]: i for i in exam.candidate_paper(attempt)["items"]}


def answer_text(item: dict, answer) -> str:
    """An answer as the candidate saw it: the option letters of their screen for choice items,
    正确/错误 for true/false, blanks numbered, text without markup."""
    if answer is None or answer == "" or answer == []:
        return "（未作答 / 已清空）"
    letters = {o.get("value"): o.get("label") for o in item.get("options") or []}
    qtype = item.get("qtype")
    if qtype == "judge" or isinstance(answer, bool):
        return "正确" if answer is True else "错误" if answer is False else show(answer)
    if letters and isinstance(answer, str):
        return letters.get(answer, answer)
    if letters and isinstance(answer, list):
        return "".join(sorted(letters.get(a, str(a)) for a in answer))
    if isinstance(answer, list):
        return "；".join(f"（{n}）{_plain(str(a)) or '—'}" for n, a in enumerate(answer, 1))
    if isinstance(answer, str):
        return _plain(answer)
    return show(answer)


def _plain(text: str) -> str:
    """Rich text as the words in it (the page escapes what it shows)."""
    return html.unescape(_TAG.sub(" ", text)).strip()


def qtype_label(item: dict) -> str:
    return qtypes.LABELS.get(item.get("qtype"), item.get("qtype") or "")


__all__ = ["Entry", "answer_text", "attempt_timeline", "batch_timeline", "history_rows", "paper_view",
           "qtype_label", "rows_of", "show"]
