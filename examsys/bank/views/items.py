"""Item list and search, the item editor, item page with version history and diff, submit,
retire and fault reports."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from examsys.accounts.models import User
from examsys.analysis import services as analysis
from examsys.bank import categories, qtypes, search, services, similarity
from examsys.bank.forms import QTYPE_LABELS, ItemForm, ReasonForm, SearchForm
from examsys.bank.items import prepare_content
from examsys.bank.models import Item, ItemVersion, QType
from examsys.bank.views.common import bp, get_item, get_version, point_path, standard_choices
from examsys.errors import NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import Permission, require
from examsys.standards.models import LEVELS, AssessmentPoint, KnowledgeRange, Standard
from examsys.tenancy import scoped
from examsys.viewutil import attempt, perform, refusal_status

PAGE_SIZE = 30


@bp.get("/items")
@require(Permission.ITEM_VIEW)
def items():
    form = SearchForm(request.args)
    form.standard_id.choices = [(0, "全部")] + standard_choices()
    standard_id = form.standard_id.data or None
    range_id, point_id = _resolve_code((form.point.data or "").strip(), standard_id)
    filters = search.SearchFilters(
        text=(form.q.data or "").strip() or None,
        standard_id=standard_id,
        level=form.level.data or None,
        range_id=range_id,
        point_id=point_id,
        qtype=form.qtype.data or None,
        status=form.status.data or None,
        difficulty_min=form.difficulty.data or None,
        difficulty_max=form.difficulty.data or None,
        author_id=_resolve_author((form.author.data or "").strip()),
        needs_revision=True if form.needs_revision.data else None,
    )
    page = max(request.args.get("page", 1, type=int), 1)
    result = search.search_items(current_user, filters, page=page, per_page=PAGE_SIZE)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    point_ids = {it.point_id for it in result.items if it.point_id}
    point_codes = dict(db.session.execute(select(AssessmentPoint.id, AssessmentPoint.code)
                                          .where(AssessmentPoint.id.in_(point_ids))).all()) if point_ids else {}
    return render_template("bank/items.html", form=form, result=result, args=args,
                           point_codes=point_codes, QTYPE_LABELS=QTYPE_LABELS)


_NOTHING = -1  # an id no row has: a code or author that matches nothing yields no items


def _resolve_code(code: str, standard_id: int | None) -> tuple[int | None, int | None]:
    """A range or assessment-point code typed in the filter → (range_id, point_id)."""
    if not code:
        return None, None
    point_stmt = select(AssessmentPoint.id).where(AssessmentPoint.code == code)
    range_stmt = select(KnowledgeRange.id).where(KnowledgeRange.code == code)
    if standard_id:
        point_stmt = point_stmt.where(AssessmentPoint.standard_id == standard_id)
        range_stmt = range_stmt.where(KnowledgeRange.standard_id == standard_id)
    point_id = db.session.scalars(point_stmt.order_by(AssessmentPoint.id.desc())).first()
    if point_id:
        return None, point_id
    range_id = db.session.scalars(range_stmt.order_by(KnowledgeRange.id.desc())).first()
    return (range_id, None) if range_id else (None, _NOTHING)


def _resolve_author(text: str) -> int | None:
    if not text:
        return None
    stmt = scoped(User, current_user).where((User.username == text) | User.display_name.contains(text))
    return db.session.scalars(stmt.order_by(User.id)).first() or _NOTHING


def _editor_form_levels(standard: Standard) -> list[tuple[int, str]]:
    return [(lv, label) for lv, label in LEVELS.items() if lv in (standard.levels or LEVELS)]


def _editor_form(standard: Standard) -> ItemForm:
    form = ItemForm()
    form.levels.choices = _editor_form_levels(standard)
    return form


def _working_levels(standard: Standard) -> list[int]:
    """The level the writer is working on: `?level=` (the item list's filter carries it), else the
    levels of the version they wrote last on this standard, else the standard's only level; none
    when unknown (the writer picks, rather than finding 五级 chosen for them)."""
    allowed = [lv for lv, _label in _editor_form_levels(standard)]
    wanted = request.args.get("level", type=int)
    if wanted in allowed:
        return [wanted]
    last = db.session.scalars(select(ItemVersion.levels).join(Item, Item.id == ItemVersion.item_id).where(
        ItemVersion.author_id == current_user.id, Item.standard_id == standard.id)
        .order_by(ItemVersion.id.desc()).limit(1)).first()
    remembered = [lv for lv in last or [] if lv in allowed]
    if remembered:
        return remembered
    return allowed if len(allowed) == 1 else []


def _check_editor(form: ItemForm) -> bool:
    """Validate the whole editor at once: form fields, then the content as the question-type
    registry sees it (a draft may still lack an open question's scoring points and reference
    answer; submitting for review may not), every problem put on its field. Returns whether the
    form may be saved."""
    valid = form.validate()
    try:
        qtype = QType(form.qtype.data)
        points = float(form.points.data) if form.points.data is not None else None
        content = prepare_content(qtype, form.to_content())
    except (ValueError, ValidationError):
        return False
    form.flag(qtypes.get(qtype).validate(content, points, draft=not form.submit_for_review.data))
    return valid and not form.flagged()


def _render_editor(form: ItemForm, standard: Standard, item, status: int = 200):
    return render_template("bank/editor.html", form=form, standard=standard, item=item,
                           point_groups=categories.point_groups(standard)), status


@bp.route("/items/new", methods=["GET", "POST"])
@require(Permission.ITEM_WRITE)
def item_new():
    standard_id = request.values.get("standard_id", type=int)
    standards = standard_choices(current_only=True)
    if not standard_id:
        return render_template("bank/choose_standard.html", standards=standards,
                               level=request.args.get("level", type=int))
    standard = db.session.get(Standard, standard_id) or _not_found()
    form = _editor_form(standard)
    if request.method == "GET":
        form.qtype.data = request.args.get("qtype", QType.SINGLE.value)
        form.note.data = "新建试题"
        form.levels.data = _working_levels(standard)
        return _render_editor(form, standard, None)
    if form.apply_option_action():
        return _render_editor(form, standard, None)
    error = None
    if _check_editor(form):
        saved = "试题已保存" + ("并提交审核" if form.submit_for_review.data else "（草稿）")
        item, error = attempt(lambda: services.write_item(
            current_user, current_user.organisation, submit_for_review=form.submit_for_review.data,
            standard=standard, point=_point(standard, form.point_id.data), qtype=QType(form.qtype.data),
            levels=form.levels.data, difficulty=form.difficulty.data, points=float(form.points.data),
            content=form.to_content(), note=form.note.data), success=saved, form=form)
        if error is None:
            return redirect(url_for("bank.item_detail", item_id=item.id))
    return _render_editor(form, standard, None, refusal_status(error))


def _point(standard: Standard, point_id: int):
    point = db.session.get(AssessmentPoint, point_id)
    if point is None or point.standard_id != standard.id:
        raise NotFound("未找到该鉴定点")
    return point


def _not_found():
    raise NotFound("未找到该对象")


@bp.get("/items/<int:item_id>")
@require(Permission.ITEM_VIEW)
def item_detail(item_id: int):
    item = get_item(item_id)
    shown = item.latest_version
    similar = similarity.similar_items(item.organisation_id, item.search_text, exclude_item_id=item.id,
                                       limit=3)
    point = db.session.get(AssessmentPoint, shown.point_id) if shown.point_id else None
    return render_template("bank/item.html", item=item, shown=shown, similar=similar, point=point,
                           point_path=point_path(point),
                           reason_form=ReasonForm(), enemies=services.enemy_group_members(item),
                           evidence=analysis.item_evidence(item), QTYPE_LABELS=QTYPE_LABELS)


@bp.post("/items/<int:item_id>/enemy-group")
@require(Permission.ITEM_VIEW)
def item_enemy_group(item_id: int):
    item = get_item(item_id)
    perform(lambda: services.set_enemy_group(current_user, item, request.form.get("enemy_group")),
            success="互斥组已更新")
    return redirect(url_for("bank.item_detail", item_id=item.id))


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@require(Permission.ITEM_WRITE)
def item_edit(item_id: int):
    item = get_item(item_id)
    standard = db.session.get(Standard, item.standard_id)
    form = _editor_form(standard)
    latest = item.latest_version
    if request.method == "GET":
        form.load_content(latest.qtype, latest.content)
        form.point_id.data = latest.point_id
        form.levels.data = list(latest.levels)
        form.difficulty.data = latest.difficulty
        form.points.data = latest.points
        form.expected_version.data = str(item.version)
        form.note.data = ""
        return _render_editor(form, standard, item)
    form.qtype.data = latest.qtype.value  # an item keeps its type
    if form.apply_option_action():
        return _render_editor(form, standard, item)
    error = None
    if _check_editor(form):
        version, error = attempt(lambda: services.write_version(
            current_user, item, submit_for_review=form.submit_for_review.data,
            expected_version=int(form.expected_version.data or 0), content=form.to_content(),
            point=_point(standard, form.point_id.data), levels=form.levels.data,
            difficulty=form.difficulty.data, points=float(form.points.data), note=form.note.data), form=form)
        if error is None:
            flash(f"已保存为第 {version.number} 版", "success")
            return redirect(url_for("bank.item_detail", item_id=item.id))
    return _render_editor(form, standard, item, refusal_status(error))


@bp.post("/versions/<int:version_id>/submit")
@require(Permission.ITEM_WRITE)
def version_submit(version_id: int):
    version = get_version(version_id)
    warnings, error = attempt(lambda: services.submit(current_user, version), success="已提交审核")
    if error is None:
        for w in warnings or []:
            flash(str(w), "warning")
    return redirect(url_for("bank.item_detail", item_id=version.item_id))


@bp.get("/items/<int:item_id>/history")
@require(Permission.ITEM_VIEW)
def item_history(item_id: int):
    item = get_item(item_id)
    versions = list(item.versions)
    numbers = [v.number for v in versions]
    a = request.args.get("a", type=int) or (numbers[-2] if len(numbers) > 1 else numbers[-1])
    b = request.args.get("b", type=int) or numbers[-1]
    by_number = {v.number: v for v in versions}
    if a not in by_number or b not in by_number:
        raise NotFound("未找到该版本")
    diff = services.version_diff(by_number[a], by_number[b])
    return render_template("bank/history.html", item=item, versions=versions, a=by_number[a],
                           b=by_number[b], diff=diff, QTYPE_LABELS=QTYPE_LABELS)


@bp.post("/items/<int:item_id>/retire")
@require(Permission.ITEM_REVIEW)
def item_retire(item_id: int):
    item = get_item(item_id)
    form = ReasonForm()
    if form.validate_on_submit():
        perform(lambda: services.retire(current_user, item, reason=form.reason.data), success="试题已停用")
    else:
        flash("请填写停用原因", "error")
    return redirect(url_for("bank.item_detail", item_id=item.id))


@bp.post("/items/<int:item_id>/report")
@require(Permission.ITEM_VIEW)
def item_report(item_id: int):
    item = get_item(item_id)
    form = ReasonForm()
    if form.validate_on_submit():
        perform(lambda: services.report_fault(current_user, item, reason=form.reason.data),
                success="已报告问题，试题进入待修订")
    else:
        flash("请填写问题说明", "error")
    return redirect(url_for("bank.item_detail", item_id=item.id))

