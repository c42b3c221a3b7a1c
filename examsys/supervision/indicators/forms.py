"""Forms of the indicator-version pages: a draft's note, a dimension, an indicator (thresholds are
entered as percentages and stored as shares)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from examsys.supervision.indicators.defaults import DIRECTIONS, KEY_TASKS, SOURCES


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LockedForm(FlaskForm):
    lock = HiddenField()


class DraftForm(FlaskForm):
    note = TextAreaField(_l("修订说明"), validators=[Length(max=2000)])


class NoteForm(LockedForm):
    note = TextAreaField(_l("修订说明"), validators=[Length(max=2000)])


class DimensionForm(LockedForm):
    name = StringField(_l("维度名称"), validators=[InputRequired(message=_l("请填写维度名称")), Length(max=40)])


class IndicatorForm(LockedForm):
    code = StringField(_l("编号"), validators=[InputRequired(message=_l("请填写编号")), Length(max=8)])
    dimension = SelectField(_l("维度"), choices=[])
    name = StringField(_l("名称"), validators=[InputRequired(message=_l("请填写名称")), Length(max=200)])
    weight = IntegerField(_l("权重"), validators=[InputRequired(message=_l("权重须为 1～100 的整数")),
                                                 NumberRange(1, 100, message=_l("权重须为 1～100 的整数"))])
    kind = SelectField(_l("评分方式"), choices=[("computed", _l("系统计算（依据本系统数据）")),
                                            ("entered", _l("督导录入（附评分依据）"))])
    source = SelectField(_l("数据来源（系统计算）"), choices=[("", "—")] + [(k, v[0]) for k, v in SOURCES.items()])
    direction = SelectField(_l("方向（系统计算）"), choices=[("", _l("按数据来源"))] + list(DIRECTIONS.items()))
    full = FloatField(_l("满分阈值 %（系统计算）"), validators=[Optional(), NumberRange(0, 100)])
    zero = FloatField(_l("零分阈值 %（系统计算）"), validators=[Optional(), NumberRange(0, 100)])
    rule = TextAreaField(_l("评分规则（文字说明）"), validators=[Length(max=1000)])
    evidence = TextAreaField(_l("评分依据（督导录入时必填：所需材料；系统计算时：数据说明）"),
                             validators=[Length(max=1000)])
    key_tasks = MultiCheckboxField(_l("对应重点任务"), choices=[(str(k), f"{k}. {v}") for k, v in KEY_TASKS.items()])

    def values(self) -> dict:
        def share(v):
            return None if v is None else round(v / 100.0, 4)
        return {"code": self.code.data, "dimension": self.dimension.data, "name": self.name.data,
                "weight": self.weight.data, "kind": self.kind.data, "source": self.source.data or None,
                "direction": self.direction.data or None, "full": share(self.full.data),
                "zero": share(self.zero.data), "rule": self.rule.data, "evidence": self.evidence.data,
                "key_tasks": [int(t) for t in self.key_tasks.data or []]}

    @classmethod
    def of(cls, ind: dict | None, lock: int, dimensions: list[dict]) -> IndicatorForm:
        def pct(v):
            return None if v is None else round(v * 100, 2)
        data = {"lock": lock, "kind": "entered", "weight": None}
        if ind:
            data = {**ind, "lock": lock, "full": pct(ind.get("full")), "zero": pct(ind.get("zero")),
                    "key_tasks": [str(t) for t in ind.get("key_tasks") or []],
                    "source": ind.get("source") or "", "direction": ind.get("direction") or ""}
        form = cls(data=data)
        form.dimension.choices = [(d["key"], d["name"]) for d in dimensions]
        return form
