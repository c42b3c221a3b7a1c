"""Fixtures of the standards tests: trees (a small hand-made one and the electrician demo tree),
a loaded standard, items made directly with the ORM (the bank services are not needed here), and
writing a tree into an .xlsx in memory."""

from __future__ import annotations

import copy
import hashlib
import io
import itertools
import json
import os
from pathlib import Path

import pytest
from openpyxl import Workbook

from examsys.bank.models import Item, ItemStatus, ItemVersion, QType, VersionStatus
from examsys.extensions import db as _db
from examsys.standards import services

DEMO_TREE = Path(__file__).resolve().parents[2] / "examsys" / "demo" / "data" / "electrician_6-31-01-03_tree.json"

SMALL_TREE = {"ranges": [
    {"code": "A", "name": "基本要求", "weights": {"5": 40, "4": 30}, "points": [], "children": [
        {"code": "A-01", "name": "职业道德", "weights": {"5": 20, "4": 10}, "children": [], "points": [
            {"code": "A-01-001", "name": "职业道德基本知识", "importance": "X", "levels": [5, 4]},
            {"code": "A-01-002", "name": "职业守则", "importance": "Y", "levels": [5, 4]}]},
        {"code": "A-02", "name": "安全知识", "weights": {"5": 20, "4": 20}, "children": [], "points": [
            {"code": "A-02-001", "name": "安全用电", "importance": "X", "levels": [5, 4]}]}]},
    {"code": "B", "name": "相关知识", "weights": {"5": 60, "4": 70}, "children": [], "points": [
        {"code": "B-001", "name": "三相异步电动机", "importance": "X", "levels": [4]},
        {"code": "B-002", "name": "变压器的结构", "importance": "Y", "levels": [5, 4]},
        {"code": "B-003", "name": "常用低压电器", "importance": "Z", "levels": [4]}]},
]}


_codes = itertools.count(1)


def new_code() -> str:
    """A standard code no other test in this run uses, so tests never collide on (code, edition)."""
    return f"9-99-{os.getpid() % 100:02d}-{next(_codes):04d}"


@pytest.fixture
def small_tree() -> dict:
    return copy.deepcopy(SMALL_TREE)


@pytest.fixture
def demo_tree() -> dict:
    return json.loads(DEMO_TREE.read_text(encoding="utf-8"))


@pytest.fixture
def standard(db, small_tree):
    std = services.create_standard(new_code(), "电工", "2018", [5, 4, 3])
    services.load_tree(std, small_tree)
    _db.session.commit()
    return std


def point(std, code):
    return next(p for p in std.points if p.code == code)


@pytest.fixture
def make_item(db):
    """make_item(org, user, std, point_code, qtype=SINGLE, status=APPROVED, levels=(4,))."""

    def _make(org, user, std, code, qtype=QType.SINGLE, status=ItemStatus.APPROVED, levels=(4,)):
        p = point(std, code) if code else None
        item = Item(organisation_id=org.id, standard_id=std.id, point_id=p.id if p else None, qtype=qtype,
                    levels=list(levels), level_mask=sum(1 << lv for lv in levels), status=status,
                    created_by_id=user.id, search_text=f"关于{code}的试题")
        _db.session.add(item)
        _db.session.flush()
        content = {"stem": f"关于{code}的试题", "options": [], "key": None}
        version = ItemVersion(item_id=item.id, number=1, qtype=qtype, content=content,
                              point_id=item.point_id, levels=list(levels), difficulty=3, note="新建",
                              content_hash=hashlib.sha256(repr(content).encode()).hexdigest(),
                              author_id=user.id,
                              status=VersionStatus.APPROVED if status == ItemStatus.APPROVED else VersionStatus.DRAFT)
        _db.session.add(version)
        _db.session.flush()
        item.latest_version_id = version.id
        if status == ItemStatus.APPROVED:
            item.active_version_id = version.id
        _db.session.flush()
        return item

    return _make


HEADER = ["层级类型", "代码", "名称", "上级代码", "比重-五级", "比重-四级", "比重-三级", "比重-二级", "比重-一级",
          "重要程度", "适用等级"]


def xlsx(rows, header=HEADER) -> bytes:
    book = Workbook()
    ws = book.active
    if header:
        ws.append(header)
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
