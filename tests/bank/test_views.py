"""The bank's pages end to end through the test client: write, submit, review, history, search,
import with preview and confirm, export."""

import io

from openpyxl import Workbook
from sqlalchemy import select

from examsys.bank.models import Item, ItemStatus, VersionStatus
from tests.factories import PASSWORD


def _login(client, user):
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302


def _editor_data(bank, **extra):
    data = {"qtype": "single", "point_id": bank.points["A-01-001"].id, "levels": ["4"], "difficulty": "3",
            "points": "1", "stem": "额定电压为220V的白炽灯接在110V电源上，其功率约为额定功率的（  ）。",
            "option_a": "1/4", "option_b": "1/2", "option_c": "2倍", "option_d": "4倍",
            "choice_key": ["A"], "explanation": "P=U²/R，电压减半，功率为1/4。", "note": "新建试题"}
    data.update(extra)
    return data


def test_write_submit_review_approve_through_pages(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    resp = client.post(f"/bank/items/new?standard_id={bank.standard.id}",
                       data=_editor_data(bank, submit_for_review="y"))
    assert resp.status_code == 302, [line for line in resp.get_data(as_text=True).splitlines() if "error" in line]
    item = db.session.scalars(select(Item).order_by(Item.id.desc())).first()
    assert item.status == ItemStatus.SUBMITTED
    page = client.get(f"/bank/items/{item.id}").get_data(as_text=True)
    assert "白炽灯" in page and "待审核" in page
    client.post("/logout")

    _login(client, bank.reviewer)
    queue = client.get("/bank/review").get_data(as_text=True)
    assert f"#{item.id}" in queue
    review = client.get(f"/bank/versions/{item.latest_version_id}/review")
    assert review.status_code == 200 and "近似重复检测" in review.get_data(as_text=True)
    resp = client.post(f"/bank/versions/{item.latest_version_id}/review", data={"approve": "1", "comment": "可以"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == ItemStatus.APPROVED


def test_reviewer_cannot_approve_own_version_through_page(client, bank, db, make):
    from examsys.permissions import Role

    both = make.user(roles=(Role.WRITER, Role.REVIEWER), org=bank.org)
    item = bank.item(author=both)
    from examsys.bank import workflow

    workflow.submit(both, item.latest_version)
    db.session.commit()
    _login(client, both)
    resp = client.post(f"/bank/versions/{item.latest_version_id}/review", data={"approve": "1"})
    assert resp.status_code in (200, 302, 403)
    db.session.expire_all()
    assert db.session.get(Item, item.id).latest_version.status == VersionStatus.SUBMITTED


def test_edit_conflict_is_reported_not_lost(client, bank, db):
    item = bank.approved()
    db.session.commit()
    _login(client, bank.writer)
    stale = item.version
    first = client.post(f"/bank/items/{item.id}/edit", data=_editor_data(bank, expected_version=str(stale),
                                                                       note="第一次修改", option_d="五倍"))
    assert first.status_code == 302
    second = client.post(f"/bank/items/{item.id}/edit", data=_editor_data(bank, expected_version=str(stale),
                                                                        note="并发修改", option_d="六倍"))
    assert second.status_code == 409 and "已被他人修改" in second.get_data(as_text=True)
    db.session.expire_all()
    texts = [v.content["options"][3]["text"] for v in db.session.get(Item, item.id).versions]
    assert "五倍" in texts and "六倍" not in texts


def test_history_diff_page(client, bank, db):
    from examsys.bank import services

    item = bank.approved()
    services.save_edit(bank.writer, item, expected_version=item.version,
                       content=bank.content("single", stem="<p>我国工频交流电的频率为（  ）赫兹。</p>"),
                       point=bank.points["A-01-001"], levels=[4], difficulty=3, points=1, note="统一单位写法")
    db.session.commit()
    _login(client, bank.writer)
    html = client.get(f"/bank/items/{item.id}/history?a=1&b=2").get_data(as_text=True)
    assert "<del>" in html and "<ins>" in html and "统一单位写法" in html


def test_search_page_filters_by_text_and_code(client, bank, db):
    bank.approved(content=bank.content("single", stem="<p>兆欧表测量绝缘电阻时摇速应为（  ）r/min。</p>"))
    bank.approved(point="B-01-001", content=bank.content("single", stem="<p>触电者脱离电源后应立即（  ）。</p>"))
    db.session.commit()
    _login(client, bank.writer)
    html = client.get("/bank/items?q=兆欧表").get_data(as_text=True)
    assert "兆欧表" in html and "触电者" not in html
    html = client.get(f"/bank/items?standard_id={bank.standard.id}&point=B").get_data(as_text=True)
    assert "触电者" in html and "兆欧表" not in html
    html = client.get("/bank/items?point=Z-99").get_data(as_text=True)
    assert "没有符合条件的试题" in html


def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析", "难度", "鉴定点", "分值"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_import_preview_then_confirm(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    data = _xlsx([["单选题", "电流的单位是（  ）。", "安培", "伏特", "欧姆", "瓦特", "A", "", 2, "A-01-001", 1],
                  ["判断题", "电压的单位是伏特。", "", "", "", "", "√", "", 1, "A-01-002", 1]])
    resp = client.post("/bank/import", data={"standard_id": bank.standard.id, "level": "4", "preview": "1",
                                             "file": (io.BytesIO(data), "bank.xlsx")},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "预检结果" in html and "可导入 2 道" in html
    assert db.session.scalar(select(Item).where(Item.search_text.contains("电流的单位"))) is None
    token = html.split('name="token" type="hidden" value="')[1].split('"')[0]
    resp = client.post("/bank/import", data={"standard_id": bank.standard.id, "level": "4", "confirm": "1",
                                             "token": token})
    assert resp.status_code == 302
    assert db.session.scalar(select(Item).where(Item.search_text.contains("电流的单位"))) is not None


def test_import_with_an_error_imports_nothing_and_names_the_row(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    data = _xlsx([["单选题", "好题。", "甲", "乙", "丙", "丁", "A", "", 2, "A-01-001", 1],
                  ["单选题", "坏题：两个答案。", "甲", "乙", "丙", "丁", "AB", "", 2, "A-01-001", 1]])
    html = client.post("/bank/import", data={"standard_id": bank.standard.id, "level": "4", "preview": "1",
                                             "file": (io.BytesIO(data), "bad.xlsx")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "bad.xlsx:3" in html and "可导入 0 道" in html


def test_export_xlsx_roundtrips(client, bank, db):
    bank.approved()
    db.session.commit()
    _login(client, bank.reviewer)
    resp = client.get(f"/bank/export?format=xlsx&standard_id={bank.standard.id}")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    from examsys.interchange import parse_file

    parsed = parse_file("export.xlsx", resp.data)
    assert not parsed.errors and len(parsed.items) == 1 and parsed.items[0].kp_code == "A-01-001"


def test_writer_cannot_review(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    assert client.get("/bank/review").status_code == 403


def test_enemy_group_set_on_item_page_and_used_by_assembly(client, bank, db):
    a = bank.approved()
    b = bank.approved(content=bank.content("single", stem="<p>工频交流电每秒变化（  ）个周期。</p>"))
    db.session.commit()
    _login(client, bank.writer)
    for item in (a, b):
        resp = client.post(f"/bank/items/{item.id}/enemy-group", data={"enemy_group": "工频-1"})
        assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Item, a.id).enemy_group == "工频-1"
    page = client.get(f"/bank/items/{a.id}").get_data(as_text=True)
    assert f"#{b.id}" in page  # the other member is listed
    assert bank.events("item.enemy_group_set", a.id)
    from examsys.assembly.services import bank_for

    view = bank_for({"level": 4, "standard_id": bank.standard.id}, bank.org.id)
    assert {it.enemy_group for it in view.items if it.id in (a.id, b.id)} == {"工频-1"}
