"""The Excel template: round trip, every error as FILE:ROW: 列名: message, all-or-nothing, hostile
workbooks refused before openpyxl opens them, and the upload → preview → confirm pages."""

import io
import zipfile

from examsys.standards import services, treeimport
from tests.standards.conftest import HEADER, new_code, xlsx

GOOD_ROWS = [
    ("范围", "A", "基本要求", "", 40, 30, None, None, None, "", ""),
    ("范围", "A-01", "职业道德", "A", 40, 30, None, None, None, "", ""),
    ("鉴定点", "A-01-001", "职业道德基本知识", "A-01", None, None, None, None, None, "X", "5,4"),
    ("范围", "B", "相关知识", "", 60, 70, None, None, None, "", ""),
    ("鉴定点", "B-001", "电动机", "B", None, None, None, None, None, "y", "五级、四级"),
]


def test_happy_path():
    parsed = treeimport.parse_tree_xlsx("tree.xlsx", xlsx(GOOD_ROWS), [5, 4, 3])
    assert parsed.errors == []
    a, b = parsed.tree["ranges"]
    assert a["children"][0]["points"][0] == {"code": "A-01-001", "name": "职业道德基本知识",
                                             "importance": "X", "levels": [5, 4]}
    assert b["weights"] == {"5": 60, "4": 70}
    assert b["points"][0]["importance"] == "Y" and b["points"][0]["levels"] == [5, 4]
    assert parsed.rows == 5


def test_round_trip_of_the_demo_tree(demo_tree):
    clean, issues = treeimport.validate_tree(demo_tree)
    assert issues == []
    parsed = treeimport.parse_tree_xlsx("demo.xlsx", treeimport.emit_tree_xlsx(clean))
    assert parsed.errors == []
    assert parsed.tree["ranges"] == clean["ranges"]


def test_errors_name_file_row_and_column():
    rows = [list(r) for r in GOOD_ROWS]
    rows[2][9] = "W"  # row 4: importance
    rows[1][5] = 25  # row 3: A-01 四级 25 while A has 30
    rows.append(("鉴定点", "B-002", "变压器", "C", None, None, None, None, None, "X", "4"))  # row 7
    rows.append(("要点", "B-003", "x", "B", None, None, None, None, None, "X", "4"))  # row 8
    rows.append(("鉴定点", "A-01-001", "重复", "A-01", None, None, None, None, None, "X", "4"))  # row 9
    parsed = treeimport.parse_tree_xlsx("tree.xlsx", xlsx(rows), [5, 4, 3])
    assert parsed.tree is None
    assert "tree.xlsx:7: 上级代码: 上级代码 C 不是本表中的鉴定范围" in parsed.errors
    assert "tree.xlsx:8: 层级类型: 层级类型应为“范围”或“鉴定点”，而不是“要点”" in parsed.errors
    assert "tree.xlsx:9: 代码: 代码 A-01-001 重复（第 4 行已使用）" in parsed.errors
    # Structural errors come first; tree rules are checked once the rows link up.
    rows = [list(r) for r in GOOD_ROWS]
    rows[2][9] = "W"
    rows[1][5] = 25
    parsed = treeimport.parse_tree_xlsx("tree.xlsx", xlsx(rows), [5, 4, 3])
    assert "tree.xlsx:4: 重要程度: 重要程度应为 X（核心）、Y（一般）或 Z（辅助），而不是“W”" in parsed.errors
    assert "tree.xlsx:2: 比重-四级: 下级范围的四级比重之和为 25，不等于本范围的比重 30" in parsed.errors


def test_missing_header_and_not_a_workbook():
    parsed = treeimport.parse_tree_xlsx("t.xlsx", xlsx([("a", "b")], header=["甲", "乙"]))
    assert parsed.errors[0].startswith("t.xlsx: 没有找到表头")
    assert treeimport.parse_tree_xlsx("t.xlsx", b"not a zip").errors == ["t.xlsx: 不是有效的 zip 压缩包"]
    assert "旧版 Excel" in treeimport.parse_tree_xlsx("t.xls", b"\xd0\xcf\x11\xe0rest").errors[0]


def _zip(entries) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return out.getvalue()


def test_zip_bomb_is_refused_before_inflating():
    bomb = _zip([("xl/workbook.xml", b"<x/>"), ("xl/worksheets/sheet1.xml", b"\0" * (30 * 1024 * 1024))])
    assert len(bomb) < 100_000
    errors = treeimport.parse_tree_xlsx("bomb.xlsx", bomb).errors
    assert len(errors) == 1 and errors[0].startswith("bomb.xlsx: ") and "压缩炸弹" in errors[0]


def test_too_many_entries_is_refused():
    many = _zip([("xl/workbook.xml", b"<x/>")] + [(f"x/{i}", b"") for i in range(10_001)])
    errors = treeimport.parse_tree_xlsx("many.xlsx", many).errors
    assert len(errors) == 1 and "条目数" in errors[0]


def test_mapping_sheet():
    data = xlsx([("A-01-001", "A-01-001", "相同", ""), ("B-001", "", "删除", "并入 B-002"),
                 ("B-002", "B-002", "改了", "")], header=["原鉴定点代码", "新鉴定点代码", "变更类型", "说明"])
    mapping, errors = treeimport.parse_mapping_xlsx("map.xlsx", data)
    assert mapping["B-001"] == {"new": None, "change": "removed", "note": "并入 B-002"}
    assert errors == ["map.xlsx:4: 变更类型: 应为“相同”“变更”或“删除”，而不是“改了”"]


def test_upload_preview_confirm(client, login_as, db):
    from examsys.permissions import Role

    login_as(Role.PROVINCIAL_ADMIN)
    std = services.create_standard(new_code(), "电工", "2018", [5, 4, 3])
    db.session.commit()
    resp = client.post(f"/standards/{std.id}/import", data={
        "version": str(std.version), "file": (io.BytesIO(xlsx(GOOD_ROWS)), "tree.xlsx")},
        content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "确认导入" in html and "A-01-001" in html
    db.session.expire_all()
    assert std.ranges == []  # the dry run wrote nothing
    payload = html.split('name="payload" type="hidden" value="')[1].split('"')[0]
    resp = client.post(f"/standards/{std.id}/import/confirm", data={"payload": payload, "version": str(std.version)})
    assert resp.status_code == 302
    db.session.expire_all()
    assert {p.code for p in std.points} == {"A-01-001", "B-001"}
    # Tampering with the signed payload is refused.
    resp = client.post(f"/standards/{std.id}/import/confirm", data={"payload": payload[:-2] + "xx"},
                       follow_redirects=True)
    assert "预览已过期或无效" in resp.get_data(as_text=True)


def test_upload_errors_are_listed(client, login_as, db):
    from examsys.permissions import Role

    login_as(Role.PROVINCIAL_ADMIN)
    std = services.create_standard(new_code(), "电工", "2018", [5, 4, 3])
    db.session.commit()
    rows = [list(r) for r in GOOD_ROWS]
    rows[2][10] = "9"
    resp = client.post(f"/standards/{std.id}/import", data={"file": (io.BytesIO(xlsx(rows)), "bad.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "bad.xlsx:4: 适用等级: 等级 9 不是该标准的等级" in resp.get_data(as_text=True)



def test_the_shipped_example_file_imports(demo_tree):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examsys/demo/data/knowledge_tree_example.xlsx"
    assert example.exists(), "the README's example knowledge tree must ship with the code"
    parsed = treeimport.parse_tree_xlsx(example.name, example.read_bytes(), [5, 4, 3, 2, 1])
    assert parsed.errors == []
    assert parsed.tree["ranges"] == treeimport.validate_tree(demo_tree)[0]["ranges"]


def test_the_tree_sheet_is_found_behind_a_notes_sheet():
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "说明"
    book.active.append(["本表为电工细目表"])
    ws = book.create_sheet("鉴定要素细目表")
    ws.append(HEADER)
    for row in GOOD_ROWS:
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    parsed = treeimport.parse_tree_xlsx("t.xlsx", out.getvalue())
    assert parsed.errors == [] and len(parsed.tree["ranges"]) == 2
