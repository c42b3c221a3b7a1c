"""Excel import of a knowledge tree with a dry-run preview, and new editions of a standard with
the point mapping (preview, then confirm). The preview travels to the confirmation in a signed
payload (see `common`), so no upload is kept on any app node in between.
"""

from __future__ import annotations

import hashlib

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from examsys.bank.models import Item
from examsys.errors import ValidationError
from examsys.extensions import db
from examsys.permissions import require
from examsys.standards import services, treeimport
from examsys.standards.forms import ConfirmForm, EditionForm, TreeUploadForm
from examsys.standards.models import PointChange, Standard, StandardStatus
from examsys.standards.views.common import (
    MANAGE,
    bp,
    form_version,
    get_object,
    load_payload,
    serializer,
    upload,
)
from examsys.viewutil import attempt, dry_run

# --- tree import ---------------------------------------------------------------------------------


@bp.route("/<int:standard_id>/import", methods=["GET", "POST"])
@require(MANAGE)
def tree_import(standard_id: int):
    standard = get_object(Standard, standard_id)
    form = TreeUploadForm()
    if request.method == "GET":
        form.version.data = str(standard.version)
    errors: list[str] = []
    if form.validate_on_submit():
        filename, data = upload(form.file)
        parsed = treeimport.parse_tree_xlsx(filename, data, list(standard.levels))
        errors = parsed.errors
        if not errors:
            source = {"file": filename, "sha256": hashlib.sha256(data).hexdigest(), "rows": parsed.rows}
            # The dry run is the real load inside a savepoint that is rolled back: what the preview
            # promises is exactly what the confirmation will do.
            summary, error = dry_run(lambda: services.load_tree(
                standard, parsed.tree, replace=form.replace.data, expected_version=form_version(form)))
            if error is not None:
                errors = error.details.get("errors") or [error.message]
            if not errors:
                confirm = ConfirmForm(formdata=None, version=form.version.data, payload=serializer().dumps(
                    {"standard_id": standard.id, "tree": parsed.tree, "replace": bool(form.replace.data),
                     "source": source}))
                return render_template("standards/import_preview.html", standard=standard, tree=parsed.tree,
                                       summary=summary, source=source, confirm=confirm,
                                       replace=form.replace.data)
    return render_template("standards/import.html", standard=standard, form=form, errors=errors), (
        422 if errors else 200)


@bp.post("/<int:standard_id>/import/confirm")
@require(MANAGE)
def tree_import_confirm(standard_id: int):
    standard = get_object(Standard, standard_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        summary, error = attempt(lambda: _confirm_import(standard, form), success="细目表已导入")
        if error is None:
            flash(f"共 {summary.ranges} 个鉴定范围、{summary.points} 个鉴定点", "info")
            return redirect(url_for("standards.detail", standard_id=standard.id))
    return redirect(url_for("standards.tree_import", standard_id=standard.id))


def _confirm_import(standard: Standard, form: ConfirmForm):
    data = load_payload(form)
    if data.get("standard_id") != standard.id:
        raise ValidationError("预览与当前职业标准不一致，请重新上传")
    return services.load_tree(standard, data["tree"], replace=data["replace"], source=data["source"],
                              expected_version=form_version(form))


# --- new editions --------------------------------------------------------------------------------


@bp.route("/<int:standard_id>/edition", methods=["GET", "POST"])
@require(MANAGE)
def edition_new(standard_id: int):
    old = get_object(Standard, standard_id)
    if old.status == StandardStatus.SUPERSEDED:
        flash("该版本已被替代，请在最新版上发布新版", "warning")
        return redirect(url_for("standards.detail", standard_id=old.id))
    form = EditionForm()
    errors: list[str] = []
    if form.validate_on_submit():
        filename, data = upload(form.file)
        parsed = treeimport.parse_tree_xlsx(filename, data, list(old.levels))
        errors = list(parsed.errors)
        given: dict[str, dict] = {}
        if form.mapping.data:
            map_name, map_data = upload(form.mapping)
            given, map_errors = treeimport.parse_mapping_xlsx(map_name, map_data)
            errors += map_errors
        if not errors:
            mapping = services.suggest_mapping(old, parsed.tree)
            for code, entry in given.items():
                mapping[code] = services.MappingEntry(entry["new"], PointChange(entry["change"]), entry["note"])
            unknown = [c for c in given if c not in mapping]
            errors = [f"对应关系表中的原鉴定点 {c} 不在 {old.title} 中" for c in unknown]
        if not errors:
            payload = serializer().dumps({"old_id": old.id, "edition": form.edition.data.strip(),
                                           "name": (form.name.data or "").strip(), "tree": parsed.tree,
                                           "file": filename})
            affected = dict(db.session.execute(select(Item.point_id, func.count()).where(
                Item.standard_id == old.id).group_by(Item.point_id)).all())
            new_points = [p for _, p in treeimport.iter_points(parsed.tree)]
            ordered = services.ordered_points(old)
            return render_template("standards/edition_preview.html", old=old, form=form, tree=parsed.tree,
                                   mapping=mapping, affected=affected, new_points=new_points,
                                   new_names={p["code"]: p["name"] for p in new_points},
                                   review=[p for p in ordered if mapping[p.code].change != PointChange.SAME],
                                   same=[p for p in ordered if mapping[p.code].change == PointChange.SAME],
                                   confirm=ConfirmForm(formdata=None, payload=payload))
    return render_template("standards/edition.html", old=old, form=form, errors=errors), 422 if errors else 200


@bp.post("/<int:standard_id>/edition/confirm")
@require(MANAGE)
def edition_confirm(standard_id: int):
    old = get_object(Standard, standard_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("standards.edition_new", standard_id=old.id))
    result, error = attempt(lambda: _confirm_edition(old, form), success="新版职业标准已发布")
    if error is not None:
        return redirect(url_for("standards.edition_new", standard_id=old.id))
    flash(f"{old.edition} 版已标记为“已替代”；{result.moved} 道试题已转入新版，"
          f"{len(result.flagged)} 道试题待修订（已列入修订清单）", "info")
    return redirect(url_for("standards.detail", standard_id=result.standard.id))


def _confirm_edition(old: Standard, form: ConfirmForm) -> services.EditionResult:
    data = load_payload(form)
    if data.get("old_id") != old.id:
        raise ValidationError("预览与当前职业标准不一致，请重新上传")
    mapping = {}
    for point in old.points:
        change = request.form.get(f"change-{point.id}")
        if change not in {c.value for c in PointChange}:
            continue  # not in the form: create_edition suggests
        new_code = (request.form.get(f"target-{point.id}") or "").strip() or None
        mapping[point.code] = services.MappingEntry(
            None if change == PointChange.REMOVED else new_code, PointChange(change),
            (request.form.get(f"note-{point.id}") or "").strip()[:500])
    return services.create_edition(old, data["edition"], data["tree"], mapping, name=data["name"] or None)
