"""Result documents: the score list of a batch (成绩单) as PDF and Excel, and the score report of
one candidate (成绩报告单) as PDF. Names and masked ID numbers appear here (never in marking).

Excel cells are written as text or numbers only; text starting with = + - @ (or a tab / CR) is
prefixed with an apostrophe-like quote character so no spreadsheet evaluates it as a formula."""

from __future__ import annotations

import io

from examsys import clock
from examsys.accounts.models import Organisation
from examsys.assembly.models import Paper
from examsys.delivery.models import Attempt, Batch
from examsys.delivery.scoring import services as results
from examsys.extensions import db
from examsys.reports.pdf import render_pdf
from examsys.standards.models import LEVELS, Standard

TITLE = "职业技能等级认定"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text a spreadsheet will not evaluate: a leading formula character gets a ' in front."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def num(value) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _common(batch: Batch) -> dict:
    paper = db.session.get(Paper, batch.paper_id) if batch.paper_id else None
    snap = paper.blueprint_snapshot if paper else {}
    return {"batch": batch, "paper": paper, "data": snap, "title": TITLE, "num": num,
            "standard": db.session.get(Standard, batch.standard_id),
            "organisation": db.session.get(Organisation, batch.organisation_id),
            "level_label": LEVELS.get(batch.level, str(batch.level)),
            "sections": results.section_meta(batch), "printed_at": clock.to_display(clock.now()),
            "notice_ends_at": clock.to_display(results.notice_ends_at(batch)),
            "reviews": [r for r in results.reviews(batch) if r.passed]}


def score_list_stats(rows: list) -> dict:
    scored = [r for r in rows if r.result]
    stats = {"roster": len(rows), "sat": sum(1 for r in rows if r.attempt),
             "passed": sum(1 for r in scored if r.result.passed)}
    stats["rate"] = f"{100 * stats['passed'] / len(scored):.1f}%" if scored else "—"
    return stats


def score_list_pdf(batch: Batch, *, rows: list | None = None, stats: dict | None = None,
                   part: dict | None = None) -> bytes:
    """The score list; with `part` ({index, count, first, last}), `rows` (that part's) and
    `stats` (of the whole list) one part of it, the totals and signatures on the last part."""
    if rows is None:
        rows = results.score_list(batch)
    return render_pdf("reports/results/score_list.html", rows=rows, stats=stats or score_list_stats(rows), part=part,
                      **_common(batch))


def score_report_pdf(batch: Batch, attempt: Attempt) -> bytes:
    row = next(r for r in results.score_list(batch) if r.attempt is not None and r.attempt.id == attempt.id)
    return render_pdf("reports/results/score_report.html", row=row, form_label=results.form_label(attempt),
                      **_common(batch))


def score_list_xlsx(batch: Batch) -> bytes:
    from openpyxl import Workbook  # heavy: loaded only when a score list is exported
    from openpyxl.styles import Alignment, Font

    ctx = _common(batch)
    sections = ctx["sections"]
    wb = Workbook()
    ws = wb.active
    ws.title = "成绩单"
    ws.append([safe_cell(f"{batch.name} 成绩单")])
    ws["A1"].font = Font(bold=True, size=14)
    std = ctx["standard"]
    pass_mark = num(ctx["data"].get("pass_mark"))
    ws.append([safe_cell(f"{std.name if std else ''}（{ctx['level_label']}）　合格线 {pass_mark} 分"
                         f"　状态：{batch.state_label}")])
    header = ["序号", "准考证号", "姓名", "身份证号", "考场", "座位号"] + \
        [f"{s['numeral']}、{s['name']}" for s in sections] + ["原始总分", "总分", "结果", "备注"]
    ws.append(header)
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for i, r in enumerate(results.score_list(batch), 1):
        by_index = {s["index"]: s["score"] for s in r.sections}
        note = "含更正" if r.corrected else ""
        ws.append([i, safe_cell(r.entry.ticket_no), safe_cell(r.name), safe_cell(r.id_masked),
                   safe_cell(r.entry.room.name if r.entry.room else ""), r.entry.seat_no]
                  + [by_index.get(s["index"]) for s in sections]
                  + [r.result.total if r.result else None, r.result.final_total if r.result else None,
                     safe_cell(r.status_label), safe_cell(note)])
    for col, width in zip("ABCDEF", [6, 16, 12, 22, 10, 8], strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
