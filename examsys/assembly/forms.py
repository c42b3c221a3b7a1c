"""Forms of the assembly pages: the blueprint editor (rows of sections and content rules that the
page may add and remove, difficulty bands per level 1–5, importance quotas X/Y/Z, exclusions,
forms and sharing), the pre-fill options, and the small action forms on a paper's page.

``BlueprintForm.to_data()`` turns the submitted form into the blueprint's plain data (the shape
of ``services.snapshot``); the same parse serves saving (POST) and the live feasibility check
(GET), so the editor's feedback always reflects exactly what saving would store."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    FloatField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from examsys.assembly import formats
from examsys.assembly.prefill import DEFAULT_TOLERANCE
from examsys.standards.models import LEVELS

TYPE_CHOICES = [(t, formats.TYPE_NAMES[t]) for t in formats.ITEM_TYPES]
NONNEG = NumberRange(min=0, max=100000, message=_l("须为非负整数"))


class NumberField(FloatField):
    """A float shown as people write it: 100, not 100.0."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:g}"


class SectionRow(Form):
    type = SelectField(_l("题型"), choices=[("", _l("（删除此行）")), *TYPE_CHOICES], validators=[Optional()])
    count = IntegerField(_l("每套题量"), validators=[Optional(), NumberRange(min=1, max=1000)])
    points = NumberField(_l("每题分值"), validators=[Optional(), NumberRange(min=0.1, max=100)])


class ContentRow(Form):
    kp_prefix = SelectField(_l("鉴定范围"), choices=[], validate_choice=False, validators=[Optional()])
    type = SelectField(_l("题型"), choices=[("", _l("全部题型")), *TYPE_CHOICES], validators=[Optional()])
    min = IntegerField(_l("最少"), validators=[Optional(), NONNEG])
    max = IntegerField(_l("最多"), validators=[Optional(), NONNEG])


class BlueprintForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("细目表名称"), validators=[DataRequired(), Length(max=200)])
    level = SelectField(_l("等级"), coerce=int, choices=[])
    duration_minutes = IntegerField(_l("考试时长（分钟）"), default=90,
                                    validators=[DataRequired(), NumberRange(min=1, max=600)])
    total_points = NumberField(_l("试卷总分"), default=100, validators=[DataRequired(), NumberRange(min=1)])
    pass_mark = NumberField(_l("合格分数线"), default=60, validators=[DataRequired(), NumberRange(min=0)])
    forms = IntegerField(_l("试卷套数（A/B/C…）"), default=2,
                         validators=[DataRequired(), NumberRange(min=1, max=formats.MAX_FORMS)])
    max_shared_items = IntegerField(_l("任意两套最多共用题数"), default=0, validators=[Optional(), NONNEG])
    exclude_recent_papers = IntegerField(_l("排除最近几份已定稿试卷用过的题"), default=0,
                                         validators=[Optional(), NumberRange(min=0, max=50)])
    max_exposure = IntegerField(_l("曝光次数上限（留空不限）"), validators=[Optional(), NONNEG])
    partial_credit = BooleanField(_l("多选题少选得部分分（错选不得分）"))
    difficulty_source = SelectField(_l("难度来源"), choices=[
        ("declared", _l("标注难度（命题时标注）")),
        ("estimated", _l("据考试数据估计（有足够考试数据的试题用估计难度，其余用标注难度）"))], default="declared")
    info_tolerance = NumberField(_l("各套测验信息量容差（%，留空不匹配）"), validators=[
        Optional(), NumberRange(min=0, max=formats.MAX_INFO_TOLERANCE,
                                message=_l("须在 0–50 之间"))])
    per_candidate = BooleanField(_l("一人一卷（千人千卷）"))
    sections = FieldList(FormField(SectionRow), min_entries=1)
    content = FieldList(FormField(ContentRow))
    # Pre-fill options (used by the 按比重表生成 action only).
    prefill_depth = SelectField(_l("鉴定范围层级"), choices=[("1,2", _l("一级和二级范围")), ("1", _l("仅一级范围")),
                                                        ("2", _l("仅二级范围"))], default="1,2")
    prefill_tolerance = NumberField(_l("允许偏差（%）"), default=DEFAULT_TOLERANCE,
                                   validators=[Optional(), NumberRange(min=0, max=100)])
    prefill_per_type = BooleanField(_l("按题型分别设定"))


# Difficulty bands per level and importance quotas: fixed rows, blank means "no rule".
for _lv in formats.DIFFICULTY_LEVELS:
    setattr(BlueprintForm, f"diff{_lv}_min", IntegerField(_l("最少"), validators=[Optional(), NONNEG]))
    setattr(BlueprintForm, f"diff{_lv}_max", IntegerField(_l("最多"), validators=[Optional(), NONNEG]))
for _imp in formats.IMPORTANCE_LEVELS:
    setattr(BlueprintForm, f"imp{_imp}_min", IntegerField(_l("最少"), validators=[Optional(), NONNEG]))


def set_choices(form: BlueprintForm, standard, ranges) -> None:
    """Choices that depend on the standard: its levels and its knowledge ranges."""
    form.level.choices = [(lv, LEVELS.get(lv, str(lv))) for lv in sorted(standard.levels, reverse=True)]
    choices = [("", _l("（删除此行）"))] + [(r.code, f"{'　' * (r.depth - 1)}{r.code} {r.name}") for r in ranges]
    known = {c for c, _ in choices}
    for entry in form.content:
        field = entry.form.kp_prefix
        extra = [(field.data, field.data)] if field.data and field.data not in known else []
        field.choices = choices + extra


def to_data(form: BlueprintForm, standard_id: int) -> dict:
    """The blueprint's plain data from the submitted form; blank rows are dropped."""
    sections = [{"type": e.form.type.data, "count": e.form.count.data or 0,
                 "points": e.form.points.data if e.form.points.data is not None else 1.0}
                for e in form.sections if e.form.type.data]
    content = []
    for e in form.content:
        f = e.form
        if not f.kp_prefix.data:
            continue
        content.append({"kp_prefix": f.kp_prefix.data, "types": [f.type.data] if f.type.data else None,
                        "min": f.min.data or 0, "max": f.max.data})
    difficulty = []
    for lv in formats.DIFFICULTY_LEVELS:
        lo, hi = getattr(form, f"diff{lv}_min").data, getattr(form, f"diff{lv}_max").data
        if lo is not None or hi is not None:
            difficulty.append({"level": lv, "min": lo or 0, "max": hi})
    importance = [{"importance": imp, "min": getattr(form, f"imp{imp}_min").data}
                  for imp in formats.IMPORTANCE_LEVELS if getattr(form, f"imp{imp}_min").data]
    return {
        "standard_id": standard_id,
        "name": (form.name.data or "").strip(),
        "level": form.level.data,
        "duration_minutes": form.duration_minutes.data or 0,
        "total_points": form.total_points.data or 0,
        "pass_mark": form.pass_mark.data or 0,
        "forms": form.forms.data or 0,
        "max_shared_items": form.max_shared_items.data or 0,
        "sections": sections,
        "content_rules": content,
        "difficulty_rules": difficulty,
        "importance_rules": importance,
        "exclude_recent_papers": form.exclude_recent_papers.data or 0,
        "max_exposure": form.max_exposure.data,
        "partial_credit": bool(form.partial_credit.data),
        "difficulty_source": form.difficulty_source.data or "declared",
        "info_tolerance": form.info_tolerance.data,
        "per_candidate": bool(form.per_candidate.data),
    }


def initial_data(data: dict) -> dict:
    """Form data (for BlueprintForm(data=…)) from a blueprint's plain data."""
    out = {k: data.get(k) for k in ("name", "level", "duration_minutes", "total_points", "pass_mark",
                                     "forms", "max_shared_items", "exclude_recent_papers", "max_exposure",
                                     "partial_credit")}
    out["difficulty_source"] = data.get("difficulty_source") or "declared"
    out["info_tolerance"] = data.get("info_tolerance")
    out["per_candidate"] = bool(data.get("per_candidate"))
    out["sections"] = [dict(s) for s in data.get("sections") or []]
    out["content"] = [{"kp_prefix": r["kp_prefix"], "type": (r.get("types") or [""])[0],
                       "min": r.get("min"), "max": r.get("max")} for r in data.get("content_rules") or []]
    for r in data.get("difficulty_rules") or []:
        out[f"diff{r['level']}_min"], out[f"diff{r['level']}_max"] = r.get("min"), r.get("max")
    for r in data.get("importance_rules") or []:
        out[f"imp{r['importance']}_min"] = r.get("min")
    return out


def replace_content_rows(form: BlueprintForm, rules: list[dict]) -> None:
    while form.content.entries:
        form.content.pop_entry()
    for r in rules:
        form.content.append_entry({"kp_prefix": r["kp_prefix"], "type": (r.get("types") or [""])[0],
                                   "min": r.get("min"), "max": r.get("max")})


class ActionForm(FlaskForm):
    """A bare POST (freeze, discard, assemble): CSRF only."""


class ReplaceForm(FlaskForm):
    version_id = SelectField(_l("替换为"), coerce=int, choices=[], validators=[DataRequired()])
    reason = TextAreaField(_l("替换原因"), validators=[DataRequired(message=_l("请填写替换原因")),
                                                    Length(max=1000)])


class PerCandidateForm(FlaskForm):
    """How many forms a per-candidate blueprint's paper gets (one per candidate)."""

    count = IntegerField(_l("份数（每名考生一份）"), default=30,
                         validators=[DataRequired(message=_l("请填写份数"))])
