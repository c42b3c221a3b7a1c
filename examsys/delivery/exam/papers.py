"""The paper as a candidate sees it: items in the candidate's recorded order (or the form's, when
the batch does not shuffle), options in their recorded order, formulas and images made
self-contained, and the sections with the points each item is worth from the paper's blueprint
snapshot. Never the key."""

from __future__ import annotations

from examsys.assembly.models import Paper, PaperForm
from examsys.assembly.queries import effective_versions
from examsys.assembly.services import candidate_order
from examsys.bank import qtypes
from examsys.bank.media import for_candidate
from examsys.delivery.models import Attempt
from examsys.extensions import db


def _self_contained(view: dict) -> dict:
    """Formulas as SVG and images inlined: the candidate's browser can't fetch staff-only assets."""
    out = dict(view)
    if "stem" in out:
        out["stem"] = for_candidate(out["stem"])
    if out.get("options"):
        out["options"] = [{**o, "text": for_candidate(o.get("text"))} for o in out["options"]]
    return out


def candidate_paper(attempt: Attempt) -> dict:
    """{form, sections: [{index, qtype, title, count, points_each}], items: [{item_ref, number,
    section, points, …the question type's candidate view}]} of the attempt's form."""
    batch = attempt.batch
    form = db.session.get(PaperForm, attempt.form_id)
    paper = db.session.get(Paper, form.paper_id)
    versions = effective_versions(form)
    positions = {fi.id: fi for fi in form.items}
    order = candidate_order(form, attempt.order_seed, shuffle_options=batch.shuffle_options)
    if not batch.shuffle_items:
        order.sort(key=lambda o: (o["section"], positions[o["form_item_id"]].position))
    snapshot_sections = (paper.blueprint_snapshot or {}).get("sections") or []
    sections, items = {}, []
    for number, o in enumerate(order, start=1):
        fi = positions[o["form_item_id"]]
        version = versions[fi.id]
        qtype = version.qtype.value
        view = _self_contained(qtypes.get(qtype).candidate_view(version.content or {}, o["option_order"] or None))
        items.append({"item_ref": fi.id, "number": number, "section": fi.section, "points": fi.points, **view})
        sec = sections.setdefault(fi.section, {"index": fi.section, "qtype": qtype,
                                               "title": qtypes.LABELS.get(qtype, qtype), "count": 0,
                                               "points_each": fi.points})
        sec["count"] += 1
        if fi.section < len(snapshot_sections):
            sec["points_each"] = snapshot_sections[fi.section].get("points", fi.points)
    return {"form": form.label, "sections": [sections[k] for k in sorted(sections)], "items": items}


__all__ = ["candidate_paper"]
