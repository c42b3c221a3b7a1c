"""Editing the tree in the UI's terms: add, rename, move and delete ranges, the weight table,
points added, edited and retired; optimistic locking and superseded standards."""

import pytest

from examsys.errors import Conflict, ValidationError
from examsys.standards import services
from examsys.standards.models import KnowledgeRange, StandardStatus
from tests.standards.conftest import point


def _range(std, code) -> KnowledgeRange:
    return next(r for r in std.ranges if r.code == code)


def test_add_rename_move_range(db, standard):
    rng = services.add_range(standard, parent=_range(standard, "A"), code="A-03", name="质量管理")
    assert rng.parent.code == "A" and rng.weights == {} and rng.position == 2
    services.update_range(rng, code="B-01", name="质量管理体系", parent=_range(standard, "B"))
    assert rng.parent.code == "B" and rng.name == "质量管理体系"
    with pytest.raises(ValidationError, match="自身或其下级"):
        services.update_range(_range(standard, "A"), code="A", name="基本要求", parent=_range(standard, "A-01"))
    with pytest.raises(Conflict, match="已被使用"):
        services.add_range(standard, parent=None, code="B-001", name="重复代码")


def test_delete_range_only_without_items(db, standard, make, make_item):
    user = make.user()
    make_item(user.organisation, user, standard, "A-01-001")
    with pytest.raises(Conflict, match="已有试题"):
        services.delete_range(_range(standard, "A"))
    services.delete_range(_range(standard, "A-02"))
    db.session.expire_all()
    assert "A-02" not in {r.code for r in standard.ranges}
    assert "A-02-001" not in {p.code for p in standard.points}


def test_set_weights_checks_the_whole_table(db, standard):
    ids = {r.code: r.id for r in standard.ranges}
    table = {ids["A"]: {5: 40, 4: 30}, ids["A-01"]: {5: 20, 4: 10}, ids["A-02"]: {5: 20, 4: 20},
             ids["B"]: {5: 60, 4: 70}}
    table[ids["A-01"]][4] = 25  # children of A now sum to 45 ≠ 30
    with pytest.raises(ValidationError) as exc:
        services.set_weights(standard, table)
    assert any("鉴定范围 A: 比重-四级" in e for e in exc.value.details["errors"])
    table[ids["A-01"]][4] = 5
    table[ids["A-02"]][4] = 25
    services.set_weights(standard, table)
    assert _range(standard, "A-02").weights == {"5": 20, "4": 25}


def test_points_add_edit_retire(db, standard):
    p = services.add_point(_range(standard, "B"), code="B-004", name="电气照明", importance="y", levels=["4"])
    assert p.importance.value == "Y" and p.levels == [4]
    services.update_point(p, code="B-004", name="电气照明线路", importance="Z", levels=[5, 4],
                          rng=_range(standard, "B"))
    assert p.name == "电气照明线路" and p.levels == [5, 4]
    with pytest.raises(ValidationError, match="适用等级"):
        services.add_point(_range(standard, "B"), code="B-005", name="x", importance="X", levels=[1])
    services.retire_point(p)
    assert p.retired


def test_stale_version_is_a_conflict(db, standard):
    seen = standard.version
    services.add_range(standard, parent=None, code="C", name="新增范围", expected_version=seen)
    db.session.flush()
    assert standard.version == seen + 1
    with pytest.raises(Conflict, match="他人修改"):
        services.retire_point(point(standard, "B-001"), expected_version=seen)


def test_superseded_standard_is_read_only(db, standard):
    standard.status = StandardStatus.SUPERSEDED
    with pytest.raises(Conflict, match="已被新版替代"):
        services.add_range(standard, parent=None, code="C", name="x")


def test_tree_problems_after_manual_edit(db, standard):
    services.add_range(standard, parent=None, code="C", name="新增范围")
    assert services.tree_problems(standard) == []  # no weights yet: nothing to sum
    rng = _range(standard, "C")
    rng.weights = {"4": 10}
    assert any("一级鉴定范围的四级比重之和为 110" in p for p in services.tree_problems(standard))
