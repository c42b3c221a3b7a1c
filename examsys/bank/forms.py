"""Forms of the bank: the item editor (one form for every type; the registry validates the content
it produces), review decisions, batch approval, fault reports, search filters and import."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from examsys.accounts.forms import MultiCheckboxField
from examsys.bank.models import QType
from examsys.standards.models import LEVELS

OPTION_LABELS = "ABCDEFGH"
QTYPE_LABELS = {
    QType.JUDGE: "判断题", QType.SINGLE: "单项选择题", QType.MULTI: "多项选择题", QType.FILL: "填空题",
    QType.SHORT: "简答题", QType.CALC: "计算题", QType.ESSAY: "论述题", QType.CASE: "案例分析题",
}
OPEN_TYPES = {QType.SHORT, QType.CALC, QType.ESSAY, QType.CASE}
CHOICE_TYPES = {QType.SINGLE, QType.MULTI}
DIFFICULTY_LABELS = {1: _l("易"), 2: _l("较易"), 3: _l("中等"), 4: _l("较难"), 5: _l("难")}
_POINT_LINE = re.compile(r"^(?P<text>.*?)[（(]\s*(?P<pts>\d+(?:\.\d+)?)\s*分?\s*[)）]\s*$")


class ItemForm(FlaskForm):
    expected_version = HiddenField()
    qtype = SelectField(_l("题型"), choices=[(t.value, label) for t, label in QTYPE_LABELS.items()])
    point_id = SelectField(_l("鉴定点"), coerce=int, validators=[DataRequired()])
    levels = SelectMultipleField(_l("适用等级"), coerce=int,
                                 choices=[(lv, label) for lv, label in LEVELS.items()],
                                 validators=[DataRequired()])
    difficulty = SelectField(_l("难度"), coerce=int, choices=list(DIFFICULTY_LABELS.items()), default=3)
    points = DecimalField(_l("分值"), places=1, default=1, validators=[DataRequired(), NumberRange(0.5, 100)])
    stem = TextAreaField(_l("题干"), validators=[DataRequired(), Length(max=20000)])
    option_a = TextAreaField("A", validators=[Length(max=4000)])
    option_b = TextAreaField("B", validators=[Length(max=4000)])
    option_c = TextAreaField("C", validators=[Length(max=4000)])
    option_d = TextAreaField("D", validators=[Length(max=4000)])
    option_e = TextAreaField("E", validators=[Length(max=4000)])
    option_f = TextAreaField("F", validators=[Length(max=4000)])
    option_g = TextAreaField("G", validators=[Length(max=4000)])
    option_h = TextAreaField("H", validators=[Length(max=4000)])
    choice_key = MultiCheckboxField(_l("正确答案"), choices=[(c, c) for c in OPTION_LABELS])
    # Only meaningful for 判断题; other types leave it unset, so no choice validation here.
    judge_key = SelectField(_l("正确答案"), choices=[("true", "正确（√）"), ("false", "错误（×）")],
                            validate_choice=False, default="true")
    blanks = TextAreaField(_l("填空答案"), validators=[Length(max=4000)])
    reference_answer = TextAreaField(_l("参考答案"), validators=[Length(max=20000)])
    scoring_points = TextAreaField(_l("评分要点"), validators=[Length(max=8000)])
    explanation = TextAreaField(_l("解析"), validators=[Length(max=20000)])
    note = StringField(_l("修改说明"), validators=[DataRequired(), Length(max=500)])
    submit_for_review = BooleanField(_l("保存后提交审核"))
    save = SubmitField(_l("保存"))

    def option_fields(self):
        return [getattr(self, f"option_{c.lower()}") for c in OPTION_LABELS]

    def to_content(self) -> dict:
        """The content dict (CONTENT_FORMAT.md) this form describes; the registry validates it."""
        qtype = QType(self.qtype.data)
        content: dict = {"stem": self.stem.data or "", "options": [], "key": None,
                         "reference_answer": "", "scoring_points": [],
                         "explanation": self.explanation.data or ""}
        if qtype in CHOICE_TYPES:
            content["options"] = [{"label": c, "text": (f.data or "").strip()}
                                  for c, f in zip(OPTION_LABELS, self.option_fields(), strict=True)
                                  if (f.data or "").strip()]
            keys = sorted(self.choice_key.data or [])
            content["key"] = keys[0] if qtype == QType.SINGLE and len(keys) == 1 else (
                keys if qtype == QType.MULTI else "".join(keys))
        elif qtype == QType.JUDGE:
            content["key"] = self.judge_key.data == "true"
        elif qtype == QType.FILL:
            content["key"] = [[a.strip() for a in re.split(r"[;；]", line) if a.strip()]
                              for line in (self.blanks.data or "").splitlines() if line.strip()]
        else:
            content["reference_answer"] = self.reference_answer.data or ""
            content["scoring_points"] = parse_scoring_points(self.scoring_points.data or "")
        return content

    def load_content(self, qtype: QType, content: dict) -> None:
        self.qtype.data = qtype.value
        self.stem.data = content.get("stem", "")
        self.explanation.data = content.get("explanation", "")
        by_label = {o["label"]: o["text"] for o in content.get("options", [])}
        for c, f in zip(OPTION_LABELS, self.option_fields(), strict=True):
            f.data = by_label.get(c, "")
        key = content.get("key")
        if qtype == QType.JUDGE:
            self.judge_key.data = "true" if key else "false"
        elif qtype == QType.SINGLE:
            self.choice_key.data = [key] if key else []
        elif qtype == QType.MULTI:
            self.choice_key.data = list(key or [])
        elif qtype == QType.FILL:
            self.blanks.data = "\n".join("；".join(alts) for alts in key or [])
        else:
            self.reference_answer.data = content.get("reference_answer", "")
            self.scoring_points.data = "\n".join(
                f"{p['text']}（{_fmt_points(p['points'])}分）" for p in content.get("scoring_points", []))


def _fmt_points(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else str(value)


def parse_scoring_points(text: str) -> list[dict]:
    """One scoring point per line, its points in brackets at the end: "说明接地原理（2分）"."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _POINT_LINE.match(line)
        if m:
            out.append({"text": m.group("text").strip(), "points": float(m.group("pts"))})
        else:
            out.append({"text": line, "points": 0})
    return out


class ReviewForm(FlaskForm):
    comment = TextAreaField(_l("审核意见"), validators=[Length(max=2000)])
    comment_stem = StringField(_l("题干"), validators=[Length(max=500)])
    comment_options = StringField(_l("选项"), validators=[Length(max=500)])
    comment_key = StringField(_l("答案"), validators=[Length(max=500)])
    comment_explanation = StringField(_l("解析"), validators=[Length(max=500)])
    comment_point = StringField(_l("鉴定点与难度"), validators=[Length(max=500)])
    approve = SubmitField(_l("通过入库"))
    send_back = SubmitField(_l("退回修改"))

    FIELD_COMMENTS = (("stem", "comment_stem"), ("options", "comment_options"), ("key", "comment_key"),
                      ("explanation", "comment_explanation"), ("point", "comment_point"))

    def field_comments(self) -> list[dict]:
        return [{"field": name, "comment": getattr(self, attr).data.strip()}
                for name, attr in self.FIELD_COMMENTS if (getattr(self, attr).data or "").strip()]


class BatchApproveForm(FlaskForm):
    version_ids = SelectMultipleField(coerce=int, validate_choice=False)
    comment = StringField(_l("审核意见"), validators=[Length(max=500)])
    submit = SubmitField(_l("批量通过"))


class ReasonForm(FlaskForm):
    reason = StringField(_l("原因"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("确定"))


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("关键词"), validators=[Optional(), Length(max=100)])
    standard_id = SelectField(_l("职业标准"), coerce=int, validators=[Optional()], validate_choice=False)
    level = SelectField(_l("等级"), coerce=int, validators=[Optional()],
                        choices=[(0, "全部")] + list(LEVELS.items()))
    point = StringField(_l("范围/鉴定点代码"), validators=[Optional(), Length(max=32)])
    qtype = SelectField(_l("题型"), validators=[Optional()],
                        choices=[("", "全部")] + [(t.value, label) for t, label in QTYPE_LABELS.items()])
    status = SelectField(_l("状态"), validators=[Optional()], choices=[
        ("", "全部"), ("draft", "草稿"), ("submitted", "待审核"), ("returned", "已退回"),
        ("approved", "已入库"), ("retired", "已停用")])
    difficulty = SelectField(_l("难度"), coerce=int, validators=[Optional()],
                             choices=[(0, "全部")] + list(DIFFICULTY_LABELS.items()))
    author = StringField(_l("命题人"), validators=[Optional(), Length(max=64)])
    needs_revision = BooleanField(_l("仅看待修订"))
    page = IntegerField(default=1, validators=[Optional()])


class ImportForm(FlaskForm):
    file = FileField(_l("题库文件"), validators=[FileRequired()])
    standard_id = SelectField(_l("职业标准"), coerce=int)
    level = SelectField(_l("等级"), coerce=int, choices=[(0, "按文件")] + list(LEVELS.items()))
    partial = BooleanField(_l("部分导入（跳过有错误的试题）"))
    approve = BooleanField(_l("直接入库（需审题权限）"))
    token = HiddenField()
    preview = SubmitField(_l("预检"))
    confirm = SubmitField(_l("确认导入"))
