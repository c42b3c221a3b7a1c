"""Forms for standards, knowledge-tree editing, tree import and new editions. Every tree-editing
form carries the standard's `version` so a concurrent edit is answered with a conflict."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from examsys.accounts.forms import MultiCheckboxField  # one checkbox-list field for every form
from examsys.standards.models import IMPORTANCE_LABELS, LEVELS

XLSX_ONLY = FileAllowed(["xlsx"], _l("请上传 .xlsx 文件"))
LEVEL_CHOICES = [(str(k), v) for k, v in LEVELS.items()]
CODE_RE = Regexp(r"^[A-Za-z0-9][A-Za-z0-9.\-_]*$", message=_l("只能包含字母、数字、点、-和_"))


class VersionForm(FlaskForm):
    """A bare POST (delete, retire) that still names the version the user saw."""

    version = HiddenField()


class StandardForm(VersionForm):
    code = StringField(_l("职业编码"), validators=[DataRequired(), Length(max=32),
                                               Regexp(r"^[0-9A-Za-z\-.]+$", message=_l("如 6-31-01-03"))])
    name = StringField(_l("职业（工种）名称"), validators=[DataRequired(), Length(max=100)])
    edition = StringField(_l("版本"), validators=[DataRequired(), Length(max=16)])
    levels = MultiCheckboxField(_l("等级"), choices=LEVEL_CHOICES, validators=[DataRequired()])


class RangeForm(VersionForm):
    code = StringField(_l("代码"), validators=[DataRequired(), Length(max=32), CODE_RE])
    name = StringField(_l("名称"), validators=[DataRequired(), Length(max=200)])
    parent_id = SelectField(_l("上级范围"), coerce=int, validators=[Optional()])


class PointForm(VersionForm):
    code = StringField(_l("代码"), validators=[DataRequired(), Length(max=32), CODE_RE])
    name = StringField(_l("名称"), validators=[DataRequired(), Length(max=300)])
    importance = SelectField(_l("重要程度"), choices=[(k.value, v) for k, v in IMPORTANCE_LABELS.items()])
    levels = MultiCheckboxField(_l("适用等级"), choices=LEVEL_CHOICES, validators=[DataRequired()])
    range_id = SelectField(_l("所属鉴定范围"), coerce=int)


class TreeUploadForm(VersionForm):
    file = FileField(_l("细目表 Excel 文件"), validators=[FileRequired(), XLSX_ONLY])
    replace = BooleanField(_l("替换现有细目表（仅当尚无试题关联时允许）"))


class ConfirmForm(VersionForm):
    """Carries the signed, already-parsed tree from the preview to the confirmation."""

    payload = HiddenField(validators=[DataRequired()])


class EditionForm(FlaskForm):
    edition = StringField(_l("新版本号"), validators=[DataRequired(), Length(max=16)])
    name = StringField(_l("职业名称（如有变化）"), validators=[Optional(), Length(max=100)])
    file = FileField(_l("新版细目表 Excel 文件"), validators=[FileRequired(), XLSX_ONLY])
    mapping = FileField(_l("对应关系表（可选）"), validators=[Optional(), XLSX_ONLY])


class CoverageForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter

    level = SelectField(_l("等级"), coerce=int, validators=[Optional()])
    org = SelectField(_l("评价机构"), coerce=int, validators=[Optional()])
