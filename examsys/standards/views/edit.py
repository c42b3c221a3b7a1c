"""Editing a standard and its knowledge tree (provincial admin): the standard's own fields,
ranges (add, rename, move, delete), the weight table, and assessment points (add, edit, retire).
Every form carries the standard's version, so concurrent editors get a conflict, not a lost edit.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from examsys.errors import ValidationError
from examsys.extensions import db
from examsys.permissions import require
from examsys.standards import services
from examsys.standards.forms import PointForm, RangeForm, StandardForm, VersionForm
from examsys.standards.models import LEVELS, AssessmentPoint, KnowledgeRange, Standard
from examsys.standards.views.common import MANAGE, bp, form_version, get_object
from examsys.viewutil import attempt, perform, refusal_status


@bp.route("/new", methods=["GET", "POST"])
@require(MANAGE)
def standard_new():
    form = StandardForm()
    if request.method == "GET":
        form.levels.data = [str(k) for k in LEVELS]
    error = None
    if form.validate_on_submit():
        std, error = attempt(lambda: services.create_standard(
            form.code.data, form.name.data, form.edition.data, form.levels.data), form=form,
            success="已创建职业标准")
        if error is None:
            return redirect(url_for("standards.detail", standard_id=std.id))
    return render_template("standards/standard_form.html", form=form, standard=None), refusal_status(error)


@bp.route("/<int:standard_id>/edit", methods=["GET", "POST"])
@require(MANAGE)
def standard_edit(standard_id: int):
    standard = get_object(Standard, standard_id)
    form = StandardForm(obj=standard)
    if request.method == "GET":
        form.levels.data = [str(k) for k in standard.levels]
        form.version.data = str(standard.version)
    form.code.data = standard.code  # the code identifies the occupation; a new code is a new standard
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: services.update_standard(
            standard, name=form.name.data, edition=form.edition.data, levels=form.levels.data,
            expected_version=form_version(form)), form=form, success="已保存")
        if error is None:
            return redirect(url_for("standards.detail", standard_id=standard.id))
    return render_template("standards/standard_form.html", form=form, standard=standard), refusal_status(error)


# --- tree editing --------------------------------------------------------------------------------


def _walk(ranges, depth: int = 0):
    """(depth, range) over ORM ranges, depth first, in display order."""
    for rng in sorted(ranges, key=lambda r: (r.position, r.id)):
        yield depth, rng
        yield from _walk(rng.children, depth + 1)


def _tops(standard: Standard) -> list[KnowledgeRange]:
    return [r for r in standard.ranges if r.parent_id is None]


def _range_choices(standard: Standard, exclude: KnowledgeRange | None = None, top: bool = True):
    banned = {r.id for _, r in _walk([exclude])} if exclude else set()
    out = [(0, "（顶层）")] if top else []
    out += [(rng.id, f"{'　' * depth}{rng.code} {rng.name}") for depth, rng in _walk(_tops(standard))
            if rng.id not in banned]
    return out


def _range_in(standard: Standard, range_id: int | None, *, required: bool = False) -> KnowledgeRange | None:
    if not range_id:
        if required:
            raise ValidationError("请选择所属鉴定范围", field="range_id")
        return None
    rng = db.session.get(KnowledgeRange, range_id)
    if rng is None or rng.standard_id != standard.id:
        raise ValidationError("所选鉴定范围不属于该标准", field="parent_id")
    return rng


@bp.route("/<int:standard_id>/ranges/new", methods=["GET", "POST"])
@require(MANAGE)
def range_new(standard_id: int):
    standard = get_object(Standard, standard_id)
    form = RangeForm()
    form.parent_id.choices = _range_choices(standard)
    if request.method == "GET":
        form.version.data = str(standard.version)
        form.parent_id.data = request.args.get("parent", 0, type=int)
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: services.add_range(
            standard, parent=_range_in(standard, form.parent_id.data), code=form.code.data, name=form.name.data,
            expected_version=form_version(form)), form=form, success="已添加鉴定范围（请在“编辑比重”中设置其比重）")
        if error is None:
            return redirect(url_for("standards.detail", standard_id=standard.id))
    return render_template("standards/range_form.html", form=form, standard=standard, rng=None), \
        refusal_status(error)


@bp.route("/ranges/<int:range_id>", methods=["GET", "POST"])
@require(MANAGE)
def range_edit(range_id: int):
    rng = get_object(KnowledgeRange, range_id)
    standard = rng.standard
    form = RangeForm(obj=rng)
    form.parent_id.choices = _range_choices(standard, exclude=rng)
    if request.method == "GET":
        form.version.data = str(standard.version)
        form.parent_id.data = rng.parent_id or 0
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: services.update_range(
            rng, code=form.code.data, name=form.name.data, parent=_range_in(standard, form.parent_id.data),
            expected_version=form_version(form)), form=form, success="已保存")
        if error is None:
            return redirect(url_for("standards.detail", standard_id=standard.id))
    return render_template("standards/range_form.html", form=form, standard=standard, rng=rng,
                           action=VersionForm(formdata=None, version=str(standard.version))), refusal_status(error)


@bp.post("/ranges/<int:range_id>/delete")
@require(MANAGE)
def range_delete(range_id: int):
    rng = get_object(KnowledgeRange, range_id)
    standard_id, code = rng.standard_id, rng.code
    form = VersionForm()
    if form.validate_on_submit():
        perform(lambda: services.delete_range(rng, expected_version=form_version(form)),
                success=f"已删除鉴定范围 {code}")
    return redirect(url_for("standards.detail", standard_id=standard_id))


@bp.route("/<int:standard_id>/weights", methods=["GET", "POST"])
@require(MANAGE)
def weights(standard_id: int):
    standard = get_object(Standard, standard_id)
    form = VersionForm()
    if request.method == "GET":
        form.version.data = str(standard.version)
    values = {}
    error = None
    if form.validate_on_submit():
        table: dict[int, dict] = {}
        for rng in standard.ranges:
            table[rng.id] = {}
            for level in standard.levels:
                raw = request.form.get(f"w-{rng.id}-{level}", "").strip()
                values[(rng.id, level)] = raw
                table[rng.id][level] = raw or None
        _, error = attempt(lambda: services.set_weights(standard, table, expected_version=form_version(form)),
                           success="比重已保存")
        if error is None:
            return redirect(url_for("standards.detail", standard_id=standard.id))
    return render_template("standards/weights.html", standard=standard, form=form, values=values,
                           rows=list(_walk(_tops(standard)))), refusal_status(error)


def _point_form(standard: Standard, point: AssessmentPoint | None) -> PointForm:
    form = PointForm(obj=point)
    form.range_id.choices = _range_choices(standard, top=False)
    if request.method == "GET":
        form.version.data = str(standard.version)
        form.levels.data = [str(lv) for lv in (point.levels if point else standard.levels)]
        if point:
            form.importance.data = point.importance.value
        else:
            form.range_id.data = request.args.get("range", 0, type=int)
    return form


@bp.route("/<int:standard_id>/points/new", methods=["GET", "POST"])
@require(MANAGE)
def point_new(standard_id: int):
    standard = get_object(Standard, standard_id)
    form = _point_form(standard, None)
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: services.add_point(
            _range_in(standard, form.range_id.data, required=True), code=form.code.data,
            name=form.name.data, importance=form.importance.data, levels=form.levels.data,
            expected_version=form_version(form)), form=form, success="已添加鉴定点")
        if error is None:
            return redirect(url_for("standards.detail", standard_id=standard.id))
    return render_template("standards/point_form.html", form=form, standard=standard, point=None), \
        refusal_status(error)


@bp.route("/points/<int:point_id>", methods=["GET", "POST"])
@require(MANAGE)
def point_edit(point_id: int):
    point = get_object(AssessmentPoint, point_id)
    standard = point.standard
    form = _point_form(standard, point)
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: services.update_point(
            point, code=form.code.data, name=form.name.data, importance=form.importance.data,
            levels=form.levels.data, rng=_range_in(standard, form.range_id.data),
            expected_version=form_version(form)), form=form, success="已保存")
        if error is None:
            return redirect(url_for("standards.detail", standard_id=standard.id))
    return render_template("standards/point_form.html", form=form, standard=standard, point=point), \
        refusal_status(error)


@bp.post("/points/<int:point_id>/retire")
@require(MANAGE)
def point_retire(point_id: int):
    point = get_object(AssessmentPoint, point_id)
    standard_id, retire = point.standard_id, not point.retired
    form = VersionForm()
    if form.validate_on_submit():
        perform(lambda: services.retire_point(point, retired=retire, expected_version=form_version(form)),
                success=f"已{'停用' if retire else '恢复'}鉴定点 {point.code}")
    return redirect(url_for("standards.detail", standard_id=standard_id))
