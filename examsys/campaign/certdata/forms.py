"""Forms of the certificate-data pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, IntegerField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from examsys.campaign.certdata.models import RETURN_REASON_LABELS


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token."""


class ExplainForm(FlaskForm):
    explanation = TextAreaField(_l("说明"), validators=[DataRequired(_l("请写明该数据无误的理由")), Length(max=2000)])
    submit = SubmitField(_l("提交说明"))


class ReturnForm(FlaskForm):
    reason = SelectField(_l("退回原因"), choices=[(k.value, v) for k, v in RETURN_REASON_LABELS.items()])
    note = TextAreaField(_l("退回说明"), validators=[Length(max=2000)])
    submit = SubmitField(_l("登记退回"))


class ResubmitForm(FlaskForm):
    note = TextAreaField(_l("整改说明"), validators=[Length(max=2000)])
    submit = SubmitField(_l("重新上报"))


class WarningStepForm(FlaskForm):
    note = TextAreaField(_l("处理说明"), validators=[Length(max=2000)])


class RuleForm(FlaskForm):
    threshold = DecimalField(_l("退回率阈值（%）"), places=1, validators=[Optional(), NumberRange(0, 100)])
    months = IntegerField(_l("统计月数"), validators=[Optional()])
    count = IntegerField(_l("出现次数"), validators=[Optional()])
    active = BooleanField(_l("启用"))
    submit = SubmitField(_l("保存"))
