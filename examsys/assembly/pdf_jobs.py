"""A paper's PDFs as jobs (examsys.jobs): each form's paper (试卷) and answer key (参考答案), and
the compliance report (合规报告). The paper page asks for one, the job worker renders it, the
job's page shows its progress and then the download; the web workers never lay out a paper.

Whoever reads the paper on its own page sees the job: its organisation (or the province) with
PAPER_VIEW, and the supervisor of a batch that sits it."""

from __future__ import annotations

from typing import Any

from examsys import audit
from examsys.assembly.models import Paper
from examsys.assembly.queries import effective_compliance, form_view, get_form
from examsys.errors import Conflict
from examsys.extensions import db
from examsys.jobs import registry
from examsys.jobs import services as jobs
from examsys.jobs.models import Job
from examsys.jobs.registry import N_
from examsys.permissions import Permission, can_access_org_object, has_permission
from examsys.reports import papers as papers_pdf
from examsys.standards.models import Standard
from examsys.supervision import services as supervision

FORM, KEY, COMPLIANCE = "paper.form_pdf", "paper.key_pdf", "paper.compliance_pdf"
PDF = "application/pdf"


def request_form(actor: Any, paper: Paper, label: str, *, key: bool = False) -> Job:
    """Queue the PDF of one form of `paper` (its answer key when `key`; flushes). The caller has
    checked that the actor reads the paper. Raises Conflict for a form the paper lacks."""
    if get_form(paper, label) is None:
        raise Conflict(f"该试卷没有 {label} 卷")
    return jobs.submit(actor, KEY if key else FORM, obj=paper, params={"label": label})


def request_compliance(actor: Any, paper: Paper) -> Job:
    """Queue the compliance report of `paper` (flushes)."""
    return jobs.submit(actor, COMPLIANCE, obj=paper)


def _paper(job: Job) -> tuple[Paper, Standard]:
    paper = db.session.get(Paper, job.object_id) if job.object_type == "paper" else None
    standard = db.session.get(Standard, paper.standard_id) if paper is not None and paper.standard_id else None
    if paper is None or standard is None:
        raise Conflict("该试卷已不存在")
    return paper, standard


def _form_view(paper: Paper, job: Job):
    form = get_form(paper, job.params.get("label", ""))
    if form is None:
        raise Conflict(f"该试卷已没有 {job.params.get('label')} 卷")
    return form_view(paper, form)


def _write(job: Job, progress: registry.Progress, render, name: str) -> registry.Result:
    progress(0.05, "正在排版…")
    path = jobs.result_path(job)
    path.write_bytes(render())
    return registry.Result(path, name, PDF)


def _run_form(job: Job, progress: registry.Progress, *, context: audit.AuditContext) -> registry.Result:
    paper, standard = _paper(job)
    view = _form_view(paper, job)
    return _write(job, progress, lambda: papers_pdf.paper_pdf(paper, view, standard),
                  f"试卷-{paper.id}-{view.label}卷.pdf")


def _run_key(job: Job, progress: registry.Progress, *, context: audit.AuditContext) -> registry.Result:
    paper, standard = _paper(job)
    view = _form_view(paper, job)
    return _write(job, progress, lambda: papers_pdf.answer_key_pdf(paper, view, standard),
                  f"参考答案-{paper.id}-{view.label}卷.pdf")


def _run_compliance(job: Job, progress: registry.Progress, *, context: audit.AuditContext) -> registry.Result:
    paper, standard = _paper(job)
    return _write(job, progress, lambda: papers_pdf.compliance_pdf(paper, standard, effective_compliance(paper)),
                  f"合规报告-{paper.id}.pdf")


def _may_view(user: Any, job: Job) -> bool:
    paper = db.session.get(Paper, job.object_id) if job.object_type == "paper" else None
    if paper is None or not has_permission(user, Permission.PAPER_VIEW):
        return False
    return can_access_org_object(user, paper.organisation_id) or supervision.supervises_paper(user, paper.id)


for _kind in (registry.JobKind(FORM, N_("试卷 PDF"), _run_form, may_view=_may_view, read_only=True),
              registry.JobKind(KEY, N_("参考答案 PDF"), _run_key, may_view=_may_view, read_only=True),
              registry.JobKind(COMPLIANCE, N_("合规报告 PDF"), _run_compliance, may_view=_may_view, read_only=True)):
    registry.register(_kind)

__all__ = ["COMPLIANCE", "FORM", "KEY", "request_compliance", "request_form"]
