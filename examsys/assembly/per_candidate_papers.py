"""Papers with one form per candidate (千人千卷) in the app: asking for one (a job: a thousand
forms take seconds to draw and to store), drawing the forms (``per_candidate.per_candidate_forms``),
checking every one independently (``summary.summary_report``), and storing them as a draft paper
whose forms are labelled 1..N.

Freezing, discarding, PDFs of one form and replacements are the ordinary paper operations
(``services``, ``pdf_jobs``); the paper page shows a summary and one form at a time.
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import Callable
from typing import Any

from flask import url_for
from sqlalchemy import insert

from examsys import audit
from examsys.assembly import services
from examsys.assembly.formats import TYPE_NAMES
from examsys.assembly.models import Paper, PaperBlueprint, PaperForm, PaperFormItem
from examsys.assembly.per_candidate import per_candidate_forms
from examsys.assembly.specs import to_form_spec
from examsys.assembly.summary import summary_report
from examsys.audit.actions import AuditAction
from examsys.errors import Conflict, DomainError, ValidationError
from examsys.extensions import db
from examsys.jobs import registry
from examsys.jobs import services as jobs
from examsys.jobs.models import Job, JobState
from examsys.jobs.registry import N_
from examsys.permissions import Permission, can_access_org_object, has_permission

KIND = "paper.per_candidate"
# Forms are labelled by number in a four-character column; a batch room-set rarely passes this.
MAX_FORMS = 2000
# The job waits for the solver's template forms at most this long.
TIME_LIMIT = 60.0
_CHUNK = 100  # forms stored per statement


def check_count(count: Any) -> int:
    """The number of forms asked for, or ValidationError saying the allowed range."""
    try:
        n = int(count)
    except (TypeError, ValueError):
        n = 0
    if str(count).strip() != str(n) or not 1 <= n <= MAX_FORMS:
        raise ValidationError(f"一人一卷的份数须为 1–{MAX_FORMS} 之间的整数（填写的是“{count}”）", field="count")
    return n


def _check_blueprint(pb: PaperBlueprint) -> dict:
    data = services.snapshot(pb)
    if not data.get("per_candidate"):
        raise Conflict("该细目表未设为一人一卷，请直接组卷")
    problems = services.validate_blueprint(data)
    if problems:
        raise ValidationError("；".join(problems), details={"errors": problems})
    return data


def request(actor: Any, pb: PaperBlueprint, count: Any) -> Job:
    """Queue the drawing of `count` forms for the per-candidate blueprint `pb` (flushes).
    Raises ValidationError for a count out of range or malformed rules, Conflict when the
    blueprint is not per-candidate."""
    n = check_count(count)
    _check_blueprint(pb)
    return jobs.submit(actor, KIND, obj=pb, params={"count": n, "blueprint_version": pb.version})


def assemble(user: Any, pb: PaperBlueprint, count: int, *, seed: int | None = None,
             time_limit: float = TIME_LIMIT, progress: Callable[[float, str], None] | None = None,
             before_write: Callable[[], None] | None = None) -> Paper:
    """Draw `count` forms meeting the blueprint, any two sharing at most its max_shared_items,
    check every one, and store a draft paper with forms 1..count (flushes). `before_write` runs
    after the reading and drawing and before the first write (the job ends its read there);
    objects loaded before it may be expired. Raises ValidationError, Conflict, Infeasible (with
    the reasons) or DomainError (timeout, or a form failing the independent check)."""
    progress = progress or (lambda _f, _s: None)
    n = check_count(count)
    data = _check_blueprint(pb)
    seed = random.SystemRandom().randrange(1, 2**31 - 1) if seed is None else seed
    ids = {"user": user.id, "blueprint": pb.id, "org": pb.organisation_id, "standard": pb.standard_id,
           "level": pb.level}
    name = services.default_paper_name(pb) + "（一人一卷）"
    progress(0.05, "正在读取题库")
    bank = services.bank_for(data, pb.organisation_id)
    exclude = services.recently_used(pb.organisation_id, pb.standard_id, pb.level, pb.exclude_recent_papers)
    spec = to_form_spec(data, exclude=exclude)
    progress(0.1, f"正在抽取 {n} 份试卷")
    shown = [time.monotonic()]

    def on_form(i: int) -> None:
        if time.monotonic() - shown[0] >= 1.0:  # the job's page polls; one update a second is plenty
            shown[0] = time.monotonic()
            progress(0.1 + 0.28 * i / n, f"已抽取 {i} / {n} 份")

    result = per_candidate_forms(bank.items, spec, n, max_shared=spec.max_shared_items, seed=seed,
                                 time_limit=time_limit, on_form=on_form)
    if result.status == "infeasible":
        raise services.Infeasible(result.reasons)
    if result.status != "ok":
        raise DomainError("一人一卷组卷超时或出错，请放宽规则或稍后重试：" + "；".join(
            str(r.get("message", r)) for r in result.reasons[:3]))
    progress(0.4, "正在逐份校验")
    report = summary_report(bank.items, spec, result.forms)
    if not report["ok"]:
        raise DomainError("一人一卷组卷结果未通过独立校验，未保存：" + "；".join(report["violations"][:3]))
    stats = {**result.stats, "forms": n, "overlap_max": report["shared_items"]["observed_max"],
             "overlap_mean": report["shared_items"]["mean"], "items_used": report["uses"]["items"],
             "exposure_min": report["uses"]["min"], "exposure_max": report["uses"]["max"],
             **services.difficulty_stats(data, bank, result.forms)}
    if before_write is not None:
        before_write()
    paper = Paper(organisation_id=ids["org"], blueprint_id=ids["blueprint"], standard_id=ids["standard"],
                  level=ids["level"], name=name, seed=seed, blueprint_snapshot=data, compliance=report,
                  solve_stats=stats, created_by_id=ids["user"])
    db.session.add(paper)
    db.session.flush()
    _store_forms(paper, data, bank, result.forms, progress)
    audit.record(AuditAction.PAPER_ASSEMBLED, obj=paper, data={
        "blueprint_id": ids["blueprint"], "seed": seed, "per_candidate": True, "forms": n,
        "stats": {k: stats[k] for k in ("overlap_max", "exposure_min", "exposure_max", "wall_seconds")
                  if k in stats}})
    return paper


def _store_forms(paper: Paper, data: dict, bank, forms, progress) -> None:
    """Forms and their items by statement, a hundred forms at a time (100,000 rows for a
    thousand forms of a hundred items: one ORM object each would take minutes)."""
    section_of = {s["type"]: (i, float(s["points"])) for i, s in enumerate(data["sections"])}
    type_of = {it.id: it.type for it in bank.items}
    for start in range(0, len(forms), _CHUNK):
        chunk = forms[start:start + _CHUNK]
        form_ids = db.session.scalars(insert(PaperForm).returning(PaperForm.id, sort_by_parameter_order=True),
                                      [{"paper_id": paper.id, "label": f.label} for f in chunk]).all()
        rows = []
        for form_id, form in zip(form_ids, chunk, strict=True):
            for pos, item_id in enumerate(form.items, 1):
                section, points = section_of[type_of[item_id]]
                rows.append({"form_id": form_id, "position": pos, "section": section, "item_id": int(item_id),
                             "item_version_id": bank.versions[int(item_id)], "points": points})
        db.session.execute(insert(PaperFormItem), rows)
        progress(0.5 + 0.45 * (start + len(chunk)) / len(forms), f"已保存 {start + len(chunk)} / {len(forms)} 份")
    db.session.expire(paper, ["forms"])


# --- the job -----------------------------------------------------------------------------------------


def _run(job: Job, progress: registry.Progress, *, context: audit.AuditContext) -> registry.Result:
    pb = db.session.get(PaperBlueprint, job.object_id) if job.object_type == "paper_blueprint" else None
    if pb is None:
        raise Conflict("该细目表已不存在")
    paper = assemble(job.requested_by, pb, job.params.get("count"), progress=progress, before_write=jobs.end_read)
    job = db.session.get(Job, job.id)
    job.params = {**job.params, "paper_id": paper.id}
    progress(0.97, "正在生成试题清单")
    path = jobs.result_path(job)
    path.write_bytes(_listing(paper))
    return registry.Result(path, f"一人一卷-试卷{paper.id}-各份试题.csv", "text/csv")


def _listing(paper: Paper) -> bytes:
    """Every form's items (item numbers by section): what the clerk files with the paper."""
    sections = paper.blueprint_snapshot["sections"]
    rows = db.session.execute(db.select(PaperForm.label, PaperFormItem.section, PaperFormItem.item_id)
                              .join(PaperFormItem).where(PaperForm.paper_id == paper.id)
                              .order_by(PaperForm.id, PaperFormItem.position)).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["份号", *(TYPE_NAMES.get(s["type"], s["type"]) + "（试题编号）" for s in sections)])
    by_form: dict[str, list[list[str]]] = {}
    for label, section, item_id in rows:
        by_form.setdefault(label, [[] for _ in sections])[section].append(str(item_id))
    for label, cols in by_form.items():
        writer.writerow([label, *(" ".join(c) for c in cols)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def _may_view(user: Any, job: Job) -> bool:
    pb = db.session.get(PaperBlueprint, job.object_id) if job.object_type == "paper_blueprint" else None
    return (pb is not None and has_permission(user, Permission.PAPER_VIEW)
            and can_access_org_object(user, pb.organisation_id))


def _link(job: Job) -> tuple[str, str] | None:
    """The paper it made; after a failure (a cap too tight for the bank, say) the blueprint, to
    change it and try again."""
    paper_id = job.params.get("paper_id")
    if paper_id and db.session.get(Paper, paper_id) is not None:
        return N_("查看试卷"), url_for("assembly.paper", paper_id=paper_id)
    if job.state == JobState.FAILED and job.object_id and db.session.get(PaperBlueprint, job.object_id) is not None:
        return N_("返回细目表修改"), url_for("assembly.blueprint_edit", blueprint_id=job.object_id)
    return None


registry.register(registry.JobKind(KIND, N_("一人一卷组卷"), _run, may_view=_may_view, link=_link))

__all__ = ["KIND", "MAX_FORMS", "assemble", "check_count", "request"]
