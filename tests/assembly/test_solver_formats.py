"""BANK.json / BP.json validation and the offline `assembly solve` CLI."""

import json

import pytest
from click.testing import CliRunner

from examsys.assembly.checker import check_forms
from examsys.assembly.formats import kp_matches
from examsys.assembly.jsonfiles import (
    FormatError,
    load_bank,
    load_blueprint,
    parse_bank,
    parse_blueprint,
)
from examsys.assembly.solve_cli import assembly_cli

BP = {
    "forms": 2,
    "max_shared_items": 0,
    "sections": [{"type": "judge", "count": 3, "points": 1},
                 {"type": "single", "count": 4, "points": 1}],
    "content": [{"kp_prefix": "A", "min": 2, "max": 5},
                {"kp_prefix": "B-01", "types": ["single"], "min": 1, "max": 3}],
    "difficulty": [{"level": 3, "min": 2, "max": 7}],
    "importance": [{"importance": "X", "min": 1}],
    "exclude": ["Q0"],
    "max_exposure": 10,
}


def bank_doc(n=60):
    return {"items": [
        {"id": f"Q{i}", "type": ["judge", "single", "essay"][i % 3],
         "kp": f"{'AB'[i % 2]}-0{1 + (i // 2) % 2}-00{i % 5}", "difficulty": 1 + i % 5,
         "importance": "XYZ"[i % 3], "points": 1, "exposure": i % 12,
         **({"enemy_group": "G1"} if i in (4, 8) else {})}
        for i in range(n)]}


def errors_of(fn, data):
    with pytest.raises(FormatError) as exc:
        fn(data)
    return exc.value.errors


def test_valid_documents_load():
    items = parse_bank(bank_doc())
    spec = parse_blueprint(BP)
    assert len(items) == 60 and items[4].enemy_group == "G1"
    assert spec.forms == 2 and spec.labels == ["A", "B"] and spec.exclude == frozenset({"Q0"})
    assert spec.content[1].types == ("single",) and spec.content[0].types is None


def test_blueprint_errors_name_file_and_json_path():
    bad = {**BP, "sections": [*BP["sections"], {"type": "multi", "count": -1}], "forms": 0,
           "content": [{"kp_prefix": "", "min": 1}, {"kp_prefix": "A", "types": ["essay"]}],
           "difficulty": [{"level": 7, "min": 1}], "exlude": []}
    errors = errors_of(parse_blueprint, bad)
    assert "BP.json: sections[2].count: 必须是非负整数" in errors
    assert "BP.json: forms: 必须在 1–26 之间" in errors
    assert "BP.json: content[0].kp_prefix: 必须是非空字符串，如 A 或 A-01" in errors
    assert any(e.startswith("BP.json: content[1].types[0]: 题型 essay 不在 sections") for e in errors)
    assert any(e.startswith("BP.json: content[1]: 至少需要 min 或 max") for e in errors)
    assert "BP.json: difficulty[0].level: 必须是 1–5 的整数" in errors
    assert any(e.startswith("BP.json: exlude: 未知字段") for e in errors)


def test_bank_errors_name_item_and_field():
    doc = bank_doc(3)
    doc["items"][1].update(type="essayx", difficulty=6, id="Q0")
    doc["items"][2]["exposure"] = -1
    del doc["items"][2]["kp"]
    errors = errors_of(parse_bank, doc)
    assert any(e.startswith("BANK.json: items[1].type: 题型必须是") for e in errors)
    assert "BANK.json: items[1].difficulty: 必须是 1–5 的整数" in errors
    assert "BANK.json: items[1].id: 编号 Q0 与 items[0] 重复" in errors
    assert "BANK.json: items[2].exposure: 必须是非负整数" in errors
    assert any(e.startswith("BANK.json: items[2].kp:") for e in errors)
    assert errors_of(parse_bank, {"things": []}) == ["BANK.json: items: 顶层必须是对象，且包含数组字段 items"]


def test_files_report_their_own_name(tmp_path):
    (tmp_path / "my-bank.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(FormatError, match="my-bank.json: 第 1 行"):
        load_bank(tmp_path / "my-bank.json")
    with pytest.raises(FormatError, match="missing.json: 无法读取文件"):
        load_blueprint(tmp_path / "missing.json")


def test_kp_prefix_matches_whole_segments():
    assert kp_matches("A-01-003", "A") and kp_matches("A-01-003", "A-01")
    assert kp_matches("A-01-003", "A-01-003")
    assert not kp_matches("A-010-003", "A-01") and not kp_matches("AB-01-003", "A")


def write(tmp_path, bank, spec):
    (tmp_path / "BANK.json").write_text(json.dumps(bank), encoding="utf-8")
    (tmp_path / "BP.json").write_text(json.dumps(spec), encoding="utf-8")
    return ["solve", "--bank", str(tmp_path / "BANK.json"), "--blueprint",
            str(tmp_path / "BP.json"), "--seed", "7", "-o", str(tmp_path / "FORMS.json")]


def test_cli_writes_forms_and_exits_0(tmp_path):
    args = write(tmp_path, bank_doc(), BP)
    result = CliRunner().invoke(assembly_cli, args)
    assert result.exit_code == 0, result.output
    out = json.loads((tmp_path / "FORMS.json").read_text(encoding="utf-8"))
    assert out["status"] == "ok" and [f["label"] for f in out["forms"]] == ["A", "B"]
    assert all(len(f["items"]) == 7 for f in out["forms"])
    assert out["report"]["ok"] is True
    assert out["report"]["content"][0]["actual"].keys() == {"A", "B"}
    bank, spec = parse_bank(bank_doc()), parse_blueprint(BP)
    assert check_forms(bank, spec, out["forms"]) == []


def test_cli_infeasible_exits_2_with_reasons(tmp_path):
    spec = {**BP, "content": [{"kp_prefix": "B-01", "types": ["single"], "min": 4}], "forms": 8}
    result = CliRunner().invoke(assembly_cli, write(tmp_path, bank_doc(), spec))
    assert result.exit_code == 2
    out = json.loads((tmp_path / "FORMS.json").read_text(encoding="utf-8"))
    assert out["status"] == "infeasible"
    reason = next(r for r in out["reasons"] if r["rule"] == "content[0]")
    assert reason["needed"] == 32 and reason["available"] < 32
    assert "鉴定范围 B-01" in reason["message"]


def test_cli_bad_input_exits_4_and_writes_nothing(tmp_path):
    spec = {**BP, "sections": [{"type": "judge", "count": "3"}]}
    result = CliRunner().invoke(assembly_cli, write(tmp_path, bank_doc(), spec))
    assert result.exit_code == 4
    assert "BP.json: sections[0].count: 必须是非负整数" in result.output
    assert not (tmp_path / "FORMS.json").exists()
