"""The year-end summary PDF (年度工作总结数据) as a job (examsys.jobs): the console asks for it,
the job worker computes the figures and renders them, the job's page shows its progress and then
the download. Whoever may read the console for the same scope (the province, or the city's
administrator) sees the job."""

from __future__ import annotations

from typing import Any

from examsys import audit
from examsys.accounts.models import City
from examsys.campaign.console import report
from examsys.errors import Conflict
from examsys.extensions import db
from examsys.jobs import registry
from examsys.jobs import services as jobs
from examsys.jobs.models import Job
from examsys.jobs.registry import N_
from examsys.permissions import Permission, has_permission, may_view_campaign

SUMMARY = "campaign.summary_pdf"


def request_summary(actor: Any, year: int, city: City | None) -> Job:
    """Queue the year-end summary of the province or of `city` (flushes). Raises
    PermissionDenied outside the actor's scope."""
    may_view_campaign(actor, city.id if city else None).enforce()
    return jobs.submit(actor, SUMMARY, obj=city, params={"year": year, "city_id": city.id if city else None})


def _run(job: Job, progress: registry.Progress, *, context: audit.AuditContext) -> registry.Result:
    city_id = job.params.get("city_id")
    city = db.session.get(City, city_id) if city_id is not None else None
    if city_id is not None and city is None:
        raise Conflict("该城市已不存在")
    year = int(job.params["year"])
    progress(0.05, "正在汇总各项指标并排版…")
    path = jobs.result_path(job)
    path.write_bytes(report.summary_pdf(year, city))
    scope = f"-{city.code}" if city else ""
    return registry.Result(path, f"年度工作总结-{year}{scope}.pdf", "application/pdf")


def _may_view(user: Any, job: Job) -> bool:
    return has_permission(user, Permission.CITY_OVERSEE) and bool(
        may_view_campaign(user, job.params.get("city_id")))


registry.register(registry.JobKind(SUMMARY, N_("年度工作总结 PDF"), _run, may_view=_may_view, read_only=True))

__all__ = ["SUMMARY", "request_summary"]
