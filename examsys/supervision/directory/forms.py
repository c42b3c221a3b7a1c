"""Forms of the directory pages: filing an organisation and changing its record."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from examsys.supervision.directory.models import DIRECTORY_STATUS_LABELS

SCOPE_HINT = _l("每行一个职业：职业编码 职业名称 等级（逗号分隔），如 6-31-01-03 电工 3,4,5")


class FilingForm(FlaskForm):
    organisation_id = SelectField(_l("评价机构"), coerce=int, choices=[], validators=[DataRequired()])
    filing_no = StringField(_l("备案编号"), validators=[DataRequired(), Length(max=64)])
    scope = TextAreaField(_l("评价范围"), validators=[DataRequired(), Length(max=4000)])
    filed_on = DateField(_l("备案日期"), validators=[DataRequired()])
    expires_on = DateField(_l("有效期至"), validators=[DataRequired()])
    submit = SubmitField(_l("列入目录"))


class ChangeForm(FlaskForm):
    status = SelectField(_l("目录状态"), choices=[(k.value, v) for k, v in DIRECTORY_STATUS_LABELS.items()])
    scope = TextAreaField(_l("评价范围"), validators=[Length(max=4000)])
    expires_on = DateField(_l("有效期至"), validators=[Optional()])
    reason = TextAreaField(_l("变更原因"), validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField(_l("保存变更"))
