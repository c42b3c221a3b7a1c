"""The PDFs of a batch archive's volumes (examsys.audit.archive), from the data its `volumes`
module reads: each call renders one document (a volume, or one part of a long volume) and
returns its bytes, so the archive can write it and let it go. The filing pack, the rooms'
records, the papers, the answer keys and the score list are the existing documents of
``reports.delivery``, ``reports.papers`` and ``reports.results``."""

from __future__ import annotations

from examsys.reports.delivery import photo_uri
from examsys.reports.pdf import render_pdf
from examsys.reports.results import num

VOLUMES = {
    1: "备案材料", 2: "签到表", 3: "试卷交接与回收记录", 4: "考场记录与异常情况", 5: "督导记录",
    6: "试卷与答案", 7: "评价结果汇总表", 8: "复核记录与成绩复查", 9: "满意度调查汇总", 10: "过程记录校验",
    11: "考生答卷",
}


def _volume(template: str, no: int, head: dict, **ctx) -> bytes:
    return render_pdf(f"reports/archive/{template}.html", volume_no=no, volume_title=VOLUMES[no], num=num,
                      **head, **ctx)


def sign_in_pdf(head: dict, rows: list[dict], part: dict | None, candidates: dict) -> bytes:
    """签到表 of `rows`; `candidates`: photo sha → the candidate (photos embedded once each)."""
    photos = {sha: photo_uri(c) for sha, c in candidates.items()}
    return _volume("signin", 2, head, rows=rows, part=part, photos=photos)


def handout_pdf(head: dict, rows: list[dict], part: dict | None, summary: dict | None) -> bytes:
    return _volume("handout", 3, head, rows=rows, part=part, summary=summary)


def incidents_pdf(head: dict, rooms: list, incidents: list[dict]) -> bytes:
    return _volume("incidents", 4, head, rooms=rooms, incidents=incidents, part=None)


def supervision_pdf(head: dict, record: dict) -> bytes:
    return _volume("supervision", 5, head, record=record, part=None, describe=describe)


def reviews_pdf(head: dict, record: dict) -> bytes:
    return _volume("reviews", 8, head, record=record, part=None)


def survey_pdf(head: dict, survey: dict) -> bytes:
    return _volume("survey", 9, head, survey=survey, part=None)


def verification_pdf(head: dict, report, root: str, chains: list[tuple[str, int, str]], who: dict,
                     part: dict | None = None) -> bytes:
    """The verification's result (in part 1) and the chains of `chains` with their heads."""
    return _volume("verification", 10, head, report=report, root=root, chains=chains, who=who, part=part)


def answer_sheets_pdf(head: dict, sheets: list[dict], part: dict | None) -> bytes:
    """Several candidates' answer sheets in one document, each starting on a new page."""
    return _volume("answer_sheets", 11, head, sheets=sheets, part=part)


DATA_LABELS = {"changes": "变更", "reason": "原因", "supervisor_id": "督导员", "findings": "发现", "note": "说明"}


def describe(data: dict) -> str:
    """An event's data as a line people read (keys named in Chinese where known; a change as
    before → after)."""
    parts = []
    for key, value in (data or {}).items():
        if isinstance(value, dict) and "before" in value and "after" in value:
            value = f"{value['before']} → {value['after']}"
        elif isinstance(value, dict):
            value = describe(value)
        parts.append(f"{DATA_LABELS.get(key, key)}：{value}")
    return "；".join(parts)


__all__ = ["VOLUMES", "answer_sheets_pdf", "describe", "handout_pdf", "incidents_pdf", "reviews_pdf",
           "sign_in_pdf", "supervision_pdf", "survey_pdf", "verification_pdf"]
