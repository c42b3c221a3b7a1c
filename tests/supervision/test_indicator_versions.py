"""The indicator system as stored versions: the default set (version 1, the same in the migration
and in the code), a draft copied from the version in force, edits refused with a Chinese message
naming the indicator and the field, validation before publication (weights sum to 100), the
process record, optimistic locking, the difference between versions, scores and assessments
keeping their version, and the pages (province edits, everyone reads published versions)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import select

from examsys.audit.models import AuditEvent
from examsys.errors import ConcurrentChange, Conflict, PermissionDenied, ValidationError
from examsys.supervision.assessment import services as assessment
from examsys.supervision.indicators import catalogue, versions
from examsys.supervision.indicators import services as indicators
from examsys.supervision.indicators.defaults import DEFAULT_CONTENT, DEFAULT_LABEL
from tests.supervision.conftest import login

MIGRATION = next(Path(__file__).parents[2].glob("migrations/versions/*_indicator_system_versions.py"))


def _s1(**changes) -> dict:
    ind = next(i for i in DEFAULT_CONTENT["indicators"] if i["code"] == "S1")
    return {**ind, **changes}


def test_the_default_set_is_version_one_and_the_migration_stores_the_same(db):
    spec = importlib.util.spec_from_file_location("indicator_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.DEFAULT_CONTENT == DEFAULT_CONTENT
    current = versions.current()
    assert (current.version, current.number, current.status) == (DEFAULT_LABEL, 1, "published")
    assert current.total_weight == 100 and versions.problems(DEFAULT_CONTENT) == []
    assert [name for _k, name, _i in current.by_dimension()] == ["制度建设", "题库", "场所设备", "队伍", "过程管理",
                                                                "结果与服务"]
    r3 = current.get("R3")
    assert r3.computed and r3.compute == "return_rate" and r3.direction == "at_most"
    # Every key task is served by at least one indicator.
    assert {t for i in current.indicators for t in i.key_tasks} == set(range(1, 9))


def test_scoring_rules_in_both_directions():
    up = catalogue.from_content("x", 1, "draft", "", {"dimensions": [{"key": "d", "name": "维"}], "indicators": [
        {"code": "A", "dimension": "d", "name": "a", "weight": 50, "kind": "computed", "source": "satisfaction",
         "direction": "at_least", "full": 0.9, "zero": 0.5, "rule": "r", "evidence": "e"},
        {"code": "B", "dimension": "d", "name": "b", "weight": 50, "kind": "computed", "source": "return_rate",
         "direction": "at_most", "full": 0.05, "zero": 0.20, "rule": "r", "evidence": "e"}]})
    a, b = up.get("A"), up.get("B")
    assert [catalogue.score_of(a, v) for v in (0.95, 0.9, 0.7, 0.5, 0.1, None)] == [100, 100, 50, 0, 0, None]
    assert [catalogue.score_of(b, v) for v in (0.0, 0.05, 0.125, 0.2, 0.5)] == [100, 100, 50, 0, 0]


def test_draft_edit_validate_publish(province, db):
    admin = province.admin
    with pytest.raises(PermissionDenied):
        versions.new_draft(province.city_admin)
    draft = versions.new_draft(admin, note="增设退回率后调整权重")
    assert draft.is_draft and draft.based_on.label == DEFAULT_LABEL and draft.label == "2026.2"
    assert draft.content == DEFAULT_CONTENT
    with pytest.raises(Conflict, match="已有草稿版本"):
        versions.new_draft(admin)

    with pytest.raises(ValidationError) as exc:
        versions.save_indicator(admin, draft, "S1", _s1(weight=0))
    assert exc.value.field == "weight" and "S1" in exc.value.message and "权重" in exc.value.message
    with pytest.raises(ValidationError) as exc:
        versions.save_indicator(admin, draft, "S1", _s1(evidence=" "))
    assert exc.value.field == "evidence" and "S1" in exc.value.message and "依据" in exc.value.message
    with pytest.raises(ValidationError) as exc:
        versions.save_indicator(admin, draft, "S1", _s1(kind="computed", source="return_rate", direction="at_most",
                                                        full=0.3, zero=0.1))
    assert exc.value.field == "zero" and "S1" in exc.value.message
    with pytest.raises(ValidationError, match="编号与其他指标重复"):
        versions.save_indicator(admin, draft, "S1", _s1(code="S2"))
    with pytest.raises(PermissionDenied):
        versions.save_indicator(province.city_admin, draft, "S1", _s1(weight=10))

    # S1 10 (+2): the set no longer sums to 100, publication is refused with every problem listed.
    versions.save_indicator(admin, draft, "S1", _s1(weight=10))
    problems = versions.problems(draft.content)
    assert problems == ["各指标权重之和须为 100，现为 102（S1 10、S2 8、B1 8、B2 6、B3 8、F1 8、T1 10、T2 6、"
                        "P1 10、P2 8、R1 8、R2 6、R3 6）"]
    with pytest.raises(ValidationError, match="权重之和须为 100，现为 102") as exc:
        versions.publish(admin, draft)
    assert exc.value.details["errors"] == problems
    versions.save_dimension(admin, draft, None, "信息公开")
    assert "维度「信息公开」：没有指标，请添加指标或删除该维度" in versions.problems(draft.content)
    versions.save_indicator(admin, draft, None, _s1(code="X1", dimension="dim7", name="年度报告公开", weight=2))
    versions.save_indicator(admin, draft, "R2", {**next(i for i in draft.content["indicators"] if i["code"] == "R2"),
                                                 "weight": 2})
    assert versions.problems(draft.content) == []
    with pytest.raises(ConcurrentChange):
        versions.set_note(admin, draft, "旧页面", lock=draft.version - 1)
    assert versions.current().version == DEFAULT_LABEL  # a draft changes nothing in force
    versions.publish(admin, draft)
    assert versions.current().version == "2026.2" and versions.current().get("X1").dimension_label == "信息公开"
    with pytest.raises(Conflict, match="已发布"):
        versions.save_indicator(admin, draft, "S1", _s1(weight=8))

    changes = versions.diff(DEFAULT_CONTENT, draft.content)
    assert "新增维度「信息公开」" in changes
    assert "修改指标 S1 评价管理制度健全（考务、保密、回避、申诉）：权重：8 → 10" in changes
    assert any(c.startswith("新增指标 X1 年度报告公开") for c in changes)
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "indicator_set", AuditEvent.object_id == str(draft.id)).order_by(AuditEvent.id))]
    assert actions[0] == "indicator_set.drafted" and actions[-1] == "indicator_set.published"
    assert actions.count("indicator_set.changed") == 4
    published = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "indicator_set.published"))
    assert published.data["replaces"] == DEFAULT_LABEL and "新增维度「信息公开」" in published.data["changes"]


def test_old_scores_keep_their_version(province, db):
    admin, org = province.admin, province.orgs[0]
    old = indicators.enter_score(admin, org, "S1", year=2026, score=75, evidence="缺申诉制度")
    assert old.set_version == DEFAULT_LABEL
    indicators.enter_score(admin, org, "F1", year=2026, score=70, evidence="一个考场监控死角")
    draft = versions.new_draft(admin)
    versions.save_indicator(admin, draft, "S1", _s1(name="评价管理制度健全", weight=6))
    versions.save_indicator(admin, draft, "R2", {**next(i for i in draft.content["indicators"] if i["code"] == "R2"),
                                                 "weight": 8})
    versions.publish(admin, draft)

    now = indicators.scorecard(org, 2026)
    rows = {r.indicator.code: r for r in now.rows}
    assert now.version == "2026.2" and rows["S1"].score is None  # S1 was redefined: its old score does not count
    # F1 is the same indicator in both versions: its score carries over, still recorded under 2026.1.
    assert rows["F1"].score == 70 and rows["F1"].carried and rows["F1"].entered.set_version == DEFAULT_LABEL
    cards = indicators.scorecards(org, [2026])
    assert [c.version for c in cards] == [DEFAULT_LABEL, "2026.2"]
    assert {r.indicator.code: (r.indicator.weight, r.score) for r in cards[0].rows}["S1"] == (8, 75)
    new = indicators.enter_score(admin, org, "S1", year=2026, score=90, evidence="制度已补齐")
    assert new.set_version == "2026.2"
    row = assessment.assessment_of(org)
    assessment.decide(admin, row, decision="continue", reasons="整改到位")
    assert row.indicator_set == "2026.2" and row.dossier["indicators"]["version"] == "2026.2"
    assert {r["code"]: r["score"] for r in row.dossier["indicators"]["rows"]}["S1"] == 90


def test_pages_province_edits_everyone_reads(client, province, db):
    login(client, province.admin)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/indicators/"' in home  # reachable from the navigation
    index = client.get("/indicators/")
    assert index.status_code == 200 and "新建草稿版本" in index.get_data(as_text=True)
    resp = client.post("/indicators/drafts", data={"note": "调整权重"})
    assert resp.status_code == 303
    draft = versions.draft()
    page = client.get(f"/indicators/{draft.id}").get_data(as_text=True)
    assert "校验通过" in page and "发布此版本" in page and "系统计算" in page and "证书数据退回率" in page
    bad = client.post(f"/indicators/{draft.id}/indicators/S1", data={
        "lock": draft.version, "code": "S1", "dimension": "system", "name": "评价管理制度健全", "weight": "30",
        "kind": "computed", "source": "", "direction": "", "full": "", "zero": "", "rule": "查阅", "evidence": "制度"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "指标 S1「评价管理制度健全」：请选择系统计算的数据来源" in body
    ok = client.post(f"/indicators/{draft.id}/indicators/S1", data={
        "lock": draft.version, "code": "S1", "dimension": "system", "name": "评价管理制度健全", "weight": "30",
        "kind": "entered", "source": "", "direction": "", "full": "", "zero": "", "rule": "查阅", "evidence": "制度",
        "key_tasks": ["1", "5"]})
    assert ok.status_code == 303
    page = client.get(f"/indicators/{draft.id}").get_data(as_text=True)
    assert "各指标权重之和须为 100，现为 122" in page and "权重：8 → 30" in page
    stale = client.post(f"/indicators/{draft.id}/note", data={"note": "旧页面", "lock": draft.version - 1})
    assert stale.status_code == 409 and "已被他人修改" in stale.get_data(as_text=True)  # a page left open too long
    client.post(f"/indicators/{draft.id}/publish", data={"lock": draft.version})
    db.session.refresh(draft)
    assert draft.is_draft  # refused: it does not validate
    label = draft.label

    login(client, province.org_admins[province.orgs[0].id])
    assert client.get("/indicators/").status_code == 200
    assert label not in client.get("/indicators/").get_data(as_text=True)  # the draft is not published
    assert client.get(f"/indicators/{draft.id}").status_code == 404
    assert client.get(f"/indicators/{versions.current_row().id}").status_code == 200
    assert client.post("/indicators/drafts").status_code == 403
    assert client.post(f"/indicators/{draft.id}/publish").status_code == 403
