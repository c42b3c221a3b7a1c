"""Test data for the in-app assembly tests: a standard with a small knowledge tree, and items made
straight with the ORM (Item + ItemVersion on AssessmentPoints), independent of the bank services.
Also loads the demo tree and demo items the same way, for checks against the real data files."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

from examsys.bank.models import Item, ItemStatus, ItemVersion, QType, VersionStatus
from examsys.extensions import db
from examsys.standards.models import AssessmentPoint, Importance, KnowledgeRange, Standard

DEMO_DATA = Path(__file__).resolve().parents[2] / "examsys" / "demo" / "data"
_seq = itertools.count(1)

# A: 40 % at 四级 (A-01 20, A-02 20); B: 60 % (B-01 30, B-02 30).
SMALL_TREE = {"ranges": [
    {"code": "A", "name": "基本要求", "weights": {"4": 40}, "points": [], "children": [
        {"code": "A-01", "name": "职业道德", "weights": {"4": 20}, "children": [], "points": [
            {"code": "A-01-001", "name": "职业道德基本知识", "importance": "X", "levels": [4]},
            {"code": "A-01-002", "name": "职业守则", "importance": "Y", "levels": [4]}]},
        {"code": "A-02", "name": "基础知识", "weights": {"4": 20}, "children": [], "points": [
            {"code": "A-02-001", "name": "电工基础", "importance": "X", "levels": [4]}]}]},
    {"code": "B", "name": "相关知识", "weights": {"4": 60}, "points": [], "children": [
        {"code": "B-01", "name": "继电控制", "weights": {"4": 30}, "children": [], "points": [
            {"code": "B-01-001", "name": "低压电器", "importance": "X", "levels": [4]},
            {"code": "B-01-002", "name": "控制线路", "importance": "Z", "levels": [4]}]},
        {"code": "B-02", "name": "电机", "weights": {"4": 30}, "children": [], "points": [
            {"code": "B-02-001", "name": "三相异步电动机", "importance": "Y", "levels": [4]}]}]},
]}


def make_standard(tree: dict | None = None, *, code: str | None = None, name: str = "电工",
                  levels=(5, 4, 3)) -> Standard:
    standard = Standard(code=code or f"6-31-{next(_seq):02d}-03", name=name, edition="2018", levels=list(levels))
    db.session.add(standard)

    def add(nodes, parent):
        for pos, node in enumerate(nodes):
            rng = KnowledgeRange(standard=standard, parent=parent, code=node["code"], name=node["name"],
                                 position=pos, weights=dict(node.get("weights") or {}))
            db.session.add(rng)
            for ppos, p in enumerate(node.get("points") or []):
                db.session.add(AssessmentPoint(standard=standard, range=rng, code=p["code"], name=p["name"],
                                               importance=Importance(p["importance"]),
                                               levels=list(p["levels"]), position=ppos))
            add(node.get("children") or [], rng)

    add((tree or SMALL_TREE)["ranges"], None)
    db.session.flush()
    return standard


def point(standard: Standard, code: str) -> AssessmentPoint:
    return next(p for p in standard.points if p.code == code)


def content_for(qtype: str, n: int) -> dict:
    base = {"stem": f"第{n}号测试题的题干（  ）。", "options": [], "key": None, "reference_answer": "",
            "scoring_points": [], "explanation": ""}
    if qtype == "judge":
        return base | {"key": n % 2 == 0}
    if qtype == "single":
        return base | {"options": [{"label": x, "text": f"选项{x}{n}"} for x in "ABCD"], "key": "B"}
    if qtype == "multi":
        return base | {"options": [{"label": x, "text": f"选项{x}{n}"} for x in "ABCDE"], "key": ["A", "C"]}
    return base | {"reference_answer": "<p>参考答案</p>", "scoring_points": [{"text": "要点", "points": 2}]}


def make_item(org, standard: Standard, user, kp: str, qtype: str = "single", *, difficulty: int = 3,
              levels=(4,), status: ItemStatus = ItemStatus.APPROVED, content: dict | None = None,
              exposure: int = 0) -> Item:
    """An item with one version; approved items have it as their active version."""
    n = next(_seq)
    ap = point(standard, kp)
    content = content or content_for(qtype, n)
    item = Item(organisation_id=org.id, standard_id=standard.id, point_id=ap.id, qtype=QType(qtype),
                levels=list(levels), level_mask=sum(1 << lv for lv in levels), difficulty=difficulty,
                status=status, exposure=exposure, created_by_id=user.id, search_text=content["stem"])
    db.session.add(item)
    db.session.flush()
    version = ItemVersion(item_id=item.id, number=1, qtype=QType(qtype), content=content, point_id=ap.id,
                          levels=list(levels), difficulty=difficulty, points=1.0, note="初稿",
                          content_hash=hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest(),
                          author_id=user.id,
                          status=VersionStatus.APPROVED if status == ItemStatus.APPROVED else VersionStatus.DRAFT)
    db.session.add(version)
    db.session.flush()
    item.latest_version_id = version.id
    if status == ItemStatus.APPROVED:
        item.active_version_id = version.id
    db.session.flush()
    return item


def new_version(item: Item, user, *, stem: str) -> ItemVersion:
    """Approve a revised version of `item` (what the review workflow does, minus the workflow)."""
    old = item.active_version
    content = dict(old.content, stem=stem)
    version = ItemVersion(item_id=item.id, number=old.number + 1, qtype=old.qtype, content=content,
                          point_id=old.point_id, levels=list(old.levels), difficulty=old.difficulty,
                          points=old.points, note="修订",
                          content_hash=hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest(),
                          author_id=user.id, status=VersionStatus.APPROVED)
    db.session.add(version)
    db.session.flush()
    old.status = VersionStatus.SUPERSEDED
    item.active_version_id = item.latest_version_id = version.id
    db.session.flush()
    return version


def make_bank(org, standard: Standard, user, *, per_point: dict[str, int] | None = None) -> list[Item]:
    """Approved items on every point of SMALL_TREE: per point, `per_point[type]` items of each
    type (default judge 4, single 6, multi 2), difficulties cycling 1–5."""
    per_point = per_point or {"judge": 4, "single": 6, "multi": 2}
    items = []
    for ap in standard.points:
        for qtype, n in per_point.items():
            for i in range(n):
                items.append(make_item(org, standard, user, ap.code, qtype, difficulty=1 + i % 5))
    return items


def blueprint_data(standard: Standard, **overrides) -> dict:
    """A small valid blueprint for SMALL_TREE: 判断 4, 单选 6, 多选 2 per form, two forms."""
    data = {"standard_id": standard.id, "name": "测试细目表", "level": 4, "duration_minutes": 90,
            "total_points": 12.0, "pass_mark": 8.0, "forms": 2, "max_shared_items": 0,
            "sections": [{"type": "judge", "count": 4, "points": 1.0}, {"type": "single", "count": 6, "points": 1.0},
                         {"type": "multi", "count": 2, "points": 1.0}],
            "content_rules": [{"kp_prefix": "A", "types": None, "min": 4, "max": 6},
                              {"kp_prefix": "B", "types": None, "min": 6, "max": 8},
                              {"kp_prefix": "B-01", "types": ["single"], "min": 1, "max": 3}],
            "difficulty_rules": [{"level": 3, "min": 2, "max": 5}],
            "importance_rules": [{"importance": "X", "min": 4}],
            "exclude_recent_papers": 0, "max_exposure": None, "partial_credit": False}
    data.update(overrides)
    return data


def demo_tree() -> dict:
    return json.loads((DEMO_DATA / "electrician_6-31-01-03_tree.json").read_text(encoding="utf-8"))


def demo_items() -> list[dict]:
    return json.loads((DEMO_DATA / "electrician_6-31-01-03_items.json").read_text(encoding="utf-8"))["items"]


def load_demo_world(org, user) -> Standard:
    """The demo standard and its approved items, through the ORM only."""
    standard = make_standard(demo_tree(), code="6-31-01-03")
    for it in demo_items():
        if it["status"] == "approved":
            make_item(org, standard, user, it["kp"], it["qtype"], difficulty=it["difficulty"],
                      levels=tuple(it["levels"]), content=it["content"])
    return standard
