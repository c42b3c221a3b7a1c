"""The report to the provincial platform: an xlsx workbook and a JSON document of one report's
records, with the same fields in the same order (FIELDS; documented in docs/certificate-data.md,
and a test holds the two equal). Built from the frozen records, so the same report always
exports the same data; full ID numbers are in it, so each download is audited by the view's
service call."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from examsys import audit, clock
from examsys.audit.actions import AuditAction
from examsys.campaign.certdata import services
from examsys.campaign.certdata.models import CertRecord, CertReport
from examsys.permissions import may_view_certdata

FORMAT = "examsys.certificate-data"
FORMAT_VERSION = 1
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _date(value) -> str | None:
    return value.isoformat() if value is not None else None


# (JSON key, xlsx column header, value of a record)
FIELDS: list[tuple[str, str, Callable[[CertRecord], Any]]] = [
    ("seq", "序号", lambda r: r.seq),
    ("ticket_no", "准考证号", lambda r: r.ticket_no),
    ("name", "姓名", lambda r: r.name),
    ("id_number", "身份证号码", services.id_number_of),
    ("gender", "性别", lambda r: r.gender),
    ("birth_date", "出生日期", lambda r: _date(r.birth_date)),
    ("occupation_code", "职业编码", lambda r: r.occupation_code),
    ("occupation_name", "职业（工种）名称", lambda r: r.occupation_name),
    ("level", "等级", lambda r: r.level),
    ("exam_date", "考试日期", lambda r: _date(r.exam_date)),
    ("score", "理论知识成绩", lambda r: r.score),
    ("pass_mark", "合格线", lambda r: r.pass_mark),
    ("result", "评价结果", lambda r: "合格"),
    ("published_on", "成绩发布日期", lambda r: _date(r.published_on)),
    ("organisation_code", "评价机构代码", lambda r: r.report.organisation.code),
    ("organisation_name", "评价机构名称", lambda r: r.report.organisation.name),
    ("photo_sha256", "照片文件（SHA-256）", lambda r: r.photo_sha256),
    ("explanations", "问题说明", lambda r: "；".join(f"{e['field']}：{e['explanation']}" for e in r.explanations)),
    ("resubmitted_at", "重新上报时间", lambda r: clock.to_display(r.resubmitted_at).isoformat()
     if r.resubmitted_at else None),
]


def safe_cell(value):
    """Text a spreadsheet will not evaluate: a leading formula character gets a ' in front."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def records(report: CertReport) -> list[dict]:
    return [{key: get(r) for key, _label, get in FIELDS} for r in report.records]


def _audited(actor, report: CertReport, kind: str) -> None:
    may_view_certdata(actor, report.organisation).enforce()
    audit.record(AuditAction.CERT_REPORT_EXPORTED, obj=report, data={"format": kind,
                                                                     "records": len(report.records)})


def as_json(actor, report: CertReport) -> bytes:
    """Raises PermissionDenied."""
    _audited(actor, report, "json")
    doc = {"format": FORMAT, "version": FORMAT_VERSION,
           "report": {"id": report.id, "batch": report.batch.name,
                      "organisation_code": report.organisation.code,
                      "organisation_name": report.organisation.name,
                      "reported_at": clock.to_display(report.reported_at).isoformat(),
                      "checked_at": clock.to_display(report.checked_at).isoformat() if report.checked_at else None,
                      "records": len(report.records)},
           "records": records(report)}
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def as_xlsx(actor, report: CertReport) -> bytes:
    """One sheet 证书数据: a header row of the column names, one row per record. Raises PermissionDenied."""
    _audited(actor, report, "xlsx")
    wb = Workbook()
    ws = wb.active
    ws.title = "证书数据"
    ws.append([label for _key, label, _get in FIELDS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in records(report):
        ws.append([safe_cell(v) for v in row.values()])
    for col, width in zip("ABCDEFGHIJKLMNOPQRS", (6, 16, 10, 21, 6, 12, 12, 16, 6, 12, 12, 8, 9, 13, 14, 28, 20,
                                                  30, 22), strict=True):
        ws.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def filename(report: CertReport, ext: str) -> str:
    return f"certificate-data-{report.organisation.code}-{report.batch_id}.{ext}"
