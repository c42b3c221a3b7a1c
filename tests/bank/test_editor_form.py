"""The item editor through the test client (the no-script path): radio buttons for single choice,
checkboxes for multiple choice and levels, options added and removed by the server, the
knowledge points grouped by tree path, difficulty as words, every missing field flagged at once
with a clear message for a forgotten key."""

import re

from sqlalchemy import select

from examsys.bank.models import Item
from tests.factories import PASSWORD


def _login(client, user):
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302


def _visible_rows(html):
    rows = re.findall(r'<div class="option-row[^"]*" data-role="option-row"( hidden)?', html)
    return sum(1 for hidden in rows if not hidden)


def test_new_editor_fields(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    html = client.get(f"/bank/items/new?standard_id={bank.standard.id}&level=4").get_data(as_text=True)
    assert _visible_rows(html) == 4
    assert 'type="radio" name="choice_key" value="A"' in html
    assert re.search(r'<input type="checkbox" name="levels" value="4" checked>', html)
    assert not re.search(r'name="levels" value="5" checked', html)
    assert '<optgroup label="A-01 基础知识 / 电工基础">' in html and 'data-path="A-01 基础知识 / 电工基础"' in html
    assert '<option value="">请选择鉴定点…</option>' in html
    assert ">较难</option>" in html and "4 较难" not in html
    multi = client.get(f"/bank/items/new?standard_id={bank.standard.id}&qtype=multi").get_data(as_text=True)
    assert 'type="checkbox" name="choice_key" value="A"' in multi


def test_missing_fields_are_flagged_at_once(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    resp = client.post(f"/bank/items/new?standard_id={bank.standard.id}", data={
        "qtype": "single", "difficulty": "3", "points": "1", "option_count": "4", "note": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    summary = html.split('data-role="error-summary"')[1].split("</div>")[0]
    for message in ("请选择鉴定点", "请至少选择一个适用等级", "请填写题干", "选项A 为空", "请填写修改说明",
                    "请选择正确答案（单选题选一个选项）"):
        assert message in summary, message
    assert '实际为 ""' not in html
    assert db.session.scalar(select(Item).where(Item.standard_id == bank.standard.id)) is None


def test_a_judge_item_without_a_key_is_not_saved_as_false(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    html = client.post(f"/bank/items/new?standard_id={bank.standard.id}", data={
        "qtype": "judge", "difficulty": "3", "points": "1", "stem": "安全电压不超过36V。", "levels": ["4"],
        "point_id": bank.points["A-01-001"].id, "note": "新建试题"}).get_data(as_text=True)
    assert "请选择正确答案：正确或错误" in html


def test_options_added_and_removed_without_script(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    url = f"/bank/items/new?standard_id={bank.standard.id}"
    base = {"qtype": "single", "difficulty": "3", "points": "1", "note": "新建试题", "option_count": "4",
            "option_a": "甲", "option_b": "乙", "option_c": "丙", "option_d": "丁", "choice_key": ["C"]}
    html = client.post(url, data={**base, "option_action": "add"}).get_data(as_text=True)
    assert _visible_rows(html) == 5 and 'name="option_count" value="5"' in html
    html = client.post(url, data={**base, "option_action": "remove-B"}).get_data(as_text=True)
    assert _visible_rows(html) == 3
    assert re.search(r"id=\"option_b\"[^>]*>\s*丙</textarea>", html), html.split("section-options")[1][:3000]
    assert re.search(
        r'value="B" data-role="key-input"\s+checked', html), html.split('section-options')[1][:2500]
    assert "请填写题干" not in html  # an option action is not a save: nothing flagged


def test_saved_item_shows_difficulty_and_levels_as_words(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    resp = client.post(f"/bank/items/new?standard_id={bank.standard.id}", data={
        "qtype": "single", "difficulty": "2", "points": "1", "stem": "电流的单位是（  ）。", "levels": ["3"],
        "point_id": bank.points["A-01-001"].id, "note": "新建试题", "option_count": "3",
        "option_a": "安培", "option_b": "伏特", "option_c": "欧姆", "choice_key": ["A"]})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    props = page.split('class="props"')[1].split("</dl>")[0]
    assert "较易" in props and "三级/高级工" in props and "基础知识 / 电工基础" in props
    # The next new item defaults to the level just worked on.
    html = client.get(f"/bank/items/new?standard_id={bank.standard.id}").get_data(as_text=True)
    assert re.search(r'name="levels" value="3" checked', html)
