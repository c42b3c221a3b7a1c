"""Paper assembly in the app: the bank as the solver sees it, assembling papers
(forms pinned to approved item versions), freezing, and post-freeze replacements.

The solver itself (solver.py and friends) is pure; this module feeds it from the database and
stores what it returns. Read-only views of papers (rows per form, replacement candidates) live
in ``queries``; content rules pre-filled from range weights in ``prefill``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import delete, select

from examsys import audit, clock, transaction
from examsys.analysis import estimates as analysis
from examsys.assembly import formats
from examsys.assembly.blueprints import save_blueprint as save_blueprint  # the package's API, as before
from examsys.assembly.blueprints import snapshot, validate_blueprint
from examsys.assembly.diagnosis import precheck, rule_availability
from examsys.assembly.grouping import eligible_pool
from examsys.assembly.matching import information_stats
from examsys.assembly.models import (
    Paper,
    PaperBlueprint,
    PaperForm,
    PaperFormItem,
    PaperReplacement,
    PaperStatus,
)
from examsys.assembly.queries import effective_versions, form_labels, items_on_paper
from examsys.assembly.solver import solve
from examsys.assembly.specs import to_form_spec
from examsys.audit.actions import AuditAction
from examsys.bank.models import Item, ItemStatus, ItemVersion, VersionStatus
from examsys.errors import Conflict, DomainError, ValidationError
from examsys.extensions import db
from examsys.standards.models import LEVELS, AssessmentPoint, Standard

# A request waits for the solver at most this long; the solver's child process is killed then.
ASSEMBLE_TIME_LIMIT = 20.0


class Infeasible(DomainError):
    """No paper meets the blueprint; `reasons` says which rules conflict and by how much."""

    status = 422
    code = "infeasible"

    def __init__(self, reasons: list[dict]):
        super().__init__("无法按细目表组卷：" + "；".join(r["message"] for r in reasons[:5]),
                         details={"reasons": reasons})
        self.reasons = reasons


@dataclass
class BankView:
    items: list[formats.BankItem]
    versions: dict[int, int]  # item id → active version id
    estimated: dict[int, int] = field(default_factory=dict)  # item id → level from data (estimated source)
    irt: dict[int, tuple[float, float]] = field(default_factory=dict)  # item id → 2PL (a, b) from data


def bank_for(pb_data: dict, organisation_id: int, *, irt: bool = False) -> BankView:
    """The organisation's approved items for the blueprint's standard and level, as the solver
    sees them. One query. Retired and unapproved items never appear; neither do items flagged
    for revision (a known fault must not reach a new paper) nor items on retired points.
    With `irt` and a blueprint that matches test information, items carry their version's pooled
    2PL estimates where data suffice (one calibration over the bank's versions)."""
    level_bit = 1 << int(pb_data["level"])
    rows = db.session.execute(
        select(Item.id, Item.qtype, AssessmentPoint.code, Item.difficulty, AssessmentPoint.importance,
               Item.exposure, Item.enemy_group, Item.active_version_id, ItemVersion.points)
        .join(AssessmentPoint, AssessmentPoint.id == Item.point_id)
        .join(ItemVersion, ItemVersion.id == Item.active_version_id)
        .where(Item.organisation_id == organisation_id, Item.standard_id == pb_data["standard_id"],
               Item.status == ItemStatus.APPROVED, Item.needs_revision.is_(False),
               AssessmentPoint.retired.is_(False), Item.level_mask.op("&")(level_bit) != 0)
        .order_by(Item.id)).all()
    estimated: dict[int, int] = {}
    if pb_data.get("difficulty_source") == "estimated":
        by_version = analysis.estimated_levels([r[7] for r in rows])
        estimated = {r[0]: by_version[r[7]] for r in rows if r[7] in by_version}
    params: dict[int, tuple[float, float]] = {}
    if irt and pb_data.get("info_tolerance") is not None and int(pb_data.get("forms") or 1) >= 2:
        by_version = analysis.pooled_2pl([r[7] for r in rows])  # one calibration, a second or two
        params = {r[0]: by_version[r[7]] for r in rows if r[7] in by_version}
    items = [formats.BankItem(id=r[0], type=r[1].value, kp=r[2], difficulty=estimated.get(r[0], r[3]),
                              importance=r[4].value, points=r[8], exposure=r[5], enemy_group=r[6],
                              a=params.get(r[0], (None, None))[0], b=params.get(r[0], (None, None))[1])
             for r in rows]
    return BankView(items=items, versions={r[0]: r[7] for r in rows}, estimated=estimated, irt=params)


def recently_used(organisation_id: int, standard_id: int, level: int, papers: int) -> set[str]:
    """Items on the last `papers` frozen papers of this organisation (exclusion rule)."""
    if not papers or papers <= 0:
        return set()
    recent = db.session.scalars(
        select(Paper.id).where(Paper.organisation_id == organisation_id, Paper.standard_id == standard_id,
                               Paper.level == level, Paper.status == PaperStatus.FROZEN)
        .order_by(Paper.frozen_at.desc(), Paper.id.desc()).limit(papers)).all()
    if not recent:
        return set()
    ids = db.session.scalars(select(PaperFormItem.item_id).join(PaperForm)
                             .where(PaperForm.paper_id.in_(recent))).all()
    return {str(i) for i in ids}


def feasibility_report(data: dict, organisation_id: int) -> dict:
    """Live feedback for the editor, for a saved or unsaved blueprint (`data` as ``snapshot``):
    {"rows": per-rule eligible items vs what the forms need, "reasons": pre-check conflicts}.
    Reads only. Raises ValidationError when the rules are not even well-formed."""
    spec = to_form_spec(data, exclude=recently_used(
        organisation_id, data["standard_id"], int(data["level"]), int(data.get("exclude_recent_papers") or 0)))
    pool = eligible_pool(bank_for(data, organisation_id).items, spec)
    rows = rule_availability(pool, spec)
    for row in rows:
        row["ok"] = row["available"] >= row["needed"]
    return {"rows": rows, "reasons": precheck(pool, spec), "eligible": len(pool.items)}


def feasibility(pb: PaperBlueprint) -> list[dict]:
    """Per rule of a saved blueprint: eligible items against what the forms need."""
    return feasibility_report(snapshot(pb), pb.organisation_id)["rows"]


def assemble(user, pb: PaperBlueprint, *, seed: int | None = None, name: str | None = None,
             time_limit: float = ASSEMBLE_TIME_LIMIT) -> Paper:
    """Solve the blueprint and store a draft paper. Raises ValidationError (malformed rules),
    Infeasible with the reasons (the audit event of the failed attempt is kept: it is written
    after the rollback, `transaction.on_rollback`), or DomainError when the solver ran out of time
    or failed."""
    data = snapshot(pb)
    if data.get("per_candidate"):
        raise Conflict("该细目表设为一人一卷：请在细目表页面填写份数后生成试卷")
    problems = validate_blueprint(data)
    if problems:
        raise ValidationError("；".join(problems), details={"errors": problems})
    seed = random.SystemRandom().randrange(1, 2**31 - 1) if seed is None else seed
    bank = bank_for(data, pb.organisation_id, irt=True)
    exclude = recently_used(pb.organisation_id, pb.standard_id, pb.level, pb.exclude_recent_papers)
    result = solve(bank.items, to_form_spec(data, exclude=exclude), seed=seed, time_limit=time_limit)
    if result.status == "infeasible":
        failure = {"seed": seed, "reasons": result.reasons[:20]}
        transaction.on_rollback(lambda: audit.record(AuditAction.PAPER_BLUEPRINT_ASSEMBLY_FAILED, obj=pb, data=failure))
        raise Infeasible(result.reasons)
    if result.status != "ok":
        raise DomainError("组卷超时或出错，请放宽规则或稍后重试：" + "；".join(
            str(r.get("message", r)) for r in result.reasons[:3]))
    paper = Paper(organisation_id=pb.organisation_id, blueprint_id=pb.id, standard_id=pb.standard_id,
                  level=pb.level, name=name or default_paper_name(pb),
                  seed=seed, blueprint_snapshot=data, compliance=result.report,
                  solve_stats={**result.stats, **difficulty_stats(data, bank, result.forms),
                               **information_stats(data, bank.irt, result.forms)},
                  created_by_id=user.id)
    section_of = {s["type"]: (i, float(s["points"])) for i, s in enumerate(data["sections"])}
    type_of = {it.id: it.type for it in bank.items}
    for form in result.forms:
        pf = PaperForm(label=form.label)
        for pos, item_id in enumerate(form.items, 1):
            section, points = section_of[type_of[item_id]]
            pf.items.append(PaperFormItem(position=pos, section=section, item_id=int(item_id),
                                          item_version_id=bank.versions[int(item_id)], points=points))
        paper.forms.append(pf)
    db.session.add(paper)
    db.session.flush()
    audit.record(AuditAction.PAPER_ASSEMBLED, obj=paper, data={"blueprint_id": pb.id, "seed": seed,
                                                    "forms": [f.label for f in paper.forms],
                                                    "stats": result.stats})
    return paper


def difficulty_stats(data: dict, bank: BankView, forms) -> dict:
    """What the paper's report says about the difficulty source: the source, and with estimated
    difficulty the level each chosen item was counted at (so a later re-check counts the same)."""
    source = data.get("difficulty_source") or "declared"
    out = {"difficulty_source": source}
    if source == "estimated":
        chosen = {int(i) for f in forms for i in f.items}
        out["estimated_levels"] = {str(i): bank.estimated[i] for i in sorted(chosen) if i in bank.estimated}
        out["estimated_items"] = len(out["estimated_levels"])
        out["chosen_items"] = len(chosen)
    return out


def default_paper_name(pb: PaperBlueprint) -> str:
    """电工（四级/中级工）理论知识考试试卷 20261124-1030"""
    standard = db.session.get(Standard, pb.standard_id)
    return (f"{standard.name}（{LEVELS.get(pb.level, pb.level)}）理论知识考试试卷 "
            f"{clock.to_display(clock.now()):%Y%m%d-%H%M}")


def reassemble(user, paper: Paper, *, time_limit: float = ASSEMBLE_TIME_LIMIT) -> Paper:
    """Discard a draft and assemble its blueprint (as it is now) again with a fresh seed.
    Raises Conflict unless the paper is a draft, and whatever ``assemble`` raises; on
    Infeasible the old draft is kept (the caller rolls back everything but the audit event)."""
    if paper.status != PaperStatus.DRAFT:
        raise Conflict("只有草稿状态的试卷可以重新组卷")
    if paper.per_candidate:
        raise Conflict("一人一卷试卷请在细目表页面按份数重新生成，再删除本草稿")
    pb = paper.blueprint
    new = assemble(user, pb, time_limit=time_limit)
    discard(user, paper)
    return new


def freeze(user, paper: Paper) -> None:
    """Pin the paper for use; items' exposure counts grow by one. Raises Conflict unless it is a
    draft whose pinned versions are all still the approved ones in the bank (a version revised
    since assembling would freeze stale content: re-assemble instead)."""
    if paper.status != PaperStatus.DRAFT:
        raise Conflict("只有草稿状态的试卷可以定稿")
    # One query, not one per form: a paper may have a form per candidate.
    pinned = dict(db.session.execute(select(PaperFormItem.item_id, PaperFormItem.item_version_id)
                                     .join(PaperForm).where(PaperForm.paper_id == paper.id)).all())
    items = db.session.scalars(select(Item).where(Item.id.in_(pinned))).all()
    stale = sorted(it.id for it in items
                   if it.status != ItemStatus.APPROVED or it.active_version_id != pinned[it.id])
    if stale:
        raise Conflict(f"组卷后有 {len(stale)} 道试题已修订或停用（试题编号 "
                       f"{', '.join(map(str, stale[:10]))}），请重新组卷后再定稿")
    paper.status = PaperStatus.FROZEN
    paper.frozen_at = clock.now()
    paper.frozen_by_id = user.id
    for item in items:
        item.exposure += 1
    db.session.flush()
    labels = form_labels(paper)
    audit.record(AuditAction.PAPER_FROZEN, obj=paper, data={"items": len(pinned), "forms": labels} if not
                 paper.per_candidate else {"items": len(pinned), "forms": len(labels), "per_candidate": True})


def discard(user, paper: Paper) -> None:
    """Delete a draft paper. Raises Conflict for a frozen one (it never changes)."""
    if paper.status != PaperStatus.DRAFT:
        raise Conflict("已定稿的试卷不能删除")
    audit.record(AuditAction.PAPER_DISCARDED, obj=paper, data={"name": paper.name, "seed": paper.seed})
    if paper.per_candidate:
        # Thousands of rows: deleted by statement, not loaded one by one for the ORM cascade.
        forms = select(PaperForm.id).where(PaperForm.paper_id == paper.id).scalar_subquery()
        db.session.execute(delete(PaperFormItem).where(PaperFormItem.form_id.in_(forms)))
        db.session.execute(delete(PaperForm).where(PaperForm.paper_id == paper.id))
        db.session.expire(paper, ["forms"])
    db.session.delete(paper)
    db.session.flush()


def replace_item(user, paper: Paper, form_item: PaperFormItem, new_version: ItemVersion, *,
                 reason: str) -> PaperReplacement:
    """Replace a faulty item of a frozen paper without editing it: a PaperReplacement row that
    delivery applies on top, and an audit event. Raises ValidationError (draft paper, no
    reason, item not usable here) or Conflict (already replaced in the meantime)."""
    if paper.status != PaperStatus.FROZEN:
        raise ValidationError("草稿试卷请直接重新组卷")
    if form_item.form.paper_id != paper.id:
        raise ValidationError("该试题不属于这份试卷")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写替换原因", field="reason")
    item = new_version.item
    section = paper.blueprint_snapshot["sections"][form_item.section]
    if (item.organisation_id != paper.organisation_id or item.standard_id != paper.standard_id
            or paper.level not in (item.levels or [])):
        raise ValidationError("替换试题须来自本机构题库中同一职业标准、同一等级的试题")
    if (new_version.status != VersionStatus.APPROVED or item.status != ItemStatus.APPROVED
            or item.active_version_id != new_version.id):
        raise ValidationError("只能使用题库中已入库的现行版本")
    if new_version.qtype.value != section["type"]:
        raise ValidationError("替换试题的题型须与原题相同")
    if item.id in items_on_paper(paper):
        raise ValidationError("该试题已在本试卷的某一套中，不能重复使用")
    rep = PaperReplacement(form_item_id=form_item.id, new_item_version_id=new_version.id, reason=reason,
                           replaced_by_id=user.id, replaced_at=clock.now())
    db.session.add(rep)
    item.exposure += 1
    db.session.flush()
    audit.record(AuditAction.PAPER_ITEM_REPLACED, obj=paper, data={
        "form": form_item.form.label, "position": form_item.position, "form_item_id": form_item.id,
        "old_version_id": form_item.item_version_id, "new_version_id": new_version.id, "reason": reason})
    return rep


def candidate_order(form: PaperForm, seed: int, *, shuffle_options: bool = True) -> list[dict]:
    """This candidate's item order (within each section) and option order, derived only from the
    recorded seed and the form's effective items (replacements applied), so any candidate's
    paper can be reproduced exactly for review."""
    versions = effective_versions(form)
    return order_of([(fi.id, fi.section) for fi in sorted(form.items, key=lambda f: f.position)],
                    {fid: [o["label"] for o in v.content.get("options") or []] for fid, v in versions.items()},
                    seed, shuffle_options=shuffle_options)


def order_of(items: list[tuple[int, int]], labels: dict, seed: int, *, shuffle_options: bool = True) -> list[dict]:
    """`candidate_order` from plain facts: (form item id, section) in position order, and each
    form item's option labels in its effective version's order."""
    rng = random.Random(seed)
    by_section: dict[int, list[int]] = {}
    for fid, section in items:
        by_section.setdefault(section, []).append(fid)
    out = []
    for section in sorted(by_section):
        ids = list(by_section[section])
        rng.shuffle(ids)
        for fid in ids:
            option_labels = list(labels[fid])
            if shuffle_options and option_labels:
                rng.shuffle(option_labels)
            out.append({"form_item_id": fid, "section": section, "option_order": option_labels})
    return out
