"""Writing a knowledge tree into the database, shared by `services` (load_tree and the tree
edits) and `editions` (create_edition): flushing with a stale version turned into Conflict,
refusing a tree dict with problems, and building the range and point rows of a clean tree.

Like every service here these only flush; the request commits.
"""

from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError

from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.standards import treecheck
from examsys.standards.models import AssessmentPoint, Importance, KnowledgeRange, Standard


def flush() -> None:
    """Raises Conflict when a concurrent edit bumped the standard's version first."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise Conflict("该职业标准已被他人修改，请刷新页面后重试") from exc


def validated(tree: dict, levels: list[int]) -> dict:
    """The tree normalised; raises ValidationError listing every problem (details["errors"])."""
    clean, issues = treecheck.validate_tree(tree, levels)
    if issues:
        raise ValidationError("细目表有误：" + "；".join(map(str, issues[:20])) +
                              (f"；另有 {len(issues) - 20} 处错误" if len(issues) > 20 else ""),
                              details={"errors": [str(i) for i in issues]})
    return clean


def build_tree(standard: Standard, tree: dict) -> dict[str, AssessmentPoint]:
    """Add the ranges and points of a validated tree to `standard` (not flushed); points by code."""
    points: dict[str, AssessmentPoint] = {}

    def add(nodes: list[dict], parent: KnowledgeRange | None) -> None:
        for pos, node in enumerate(nodes):
            rng = KnowledgeRange(standard=standard, parent=parent, code=node["code"], name=node["name"],
                                 position=pos, weights=dict(node["weights"]))
            db.session.add(rng)
            for ppos, p in enumerate(node["points"]):
                point = AssessmentPoint(standard=standard, range=rng, code=p["code"], name=p["name"],
                                        importance=Importance(p["importance"]), levels=list(p["levels"]),
                                        position=ppos)
                db.session.add(point)
                points[point.code] = point
            add(node["children"], rng)

    add(tree["ranges"], None)
    return points
