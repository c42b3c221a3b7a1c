"""Imported items are drafts: an open question without scoring points (an Excel bank giving only
the reference answer in 答案, a Moodle essay with grader information) imports, is flagged
"缺少评分要点", and must be completed before it can be submitted for review."""

import io

import pytest
from openpyxl import Workbook

from examsys.bank import exchange, qtypes, services, workflow
from examsys.bank.models import Item, VersionStatus
from examsys.errors import ValidationError
from examsys.permissions import Role
from tests.factories import PASSWORD


def _xlsx(header, rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


MOODLE_ESSAY = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="essay">
    <name><text>防火</text></name>
    <questiontext format="html"><text><![CDATA[<p>论述电气火灾的预防措施。</p>]]></text></questiontext>
    <defaultgrade>10</defaultgrade>
    <graderinfo format="html"><text><![CDATA[<p>选用合格电器，规范敷设线路，定期检查。</p>]]></text></graderinfo>
  </question>
</quiz>""".encode()


ONE_SHORT = _xlsx(["题型", "题干", "答案", "鉴定点", "分值"],
                  [["简答题", "简述触电急救的基本原则。", "迅速、就地。", "B-01-001", 5]])


def _import(bank, filename, data, **kwargs):
    return exchange.import_file(bank.writer, bank.org, bank.standard, filename, data, **kwargs)


def test_open_question_without_scoring_points_column_imports_as_flagged_draft(bank, db):
    data = _xlsx(["题型", "题干", "答案", "难度", "鉴定点", "分值"],
                 [["简答题", "简述触电急救的基本原则。", "迅速、就地、准确、坚持。", 2, "B-01-001", 5]])
    result = _import(bank, "题库.xlsx", data)
    assert result.errors == [] and result.imported == 1
    assert [(str(i.where), i.field, i.message.split("：")[0]) for i in result.incomplete] == [
        ("题库.xlsx:2", "scoring_points", "缺少评分要点")]
    item = db.session.get(Item, result.item_ids[0])
    version = item.latest_version
    assert version.status == VersionStatus.DRAFT
    assert "迅速、就地、准确、坚持" in version.content["reference_answer"]
    assert version.content["scoring_points"] == []
    assert qtypes.missing_labels(version.qtype, version.content) == ["缺少评分要点"]


def test_moodle_essay_grader_information_becomes_the_reference_answer(bank, db):
    result = _import(bank, "quiz.xml", MOODLE_ESSAY, category_map={"": bank.points["B-01-002"].id})
    assert result.errors == [] and result.imported == 1, result.errors
    version = db.session.get(Item, result.item_ids[0]).latest_version
    assert "定期检查" in version.content["reference_answer"]
    assert qtypes.missing_labels(version.qtype, version.content) == ["缺少评分要点"]


def test_a_draft_without_scoring_points_is_refused_at_submission_then_accepted(bank, db):
    result = _import(bank, "题库.xlsx", ONE_SHORT)
    item = db.session.get(Item, result.item_ids[0])
    with pytest.raises(ValidationError) as refused:
        workflow.submit(bank.writer, item.latest_version)
    assert "缺少评分要点" in refused.value.message and "（2分）" in refused.value.message
    content = {**item.latest_version.content,
               "scoring_points": [{"text": "迅速脱离电源", "points": 2}, {"text": "就地施救", "points": 3}]}
    version = services.write_version(bank.writer, item, expected_version=item.version, content=content,
                                     point=bank.points["B-01-001"], levels=[4], difficulty=3, points=5,
                                     note="补充评分要点")
    workflow.submit(bank.writer, version)
    assert version.status == VersionStatus.SUBMITTED


def test_straight_into_the_bank_still_needs_scoring_points(bank, db, make):
    data = _xlsx(["题型", "题干", "答案", "鉴定点", "分值"],
                 [["简答题", "简述触电急救的基本原则。", "迅速、就地。", "B-01-001", 5]])
    lead = make.user(roles=(Role.WRITER, Role.REVIEWER), org=bank.org)
    result = exchange.import_file(lead, bank.org, bank.standard, "题库.xlsx", data, approve=True)
    assert result.imported == 0
    assert [(e.field, e.message.split("：")[0]) for e in result.errors] == [("scoring_points", "缺少评分要点")]


def test_item_page_and_import_preview_flag_the_missing_scoring_points(client, bank, db):
    result = _import(bank, "题库.xlsx", ONE_SHORT)
    db.session.commit()
    login = client.post("/login", data={"username": bank.writer.username, "password": PASSWORD})
    assert login.status_code == 302
    page = client.get(f"/bank/items/{result.item_ids[0]}").get_data(as_text=True)
    assert "缺少评分要点" in page
    listing = client.get("/bank/items?status=draft").get_data(as_text=True)
    assert "缺少评分要点" in listing
    preview = client.post("/bank/import", data={
        "standard_id": bank.standard.id, "preview": "1",
        "file": (io.BytesIO(_xlsx(["题型", "题干", "答案", "鉴定点", "分值"],
                                  [["论述题", "论述电气防火。", "定期检查。", "B-01-002", 5]])), "b.xlsx")},
        content_type="multipart/form-data").get_data(as_text=True)
    assert "可导入 1 道" in preview and "b.xlsx:2" in preview and "缺少评分要点" in preview
