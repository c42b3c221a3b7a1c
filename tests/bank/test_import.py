"""Import of parsed drafts: all or nothing, partial, dry run, approval, speed."""

import copy

import pytest
from sqlalchemy import func, select

from examsys.bank.importing import import_drafts
from examsys.bank.models import Item, ItemStatus, ItemVersion, Review, VersionStatus
from examsys.errors import PermissionDenied, ValidationError
from examsys.interchange.model import ItemDraft, SourceRef, make_content
from examsys.permissions import Role
from tests.bank.conftest import CONTENT


def draft(qtype="single", row=2, kp_code="A-01-001", kp_path=(), **content_changes):
    base = copy.deepcopy(CONTENT[qtype])
    base.update(content_changes)
    content = make_content(qtype, base["stem"], options=base.get("options"), key=base.get("key"),
                           reference_answer=base.get("reference_answer", ""),
                           scoring_points=base.get("scoring_points"), explanation=base.get("explanation", ""))
    return ItemDraft(qtype=qtype, content=content, difficulty=2, kp_code=kp_code, kp_path=list(kp_path),
                     points=5 if qtype == "short" else None, source=SourceRef("题库.xlsx", row))


def count_items(db, org):
    return db.session.scalar(select(func.count()).select_from(Item).where(Item.organisation_id == org.id))


def good_drafts():
    return [draft(q, row=i + 2) for i, q in enumerate(["judge", "single", "multi", "fill", "short"])]


def bad_drafts():
    return [draft("single", row=7, key="E"), draft("judge", row=8, kp_code="Z-99"),
            draft("multi", row=9, kp_code=None, kp_path=["安全知识", "不存在的点"])]


def test_all_or_nothing(bank, db):
    report = import_drafts(bank.writer, bank.org, bank.standard, good_drafts() + bad_drafts())
    assert report.imported == 0 and report.skipped == 8 and count_items(db, bank.org) == 0
    assert [str(e) for e in report.errors] == [
        "题库.xlsx:7: key: 答案 E 不是已有的选项",
        "题库.xlsx:8: kp_code: 鉴定点代码 Z-99 不在该标准中",
        "题库.xlsx:9: kp_path: 鉴定点 安全知识 / 不存在的点 不在该标准中",
    ]
    assert report.as_json()["errors"][0] == {"where": "题库.xlsx:7", "message": "key: 答案 E 不是已有的选项"}
    assert bank.events("standard.items_imported") == []


def test_partial_writes_the_good_ones(bank, db):
    report = import_drafts(bank.writer, bank.org, bank.standard, good_drafts() + bad_drafts(), partial=True)
    assert (report.imported, report.skipped, len(report.errors)) == (5, 3, 3)
    assert report.by_type == {"judge": 1, "single": 1, "multi": 1, "fill": 1, "short": 1}
    items = db.session.scalars(select(Item).where(Item.id.in_(report.item_ids)).order_by(Item.id)).all()
    assert [i.status for i in items] == [ItemStatus.DRAFT] * 5
    first = items[0].latest_version
    assert first.number == 1 and first.status == VersionStatus.DRAFT and items[0].active_version_id is None
    assert first.source == {"file": "题库.xlsx", "row": 2}
    assert items[1].search_text.startswith("我国工频交流电") and items[1].level_mask == (1 << 5) | (1 << 4) | (1 << 3)
    [event] = bank.events("standard.items_imported")
    assert event.actor_user_id == bank.writer.id and event.organisation_id == bank.org.id
    assert event.data["count"] == 5 and event.data["approved"] is False and event.data["skipped"] == 3
    assert event.data["id_ranges"] == [[min(report.item_ids), max(report.item_ids)]]


def test_dry_run_writes_nothing(bank, db):
    report = import_drafts(bank.writer, bank.org, bank.standard, good_drafts(), dry_run=True)
    assert report.ok and report.imported == 5 and report.item_ids == [] and count_items(db, bank.org) == 0
    assert bank.events("standard.items_imported") == []


def test_kp_path_and_level(bank, db):
    report = import_drafts(bank.writer, bank.org, bank.standard,
                           [draft(kp_code=None, kp_path=["电工基础", "交流电路"])], level=4)
    item = db.session.get(Item, report.item_ids[0])
    assert item.point_id == bank.points["A-01-002"].id and item.levels == [4]
    with pytest.raises(ValidationError):
        import_drafts(bank.writer, bank.org, bank.standard, [draft()], level=1)


def test_approved_import_needs_review_permission(bank, db, make):
    with pytest.raises(PermissionDenied):
        import_drafts(bank.writer, bank.org, bank.standard, good_drafts(), approve=True)
    with pytest.raises(PermissionDenied):
        import_drafts(bank.reviewer, bank.org, bank.standard, good_drafts())  # no BANK_IMPORT
    lead = make.user(roles=(Role.WRITER, Role.REVIEWER), org=bank.org)
    report = import_drafts(lead, bank.org, bank.standard, good_drafts(), approve=True)
    items = db.session.scalars(select(Item).where(Item.id.in_(report.item_ids))).all()
    assert all(i.status == ItemStatus.APPROVED and i.active_version_id == i.latest_version_id for i in items)
    versions = db.session.scalars(select(ItemVersion).where(ItemVersion.item_id.in_(report.item_ids))).all()
    assert all(v.status == VersionStatus.APPROVED and v.note == "批量导入并直接入库" for v in versions)
    assert db.session.scalar(select(func.count()).select_from(Review).where(
        Review.version_id.in_([v.id for v in versions]))) == 5
    [event] = bank.events("standard.items_imported")
    assert event.data["approved"] is True


def test_import_sanitises_content(bank, db):
    report = import_drafts(bank.writer, bank.org, bank.standard,
                           [draft(stem='<p>频率<img src=x onerror=alert(1)>为（  ）Hz</p>')])
    version = db.session.get(Item, report.item_ids[0]).latest_version
    assert version.content["stem"] == "<p>频率为（  ）Hz</p>"


@pytest.mark.slow
def test_twenty_thousand_items_in_one_import(bank, db):
    """Large imports work in one go (their speed is bench/bank.py's business, not a unit test's)."""
    drafts = []
    for n in range(20_000):
        d = draft(["judge", "single", "multi", "fill", "short"][n % 5], row=n + 2)
        d.content["stem"] = f"<p>第{n}题：{d.content['stem']}</p>"
        drafts.append(d)
    report = import_drafts(bank.writer, bank.org, bank.standard, drafts)
    assert report.imported == 20_000 and count_items(db, bank.org) == 20_000
