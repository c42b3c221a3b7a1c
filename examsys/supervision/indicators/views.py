"""/indicators: the versions of the indicator system (质量督导指标体系). Every signed-in user reads
the published versions and what changed between two of them; the province drafts a new version
(a copy of the one in force), edits its dimensions and indicators, sees what does not validate,
and publishes it (or deletes the draft)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from examsys.errors import NotFound
from examsys.permissions import Permission, login_only, may_manage_indicators, require
from examsys.supervision.indicators import versions as svc
from examsys.supervision.indicators.defaults import DIRECTIONS, KEY_TASKS, SOURCES
from examsys.supervision.indicators.forms import DimensionForm, DraftForm, IndicatorForm, LockedForm, NoteForm
from examsys.viewutil import attempt, perform, refusal_status

bp = Blueprint("indicators", __name__, url_prefix="/indicators")
MANAGE = Permission.INDICATORS_MANAGE


def _lock(form) -> int | None:
    value = (form.lock.data or "").strip()
    return int(value) if value.isdigit() else None


@bp.get("/")
@login_only
def index():
    manages = bool(may_manage_indicators(current_user))
    rows = [r for r in svc.rows() if manages or not r.is_draft]
    current = svc.current_row()
    return render_template("supervision/indicators/index.html", rows=rows, current=current, manages=manages,
                           draft=svc.draft() if manages else None, form=DraftForm(),
                           changes={r.id: svc.changes(p.content, r.content) if (p := svc.previous(r)) else None
                                    for r in rows})


@bp.post("/drafts")
@require(MANAGE)
def new_draft():
    form = DraftForm()
    form.validate_on_submit()
    row, _error = attempt(lambda: svc.new_draft(current_user, note=form.note.data or ""),
                          success="已新建草稿版本（复制自现行版本），请修改后校验并发布")
    if row is not None:
        return redirect(url_for("indicators.version", set_id=row.id), 303)
    return redirect(url_for("indicators.index"), 303)


@bp.get("/<int:set_id>")
@login_only
def version(set_id: int):
    row = svc.get(current_user, set_id)
    manages = bool(may_manage_indicators(current_user))
    others = [r for r in svc.rows() if r.id != row.id and (manages or not r.is_draft)]
    against_id = request.args.get("against", type=int)
    against = next((r for r in others if r.id == against_id), None) if against_id else svc.previous(row)
    edits = manages and row.is_draft
    return render_template(
        "supervision/indicators/version.html", row=row, iset=svc.as_set(row), others=others, against=against,
        changes=svc.changes(against.content, row.content) if against else [],
        problems=svc.problems(row.content) if row.is_draft else [], edits=edits,
        lock_form=LockedForm(data={"lock": row.version}),
        note_form=NoteForm(data={"note": row.note, "lock": row.version}),
        dimension_form=DimensionForm(data={"lock": row.version}), key_tasks=KEY_TASKS)


def _editor(row, code: str | None):
    content = row.content
    ind = next((i for i in content["indicators"] if i["code"] == code), None) if code else None
    if code and ind is None:
        raise NotFound(f"该版本中没有指标 {code}")
    if request.method == "POST":
        form = IndicatorForm()
        form.dimension.choices = [(d["key"], d["name"]) for d in content["dimensions"]]
    else:
        form = IndicatorForm.of(ind, row.version, content["dimensions"])
    error = None
    if form.validate_on_submit():
        _done, error = attempt(lambda: svc.save_indicator(current_user, row, code, form.values(), lock=_lock(form)),
                               success="指标已保存", form=form)
        if error is None:
            return redirect(url_for("indicators.version", set_id=row.id) + "#dimensions", 303)
    return render_template("supervision/indicators/indicator.html", row=row, code=code, form=form,
                           sources=SOURCES, directions=DIRECTIONS), refusal_status(error, 200)


@bp.route("/<int:set_id>/indicators/new", methods=["GET", "POST"])
@require(MANAGE)
def indicator_new(set_id: int):
    return _editor(svc.get(current_user, set_id), None)


@bp.route("/<int:set_id>/indicators/<indicator_code>", methods=["GET", "POST"])
@require(MANAGE)
def indicator_edit(set_id: int, indicator_code: str):
    return _editor(svc.get(current_user, set_id), indicator_code)


@bp.post("/<int:set_id>/indicators/<indicator_code>/delete")
@require(MANAGE)
def indicator_delete(set_id: int, indicator_code: str):
    code = indicator_code
    row = svc.get(current_user, set_id)
    form = LockedForm()
    form.validate_on_submit()
    perform(lambda: svc.delete_indicator(current_user, row, code, lock=_lock(form)), success=f"指标 {code} 已删除")
    return redirect(url_for("indicators.version", set_id=row.id) + "#dimensions", 303)


@bp.post("/<int:set_id>/dimensions")
@require(MANAGE)
def dimension_new(set_id: int):
    row = svc.get(current_user, set_id)
    form = DimensionForm()
    form.validate_on_submit()
    perform(lambda: svc.save_dimension(current_user, row, None, form.name.data or "", lock=_lock(form)),
            success="维度已添加")
    return redirect(url_for("indicators.version", set_id=row.id) + "#dimensions", 303)


@bp.post("/<int:set_id>/dimensions/<dimension_key>")
@require(MANAGE)
def dimension_rename(set_id: int, dimension_key: str):
    key = dimension_key
    row = svc.get(current_user, set_id)
    form = DimensionForm()
    form.validate_on_submit()
    perform(lambda: svc.save_dimension(current_user, row, key, form.name.data or "", lock=_lock(form)),
            success="维度名称已修改")
    return redirect(url_for("indicators.version", set_id=row.id) + "#dimensions", 303)


@bp.post("/<int:set_id>/dimensions/<dimension_key>/delete")
@require(MANAGE)
def dimension_delete(set_id: int, dimension_key: str):
    key = dimension_key
    row = svc.get(current_user, set_id)
    form = LockedForm()
    form.validate_on_submit()
    perform(lambda: svc.delete_dimension(current_user, row, key, lock=_lock(form)), success="维度已删除")
    return redirect(url_for("indicators.version", set_id=row.id) + "#dimensions", 303)


@bp.post("/<int:set_id>/note")
@require(MANAGE)
def note(set_id: int):
    row = svc.get(current_user, set_id)
    form = NoteForm()
    form.validate_on_submit()
    perform(lambda: svc.set_note(current_user, row, form.note.data or "", lock=_lock(form)), success="修订说明已保存")
    return redirect(url_for("indicators.version", set_id=row.id), 303)


@bp.post("/<int:set_id>/publish")
@require(MANAGE)
def publish(set_id: int):
    row = svc.get(current_user, set_id)
    form = LockedForm()
    form.validate_on_submit()
    if perform(lambda: svc.publish(current_user, row, lock=_lock(form)),
               success=f"指标体系 {row.label} 版已发布，自即日起用于督导评分"):
        return redirect(url_for("indicators.version", set_id=row.id), 303)
    return redirect(url_for("indicators.version", set_id=row.id) + "#problems", 303)


@bp.post("/<int:set_id>/discard")
@require(MANAGE)
def discard(set_id: int):
    row = svc.get(current_user, set_id)
    form = LockedForm()
    form.validate_on_submit()
    label = row.label
    if perform(lambda: svc.discard(current_user, row, lock=_lock(form)), success=f"草稿版本 {label} 已删除"):
        return redirect(url_for("indicators.index"), 303)
    return redirect(url_for("indicators.version", set_id=row.id), 303)
