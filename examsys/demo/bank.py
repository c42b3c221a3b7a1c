"""Loading the demo standard (电工 6-31-01-03, 2018) with its knowledge tree, and the demo bank of
385 items with their review states and version histories (idempotent)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from examsys.bank import services as bank_services
from examsys.bank import workflow
from examsys.bank.models import Item
from examsys.extensions import db
from examsys.standards import services as standard_services
from examsys.standards.models import AssessmentPoint, Standard

DATA = Path(__file__).resolve().parent / "data"
TREE_FILE = DATA / "electrician_6-31-01-03_tree.json"
ITEMS_FILE = DATA / "electrician_6-31-01-03_items.json"
FIELD_ALIASES = {"kp": "point"}  # the data files say kp (knowledge point) for the assessment point


def load_standard() -> Standard:
    tree = json.loads(TREE_FILE.read_text(encoding="utf-8"))
    meta = tree["standard"]
    standard = db_standard(meta["code"], meta["edition"])
    if standard is None:
        standard = standard_services.create_standard(meta["code"], meta["name"], meta["edition"],
                                                     [lv["level"] for lv in meta["levels"]])
        standard_services.load_tree(standard, tree, source={"file": TREE_FILE.name})
    return standard


def db_standard(code: str, edition: str) -> Standard | None:
    return db.session.scalar(select(Standard).where(Standard.code == code, Standard.edition == edition))


def load_items(org, standard: Standard, writer, reviewer) -> dict[str, int]:
    """Create the demo items that are not there yet (matched by external id). History entries are
    the item's earlier versions, oldest first; each entry's note says what the next version changed."""
    data = json.loads(ITEMS_FILE.read_text(encoding="utf-8"))["items"]
    existing = set(db.session.scalars(select(Item.external_id).where(Item.organisation_id == org.id,
                                                                    Item.external_id.is_not(None))))
    points = {p.code: p for p in db.session.scalars(
        select(AssessmentPoint).where(AssessmentPoint.standard_id == standard.id))}
    counts: dict[str, int] = {}
    for entry in data:
        if entry["id"] in existing:
            continue
        versions = [h["content"] for h in entry.get("history", [])] + [entry["content"]]
        notes = ["新建试题"] + [h.get("note") or "修订" for h in entry.get("history", [])]
        common = {"point": points[entry["kp"]], "levels": entry["levels"], "difficulty": entry["difficulty"],
                  "points": entry["points"]}
        item = bank_services.create_item(writer, org, standard=standard, qtype=entry["qtype"],
                                         content=versions[0], note=notes[0], **common)
        item.external_id = entry["id"]
        for content, note in zip(versions[1:], notes[1:], strict=True):
            # Earlier versions were in the bank before being revised.
            _approve(writer, reviewer, item.latest_version)
            bank_services.save_edit(writer, item, expected_version=item.version, content=content, note=note,
                                    **common)
        status = entry["status"]
        if status == "approved":
            _approve(writer, reviewer, item.latest_version)
        elif status == "submitted":
            workflow.submit(writer, item.latest_version)
        elif status == "returned":
            workflow.submit(writer, item.latest_version)
            workflow.return_version(reviewer, item.latest_version, comment="请按意见修改后重新提交",
                                    field_comments=[{**c, "field": FIELD_ALIASES.get(c["field"], c["field"])}
                                                    for c in entry.get("return_comment") or []])
        counts[status] = counts.get(status, 0) + 1
    db.session.flush()
    return counts


def _approve(writer, reviewer, version) -> None:
    workflow.submit(writer, version)
    workflow.approve(reviewer, version)
