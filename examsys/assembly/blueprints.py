"""Paper blueprints (细目表) as the app keeps them: the fields, the plain checks a person can fix
before any solving (Chinese messages naming the row and part), and saving with its audit event.
Assembling papers from a blueprint is ``services``'."""

from __future__ import annotations

from examsys import audit, clock
from examsys.assembly import formats
from examsys.assembly.formats import num
from examsys.assembly.matching import information_problems
from examsys.assembly.models import PaperBlueprint
from examsys.audit.actions import AuditAction
from examsys.bank.models import QType
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.standards.models import Standard

BLUEPRINT_FIELDS = ("name", "level", "duration_minutes", "total_points", "pass_mark", "forms",
                    "max_shared_items", "sections", "content_rules", "difficulty_rules",
                    "importance_rules", "exclude_recent_papers", "max_exposure", "partial_credit",
                    "difficulty_source",
                    "info_tolerance", "per_candidate")
DIFFICULTY_SOURCES = {"declared": "标注难度", "estimated": "据考试数据估计的难度"}


def snapshot(pb: PaperBlueprint) -> dict:
    return {name: getattr(pb, name) for name in BLUEPRINT_FIELDS} | {"standard_id": pb.standard_id}


def validate_blueprint(data: dict) -> list[str]:
    """Plain checks a person can fix before any solving; returns Chinese messages that say
    which row of which part is wrong. Conflicts between valid rules are the solver's to report."""
    problems: list[str] = []
    sections = data.get("sections") or []
    if not sections:
        problems.append("至少需要一个题型部分")
    seen: set[str] = set()
    for i, s in enumerate(sections, 1):
        name = formats.TYPE_NAMES.get(s.get("type"), "")
        if s.get("type") not in QType._value2member_map_:
            problems.append(f"题型部分第{i}行：题型无效")
        elif s["type"] in seen:
            problems.append(f"题型部分第{i}行：{name}重复出现，每种题型只能设一个部分")
        seen.add(s.get("type"))
        if num(s.get("count")) < 1 or num(s.get("count")) != int(num(s.get("count"))):
            problems.append(f"题型部分第{i}行（{name}）：题量须为正整数")
        if num(s.get("points")) <= 0:
            problems.append(f"题型部分第{i}行（{name}）：每题分值须大于0")
    total = sum(num(s.get("count")) * num(s.get("points")) for s in sections)
    paper_total = num(data.get("total_points"))
    if sections and abs(total - paper_total) > 1e-6:
        problems.append(f"各部分分值合计 {total:g} 分，与试卷总分 {paper_total:g} 分不一致")
    if not 0 < num(data.get("pass_mark")) <= paper_total:
        problems.append("合格分数线须大于0且不高于总分")
    if not 1 <= num(data.get("duration_minutes")) <= 600:
        problems.append("考试时长须在 1–600 分钟之间")
    forms_n = num(data.get("forms"))
    if not 1 <= forms_n <= formats.MAX_FORMS:
        problems.append(f"试卷套数须在 1–{formats.MAX_FORMS} 之间")
    size = int(sum(num(s.get("count")) for s in sections))
    if num(data.get("max_shared_items"), -1) < 0:
        problems.append("两套试卷最多共用题数不能为负数")
    elif forms_n > 1 and sections and num(data.get("max_shared_items")) >= size:
        problems.append(f"两套试卷最多共用题数须小于每套题量 {size}，否则各套试卷可以完全相同")
    if data.get("per_candidate") and sections and num(data.get("max_shared_items")) >= size:
        problems.append(f"一人一卷时，任意两份试卷最多共用题数须小于每份题量 {size}，否则各份试卷可以完全相同")
    if num(data.get("exclude_recent_papers")) < 0 or (num(data.get("max_exposure"), 0) < 0):
        problems.append("排除条件不能为负数")
    for i, r in enumerate(data.get("content_rules") or [], 1):
        where = f"内容规则第{i}行（{r.get('kp_prefix') or '未选择鉴定范围'}）"
        if not r.get("kp_prefix"):
            problems.append(f"{where}：请选择鉴定范围")
        for t in r.get("types") or []:
            if t not in seen:
                problems.append(f"{where}：题型 {formats.TYPE_NAMES.get(t, t)} 不在试卷的题型部分中")
        problems += _band_problems(where, r)
    levels: set[int] = set()
    for r in data.get("difficulty_rules") or []:
        where = f"难度 {r.get('level')}"
        if r.get("level") not in formats.DIFFICULTY_LEVELS or r["level"] in levels:
            problems.append(f"{where}：难度等级须为 1–5 且不重复")
        levels.add(r.get("level"))
        problems += _band_problems(where, r)
    if data.get("difficulty_source", "declared") not in DIFFICULTY_SOURCES:
        problems.append("难度来源须为“标注难度”或“据考试数据估计的难度”")
    for r in data.get("importance_rules") or []:
        if r.get("importance") not in formats.IMPORTANCE_LEVELS or num(r.get("min"), -1) < 0:
            problems.append(f"重要程度 {r.get('importance')}：须为 X/Y/Z，最少题数不能为负数")
    problems += information_problems(data)
    return problems


def _band_problems(where: str, rule: dict) -> list[str]:
    lo, hi = rule.get("min"), rule.get("max")
    if (lo is not None and num(lo, -1) < 0) or (hi not in (None, "") and num(hi, -1) < 0):
        return [f"{where}：题数不能为负数"]
    if hi not in (None, "") and num(hi) < num(lo):
        return [f"{where}：最少 {lo} 道大于最多 {hi} 道"]
    return []


def save_blueprint(user, org, standard: Standard, data: dict, pb: PaperBlueprint | None = None,
                   *, expected_version: int | None = None) -> PaperBlueprint:
    """Create or update a blueprint. Raises ValidationError listing every problem (details
    ["errors"]), or Conflict when someone saved the blueprint since `expected_version`."""
    problems = validate_blueprint(data)
    if data.get("level") not in (standard.levels or [data.get("level")]):
        problems.insert(0, f"该职业标准没有等级 {data.get('level')}")
    if not (data.get("name") or "").strip():
        problems.insert(0, "请填写细目表名称")
    if problems:
        raise ValidationError("；".join(problems), details={"errors": problems})
    created = pb is None
    if pb is None:
        pb = PaperBlueprint(organisation_id=org.id, standard_id=standard.id, created_by_id=user.id)
        db.session.add(pb)
    elif expected_version is not None and pb.version != expected_version:
        raise Conflict("该细目表已被他人修改，请刷新后重试")
    before = None if created else snapshot(pb)
    data = {"difficulty_source": "declared", "info_tolerance": None, "per_candidate": False, **data}
    for name in BLUEPRINT_FIELDS:
        setattr(pb, name, data[name])
    pb.name = pb.name.strip()
    pb.updated_at = clock.now()
    db.session.flush()
    audit.record(AuditAction.PAPER_BLUEPRINT_CREATED if created else AuditAction.PAPER_BLUEPRINT_UPDATED, obj=pb,
                 data={"after": snapshot(pb)} if created else {"before": before, "after": snapshot(pb)})
    return pb
