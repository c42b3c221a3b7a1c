"""Blueprints in the app: validation messages, content rules pre-filled from range weights, the
editor (save, add rows, pre-fill, errors), live feasibility (read-only JSON), permissions and
tenancy."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from examsys.assembly import prefill, services
from examsys.assembly.models import PaperBlueprint
from examsys.audit.models import AuditEvent
from examsys.errors import ValidationError
from examsys.permissions import Role
from tests.assembly.app_factories import blueprint_data, make_bank, make_standard


def _form(data: dict, **extra) -> dict:
    """The editor's POST fields for a blueprint's data."""
    out = {"name": data["name"], "level": str(data["level"]), "duration_minutes": "90",
           "total_points": str(data["total_points"]), "pass_mark": str(data["pass_mark"]),
           "forms": str(data["forms"]), "max_shared_items": str(data["max_shared_items"]),
           "exclude_recent_papers": "0", "max_exposure": "", "action": "save"}
    for i, s in enumerate(data["sections"]):
        out |= {f"sections-{i}-type": s["type"], f"sections-{i}-count": str(s["count"]),
                f"sections-{i}-points": str(s["points"])}
    for i, r in enumerate(data["content_rules"]):
        out |= {f"content-{i}-kp_prefix": r["kp_prefix"], f"content-{i}-type": (r["types"] or [""])[0],
                f"content-{i}-min": str(r["min"]), f"content-{i}-max": "" if r["max"] is None else str(r["max"])}
    for r in data["difficulty_rules"]:
        out |= {f"diff{r['level']}_min": str(r["min"]), f"diff{r['level']}_max": str(r["max"] or "")}
    for r in data["importance_rules"]:
        out[f"imp{r['importance']}_min"] = str(r["min"])
    return out | extra


# --- validation and pre-fill (service level) ------------------------------------------------------


def test_validation_names_the_row_and_the_numbers(db):
    standard = make_standard()
    data = blueprint_data(standard, total_points=100.0, pass_mark=120.0, forms=30,
                          sections=[{"type": "judge", "count": 4, "points": 1.0},
                                    {"type": "judge", "count": 0, "points": 1.0}],
                          content_rules=[{"kp_prefix": "A", "types": ["multi"], "min": 5, "max": 3}])
    problems = services.validate_blueprint(data)
    text = "\n".join(problems)
    assert "题型部分第2行：判断题重复出现" in text
    assert "题型部分第2行（判断题）：题量须为正整数" in text
    assert "各部分分值合计 4 分，与试卷总分 100 分不一致" in text
    assert "合格分数线须大于0且不高于总分" in text
    assert "试卷套数须在 1–26 之间" in text
    assert "内容规则第1行（A）：题型 多项选择题 不在试卷的题型部分中" in text
    assert "内容规则第1行（A）：最少 5 道大于最多 3 道" in text


def test_save_refuses_invalid_and_records_valid(db, make):
    org = make.org()
    user = make.user(roles=Role.EXAM_ADMIN, org=org)
    standard = make_standard()
    with pytest.raises(ValidationError) as exc:
        services.save_blueprint(user, org, standard, blueprint_data(standard, level=1))
    assert "该职业标准没有等级 1" in exc.value.message
    pb = services.save_blueprint(user, org, standard, blueprint_data(standard))
    assert pb.id and pb.version == 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "paper_blueprint.created")).one()
    assert event.object_id == str(pb.id) and event.organisation_id == org.id


@pytest.mark.parametrize(("target", "total", "expected"), [
    (22, 100, (20, 24)),  # the example in the brief
    (1, 100, (1, 2)),  # a range worth one item still appears
    (30, 100, (27, 33)),
    (14, 100, (13, 15)),  # round_half_up(1.4) = 1
    (0.4, 100, (0, 2)),  # under one item: may be absent
    (99, 100, (89, 100)),  # capped at the form size
])
def test_prefill_band_rounding_rule(target, total, expected):
    assert prefill.band(target, total) == expected


def test_prefill_content_rules_from_weights(db):
    standard = make_standard()
    ranges = prefill.range_weights(standard, 4)
    assert [(r.code, r.depth, r.weight) for r in ranges][:2] == [("A", 1, 40.0), ("A-01", 2, 20.0)]
    sections = [{"type": "judge", "count": 20}, {"type": "single", "count": 80}]
    top = prefill.content_rules(ranges, sections, depths=(1,))
    assert top == [{"kp_prefix": "A", "types": None, "min": 36, "max": 44},
                   {"kp_prefix": "B", "types": None, "min": 54, "max": 66}]
    per_type = prefill.content_rules(ranges, sections, depths=(2,), per_type=True)
    assert {"kp_prefix": "B-01", "types": ["judge"], "min": 5, "max": 7} in per_type
    assert len(per_type) == 8


# --- editor ------------------------------------------------------------------------------------------


def test_editor_creates_blueprint_and_shows_feasibility(client, login_as):
    user = login_as(Role.EXAM_ADMIN)
    standard = make_standard()
    make_bank(user.organisation, standard, user)
    page = client.get(f"/assembly/blueprints/new?standard_id={standard.id}")
    assert page.status_code == 200 and "新建细目表" in page.get_data(as_text=True)
    resp = client.post(f"/assembly/blueprints/new?standard_id={standard.id}", data=_form(blueprint_data(standard)))
    assert resp.status_code == 302
    pb = client.application.extensions["sqlalchemy"].session.scalars(select(PaperBlueprint)).one()
    assert pb.sections[1] == {"type": "single", "count": 6, "points": 1.0}
    assert pb.content_rules[2] == {"kp_prefix": "B-01", "types": ["single"], "min": 1, "max": 3}
    assert pb.difficulty_rules == [{"level": 3, "min": 2, "max": 5}]
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "每条规则的可用试题都足够" in html
    assert "鉴定范围 B-01 继电控制（单项选择题）" in html


def test_editor_shows_errors_and_saves_nothing(client, login_as, db):
    login_as(Role.EXAM_ADMIN)
    standard = make_standard()
    data = blueprint_data(standard, total_points=50.0)
    resp = client.post(f"/assembly/blueprints/new?standard_id={standard.id}", data=_form(data))
    assert resp.status_code == 422
    assert "各部分分值合计 12 分，与试卷总分 50 分不一致" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PaperBlueprint)) == 0


def test_editor_adds_rows_and_prefills_without_saving(client, login_as, db):
    login_as(Role.EXAM_ADMIN)
    standard = make_standard()
    url = f"/assembly/blueprints/new?standard_id={standard.id}"
    data = blueprint_data(standard, content_rules=[])
    html = client.post(url, data=_form(data, action="add_section")).get_data(as_text=True)
    assert 'name="sections-3-type"' in html
    html = client.post(url, data=_form(data, action="prefill", prefill_depth="1,2",
                                       prefill_tolerance="10")).get_data(as_text=True)
    # 12 items per form: A 40 % → t 4.8, d 1 → 3..6; A-01 20 % → t 2.4 → 1..4
    assert 'name="content-5-kp_prefix"' in html and 'name="content-6-kp_prefix"' not in html
    assert 'name="content-0-min" type="number" value="3"' in html
    assert 'name="content-1-max" type="number" value="4"' in html
    assert db.session.scalar(select(func.count()).select_from(PaperBlueprint)) == 0


def test_feasibility_json_reports_shortage_and_writes_nothing(client, login_as, db):
    user = login_as(Role.EXAM_ADMIN)
    standard = make_standard()
    make_bank(user.organisation, standard, user, per_point={"judge": 1, "single": 6, "multi": 2})
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    params = _form(blueprint_data(standard))
    params.pop("action")
    resp = client.get("/assembly/blueprints/feasibility", query_string=params | {"standard_id": standard.id})
    assert resp.status_code == 200
    body = resp.get_json()
    judge = next(r for r in body["rows"] if r["rule"] == "sections[0]")
    # 6 points × 1 judge item; two forms of 4 that share nothing need 8
    assert (judge["per_form"], judge["needed"], judge["available"], judge["ok"]) == (4, 8, 6, False)
    assert body["ok"] is False and "缺 2" in body["html"]
    assert any("判断题每份试卷需要 4 道" in r["message"] for r in body["reasons"])
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_writer_is_refused_blueprint_routes(client, login_as, db):
    login_as(Role.WRITER)
    standard = make_standard()
    for url in ("/assembly/", "/assembly/blueprints/new",
                f"/assembly/blueprints/feasibility?standard_id={standard.id}"):
        assert client.get(url).status_code == 403, url


def test_other_organisations_blueprint_is_not_found(client, login_as, make, db):
    owner = make.user(roles=Role.EXAM_ADMIN)
    standard = make_standard()
    pb = services.save_blueprint(owner, owner.organisation, standard, blueprint_data(standard))
    db.session.commit()
    login_as(Role.EXAM_ADMIN)
    assert client.get(f"/assembly/blueprints/{pb.id}").status_code == 404
    assert client.post(f"/assembly/blueprints/{pb.id}/assemble").status_code == 404
    assert "测试细目表" not in client.get("/assembly/").get_data(as_text=True)
