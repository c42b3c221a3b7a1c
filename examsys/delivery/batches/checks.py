"""The filing checks (评价前备案): what keeps a batch from being filed, or a filing change from
standing — frozen paper of the batch's occupation and level, enough forms for a one-form-per-
candidate paper, 持证上岗 of proctors and supervisor, the staffing ratio, roster, rooms and seats,
the organisation's directory scope and the window. Each problem is one sentence in Chinese naming
the person, room or candidate."""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import func, select

from examsys import clock
from examsys.accounts.models import CertificateKind
from examsys.assembly.models import Paper, PaperForm, PaperStatus
from examsys.delivery.batches.common import (
    certificate_status,
    form_labels,
    local_date,
    proctors_of,
    room_counts,
    window_label,
)
from examsys.delivery.models import Batch
from examsys.extensions import db
from examsys.standards.models import Standard
from examsys.supervision.directory import scope as directory_scope


def paper_problems(paper: Paper, standard_id: int, level: int) -> list[str]:
    problems = []
    if paper.status != PaperStatus.FROZEN:
        problems.append(f"试卷“{paper.name}”尚未定稿，只有定稿的试卷可以用于考试")
    if paper.standard_id != standard_id or paper.level != level:
        problems.append(f"试卷“{paper.name}”的职业或等级与批次不一致")
    return problems


def per_candidate_problem(paper: Paper, candidates: int) -> str | None:
    """Why a paper with one form per candidate cannot serve `candidates` (more than its forms)."""
    if not paper.per_candidate:
        return None
    forms = db.session.scalar(select(func.count(PaperForm.id)).where(PaperForm.paper_id == paper.id)) or 0
    if candidates > forms:
        return (f"试卷“{paper.name}”为一人一卷，只有 {forms} 份，少于本批次的 {candidates} 名考生："
                f"请按考生人数重新生成一人一卷试卷，或减少考生")
    return None


def staff_problems(batch: Batch) -> list[str]:
    """持证上岗 and the staffing ratio: one message per person or room."""
    problems: list[str] = []
    on = local_date(batch.window_end)
    for s in proctors_of(batch):
        if s.user.valid_certificate(CertificateKind.EXAMINER, on) is None:
            _ok, label = certificate_status(s.user, CertificateKind.EXAMINER, batch)
            room = s.room.name if s.room else "未分配考场"
            problems.append(f"考评员 {s.user.display_name}（{room}）没有考试日期内有效的考评员证：{label}")
    if batch.supervisor_id is None:
        problems.append("省级人社部门尚未委派督导员")
    elif batch.supervisor.valid_certificate(CertificateKind.SUPERVISOR, on) is None:
        _ok, label = certificate_status(batch.supervisor, CertificateKind.SUPERVISOR, batch)
        problems.append(f"督导员 {batch.supervisor.display_name} 没有考试日期内有效的督导员证：{label}")
    counts = room_counts(batch)
    for room in batch.rooms:
        n_proctors = len(proctors_of(batch, room))
        n_cands = counts.get(room.id, 0)
        needed = max(batch.min_proctors_per_room, math.ceil(n_cands / batch.candidates_per_proctor))
        if n_proctors < needed:
            problems.append(f"考场“{room.name}”有考生 {n_cands} 人、考评员 {n_proctors} 人，至少需要 {needed} 人"
                            f"（每考场不少于 {batch.min_proctors_per_room} 人，且每 {batch.candidates_per_proctor}"
                            f" 名考生至少 1 人）")
    return problems


def filing_problems(batch: Batch) -> list[str]:
    """Everything that keeps `batch` from being filed, in Chinese, naming the person or room."""
    problems: list[str] = []
    if batch.paper_id is None:
        problems.append("未选择试卷")
    else:
        paper = db.session.get(Paper, batch.paper_id)
        problems += paper_problems(paper, batch.standard_id, batch.level)
        if problem := per_candidate_problem(paper, len(batch.roster)):
            problems.append(problem)
        elif paper.per_candidate:
            seen = [e.form_label for e in batch.roster if e.form_label]
            if len(set(seen)) != len(seen):
                problems.append("一人一卷试卷须每名考生一份，但有考生被分到同一份试卷：请重新导入名单或重新选择试卷")
    if not batch.rooms:
        problems.append("未设置考场")
    standard = db.session.get(Standard, batch.standard_id)
    if refused := directory_scope.refusal(batch.organisation_id, standard.code, standard.name, batch.level,
                                          local_date(batch.window_start)):
        problems.append(refused)
    problems += staff_problems(batch)
    if not batch.roster:
        problems.append("考生名单为空，请先导入名单")
    counts = room_counts(batch)
    for room in batch.rooms:
        if counts.get(room.id, 0) > room.capacity:
            problems.append(f"考场“{room.name}”安排考生 {counts[room.id]} 人，超过座位数 {room.capacity}")
    unplaced = [e for e in batch.roster if e.room_id is None or e.seat_no is None]
    if unplaced:
        names = "、".join(f"{e.candidate.name}（{e.ticket_no}）" for e in unplaced[:5])
        problems.append(f"{len(unplaced)} 名考生未安排考场或座位：{names}")
    labels = set(form_labels(batch))
    wrong = [e for e in batch.roster if e.form_label not in labels]
    if wrong:
        problems.append(f"{len(wrong)} 名考生的试卷套别不在所选试卷中（如 {wrong[0].ticket_no}）")
    if batch.window_start <= clock.now():
        problems.append(f"考试开始时间 {window_label(batch)} 已过，请修改考试时间")
    if batch.window_end - batch.window_start < timedelta(minutes=batch.duration_minutes):
        problems.append("考试时间段短于考试时长")
    return problems


__all__ = ["filing_problems", "paper_problems", "per_candidate_problem", "staff_problems"]
