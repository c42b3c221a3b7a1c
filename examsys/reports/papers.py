"""The PDFs of a paper: the exam paper of one form (cover with 注意事项 and the score table,
then the sections with their instructions and scoring boxes), its answer key, and the
compliance report of the whole paper. Callers pass the read-side views of ``assembly.queries``."""

from __future__ import annotations

import random
import re

from examsys import clock
from examsys.assembly import formats
from examsys.assembly.models import Paper
from examsys.assembly.queries import FormView, SectionBlock, rule_label
from examsys.bank.richtext import to_plain
from examsys.reports.pdf import render_pdf
from examsys.standards.models import LEVELS, Standard

TITLE = "职业技能等级认定理论知识考试试卷"

# How each item type is answered, as printed in the section heading.
INSTRUCTIONS = {
    "judge": "将判断结果填入括号中。正确的填“√”，错误的填“×”。",
    "single": "选择一个正确的答案，将相应的字母填入题内的括号中。",
    "multi": "选择正确的答案，将相应的字母填入题内的括号中。",
    "fill": "将正确答案填在横线上。",
    "short": "请在题下空白处作答。",
    "calc": "请写出计算过程和结果，在题下空白处作答。",
    "essay": "请在题下空白处作答。",
    "case": "请根据案例材料，在题下空白处作答。",
}
# Writing space left under open questions, in lines.
ANSWER_LINES = {"short": 8, "calc": 10, "essay": 14, "case": 14}


# An option that refers to the others ("以上都对", "上述各项均不正确") must stay where it is.
_REFERS_TO_OTHERS = re.compile(r"^\s*(以上|上述)(各项|选项|说法|答案)?(均|都|全)")
LABELS = "ABCDEFGH"


def printed_options(paper: Paper, form_label: str, row) -> tuple[list[dict], object]:
    """(options as printed, key in printed labels) of a choice item on a printed form.

    Option order is derived from the paper's recorded seed, the form and the item's position,
    so A and B differ, a reprint is identical, and the answer key follows it; banks whose
    writers tend to put the right answer first do not print a paper whose answers are all A.
    Items with an option referring to the others keep their order."""
    content = row.version.content
    options = list(content.get("options") or [])
    key = content.get("key")
    if not options:
        return [], key
    order = _printed_order(paper, form_label, row)
    printed = [{"label": LABELS[n], "text": options[i]["text"]} for n, i in enumerate(order)]
    return printed, relabel_answer(option_relabel(paper, form_label, row), key)


def _printed_order(paper: Paper, form_label: str, row) -> list[int]:
    options = list(row.version.content.get("options") or [])
    order = list(range(len(options)))
    if not any(_REFERS_TO_OTHERS.match(to_plain(o.get("text", ""))) for o in options):
        random.Random(f"{paper.seed}:{form_label}:{row.form_item.position}").shuffle(order)
    return order


def option_relabel(paper: Paper, form_label: str, row) -> dict[str, str]:
    """Stored option label → the label printed on the form (see `printed_options`)."""
    options = list(row.version.content.get("options") or [])
    return {options[i]["label"]: LABELS[n] for n, i in enumerate(_printed_order(paper, form_label, row))}


def relabel_answer(relabel: dict[str, str], value):
    """A choice answer or key (a label, or a list of labels) in printed labels."""
    if isinstance(value, str):
        return relabel.get(value, value)
    if isinstance(value, list):
        return sorted(relabel.get(k, k) for k in value)
    return value


def num(value: float) -> str:
    """1.0 → "1", 0.5 → "0.5": scores as people write them."""
    return f"{value:g}"


def section_heading(block: SectionBlock, partial_credit: bool) -> str:
    """一、判断题（第1题～第20题。将判断结果填入括号中。…每题1分，满分20分。）"""
    rule = INSTRUCTIONS.get(block.type, "")
    if block.type == "multi":
        rule += ("全部选对得满分，少选按所选正确选项比例得分，错选不得分。" if partial_credit
                 else "错选、少选、多选均不得分。")
    return (f"{block.numeral}、{block.name}（第{block.first}题～第{block.last}题。{rule}"
            f"每题{num(block.points)}分，满分{num(block.total)}分。）")


def option_columns(options: list[dict]) -> int:
    """Options side by side when they are short: 4 per line, 2 per line, or one per line
    (widths in CJK characters that fit a quarter / half of an A4 text line at 10.5 pt)."""
    longest = max((len(to_plain(o.get("text", ""))) for o in options), default=0)
    if longest <= 9 and len(options) <= 4:
        return 4
    if longest <= 6 and len(options) <= 6:
        return len(options)
    if longest <= 20:
        return 2
    return 1


def _common(paper: Paper, standard: Standard) -> dict:
    data = paper.blueprint_snapshot
    return {"paper": paper, "standard": standard, "title": TITLE, "data": data,
            "level_label": LEVELS.get(paper.level, str(paper.level)), "num": num,
            "type_names": formats.TYPE_NAMES, "printed_at": clock.to_display(clock.now())}


def form_name(paper: Paper, label: str) -> str:
    """How a form is named on paper: "A卷" for the A/B forms of a batch, "第 25 份" for a form of
    a paper with one form per candidate (numbered forms; "25卷" would read as a 25th volume)."""
    return f"第 {label} 份" if paper.per_candidate else f"{label}卷"


def paper_pdf(paper: Paper, view: FormView, standard: Standard) -> bytes:
    data = paper.blueprint_snapshot
    return render_pdf("reports/paper.html", view=view, option_columns=option_columns,
                      form_name=form_name(paper, view.label),
                      options_of=lambda row: printed_options(paper, view.label, row)[0],
                      heading=lambda b: section_heading(b, bool(data.get("partial_credit"))),
                      answer_lines=ANSWER_LINES, **_common(paper, standard))


def answer_key_pdf(paper: Paper, view: FormView, standard: Standard) -> bytes:
    return render_pdf("reports/answer_key.html", view=view, form_name=form_name(paper, view.label),
                      key_of=lambda row: printed_options(paper, view.label, row)[1], **_common(paper, standard))


def compliance_pdf(paper: Paper, standard: Standard, effective: dict | None) -> bytes:
    names = {r.code: r.name for r in standard.ranges}
    report = effective or paper.compliance
    if report.get("per_candidate"):
        # A form per candidate: the summary over all forms, not a column for each of them.
        return render_pdf("reports/compliance_per_candidate.html", report=report, replaced=effective is not None,
                          label_of=lambda rule: rule_label(paper.blueprint_snapshot, rule, names),
                          **_common(paper, standard))
    labels = [f.label for f in paper.forms]
    return render_pdf("reports/compliance.html", report=report, labels=labels, replaced=effective is not None,
                      label_of=lambda rule: rule_label(paper.blueprint_snapshot, rule, names),
                      **_common(paper, standard))
