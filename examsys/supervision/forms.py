"""Forms of the supervision pages: assigning a supervisor, declaring a conflict of interest,
recording a finding, filling in the internal supervision form, and the bare confirmations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from examsys.accounts.forms import MultiCheckboxField
from examsys.supervision.models import FINDING_CATEGORY_LABELS


class AssignForm(FlaskForm):
    supervisor_id = SelectField(_l("督导员"), coerce=int, choices=[], validators=[DataRequired()])
    submit = SubmitField(_l("委派"))


class ConflictForm(FlaskForm):
    organisation_id = SelectField(_l("机构"), coerce=int, choices=[], validators=[DataRequired()])
    reason = TextAreaField(_l("利益冲突情况"), validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField(_l("申报"))


class FindingForm(FlaskForm):
    category = SelectField(_l("类别"), choices=[(k.value, v) for k, v in FINDING_CATEGORY_LABELS.items()])
    text = TextAreaField(_l("督导发现"), validators=[DataRequired(), Length(max=4000)])
    attempt_id = HiddenField(validators=[Optional()])
    submit = SubmitField(_l("记录"))


class SheetForm(FlaskForm):
    checks = MultiCheckboxField(_l("已完成的检查"), choices=[])
    conclusion = TextAreaField(_l("督导结论"), validators=[Length(max=4000)])
    submit = SubmitField(_l("保存草稿"))


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("确定"))
