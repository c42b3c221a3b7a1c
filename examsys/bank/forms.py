"""Forms of the bank: the item editor (one form for every type; the registry validates the content
it produces), review decisions, batch approval, fault reports, search filters and import."""

from __future__ import annotations

import re

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
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


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ItemForm(FlaskForm):
    """The item editor. Options are rows A… of which the first `option_count` (2–8) are in use;
    the key is one radio per row for single choice and one checkbox per row for multiple choice.
    `option_action` ("add", "remove-C") is the no-script way of adding and removing rows."""

    expected_version = HiddenField()
    qtype = SelectField(_l("题型"), choices=[(t.value, label) for t, label in QTYPE_LABELS.items()])
    point_id = SelectField(_l("鉴定点"), coerce=_int_or_none, validate_choice=False,
                           validators=[DataRequired(message=_l("请选择鉴定点"))])
    levels = MultiCheckboxField(_l("适用等级"), coerce=int, choices=[(lv, label) for lv, label in LEVELS.items()],
                                validators=[DataRequired(message=_l("请至少选择一个适用等级"))])
    difficulty = SelectField(_l("难度"), coerce=int, choices=list(DIFFICULTY_LABELS.items()), default=3)
    points = DecimalField(_l("分值"), places=1, default=1, validators=[
        DataRequired(message=_l("请填写分值")), NumberRange(0.5, 100, message=_l("分值应在 0.5 到 100 之间"))])
    stem = TextAreaField(_l("题干"), validators=[DataRequired(message=_l("请填写题干")), Length(max=20000)])
    option_count = HiddenField(default="4")
    option_a = TextAreaField("A", validators=[Length(max=4000)])
    option_b = TextAreaField("B", validators=[Length(max=4000)])
    option_c = TextAreaField("C", validators=[Length(max=4000)])
    option_d = TextAreaField("D", validators=[Length(max=4000)])
    option_e = TextAreaField("E", validators=[Length(max=4000)])
    option_f = TextAreaField("F", validators=[Length(max=4000)])
    option_g = TextAreaField("G", validators=[Length(max=4000)])
    option_h = TextAreaField("H", validators=[Length(max=4000)])
    choice_key = MultiCheckboxField(_l("正确答案"), choices=[(c, c) for c in OPTION_LABELS])
    # Only meaningful for 判断题; unset until the writer picks one (never silently "错误").
    judge_key = RadioField(_l("正确答案"), choices=[("true", _l("正确（√）")), ("false", _l("错误（×）"))],
                           validate_choice=False)
    blanks = TextAreaField(_l("填空答案"), validators=[Length(max=4000)])
    reference_answer = TextAreaField(_l("参考答案"), validators=[Length(max=20000)])
    scoring_points = TextAreaField(_l("评分要点"), validators=[Length(max=8000)])
    explanation = TextAreaField(_l("解析"), validators=[Length(max=20000)])
    note = StringField(_l("修改说明"), validators=[DataRequired(message=_l("请填写修改说明")), Length(max=500)])
    submit_for_review = BooleanField(_l("保存后提交审核"))
    save = SubmitField(_l("保存"))

    MIN_OPTIONS, MAX_OPTIONS = 2, len(OPTION_LABELS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Errors of a whole section (no single field to put them on): "options", "key".
        self.section_errors: dict[str, list[str]] = {}

    def option_fields(self):
        return [getattr(self, f"option_{c.lower()}") for c in OPTION_LABELS]

    def shown_options(self) -> int:
        """How many option rows are in use: `option_count`, else up to the last filled one (4 at
        least for a new item), within 2–8."""
        count = _int_or_none(self.option_count.data)
        if count is None:
            filled = [i for i, f in enumerate(self.option_fields(), 1) if (f.data or "").strip()]
            count = max(filled[-1] if filled else 0, 4)
        return min(max(count, self.MIN_OPTIONS), self.MAX_OPTIONS)

    def apply_option_action(self) -> bool:
        """Add a row, or remove one (later rows and their key marks move up). Returns whether the
        post was such an action rather than a save."""
        action = next((a for a in request.form.getlist("option_action") if a), "").strip()
        if not action:
            return False
        count = self.shown_options()
        if action == "add":
            count = min(count + 1, self.MAX_OPTIONS)
        elif action.startswith("remove-") and action[7:] in OPTION_LABELS[:count] and count > self.MIN_OPTIONS:
            gone = OPTION_LABELS.index(action[7:])
            fields = self.option_fields()
            texts = [f.data or "" for f in fields[:count]]
            keys = set(self.choice_key.data or [])
            del texts[gone]
            new_keys = []
            for i, label in enumerate(OPTION_LABELS[:count]):
                if label in keys and i != gone:
                    new_keys.append(OPTION_LABELS[i - 1] if i > gone else label)
            count -= 1
            for i, f in enumerate(fields):
                f.data = texts[i] if i < count else ""
            self.choice_key.data = new_keys
        self.option_count.data = str(count)
        return True

    def to_content(self) -> dict:
        """The content dict (CONTENT_FORMAT.md) this form describes; the registry validates it."""
        qtype = QType(self.qtype.data)
        content: dict = {"stem": self.stem.data or "", "options": [], "key": None,
                         "reference_answer": "", "scoring_points": [],
                         "explanation": self.explanation.data or ""}
        if qtype in CHOICE_TYPES:
            count = self.shown_options()
            content["options"] = [{"label": c, "text": (f.data or "").strip()}
                                  for c, f in zip(OPTION_LABELS[:count], self.option_fields(), strict=False)]
            keys = sorted(k for k in self.choice_key.data or [] if k in OPTION_LABELS[:count])
            if qtype == QType.SINGLE:
                content["key"] = "".join(keys) or None
            else:
                content["key"] = keys
        elif qtype == QType.JUDGE:
            content["key"] = {"true": True, "false": False}.get(self.judge_key.data)
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
        self.option_count.data = str(max(len(by_label), 4) if qtype in CHOICE_TYPES else 4)
        key = content.get("key")
        if qtype == QType.JUDGE:
            self.judge_key.data = None if key is None else ("true" if key else "false")
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

    def flag(self, problems: list[tuple[str, str]]) -> None:
        """Put each (field, message) content problem on the editor field it is about (an option
        named in the message on that option's box), or on its section; a field keeps the first
        message it already has rather than getting the same complaint twice."""
        qtype = QType(self.qtype.data)
        key_field = {QType.JUDGE: self.judge_key, QType.FILL: self.blanks}.get(qtype, self.choice_key)
        for name, message in problems:
            target = None
            if name == "options":
                m = _OPTION_NAMED.search(message)
                target = getattr(self, f"option_{m.group(1).lower()}") if m else None
                if target is None:
                    self.section_errors.setdefault("options", []).append(message)
                    continue
            elif name == "key":
                target = key_field
            else:
                target = getattr(self, {"point": "point_id"}.get(name, name), None)
            if target is None:
                self.section_errors.setdefault("other", []).append(message)
            elif not target.errors:
                target.errors = [*target.errors, message]

    def flagged(self) -> list[tuple[str, str, str]]:
        """(field id, label, first message) of every flagged field in page order, for the summary."""
        out = []
        for f in self:
            if f.errors and f.type not in ("HiddenField", "CSRFTokenField"):
                # An option's messages name it ("选项A 为空"): no label in front.
                label = "" if f.name.startswith("option_") else str(f.label.text)
                out.append((f.id, label, f.errors[0]))
        for name, messages in self.section_errors.items():
            out += [(f"section-{name}", "", m) for m in messages]
        return out


_OPTION_NAMED = re.compile(r"^选项([A-H])")


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
