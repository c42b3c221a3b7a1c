"""The paper as a candidate sees it: items in the candidate's recorded order (or the form's, when
the batch does not shuffle), options in their recorded order, formulas and images made
self-contained, and the sections with the points each item is worth from the paper's blueprint
snapshot. Never the key.

A start storm loads thousands of copies of a few forms, so what cannot change is kept per
process: a frozen form's layout (its positions, sections and points, the paper's section
snapshot), each item version's content with its texts made self-contained, and its candidate
view for each option order asked for (versions are immutable): a candidate whose option order is
new gets their view built from the kept content, without a statement. What can change -- which
version a position shows, once a replacement is recorded after freezing -- is read from the
database on every request (`effective_version_ids`, one statement), so a replacement shows at
once on every node.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from examsys import rawsql
from examsys.assembly.models import Paper, PaperForm, PaperFormItem
from examsys.assembly.queries import EFFECTIVE_VERSION_ID
from examsys.assembly.services import order_of
from examsys.bank import qtypes
from examsys.bank.media import for_candidate
from examsys.bank.models import ItemVersion
from examsys.delivery.models import Attempt
from examsys.extensions import db

VIEWS_SIZE = 20_000  # (version, option order) → candidate view
SOURCES_SIZE = 5_000  # version → its content and self-contained texts
FORMS_SIZE = 2_000  # frozen forms' layouts


@dataclass(frozen=True)
class FormLayout:
    """What a frozen form's paper holds that never changes: positions, sections, points."""

    label: str
    items: tuple[tuple[int, int, int, float], ...]  # (form item id, position, section, points)
    section_points: tuple  # per section of the blueprint snapshot: (whether it sets points, the points)


@dataclass(frozen=True)
class VersionSource:
    """What a candidate view of an item version is built from, in any option order."""

    qtype: str
    labels: tuple[str, ...]  # option labels in the version's order
    content: dict
    shown: dict[str, str]  # its rich texts (stem, options) → as the candidate's browser gets them


class Lru:
    """A bounded, thread-safe map that forgets the least recently used entry first."""

    def __init__(self, size: int):
        self.size, self.data, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


_FORMS = Lru(FORMS_SIZE)
_SOURCES = Lru(SOURCES_SIZE)
_VIEWS = Lru(VIEWS_SIZE)


def clear_caches() -> None:
    """Forget every kept layout, version and view (tests that rewrite rows in place)."""
    for cache in (_FORMS, _SOURCES, _VIEWS):
        cache.clear()


def _shown(text: str | None, shown: dict[str, str]) -> str:
    return shown[text] if isinstance(text, str) and text in shown else for_candidate(text)


def _self_contained(view: dict, shown: dict[str, str]) -> dict:
    """Formulas as SVG and images inlined: the candidate's browser can't fetch staff-only assets.
    `shown`: texts already made so."""
    out = dict(view)
    if "stem" in out:
        out["stem"] = _shown(out["stem"], shown)
    if out.get("options"):
        out["options"] = [{**o, "text": _shown(o.get("text"), shown)} for o in out["options"]]
    return out


def form_layout(form_id: int) -> FormLayout:
    """The layout of a frozen form (kept), or of a draft one (read each time: it may change)."""
    layout = _FORMS.get(form_id)
    if layout is not None:
        return layout
    form = db.session.get(PaperForm, form_id)
    paper = db.session.get(Paper, form.paper_id)
    rows = db.session.execute(select(PaperFormItem.id, PaperFormItem.position, PaperFormItem.section,
                                     PaperFormItem.points).where(PaperFormItem.form_id == form_id)
                              .order_by(PaperFormItem.position)).all()
    snapshot = (paper.blueprint_snapshot or {}).get("sections") or []
    layout = FormLayout(form.label, tuple(tuple(r) for r in rows),
                        tuple(("points" in s, s.get("points")) for s in snapshot))
    if paper.frozen_at is not None:
        _FORMS.put(form_id, layout)
    return layout


_EFFECTIVE = select(PaperFormItem.__table__.c.id, EFFECTIVE_VERSION_ID).where(
    PaperFormItem.__table__.c.form_id == bindparam("form_id"))  # built once: it runs on every paper request


def effective_version_ids(form_id: int, conn=None) -> dict[int, int]:
    """form item id → the version shown now (a replacement recorded since freezing, else pinned);
    read on `conn` when given (the paper's fast path), else in the request's session."""
    if conn is not None:
        return dict(rawsql.fetch_all(conn, _EFFECTIVE, {"form_id": form_id}))
    return dict(db.session.execute(_EFFECTIVE, {"form_id": form_id}).all())


def _source(qtype: str, content: dict | None) -> VersionSource:
    content = content or {}
    options = content.get("options") or []
    texts = [content.get("stem"), *(o.get("text") for o in options)]
    return VersionSource(qtype, tuple(o["label"] for o in options), content,
                         {t: for_candidate(t) for t in texts if isinstance(t, str) and t})


def _sources(version_ids) -> dict[int, VersionSource]:
    """The versions' sources, kept or read (one statement for those not kept, none when all are)."""
    out, missing = {}, []
    for vid in set(version_ids):
        source = _SOURCES.get(vid)
        if source is None:
            missing.append(vid)
        else:
            out[vid] = source
    if missing:
        rows = db.session.execute(select(ItemVersion.id, ItemVersion.qtype, ItemVersion.content)
                                  .where(ItemVersion.id.in_(sorted(missing))))
        for vid, qtype, content in rows:
            source = out[vid] = _source(qtype.value, content)
            _SOURCES.put(vid, source)
    return out


def candidate_paper(attempt: Attempt) -> dict:
    """{form, sections: [{index, qtype, title, count, points_each}], items: [{item_ref, number,
    section, points, …the question type's candidate view}]} of the attempt's form."""
    batch = attempt.batch
    return paper_of(attempt.form_id, attempt.order_seed, shuffle_items=batch.shuffle_items,
                    shuffle_options=batch.shuffle_options)


def paper_of(form_id: int, order_seed: int, *, shuffle_items: bool, shuffle_options: bool, conn=None) -> dict:
    """`candidate_paper` from the attempt's and batch's columns; `conn`: see `effective_version_ids`."""
    layout = form_layout(form_id)
    wanted = effective_version_ids(form_id, conn)
    sources = _sources(wanted.values())
    order = order_of([(fid, section) for fid, _pos, section, _pts in layout.items],
                     {fid: sources[wanted[fid]].labels for fid in wanted}, order_seed,
                     shuffle_options=shuffle_options)
    positions = {fid: (pos, section, points) for fid, pos, section, points in layout.items}
    if not shuffle_items:
        order.sort(key=lambda o: (o["section"], positions[o["form_item_id"]][0]))
    keys = [(wanted[o["form_item_id"]], tuple(o["option_order"])) for o in order]
    views = {k: _VIEWS.get(k) for k in keys}
    for key, view in views.items():
        if view is None:
            vid, option_order = key
            source = sources[vid]
            view = views[key] = _self_contained(
                qtypes.get(source.qtype).candidate_view(source.content, option_order or None), source.shown)
            _VIEWS.put(key, view)
    sections, items = {}, []
    for number, (o, key) in enumerate(zip(order, keys, strict=True), start=1):
        fid = o["form_item_id"]
        _pos, section, points = positions[fid]
        qtype = sources[key[0]].qtype
        items.append({"item_ref": fid, "number": number, "section": section, "points": points, **views[key]})
        sec = sections.setdefault(section, {"index": section, "qtype": qtype,
                                            "title": qtypes.LABELS.get(qtype, qtype), "count": 0,
                                            "points_each": points})
        sec["count"] += 1
        if section < len(layout.section_points):
            sets, snap = layout.section_points[section]
            sec["points_each"] = snap if sets else points
    return {"form": layout.label, "sections": [sections[k] for k in sorted(sections)], "items": items}


__all__ = ["FormLayout", "Lru", "candidate_paper", "clear_caches", "effective_version_ids", "form_layout", "paper_of"]
