"""Validation of the demo content in examsys/demo/data (pure data checks, no Flask app).

The knowledge tree (电工 6-31-01-03, 2018) and the item bank must follow CONTENT_FORMAT.md and
give the demo views something realistic to show: a weighted tree, a status mix, version
history, near-duplicate pairs and a few deliberately thin assessment points.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path
from statistics import mean

import pytest

DATA = Path(__file__).resolve().parents[2] / "examsys" / "demo" / "data"
TREE_FILE = DATA / "electrician_6-31-01-03_tree.json"
ITEMS_FILE = DATA / "electrician_6-31-01-03_items.json"
XLSX_FILE = DATA / "knowledge_tree_example.xlsx"

OBJECTIVE = {"judge", "single", "multi", "fill"}
OPEN = {"short", "calc", "essay", "case"}
CONTENT_KEYS = {"stem", "options", "key", "reference_answer", "scoring_points", "explanation"}
BLANK_RE = re.compile(r"_{4,}|（\s*）")
LEVEL = 4
MINIMUM_PER_TYPE = {"judge": 110, "single": 140, "multi": 45, "fill": 20}
MINIMUM_OPEN = 15
RETURN_FIELDS = CONTENT_KEYS | {"difficulty", "kp", "levels", "points"}


# ---------------------------------------------------------------- fixtures and helpers

@pytest.fixture(scope="module")
def tree() -> dict:
    return json.loads(TREE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return json.loads(ITEMS_FILE.read_text(encoding="utf-8"))["items"]


def walk_ranges(nodes, parent=None):
    for node in nodes:
        yield node, parent
        yield from walk_ranges(node.get("children", []), node)


@pytest.fixture(scope="module")
def points(tree) -> dict[str, dict]:
    out = {}
    for rng, _ in walk_ranges(tree["ranges"]):
        for p in rng["points"]:
            out[p["code"]] = {**p, "range": rng["code"]}
    return out


def check_content(c: dict, qtype: str, where: str) -> None:
    """CONTENT_FORMAT.md rules for one content dict."""
    assert set(c) == CONTENT_KEYS, where
    assert isinstance(c["stem"], str) and c["stem"].strip(), where
    assert c["stem"].count("<sub>") == c["stem"].count("</sub>"), where
    if qtype in ("single", "multi"):
        labels = [o["label"] for o in c["options"]]
        assert labels == list("ABCDEFGH"[: len(labels)]), where
        texts = [o["text"].strip() for o in c["options"]]
        assert all(texts), f"{where}: empty option"
        assert len(set(texts)) == len(texts), f"{where}: duplicate options"
        if qtype == "single":
            assert len(labels) == 4, where
            assert isinstance(c["key"], str) and c["key"] in labels, where
        else:
            assert 4 <= len(labels) <= 5, where
            key = c["key"]
            assert isinstance(key, list) and len(key) >= 2, where
            assert key == sorted(set(key)) and set(key) <= set(labels), where
    else:
        assert c["options"] == [], where
    if qtype == "judge":
        assert isinstance(c["key"], bool), where
    if qtype == "fill":
        blanks = BLANK_RE.findall(c["stem"])
        assert blanks and len(blanks) == len(c["key"]), f"{where}: blanks vs answers"
        for answers in c["key"]:
            assert answers and all(isinstance(a, str) and a.strip() for a in answers), where
            assert len(set(answers)) == len(answers), where
    elif qtype != "single" and qtype != "multi":
        assert "____" not in c["stem"], f"{where}: blank marker outside a fill item"
    if qtype in OPEN:
        assert c["key"] is None, where
        assert c["reference_answer"].strip(), where
        assert c["scoring_points"], where
        for sp in c["scoring_points"]:
            assert sp["text"].strip() and sp["points"] > 0, where
    else:
        assert c["reference_answer"] == "" and c["scoring_points"] == [], where
        assert c["explanation"].strip(), f"{where}: objective item without explanation"


# ---------------------------------------------------------------- knowledge tree

def test_tree_standard(tree):
    std = tree["standard"]
    assert (std["code"], std["name"], std["edition"]) == ("6-31-01-03", "电工", "2018")
    assert [lv["level"] for lv in std["levels"]] == [5, 4, 3, 2, 1]
    assert std["levels"][1]["name"] == "四级/中级工"


def test_tree_codes_unique_and_well_formed(tree):
    codes = []
    for rng, parent in walk_ranges(tree["ranges"]):
        codes.append(rng["code"])
        if parent is None:
            assert re.fullmatch(r"[A-Z]", rng["code"])
        else:
            assert re.fullmatch(re.escape(parent["code"]) + r"-\d{2}", rng["code"])
        assert rng["name"].strip()
        assert bool(rng["children"]) != bool(rng["points"]), f"{rng['code']}: leaf ranges hold points"
        for p in rng["points"]:
            codes.append(p["code"])
            assert re.fullmatch(re.escape(rng["code"]) + r"-\d{3}", p["code"])
            assert p["importance"] in {"X", "Y", "Z"}
            assert p["levels"] and set(p["levels"]) <= {1, 2, 3, 4, 5}
            assert p["name"].strip()
    assert len(codes) == len(set(codes))


def test_tree_weights_sum(tree):
    top = tree["ranges"]
    assert sum(r["weights"][str(LEVEL)] for r in top) == 100
    levels = {k for r in top for k in r["weights"]}
    for lv in levels:
        assert sum(r["weights"].get(lv, 0) for r in top) == pytest.approx(100), lv
    for rng, _ in walk_ranges(top):
        if rng["children"]:
            for lv, w in rng["weights"].items():
                total = sum(c["weights"].get(lv, 0) for c in rng["children"])
                assert total == pytest.approx(w), f"{rng['code']} level {lv}"
        assert str(LEVEL) in rng["weights"], rng["code"]


def test_tree_points_size_and_importance_mix(points):
    assert 80 <= len(points) <= 120
    mix = Counter(p["importance"] for p in points.values())
    assert 0.58 <= mix["X"] / len(points) <= 0.72
    assert mix["Y"] > mix["Z"] > 0
    at_level = [p for p in points.values() if LEVEL in p["levels"]]
    assert len(at_level) >= 0.9 * len(points)


# ---------------------------------------------------------------- items

def test_items_ids_unique(items):
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"E4-\d{4}", i) for i in ids)


def test_items_counts_per_type(items):
    counts = Counter(i["qtype"] for i in items)
    assert set(counts) <= OBJECTIVE | OPEN
    for qtype, minimum in MINIMUM_PER_TYPE.items():
        assert counts[qtype] >= minimum, qtype
    assert sum(counts[q] for q in OPEN) >= MINIMUM_OPEN
    assert all(counts[q] >= 1 for q in OPEN)
    assert len(items) >= 330


def test_items_kp_exists_and_applies_to_level(items, points):
    for item in items:
        p = points.get(item["kp"])
        assert p is not None, f"{item['id']}: unknown kp {item['kp']}"
        assert LEVEL in p["levels"], item["id"]
        assert LEVEL in item["levels"], item["id"]
        assert set(item["levels"]) <= set(p["levels"]), item["id"]


def test_items_content_follows_contract(items):
    for item in items:
        check_content(item["content"], item["qtype"], item["id"])


def test_items_points_and_difficulty(items):
    for item in items:
        q, pts = item["qtype"], item["points"]
        if q in ("judge", "single"):
            assert pts == 1, item["id"]
        elif q == "multi":
            assert pts in (1, 2), item["id"]
        elif q == "fill":
            assert pts == 2, item["id"]
        else:
            assert 5 <= pts <= 10, item["id"]
            total = sum(sp["points"] for sp in item["content"]["scoring_points"])
            assert total == pytest.approx(pts), f"{item['id']}: scoring points sum {total}"
        assert item["difficulty"] in {1, 2, 3, 4, 5}, item["id"]
    diff = Counter(i["difficulty"] for i in items)
    assert diff.most_common(1)[0][0] == 3
    assert diff[2] > diff[1] and diff[4] > diff[5] > 0
    assert 2.6 <= mean(i["difficulty"] for i in items) <= 3.4


def test_items_status_mix(items):
    n = len(items)
    status = Counter(i["status"] for i in items)
    assert set(status) == {"approved", "submitted", "returned", "draft"}
    assert 0.80 <= status["approved"] / n <= 0.90
    assert 0.05 <= status["submitted"] / n <= 0.11
    assert 0.02 <= status["returned"] / n <= 0.06
    assert 0.01 <= status["draft"] / n <= 0.05
    for item in items:
        if item["status"] == "returned":
            comments = item["return_comment"]
            assert comments, item["id"]
            for rc in comments:
                assert rc["field"] in RETURN_FIELDS and rc["comment"].strip(), item["id"]
                assert re.search(r"[\u4e00-\u9fff]", rc["comment"]), item["id"]
        else:
            assert "return_comment" not in item, item["id"]


def test_items_history(items):
    with_history = [i for i in items if i.get("history")]
    assert 25 <= len(with_history) <= 40
    for item in with_history:
        for version in item["history"]:
            assert version["note"].strip() and version["author"], item["id"]
            check_content(version["content"], item["qtype"], f"{item['id']} history")
            assert version["content"] != item["content"], f"{item['id']}: history equals current"


def test_near_duplicates(items):
    by_id = {i["id"]: i for i in items}
    pairs = [(i["id"], i["near_duplicate_of"]) for i in items if "near_duplicate_of" in i]
    assert 2 <= len(pairs) <= 4
    for dup, orig in pairs:
        assert orig in by_id and orig != dup
        assert by_id[orig]["kp"] == by_id[dup]["kp"]
        assert by_id[orig]["qtype"] == by_id[dup]["qtype"]
        assert by_id[orig]["content"]["stem"] != by_id[dup]["content"]["stem"]


def test_stems_unique_and_chinese(items):
    stems = [i["content"]["stem"] for i in items]
    assert len(stems) == len(set(stems))
    for item in items:
        assert re.search(r"[\u4e00-\u9fff]", item["content"]["stem"]), item["id"]


def test_coverage_has_depth_and_deliberate_gaps(items, points):
    per_kp = Counter(i["kp"] for i in items)
    at_level = {c: p for c, p in points.items() if LEVEL in p["levels"]}
    x_points = [c for c, p in at_level.items() if p["importance"] == "X"]
    thin_x = [c for c in x_points if per_kp[c] < 4]
    assert len(thin_x) <= 0.1 * len(x_points), thin_x
    assert any(per_kp[c] == 0 for c in at_level), "the coverage view needs at least one gap"
    leaf_ranges = {p["range"] for p in at_level.values()}
    covered = {points[i["kp"]]["range"] for i in items}
    assert leaf_ranges <= covered, leaf_ranges - covered


# ---------------------------------------------------------------- generated artefacts

def _load_module(name: str):
    spec = importlib.util.spec_from_file_location(name, DATA / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_items_json_matches_chunk_sources(items):
    built = _load_module("build_items").build()["items"]
    assert built == items, "run: python examsys/demo/data/build_items.py"


def test_xlsx_template_matches_tree(tree):
    openpyxl = pytest.importorskip("openpyxl")
    ws = openpyxl.load_workbook(XLSX_FILE, read_only=True)["鉴定要素细目表"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == ["层级类型", "代码", "名称", "上级代码", "比重-五级", "比重-四级",
                             "比重-三级", "比重-二级", "比重-一级", "重要程度", "适用等级"]
    expected = []
    for rng, parent in walk_ranges(tree["ranges"]):
        expected.append(("范围", rng["code"], parent["code"] if parent else None,
                         rng["weights"].get("4"), None))
        expected.extend(("鉴定点", p["code"], rng["code"], None,
                         (p["importance"], ",".join(map(str, p["levels"]))))
                        for p in rng["points"])
    got = []
    for r in rows[1:]:
        kind, code, _name, parent = r[:4]
        got.append((kind, code, parent, r[5], (r[9], r[10]) if kind == "鉴定点" else None))
    assert sorted(got, key=lambda t: t[1]) == sorted(expected, key=lambda t: t[1])
    # parents come before children
    seen = set()
    for kind, code, parent, *_ in got:
        assert parent is None or parent in seen, code
        seen.add(code)


# ---------------------------------------------------------------- answer-key balance

def test_single_choice_keys_balanced(items):
    keys = Counter(i["content"]["key"] for i in items if i["qtype"] == "single")
    n = sum(keys.values())
    for label in "ABCD":
        assert 0.17 <= keys[label] / n <= 0.33, (label, keys)


def test_multi_choice_key_patterns_varied(items):
    patterns = Counter("".join(i["content"]["key"]) for i in items if i["qtype"] == "multi")
    n = sum(patterns.values())
    pattern, count = patterns.most_common(1)[0]
    assert count / n <= 0.30, (pattern, patterns)
    assert len(patterns) >= 6, patterns


def test_judge_true_false_mix(items):
    keys = Counter(i["content"]["key"] for i in items if i["qtype"] == "judge")
    assert 0.35 <= keys[False] / (keys[True] + keys[False]) <= 0.50, keys


def test_option_shuffle_keeps_correct_answers(items):
    """The builder shuffles options; the keyed option texts must be the authored ones."""
    builder = _load_module("build_items")
    rows = [row for path in sorted(builder.CHUNKS.glob("*.py")) for row in builder.load_chunk(path)]
    assert len(rows) == len(items)

    def keyed(content):
        key = content["key"] if isinstance(content["key"], list) else [content["key"]]
        return sorted(o["text"] for o in content["options"] if o["label"] in key)

    for row, item in zip(rows, items):
        qtype, _kp, _diff, _pts, authored, _extra = builder.make_content(row)
        assert qtype == item["qtype"], item["id"]
        if qtype in ("single", "multi"):
            assert keyed(authored) == keyed(item["content"]), item["id"]
            assert sorted(o["text"] for o in authored["options"]) == \
                sorted(o["text"] for o in item["content"]["options"]), item["id"]


# Every option-letter reference in explanations, returned-item comments and history notes,
# listed as (a fragment of) the text of the option it must point at, in order of appearance.
# Explanation references are checked in the current content and in every history version
# (an "<item> history <n>" entry overrides the fragments for that earlier version).
LETTER_REF_RE = re.compile(
    r"(?:选项|干扰项)\s*([A-H](?:\s*、\s*[A-H])*)(?![A-Za-z])"
    r"|(?<![A-Za-z])([A-H])\s*项"
    r"|[（(]([A-H])[)）]"
)
KEY_REF_RE = re.compile(r"(误标为|误选|更正为)([A-H]+)(?![A-Za-z])")
EXPLANATION_REFS = {
    "E4-0005": ["直接决定企业的经济效益"],
    "E4-0010": ["简化停电、验电程序"],
    "E4-0010 history 0": ["根据个人习惯灵活处理"],
    "E4-0027": ["各支路电流的代数和恒等于零"],
    "E4-0059": ["阳极、阴极、门极", "源极、栅极、漏极"],
    "E4-0242": ["不能采用任何降压启动方式"],
    "E4-0254": ["U1 与 W2、V1 与 U2、W1 与 V2"],
    "E4-0318": ["X0 常开触点与 X1 常闭触点串联"],
}
COMMENT_REFS = {  # (item, index in return_comment): fragments in the current content
    ("E4-0040", 0): ["频率（角频率）"],
    ("E4-0106", 1): ["棉纱布"],
    ("E4-0111", 1): ["100mA"],
    ("E4-0148", 0): ["预防为主", "一切用数据说话"],
    ("E4-0260", 0): ["软启动器启动"],
    ("E4-0334", 0): ["紧贴其他发热设备", "无通风的密封柜"],
}
NOTE_REFS = {  # (item, history index): fragments in that (earlier) version's options
    ("E4-0010", 0): ["根据个人习惯灵活处理"],
    ("E4-0033", 0): ["电流、导体的电阻和通电时间"],
    ("E4-0104", 0): ["绝缘鞋"],
    ("E4-0116", 0): ["80～100 次"],
    ("E4-0182", 0): ["短路环完好"],
    ("E4-0220", 0): ["√3"],
    ("E4-0264", 0): ["负载超过额定值", "长期过载"],
    ("E4-0309", 0): ["OR"],
    ("E4-0318", 0): ["X0 常开触点与 X1 常开触点串联", "X0 常开触点与 X1 常闭触点串联"],
    ("E4-0373", 0): ["PE 线可以在插座之间串联连接"],
    ("E4-0373", 1): ["PE 线在插座之间不得串联连接"],
}


def _referenced_letters(text: str) -> list[str]:
    return [letter for m in LETTER_REF_RE.finditer(text)
            for letter in re.findall(r"[A-H]", "".join(g or "" for g in m.groups()))]


def _label_of(content: dict, fragment: str) -> str:
    exact = [o["label"] for o in content["options"] if o["text"] == fragment]
    found = exact or [o["label"] for o in content["options"] if fragment in o["text"]]
    assert len(found) == 1, (fragment, content["options"])
    return found[0]


def test_option_letter_references_point_at_the_right_option(items):
    seen_expl, seen_comment, seen_note = set(), set(), set()
    for item in items:
        iid = item["id"]
        versions = [item["content"]] + [h["content"] for h in item.get("history", [])]
        if item["qtype"] not in ("single", "multi"):
            for c in versions:
                assert not _referenced_letters(c["explanation"]), iid
            continue
        for v, c in enumerate(versions):
            letters = _referenced_letters(c["explanation"])
            if letters:
                ref = f"{iid} history {v - 1}" if f"{iid} history {v - 1}" in EXPLANATION_REFS else iid
                seen_expl.add(ref)
                expected = [_label_of(c, f) for f in EXPLANATION_REFS.get(ref, [])]
                assert letters == expected, (iid, c["explanation"])
        for n, rc in enumerate(item.get("return_comment", [])):
            letters = _referenced_letters(rc["comment"])
            if letters:
                seen_comment.add((iid, n))
                expected = [_label_of(item["content"], f) for f in COMMENT_REFS.get((iid, n), [])]
                assert letters == expected, (iid, rc["comment"])
        for n, h in enumerate(item.get("history", [])):
            letters = _referenced_letters(h["note"])
            if letters:
                seen_note.add((iid, n))
                expected = [_label_of(h["content"], f) for f in NOTE_REFS.get((iid, n), [])]
                assert letters == expected, (iid, h["note"])
            later = versions[n + 2] if n + 2 < len(versions) else item["content"]
            for verb, key in KEY_REF_RE.findall(h["note"]):
                target = later if verb == "更正为" else h["content"]
                assert list(key) == list(target["key"]), (iid, h["note"])
    assert seen_expl == set(EXPLANATION_REFS)
    assert seen_comment == set(COMMENT_REFS)
    assert seen_note == set(NOTE_REFS)
