"""Build knowledge_tree_example.xlsx (the knowledge-tree import template example)
from electrician_6-31-01-03_tree.json.

Run once from the project root:  python examsys/demo/data/build_tree_xlsx.py
The template layout is documented in docs/knowledge-tree-template.md.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

HERE = Path(__file__).resolve().parent
TREE = HERE / "electrician_6-31-01-03_tree.json"
OUT = HERE / "knowledge_tree_example.xlsx"

LEVEL_NAMES = {5: "五级", 4: "四级", 3: "三级", 2: "二级", 1: "一级"}
HEADERS = (["层级类型", "代码", "名称", "上级代码"]
           + [f"比重-{LEVEL_NAMES[lv]}" for lv in (5, 4, 3, 2, 1)]
           + ["重要程度", "适用等级"])
WIDTHS = [10, 12, 44, 10, 9, 9, 9, 9, 9, 9, 14]

NOTES = [
    "填写说明（本表为 6-31-01-03 电工 2018 版鉴定要素细目表示例）",
    "1. 每行一个节点；“层级类型”只能填“范围”或“鉴定点”。",
    "2. 代码全表唯一。范围代码：A、A-01……；鉴定点代码：所属范围代码-三位序号，如 A-01-001。",
    "3. “上级代码”填上一级范围的代码；顶层范围留空。鉴定点的上级必须是范围。",
    "4. 比重只对“范围”填写，单位为百分比（整数或一位小数）；不考核的等级留空。",
    "   同一等级下，顶层范围比重之和为 100，子范围比重之和等于上级范围比重。",
    "5. 重要程度与适用等级只对“鉴定点”填写：X＝核心要素，Y＝一般要素，Z＝辅助要素；",
    "   适用等级填 1～5 的数字，用英文逗号分隔，如 5,4,3（5＝五级/初级工，1＝一级/高级技师）。",
    "6. 行的顺序即显示顺序；上级范围必须出现在其下级节点之前。",
]


def rows(tree: dict):
    def walk(node: dict, parent: str):
        w = node.get("weights", {})
        yield (["范围", node["code"], node["name"], parent]
               + [w.get(str(lv)) for lv in (5, 4, 3, 2, 1)] + [None, None])
        for child in node.get("children", []):
            yield from walk(child, node["code"])
        for p in node.get("points", []):
            yield (["鉴定点", p["code"], p["name"], node["code"]] + [None] * 5
                   + [p["importance"], ",".join(str(lv) for lv in p["levels"])])

    for top in tree["ranges"]:
        yield from walk(top, None)


def build() -> Workbook:
    tree = json.loads(TREE.read_text(encoding="utf-8"))
    std = tree["standard"]
    wb = Workbook()
    ws = wb.active
    ws.title = "鉴定要素细目表"
    ws.append(HEADERS)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    range_fill = PatternFill("solid", fgColor="F2F2F2")
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = head_fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for row in rows(tree):
        ws.append(row)
        if row[0] == "范围":
            for cell in ws[ws.max_row]:
                cell.fill = range_fill
                cell.font = Font(bold=len(row[1]) == 1)
    for i, width in enumerate(WIDTHS, 1):
        ws.column_dimensions[chr(64 + i)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:K{ws.max_row}"

    dv_type = DataValidation(type="list", formula1='"范围,鉴定点"', allow_blank=False)
    dv_imp = DataValidation(type="list", formula1='"X,Y,Z"', allow_blank=True)
    ws.add_data_validation(dv_type)
    ws.add_data_validation(dv_imp)
    dv_type.add(f"A2:A{ws.max_row + 200}")
    dv_imp.add(f"J2:J{ws.max_row + 200}")

    info = wb.create_sheet("说明")
    info.append(["职业（工种）", std["name"]])
    info.append(["职业编码", std["code"]])
    info.append(["标准版本", std["edition"]])
    info.append(["等级", "；".join(f'{lv["level"]}＝{lv["name"]}' for lv in std["levels"])])
    info.append([])
    for line in NOTES:
        info.append([line])
    info.column_dimensions["A"].width = 16
    info.column_dimensions["B"].width = 60
    info["A6"].font = Font(bold=True)

    fixed = dt.datetime(2024, 1, 1)
    wb.properties.creator = "examsys demo"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    return wb


def main() -> None:
    wb = build()
    wb.save(OUT)
    print(f"wrote {OUT.name}: {wb.active.max_row - 1} rows")


if __name__ == "__main__":
    main()
