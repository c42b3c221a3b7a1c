"""The batch page's "what comes next" (流程与下一步): the steps of a batch from filing to its archive,
which one it is at, and for the current step what is to be done, by whom, with a link to the page
where it is done. Only links the viewer may follow are given; the facts come from the delivery
services (state, marking progress, results, the last 复核, open score review requests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from examsys import clock
from examsys.audit.archive import build as archive
from examsys.delivery.models import Batch, BatchState
from examsys.delivery.scoring import services as scoring
from examsys.permissions import Permission, can_manage_batch, has_permission, may_download_archive, may_mark

# (key, label): the steps in order; a batch's state names the step it is at.
STEPS = (("filing", _l("备案")), ("exam", _l("考试")), ("marking", _l("评分与阅卷")), ("results", _l("计算成绩")),
         ("review", _l("复核")), ("publish", _l("发布与公示")), ("requests", _l("成绩复核申请")),
         ("archive", _l("批次档案")))
AT = {BatchState.PLANNED: "filing", BatchState.FILED: "exam", BatchState.OPEN: "exam",
      BatchState.CLOSED: "marking", BatchState.MARKED: "results", BatchState.REVIEWED: "publish",
      BatchState.PUBLISHED: "requests", BatchState.ARCHIVED: "archive"}


@dataclass
class Link:
    label: str
    url: str
    primary: bool = False


@dataclass
class NextStep:
    at: str  # key of the current step
    text: str  # what is to be done now, or what the batch waits for
    links: list[Link] = field(default_factory=list)
    note: str = ""  # e.g. why the viewer may not do it themselves

    @property
    def steps(self) -> list[tuple[str, str, str]]:
        """(key, label, "done" | "current" | "todo") for each step."""
        keys = [k for k, _label in STEPS]
        here = keys.index(self.at)
        return [(k, str(label), "done" if i < here else "current" if i == here else "todo")
                for i, (k, label) in enumerate(STEPS)]


def next_step(batch: Batch, window: str) -> NextStep:
    user = current_user
    manage = bool(can_manage_batch(user, batch))
    handles_results = has_permission(user, Permission.RESULT_REVIEW) and user.organisation_id == batch.organisation_id
    results = url_for("delivery.results", batch_id=batch.id)
    state = batch.state
    if state == BatchState.PLANNED:
        return NextStep("filing", _("下一步：处理备案前的问题，然后提交备案。") if manage
                        else _("批次在筹备中，由考务管理员提交备案。"))
    if state in (BatchState.FILED, BatchState.OPEN):
        links = []
        if has_permission(user, Permission.PROCTOR_CONSOLE) and any(s.user_id == user.id for s in batch.staff):
            links.append(Link(_("考场监控"), url_for("delivery.proctor_console", batch_id=batch.id), True))
        text = (_("考试时间：%(window)s。考试结束后在本页结束考试，然后评分。", window=window) if manage
                else _("考试时间：%(window)s。", window=window))
        return NextStep("exam", text, links)

    current = scoring.stage(batch)
    links = [Link(_("成绩与评分"), results)]
    if state == BatchState.CLOSED:
        marking_url = (url_for("delivery.marking_queue", batch_id=batch.id)
                       if has_permission(user, Permission.MARK) and may_mark(user, batch) else None)
        if not current.scored:
            text = _("下一步：对客观题评分，主观题随后进入阅卷队列。")
            links[0].primary = handles_results
        else:
            p = current.progress
            text = _("下一步：阅卷。主观题 %(n)s 份：未评 %(a)s，待二评 %(b)s，待仲裁 %(c)s；"
                     "全部定分后批次转为“已阅卷”。",
                     n=p["open_items"], a=p["unmarked"], b=p["one_mark"], c=p["arbitration"])
        if marking_url:
            links.insert(0, Link(_("阅卷"), marking_url, current.scored))
        return NextStep("marking", text, _with_archive(batch, links))
    if state == BatchState.MARKED and not current.results:
        links[0].primary = handles_results
        return NextStep("results", _("下一步：计算成绩。计算后须由计分以外的另一人复核。"), _with_archive(batch, links))
    if state == BatchState.MARKED:
        note = ""
        if handles_results:
            check = scoring.may_review(batch, user, current)
            links[0].primary = bool(check)
            if not check:
                names = "、".join(u.display_name for u in scoring.second_persons(batch, current))
                note = check.message + (_("：可由 %(names)s 复核。", names=names) if names else "")
        last = current.last_review
        text = (_("上次复核未通过（%(n)s 个问题）：处理后再次复核。", n=len(last.findings)) if last and not last.passed
                else _("下一步：复核（第二人）。成绩已计算，须由计分以外的另一人核对后才能发布。"))
        return NextStep("review", text, _with_archive(batch, links), note)
    if state == BatchState.REVIEWED:
        links[0].primary = handles_results
        return NextStep("publish", _("下一步：发布成绩，公示期随即开始。"), _with_archive(batch, links))
    requests = Link(_("成绩复核申请（%(n)s 件待答复）", n=current.open_requests),
                    url_for("delivery.review_requests", batch_id=batch.id), current.open_requests > 0)
    links.append(requests)
    if state == BatchState.PUBLISHED:
        text = _("成绩已发布，公示至 %(ends)s。考生可在 %(until)s 前申请成绩复核，%(n)s 件待答复；"
                 "申请处理完毕后下载批次档案归档。", ends=_local(scoring.notice_ends_at(batch)),
                 until=_local(scoring.apply_until(batch)), n=current.open_requests)
        return NextStep("requests", text, _with_archive(batch, links))
    return NextStep("archive", _("批次已归档。"), _with_archive(batch, links))


def _local(value) -> str:
    local = clock.to_display(value)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


def _with_archive(batch: Batch, links: list[Link]) -> list[Link]:
    """The archive is taken from the batch page itself (a POST button there): point to it."""
    if batch.state in archive.ARCHIVABLE and may_download_archive(current_user, batch):
        links.append(Link(_("批次档案（本页“下载”）"), "#downloads"))
    return links


__all__ = ["STEPS", "NextStep", "next_step"]
