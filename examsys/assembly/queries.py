"""Read-only views of papers for pages and PDFs: the effective item of every position (the pinned
version, or the latest replacement recorded after freezing), rows per form with what the admin
checks (type, assessment point, difficulty), sections with their numbering, and the approved
items a faulty one may be replaced with. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from examsys.analysis.estimates import estimated_levels
from examsys.assembly import formats
from examsys.assembly.checker import compliance_report
from examsys.assembly.models import Paper, PaperForm, PaperFormItem, PaperReplacement
from examsys.assembly.specs import to_form_spec
from examsys.assembly.summary import summary_report
from examsys.bank.models import Item, ItemStatus, ItemVersion, QType
from examsys.extensions import db
from examsys.standards.models import AssessmentPoint

CHINESE_NUMERALS = "一二三四五六七八九十"


_fi, _pr = PaperFormItem.__table__, PaperReplacement.__table__
# The version a position of a frozen form shows, as a column expression over paper_form_items:
# the latest replacement recorded since freezing (highest id), else the pinned version. The one
# statement of this rule: pages, PDFs, grading and autosave's checks all read it from here.
EFFECTIVE_VERSION_ID = func.coalesce(
    select(_pr.c.new_item_version_id).where(_pr.c.form_item_id == _fi.c.id)
    .order_by(_pr.c.id.desc()).limit(1).scalar_subquery(),
    _fi.c.item_version_id)


def effective_versions(form: PaperForm) -> dict[int, ItemVersion]:
    """form item id → the version a candidate sees: the pinned one unless replaced since."""
    wanted = dict(db.session.execute(select(_fi.c.id, EFFECTIVE_VERSION_ID).where(_fi.c.form_id == form.id)).all())
    versions = {v.id: v for v in db.session.scalars(
        select(ItemVersion).where(ItemVersion.id.in_(set(wanted.values())))
        .options(selectinload(ItemVersion.item)))}
    return {fid: versions[vid] for fid, vid in wanted.items()}


@dataclass
class Row:
    number: int  # 1.. across the whole form, as printed
    form_item: PaperFormItem
    version: ItemVersion  # effective version
    point: AssessmentPoint | None
    replacement: PaperReplacement | None = None

    @property
    def pinned_version_id(self) -> int:
        return self.form_item.item_version_id


@dataclass
class SectionBlock:
    index: int  # 0-based position in the blueprint
    numeral: str  # 一、二、…
    type: str
    name: str  # 判断题
    points: float  # per item
    rows: list[Row] = field(default_factory=list)

    @property
    def first(self) -> int:
        return self.rows[0].number if self.rows else 0

    @property
    def last(self) -> int:
        return self.rows[-1].number if self.rows else 0

    @property
    def total(self) -> float:
        return sum(r.form_item.points for r in self.rows)


@dataclass
class FormView:
    form: PaperForm
    sections: list[SectionBlock]

    @property
    def label(self) -> str:
        return self.form.label

    @property
    def rows(self) -> list[Row]:
        return [r for s in self.sections for r in s.rows]


def form_view(paper: Paper, form: PaperForm) -> FormView:
    """Sections in blueprint order, items numbered continuously across sections."""
    versions = effective_versions(form)
    reps: dict[int, PaperReplacement] = {}
    for rep in db.session.scalars(select(PaperReplacement).where(
            PaperReplacement.form_item_id.in_([fi.id for fi in form.items])).order_by(PaperReplacement.id)):
        reps[rep.form_item_id] = rep
    point_ids = {v.point_id for v in versions.values() if v.point_id}
    points = {p.id: p for p in db.session.scalars(select(AssessmentPoint).where(AssessmentPoint.id.in_(point_ids)))}
    blocks = []
    # Papers entered as records of past sittings (the demo's certificate-data batches) keep only
    # the pass mark and duration: no sections, no items, and their page still opens.
    for i, s in enumerate((paper.blueprint_snapshot or {}).get("sections") or []):
        blocks.append(SectionBlock(i, CHINESE_NUMERALS[i] if i < len(CHINESE_NUMERALS) else str(i + 1),
                                   s["type"], formats.TYPE_NAMES.get(s["type"], s["type"]), float(s["points"])))
    for number, fi in enumerate(sorted(form.items, key=lambda f: (f.section, f.position)), 1):
        v = versions[fi.id]
        blocks[fi.section].rows.append(Row(number, fi, v, points.get(v.point_id), reps.get(fi.id)))
    return FormView(form, [b for b in blocks if b.rows])


def items_on_paper(paper: Paper) -> set[int]:
    """Ids of the items candidates see on any form of the paper (replacements applied)."""
    return {v.item_id for form in paper.forms for v in effective_versions(form).values()}


def paper_views(paper: Paper) -> list[FormView]:
    return [form_view(paper, f) for f in paper.forms]


def get_form(paper: Paper, label: str) -> PaperForm | None:
    """One form by its label, without loading the others (a paper may have one per candidate)."""
    return db.session.scalar(select(PaperForm).where(PaperForm.paper_id == paper.id, PaperForm.label == label))


def _label_key(label: str) -> tuple:
    return (0, int(label), "") if label.isdigit() else (1, 0, label)


def form_labels(paper: Paper) -> list[str]:
    """The paper's form labels in order: A, B, … or, one form per candidate, 1, 2, … 1000."""
    labels = db.session.scalars(select(PaperForm.label).where(PaperForm.paper_id == paper.id)).all()
    return sorted(labels, key=_label_key)


def replacement_candidates(paper: Paper, form_item: PaperFormItem, *, limit: int = 200) -> list[Item]:
    """Approved items of the same type, standard and level in the paper's organisation that are
    on no form of this paper (a replacement must not add to the items forms share); same
    assessment point first, then least exposed."""
    section = paper.blueprint_snapshot["sections"][form_item.section]
    on_paper = items_on_paper(paper)
    current = effective_versions(form_item.form)[form_item.id]
    level_bit = 1 << int(paper.level)
    rows = db.session.scalars(
        select(Item).where(Item.organisation_id == paper.organisation_id, Item.standard_id == paper.standard_id,
                           Item.status == ItemStatus.APPROVED, Item.needs_revision.is_(False),
                           Item.qtype == QType(section["type"]), Item.level_mask.op("&")(level_bit) != 0,
                           Item.active_version_id.is_not(None), Item.id.not_in(on_paper or {0}))
        .options(selectinload(Item.active_version))
        .order_by((Item.point_id == current.point_id).desc(), Item.exposure, Item.id).limit(limit)).all()
    return list(rows)


def papers_of_blueprint(blueprint_id: int) -> list[Paper]:
    return list(db.session.scalars(select(Paper).where(Paper.blueprint_id == blueprint_id)
                                   .order_by(Paper.created_at.desc(), Paper.id.desc())))


def rule_label(data: dict, rule: str, range_names: dict[str, str] | None = None) -> str:
    """A person's name for a rule id of the solver ("content[2]" → "鉴定范围 A-02 电工基础知识")."""
    kind, _, rest = rule.partition("[")
    try:
        i = int(rest.rstrip("]"))
    except ValueError:
        return rule
    if kind == "sections":
        s = data["sections"][i]
        return f"{formats.TYPE_NAMES.get(s['type'], s['type'])}"
    if kind == "content":
        r = data["content_rules"][i]
        name = (range_names or {}).get(r["kp_prefix"], "")
        types = "、".join(formats.TYPE_NAMES.get(t, t) for t in r["types"]) if r.get("types") else ""
        return f"鉴定范围 {r['kp_prefix']} {name}".rstrip() + (f"（{types}）" if types else "")
    if kind == "difficulty":
        return f"难度 {data['difficulty_rules'][i]['level']}"
    if kind == "importance":
        return f"重要程度 {data['importance_rules'][i]['importance']}"
    return rule


def _difficulty_levels(paper: Paper, versions) -> dict[int, int]:
    """version id → the difficulty level the blueprint counts: the declared one, or with an
    "estimated" difficulty source the level assembly used for the items it chose (kept in the
    paper's solve stats) and today's estimate for items put in since, declared where data lack."""
    levels = {v.id: v.difficulty for v in versions}
    if (paper.blueprint_snapshot or {}).get("difficulty_source") != "estimated":
        return levels
    used = {int(k): int(v) for k, v in ((paper.solve_stats or {}).get("estimated_levels") or {}).items()}
    pinned = {fi.item_version_id for f in paper.forms for fi in f.items}
    now = estimated_levels([v.id for v in versions if v.id not in pinned])
    for v in versions:
        if v.id in pinned:
            levels[v.id] = used.get(v.item_id, v.difficulty)
        elif v.id in now:
            levels[v.id] = now[v.id]
    return levels


def effective_compliance(paper: Paper) -> dict | None:
    """The compliance report recomputed for the forms as candidates now see them, or None when
    nothing was replaced (the stored report from assembling then still holds). Uses each
    version's own assessment point and the difficulty level the blueprint counts (declared, or
    estimated from data: ``_difficulty_levels``); exposure is left out (freezing raised it)."""
    replaced = db.session.scalar(select(func.count(PaperReplacement.id)).join(
        PaperFormItem, PaperFormItem.id == PaperReplacement.form_item_id).join(PaperForm).where(
        PaperForm.paper_id == paper.id))
    if not replaced:
        return None
    if paper.per_candidate:
        return _effective_summary(paper)
    views = {f.label: effective_versions(f) for f in paper.forms}
    pinned = {fi.id: fi.item_version_id for f in paper.forms for fi in f.items}
    if all(v.id == pinned[fid] for vs in views.values() for fid, v in vs.items()):
        return None
    all_versions = {v.id: v for vs in views.values() for v in vs.values()}
    point_ids = {v.point_id for v in all_versions.values() if v.point_id}
    points = {p.id: p for p in db.session.scalars(select(AssessmentPoint).where(AssessmentPoint.id.in_(point_ids)))}
    levels = _difficulty_levels(paper, all_versions.values())
    bank = [formats.BankItem(id=v.item_id, type=v.qtype.value, kp=points[v.point_id].code if v.point_id else "",
                             difficulty=levels[v.id], importance=points[v.point_id].importance.value
                             if v.point_id else "Z") for v in all_versions.values()]
    unique = list({b.id: b for b in bank}.values())
    # Information at the pass mark is judged at assembly (the pinned items' 2PL estimates are not
    # kept); a replacement is checked on the counts.
    data = dict(paper.blueprint_snapshot, max_exposure=None, info_tolerance=None)
    forms = [formats.AssembledForm(label, [v.item_id for v in vs.values()]) for label, vs in views.items()]
    return compliance_report(unique, to_form_spec(data), forms)


def _effective_summary(paper: Paper) -> dict:
    """``effective_compliance`` of a paper with a form per candidate: the summary report over
    the forms as candidates now see them, read in two queries rather than two per form."""
    rows = db.session.execute(select(PaperForm.label, EFFECTIVE_VERSION_ID).select_from(_fi)
                              .join(PaperForm, PaperForm.id == _fi.c.form_id)
                              .where(PaperForm.paper_id == paper.id).order_by(_fi.c.form_id, _fi.c.position)).all()
    versions = {v.id: v for v in db.session.scalars(select(ItemVersion).where(
        ItemVersion.id.in_({vid for _, vid in rows})))}
    point_ids = {v.point_id for v in versions.values() if v.point_id}
    points = {p.id: p for p in db.session.scalars(select(AssessmentPoint).where(AssessmentPoint.id.in_(point_ids)))}
    levels = _difficulty_levels(paper, versions.values())
    bank = {v.item_id: formats.BankItem(id=v.item_id, type=v.qtype.value,
                                        kp=points[v.point_id].code if v.point_id else "", difficulty=levels[v.id],
                                        importance=points[v.point_id].importance.value if v.point_id else "Z")
            for v in versions.values()}
    forms: dict[str, list[int]] = {}
    for label, vid in rows:
        forms.setdefault(label, []).append(versions[vid].item_id)
    data = dict(paper.blueprint_snapshot, max_exposure=None)
    return summary_report(list(bank.values()), to_form_spec(data),
                          [formats.AssembledForm(label, items) for label, items in
                           sorted(forms.items(), key=lambda kv: _label_key(kv[0]))])
