"""The workforce's forms: a training course, its attendance list, a qualification (资格认定) and
a dispatch (派遣). Choices (cities, people, batches) are filled in by the view for the user's scope."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FloatField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from examsys.accounts.models import CERT_KIND_LABELS
from examsys.campaign.workforce.models import AUDIENCE_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CourseForm(FlaskForm):
    audience = SelectField(_l("培训对象"), choices=[(k.value, v) for k, v in AUDIENCE_LABELS.items()])
    city_id = SelectField(_l("举办城市"), coerce=int)
    title = StringField(_l("培训名称"), validators=[DataRequired(message=_l("请填写培训名称")), Length(max=200)])
    held_on = DateField(_l("培训日期"), validators=[DataRequired(message=_l("请填写培训日期（年-月-日）"))])
    hours = FloatField(_l("学时"), validators=[DataRequired(message=_l("请填写学时（数字）")),
                                              NumberRange(min=0.5, max=200, message=_l("学时须在 0.5 到 200 之间"))])
    submit = SubmitField(_l("登记培训"))


class AttendanceForm(FlaskForm):
    present = MultiCheckboxField(_l("到场人员"), coerce=int)
    submit = SubmitField(_l("保存签到"))


class QualificationForm(FlaskForm):
    user_id = SelectField(_l("人员"), coerce=int)
    kind = SelectField(_l("证书类别"), choices=[(k.value, v) for k, v in CERT_KIND_LABELS.items()])
    number = StringField(_l("证书编号"), validators=[DataRequired(message=_l("请填写证书编号")), Length(max=64)])
    qualified_on = DateField(_l("认定日期"), validators=[DataRequired(message=_l("请填写认定日期（年-月-日）"))])
    valid_until = DateField(_l("有效期至"), validators=[DataRequired(message=_l("请填写有效期至（年-月-日）"))])
    submit = SubmitField(_l("登记资格认定"))


class DispatchForm(FlaskForm):
    user_id = SelectField(_l("人员"), coerce=int)
    kind = SelectField(_l("派遣为"), choices=[("examiner", _l("考评员")), ("supervisor", _l("督导员"))])
    batch_id = SelectField(_l("评价批次"), coerce=int)
    note = TextAreaField(_l("备注"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("登记派遣"))
