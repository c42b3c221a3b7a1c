"""Forms for logging in and for managing organisations, users and candidates."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from examsys.accounts.models import ORG_KIND_LABELS
from examsys.permissions import ROLE_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("登录"))


class OrganisationForm(FlaskForm):
    code = StringField(_l("机构代码"), validators=[DataRequired(), Length(max=32),
                                               Regexp(r"^[A-Za-z0-9\-_]+$", message=_l("只能包含字母、数字、-和_"))])
    name = StringField(_l("机构名称"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("机构类型"), choices=[(k.value, v) for k, v in ORG_KIND_LABELS.items()])
    city_id = SelectField(_l("所在城市"), coerce=int, choices=[], validators=[Optional()])
    active = BooleanField(_l("启用"), default=True)
    submit = SubmitField(_l("保存"))


class UserForm(FlaskForm):
    version = HiddenField()
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(min=3, max=64)])
    display_name = StringField(_l("姓名"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(_l("初始密码"), validators=[Optional(), Length(max=256)])
    organisation_id = SelectField(_l("所属机构"), coerce=int, validators=[Optional()])
    roles = MultiCheckboxField(_l("角色"), choices=[(r.value, v) for r, v in ROLE_LABELS.items()])
    active = BooleanField(_l("启用"), default=True)
    examiner_cert_no = StringField(_l("考评员证编号"), validators=[Optional(), Length(max=64)])
    examiner_cert_until = DateField(_l("考评员证有效期至"), validators=[Optional()])
    supervisor_cert_no = StringField(_l("督导员证编号"), validators=[Optional(), Length(max=64)])
    supervisor_cert_until = DateField(_l("督导员证有效期至"), validators=[Optional()])
    submit = SubmitField(_l("保存"))


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("新密码"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("重置密码"))


class CandidateForm(FlaskForm):
    name = StringField(_l("姓名"), validators=[DataRequired(), Length(max=100)])
    id_number = StringField(_l("身份证号码"), validators=[DataRequired(), Length(max=32)])
    organisation_id = SelectField(_l("所属机构"), coerce=int, validators=[Optional()])
    submit = SubmitField(_l("保存"))


class CandidateSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField(_l("姓名"), validators=[Optional(), Length(max=100)])


class IdLookupForm(FlaskForm):
    id_number = StringField(_l("身份证号码"), validators=[DataRequired(), Length(max=32)])


class RevealForm(FlaskForm):
    reason = StringField(_l("查看原因"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("显示完整号码"))


class EmptyForm(FlaskForm):
    submit = SubmitField(_l("确定"))
