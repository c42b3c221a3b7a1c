"""The forms of the satisfaction pages: answering a comment, the questionnaire builder and its
distribution, and recording an interview."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from examsys.accounts.forms import MultiCheckboxField
from examsys.campaign.satisfaction.models import INTERVIEWEE_LABELS, KIND_LABELS


class AnswerForm(FlaskForm):
    text = TextAreaField(_l("答复内容"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("答复"))


class QuestionnaireForm(FlaskForm):
    title = StringField(_l("问卷标题"), validators=[DataRequired(), Length(max=200)])
    intro = TextAreaField(_l("问卷说明（考生可见）"), validators=[Length(max=2000)])
    submit = SubmitField(_l("创建问卷"))


class QuestionForm(FlaskForm):
    kind = SelectField(_l("题型"), choices=list(KIND_LABELS.items()))
    text = TextAreaField(_l("题目"), validators=[DataRequired(), Length(max=500)])
    options = TextAreaField(_l("选项（选择题填写，每行一个）"), validators=[Length(max=4000)])
    required = BooleanField(_l("必答"), default=True)
    submit = SubmitField(_l("添加题目"))


class DistributeForm(FlaskForm):
    batches = MultiCheckboxField(_l("发放给以下批次的考生"), coerce=int, choices=[])
    submit = SubmitField(_l("发放"))


class InterviewForm(FlaskForm):
    organisation = SelectField(_l("机构"), coerce=int, choices=[])
    held_on = DateField(_l("访谈日期"), validators=[DataRequired()])
    interviewee_role = RadioField(_l("访谈对象"), choices=list(INTERVIEWEE_LABELS.items()), default="candidate")
    interviewee = StringField(_l("受访人（可不填姓名）"), validators=[Length(max=100)])
    summary = TextAreaField(_l("访谈情况"), validators=[DataRequired(), Length(max=2000)])
    satisfied = RadioField(_l("受访人是否满意"), choices=[("yes", _l("满意")), ("no", _l("不满意"))], default="yes")
    findings = TextAreaField(_l("发现的问题"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("保存访谈记录"))


__all__ = ["AnswerForm", "DistributeForm", "InterviewForm", "QuestionForm", "QuestionnaireForm"]
