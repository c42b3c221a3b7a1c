"""Forms of the delivery staff pages: the batch editor (settings, rooms with their proctors,
markers), the roster upload, filing changes, closing, and the proctors' actions.

Times are entered in Beijing time (datetime-local inputs) and converted to aware UTC here."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from examsys import clock
from examsys.accounts.forms import MultiCheckboxField

FMT = "%Y-%m-%dT%H:%M"


def to_utc(value: datetime | None) -> datetime | None:
    """A naive Beijing-time value from a datetime-local input, as aware UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=clock.DISPLAY_TZ).astimezone(UTC)


def to_local_naive(value: datetime | None) -> datetime | None:
    local = clock.to_display(value)
    return local.replace(tzinfo=None) if local else None


class RoomRow(Form):
    name = StringField(_l("考场名称"), validators=[Optional(), Length(max=100)])
    capacity = IntegerField(_l("座位数"), default=30, validators=[Optional(), NumberRange(min=1, max=500)])
    proctors = MultiCheckboxField(_l("考评员"), coerce=int, choices=[], validate_choice=False)


class BatchForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("批次名称"), validators=[DataRequired(), Length(max=200)])
    standard_id = SelectField(_l("职业（工种）"), coerce=int, choices=[])
    level = SelectField(_l("等级"), coerce=int, choices=[])
    venue = StringField(_l("考点"), validators=[Optional(), Length(max=200)])
    window_start = DateTimeLocalField(_l("考试开始（北京时间）"), format=FMT, validators=[DataRequired()])
    window_end = DateTimeLocalField(_l("考试结束（北京时间）"), format=FMT, validators=[DataRequired()])
    paper_id = SelectField(_l("试卷（已定稿）"), coerce=int, choices=[])
    duration_minutes = IntegerField(_l("考试时长（分钟，留空取细目表）"),
                                    validators=[Optional(), NumberRange(min=1, max=600)])
    markers = MultiCheckboxField(_l("阅卷人员"), coerce=int, choices=[], validate_choice=False)
    rooms = FieldList(FormField(RoomRow), min_entries=1)
    grace_seconds = IntegerField(_l("交卷宽限（秒）"), default=15, validators=[Optional(), NumberRange(0, 300)])
    start_jitter_seconds = IntegerField(_l("错峰开考最长延迟（秒）"), default=0,
                                        validators=[Optional(), NumberRange(0, 600)])
    candidates_per_proctor = IntegerField(_l("每名考评员最多监考人数"), default=15,
                                          validators=[Optional(), NumberRange(1, 100)])
    min_proctors_per_room = IntegerField(_l("每个考场最少考评员人数"), default=2,
                                         validators=[Optional(), NumberRange(1, 10)])
    require_access_code = BooleanField(_l("考生登录须输入考场口令"))
    shuffle_items = BooleanField(_l("试题顺序随机"), default=True)
    shuffle_options = BooleanField(_l("选项顺序随机"), default=True)
    seb_config_key = StringField(_l("安全考试浏览器配置密钥（SHA-256，可留空）"),
                                 validators=[Optional(), Length(max=64)])
    notice_days = IntegerField(_l("成绩公示天数"), default=5, validators=[Optional(), NumberRange(0, 60)])
    review_apply_days = IntegerField(_l("复核申请期限（工作日）"), default=10,
                                     validators=[Optional(), NumberRange(0, 60)])
    review_answer_days = IntegerField(_l("复核答复期限（工作日）"), default=10,
                                      validators=[Optional(), NumberRange(0, 60)])


class RosterUploadForm(FlaskForm):
    token = HiddenField()
    file = FileField(_l("考生名单（Excel .xlsx）"))
    photos = FileField(_l("照片压缩包（.zip，可选；照片以身份证号或准考证号命名）"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("原因"), validators=[DataRequired(message=_l("请填写原因")), Length(max=1000)])


class CloseForm(FlaskForm):
    force = BooleanField(_l("仍有考生在作答时强制结束"))
    reason = TextAreaField(_l("强制结束的原因"), validators=[Optional(), Length(max=1000)])


class ProctorRow(Form):
    room_id = HiddenField()
    proctors = MultiCheckboxField(_l("考评员"), coerce=int, choices=[], validate_choice=False)


class FilingChangeForm(FlaskForm):
    name = StringField(_l("批次名称"), validators=[DataRequired(), Length(max=200)])
    venue = StringField(_l("考点"), validators=[Optional(), Length(max=200)])
    window_start = DateTimeLocalField(_l("考试开始（北京时间）"), format=FMT, validators=[DataRequired()])
    window_end = DateTimeLocalField(_l("考试结束（北京时间）"), format=FMT, validators=[DataRequired()])
    duration_minutes = IntegerField(_l("考试时长（分钟）"), validators=[DataRequired(), NumberRange(1, 600)])
    grace_seconds = IntegerField(_l("交卷宽限（秒）"), validators=[Optional(), NumberRange(0, 300)])
    markers = MultiCheckboxField(_l("阅卷人员"), coerce=int, choices=[], validate_choice=False)
    rooms = FieldList(FormField(ProctorRow))
    reason = TextAreaField(_l("变更原因"), validators=[DataRequired(message=_l("请填写变更原因")),
                                                      Length(max=1000)])


class ProctorActionForm(FlaskForm):
    action = SelectField(_l("操作"), choices=[("note", _l("情况记录")), ("extend", _l("延长时间")),
                                             ("reopen", _l("重新开放")), ("terminate", _l("违纪终止"))])
    scope = SelectField(_l("范围"), choices=[("attempt", _l("该考生")), ("room", _l("本考场")),
                                            ("batch", _l("全批次"))], default="attempt")
    attempt_id = IntegerField(validators=[Optional()])
    room_id = IntegerField(validators=[Optional()])
    minutes = IntegerField(_l("延长分钟数"), validators=[Optional(), NumberRange(1, 120)])
    reason = TextAreaField(_l("原因"), validators=[DataRequired(message=_l("请填写原因")), Length(max=1000)])
