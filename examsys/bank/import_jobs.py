"""A large question-file import as a job (examsys.jobs): the preview still runs in the request
(it only reads, and shows every error with its file, row and field, and the category mapping),
and once it passed, the confirm step of a large file (more than LARGE_ITEMS questions or
LARGE_BYTES of file) runs in the job worker: it parses and checks the staged file again with the
options and mapping the user confirmed, writes the items and reports its progress on the job's
page. All or nothing as in the request unless the user chose a partial import: a file that then
fails writes no item and no event of its own, and the job says why in Chinese. Its result is a
CSV of what was imported (item id, type, source row) and of every error, for the writer to
check."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from flask import url_for

from examsys import audit
from examsys.bank import exchange
from examsys.bank.models import Item, ItemVersion
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.interchange.model import QTYPE_LABELS, issues_summary
from examsys.jobs import registry
from examsys.jobs import services as jobs
from examsys.jobs.models import Job, JobState
from examsys.jobs.registry import N_
from examsys.jobs.services import staging_dir
from examsys.permissions import Permission, has_permission
from examsys.standards.models import Standard

KIND = "bank.import"
LARGE_ITEMS = 500
LARGE_BYTES = 2 * 1024 * 1024
SHOWN_ERRORS = 10
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_SUFFIXES = (".bin", ".name", ".count")


def is_large(items: int, size: int) -> bool:
    """Whether an import of `items` questions from a file of `size` bytes goes to the job worker."""
    return items > LARGE_ITEMS or size > LARGE_BYTES


def staged_base(user_id: int, token: str) -> Path | None:
    """Where `user_id`'s upload `token` is staged (the user id is part of the name, so only its
    uploader can confirm it); None for a token that cannot be one."""
    if not _TOKEN.match(token or ""):
        return None
    return staging_dir() / f"{user_id}-{token}"


def unstage(user_id: int, token: str) -> None:
    base = staged_base(user_id, token)
    if base is not None:
        for ext in _SUFFIXES:
            base.with_suffix(ext).unlink(missing_ok=True)


def request_import(actor: Any, standard: Standard, token: str, *, level: int | None, partial: bool,
                   approve: bool, category_map: dict[str, int | None]) -> Job:
    """Queue the import of the upload `token` that `actor` previewed (flushes)."""
    base = staged_base(actor.id, token)
    if base is None or not base.with_suffix(".bin").exists():
        raise Conflict("导入文件已失效，请重新上传")
    return jobs.submit(actor, KIND, obj=standard, organisation_id=actor.organisation_id, params={
        "token": token, "file": base.with_suffix(".name").read_text(), "level": level, "partial": partial,
        "approve": approve, "category_map": category_map})


def _run(job: Job, progress: registry.Progress, *, context: audit.AuditContext) -> registry.Result:
    user, params = job.requested_by, job.params
    standard = db.session.get(Standard, job.object_id) if job.object_type == "standard" else None
    if standard is None:
        raise Conflict("该职业标准已不存在")
    token = params.get("token", "")
    base = staged_base(user.id, token)
    if base is None or not base.with_suffix(".bin").exists():
        raise Conflict("导入文件已失效，请重新上传")
    progress(0.02, "正在读取文件")
    data = base.with_suffix(".bin").read_bytes()
    approve = bool(params.get("approve")) and has_permission(user, Permission.ITEM_REVIEW)
    try:
        result = exchange.import_file(user, user.organisation, standard, params.get("file") or "upload", data,
                                      level=params.get("level"), partial=bool(params.get("partial")),
                                      approve=approve, category_map=params.get("category_map") or {},
                                      progress=progress)
    finally:
        unstage(user.id, token)
    if not result.imported:
        raise ValidationError(f"文件有 {len(result.errors)} 处错误，未导入任何试题："
                              f"{issues_summary(result.errors, SHOWN_ERRORS)}。请修改后重新上传。"
                              if result.errors else "文件中没有可导入的试题。")
    progress(0.97, "正在生成导入结果")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["结果", "试题编号", "题型", "来源（文件:行）", "说明"])
    rows = db.session.execute(db.select(Item.id, Item.qtype, ItemVersion.source)
                              .join(ItemVersion, ItemVersion.id == Item.latest_version_id)
                              .where(Item.id.in_(result.item_ids)).order_by(Item.id))
    for item_id, qtype, source in rows:
        where = source.get("file", "") + (f":{source['row']}" if source.get("row") else "") \
            if isinstance(source, dict) else ""
        writer.writerow(["已导入", item_id, QTYPE_LABELS.get(qtype.value, qtype.value), where, ""])
    for e in result.errors:
        writer.writerow(["未导入", "", "", e.where, f"{e.field}：{e.message}" if e.field else e.message])
    path = jobs.result_path(job)
    path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))  # BOM: Excel opens it as UTF-8
    job.params = {**params, "imported": result.imported, "skipped": result.skipped}
    return registry.Result(path, f"试题导入结果-{job.id}.csv", "text/csv")


def _may_view(user: Any, job: Job) -> bool:
    """Only its requester (the registry lets them) and reviewers of the same organisation."""
    return job.organisation_id == user.organisation_id and has_permission(user, Permission.ITEM_REVIEW)


def _link(job: Job) -> tuple[str, str] | None:
    if job.state == JobState.DONE:
        status = "" if job.params.get("approve") else "draft"
        return N_("查看导入的试题"), url_for("bank.items", status=status)
    return N_("重新导入"), url_for("bank.import_items")


registry.register(registry.JobKind(KIND, N_("试题导入"), _run, may_view=_may_view, writes_early=True, link=_link))

__all__ = ["KIND", "LARGE_BYTES", "LARGE_ITEMS", "is_large", "request_import", "staged_base", "staging_dir",
           "unstage"]
