"""load_tree: the demo tree loads; every validation rule refuses with a Chinese message naming
the code; replacing a tree; one audit event per load."""

import copy

import pytest
from sqlalchemy import func, select

from examsys.audit.models import AuditEvent
from examsys.errors import Conflict, ValidationError
from examsys.standards import services
from examsys.standards.models import Importance, StandardStatus
from tests.standards.conftest import new_code, point


def _std(code=None):
    return services.create_standard(code or new_code(), "电工", "2018", [5, 4, 3, 2, 1])


def _errors(exc) -> str:
    return "\n".join(exc.value.details["errors"])


def test_demo_tree_loads(db, demo_tree):
    std = _std()
    summary = services.load_tree(std, demo_tree)
    assert summary.points == len(std.points) > 80
    top = [r for r in std.ranges if r.parent_id is None]
    assert [r.code for r in top] == ["A", "B"]
    assert sum(r.weight(4) for r in top) == 100
    b02 = next(r for r in std.ranges if r.code == "B-02")
    assert b02.parent.code == "B" and b02.points[0].code.startswith("B-02-")
    assert point(std, "A-01-001").importance == Importance.X
    assert services.tree_problems(std) == []
    assert std.status == StandardStatus.CURRENT


def test_child_weights_must_sum_to_parent(db, small_tree):
    small_tree["ranges"][0]["children"][0]["weights"]["4"] = 15
    with pytest.raises(ValidationError) as exc:
        services.load_tree(_std(), small_tree)
    text = _errors(exc)
    assert "鉴定范围 A: 比重-四级: 下级范围的四级比重之和为 35，不等于本范围的比重 30" in text
    assert "一级鉴定范围" not in text  # the top level still sums to 100


def test_top_level_weights_must_sum_to_100(db, small_tree):
    small_tree["ranges"][1]["weights"]["5"] = 50
    with pytest.raises(ValidationError) as exc:
        services.load_tree(_std(), small_tree)
    assert "比重-五级: 一级鉴定范围的五级比重之和为 90，应为 100" in _errors(exc)


def test_duplicate_codes(db, small_tree):
    small_tree["ranges"][1]["points"][1]["code"] = "B-001"
    with pytest.raises(ValidationError) as exc:
        services.load_tree(_std(), small_tree)
    assert "鉴定点 B-001: 代码: 代码 B-001 重复" in _errors(exc)


def test_bad_importance_and_levels(db, small_tree):
    pts = small_tree["ranges"][1]["points"]
    pts[0]["importance"] = "W"
    pts[1]["levels"] = [4, 6]
    pts[2]["levels"] = []
    with pytest.raises(ValidationError) as exc:
        services.load_tree(_std(), small_tree)
    text = _errors(exc)
    assert "鉴定点 B-001: 重要程度: 重要程度应为 X（核心）、Y（一般）或 Z（辅助），而不是“W”" in text
    assert "鉴定点 B-002: 适用等级: 等级 6 不是该标准的等级" in text
    assert "鉴定点 B-003: 适用等级: 适用等级不能为空" in text


def test_point_code_must_sit_under_its_range(db, small_tree):
    small_tree["ranges"][0]["children"][0]["points"][0]["code"] = "B-02-001"
    with pytest.raises(ValidationError) as exc:
        services.load_tree(_std(), small_tree)
    assert "鉴定点 B-02-001: 代码: 鉴定点代码应以所属鉴定范围的代码 A-01 开头" in _errors(exc)


def test_levels_outside_the_standard_are_refused(db, small_tree):
    std = services.create_standard(new_code(), "测试", "2020", [4])
    with pytest.raises(ValidationError) as exc:
        services.load_tree(std, small_tree)
    assert "等级 5 不是该标准的等级" in _errors(exc)


def test_nothing_is_written_on_error(db, small_tree):
    std = _std()
    small_tree["ranges"][1]["points"][0]["importance"] = ""
    with pytest.raises(ValidationError):
        services.load_tree(std, small_tree)
    assert std.ranges == [] and std.points == []


def test_one_audit_event_per_load(db, small_tree):
    std = _std()
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    services.load_tree(std, small_tree, source={"file": "t.xlsx"})
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).all()
    assert len(events) - before == 1
    assert events[0].action == "standard.tree_loaded"
    assert events[0].data["points"] == 6 and events[0].data["source"] == {"file": "t.xlsx"}


def test_second_load_needs_replace_and_no_items(db, standard, small_tree, make, make_item):
    with pytest.raises(Conflict):
        services.load_tree(standard, small_tree)
    changed = copy.deepcopy(small_tree)
    changed["ranges"][1]["points"][0]["name"] = "三相异步电动机的结构与原理"
    services.load_tree(standard, changed, replace=True)
    assert point(standard, "B-001").name == "三相异步电动机的结构与原理"
    assert len(standard.points) == 6
    user = make.user()
    make_item(user.organisation, user, standard, "B-001")
    with pytest.raises(Conflict, match="发布新版"):
        services.load_tree(standard, small_tree, replace=True)


def test_create_standard_rules(db):
    code = new_code()
    _std(code)
    with pytest.raises(Conflict):
        _std(code)
    with pytest.raises(ValidationError):
        services.create_standard("1-1", "x", "2020", [7])
    with pytest.raises(ValidationError):
        services.create_standard("", "x", "2020", [4])


def test_rounding_slack_and_point_levels_against_range_weights(db, small_tree):
    a = small_tree["ranges"][0]
    a["children"][0]["weights"]["4"] = 10.05  # within the template's ±0.1
    a["children"][1]["points"][0]["levels"] = [3]  # A-02 has weights for 5 and 4 only
    std = services.create_standard(new_code(), "电工", "2018", [5, 4, 3])
    with pytest.raises(ValidationError) as exc:
        services.load_tree(std, small_tree)
    assert _errors(exc) == "鉴定点 A-02-001: 适用等级: 适用等级中没有一个等级在所属范围 A-02 的比重列中有值"
