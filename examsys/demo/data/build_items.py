"""Merge the authored item chunks (items/*.py) into electrician_6-31-01-03_items.json.

The chunk files hold one literal list ``ITEMS`` of compact tuples (read with
``ast.literal_eval``; nothing is executed).  This script assigns ids, points,
levels and the demo workflow status mix, expands history records into full
earlier versions, checks every item against CONTENT_FORMAT.md and writes the
single JSON file that the demo loader uses.

Run from the project root:  python examsys/demo/data/build_items.py

Tuple shapes (``extra`` is an optional trailing dict):
  ("J", kp, difficulty, stem, key_bool, explanation, extra)
  ("S", kp, difficulty, stem, [option texts], "B", explanation, extra)
  ("M", kp, difficulty, stem, [option texts], "ACD", explanation, extra)
  ("F", kp, difficulty, stem, [[accepted, alt], ...], explanation, extra)
  ("short"|"calc"|"essay"|"case", kp, difficulty, points, stem,
       reference_answer, [(scoring text, points), ...], explanation, extra)
extra keys: st (status), rc ([(field, comment)] for returned items),
  hist ([{note, <content overrides>}] oldest first; overrides: stem, options,
  opt {label: old text}, key, explanation, reference_answer, scoring_points),
  tag / dup (near-duplicate pairs), levels.

Option shuffling (single and multi choice):
  Authors write options in a natural order and usually put the correct answer
  first, so the chunk files are kept "as authored" and the builder shuffles the
  options of every choice item when it writes the JSON.  The permutation is
  deterministic -- ``random.Random(item_id)`` (e.g. ``"E4-0123"``) shuffles the
  option positions -- and the same permutation is applied to the current
  content and to every history version of that item, so history diffs stay
  meaningful.  Options matching ``PINNED_RE`` ("以上都对", "以上都不对",
  "都不是", "串联或并联均可", ...) keep their authored position (such catch-all
  options are authored last).  The key is remapped (multi keys re-sorted), and
  so is every option-letter reference in explanations, returned-item comments
  (rc) and history notes ("选项C", "C 项", "选项 C、D", "干扰项D",
  "误标为C", "更正为ABCD", "（C）"; see ``LETTER_REF_RE``).  Everything in a
  chunk file -- key letters, ``opt`` / ``key`` history overrides, letter
  references in explanations and comments -- therefore refers to the
  *authored* option order.
"""

from __future__ import annotations

import ast
import copy
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
TREE = HERE / "electrician_6-31-01-03_tree.json"
OUT = HERE / "electrician_6-31-01-03_items.json"
CHUNKS = HERE / "items"

TYPE_CODES = {"J": "judge", "S": "single", "M": "multi", "F": "fill"}
OPEN_TYPES = {"short", "calc", "essay", "case"}
OBJ_POINTS = {"judge": 1, "single": 1, "multi": 2, "fill": 2}
LABELS = "ABCDEFGH"
BLANK_RE = re.compile(r"_{4,}|（\s*）")
PINNED_RE = re.compile(r"以上|都不是|均不|均可")
_LETTERS = r"[A-H](?:\s*[、，,和与及]\s*[A-H])*"
LETTER_REF_RE = re.compile(
    r"(?P<p1>选项\s*|干扰项\s*)(?P<l1>" + _LETTERS + r")(?![A-Za-z])"
    r"|(?<![A-Za-z])(?P<l2>[A-H])(?P<s2>\s*项)"
    r"|(?P<p3>误标为|误选|更正为|答案为)(?P<l3>[A-H]+)(?![A-Za-z])"
    r"|(?P<p4>[（(])(?P<l4>[A-H])(?P<s4>[)）])"
)


def tree_points() -> dict[str, dict]:
    doc = json.loads(TREE.read_text(encoding="utf-8"))
    out: dict[str, dict] = {}

    def walk(node):
        for p in node.get("points", []):
            out[p["code"]] = p
        for c in node.get("children", []):
            walk(c)

    for r in doc["ranges"]:
        walk(r)
    return out


def load_chunk(path: Path) -> list[tuple]:
    module = ast.parse(path.read_text(encoding="utf-8"))
    for node in module.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ITEMS":
            return ast.literal_eval(node.value)
    raise ValueError(f"{path.name}: no ITEMS list")


def make_content(row: tuple) -> tuple[str, str, int, float | None, dict, dict]:
    """Return (qtype, kp, difficulty, points-or-None, content, extra)."""
    tag = row[0]
    extra = row[-1] if isinstance(row[-1], dict) else {}
    core = row[:-1] if extra else row
    if tag in TYPE_CODES:
        qtype = TYPE_CODES[tag]
        kp, diff, stem = core[1], core[2], core[3]
        content = {"stem": stem, "options": [], "key": None, "reference_answer": "",
                   "scoring_points": [], "explanation": ""}
        if qtype == "judge":
            content["key"], content["explanation"] = core[4], core[5]
        elif qtype in ("single", "multi"):
            opts, key, expl = core[4], core[5], core[6]
            content["options"] = [{"label": LABELS[i], "text": t} for i, t in enumerate(opts)]
            content["key"] = key if qtype == "single" else sorted(key)
            content["explanation"] = expl
        else:
            content["key"] = [list(a) for a in core[4]]
            content["explanation"] = core[5]
        return qtype, kp, diff, None, content, extra
    if tag in OPEN_TYPES:
        kp, diff, points, stem, ref, sps = core[1:7]
        expl = core[7] if len(core) > 7 else ""
        content = {"stem": stem, "options": [], "key": None, "reference_answer": ref,
                   "scoring_points": [{"text": t, "points": p} for t, p in sps],
                   "explanation": expl}
        return tag, kp, diff, points, content, extra
    raise ValueError(f"unknown item tag {tag!r}")


def earlier_version(current: dict, qtype: str, change: dict) -> dict:
    old = copy.deepcopy(current)
    for field, value in change.items():
        if field in ("note", "author"):
            continue
        if field == "options":
            old["options"] = [{"label": LABELS[i], "text": t} for i, t in enumerate(value)]
        elif field == "opt":
            for label, text in value.items():
                old["options"][LABELS.index(label)]["text"] = text
        elif field == "key":
            old["key"] = sorted(value) if qtype == "multi" else value
        elif field == "scoring_points":
            old["scoring_points"] = [{"text": t, "points": p} for t, p in value]
        else:
            old[field] = value
    return old


def option_permutation(item_id: str, options: list[dict]) -> list[int]:
    """perm[new_index] = authored index; pinned options keep their position."""
    movable = [i for i, o in enumerate(options) if not PINNED_RE.search(o["text"])]
    shuffled = movable[:]
    random.Random(item_id).shuffle(shuffled)
    perm = list(range(len(options)))
    for slot, old in zip(movable, shuffled, strict=True):
        perm[slot] = old
    return perm


def remap_letters(text: str, mapping: dict[str, str]) -> str:
    """Rewrite option-letter references in free text (authored -> shuffled labels)."""

    def one(m: re.Match) -> str:
        if m.group("l1") is not None:
            letters = m.group("l1")
            return m.group("p1") + re.sub(r"[A-H]", lambda x: mapping[x.group()], letters)
        if m.group("l2") is not None:
            return mapping[m.group("l2")] + m.group("s2")
        if m.group("l3") is not None:
            new = "".join(sorted(mapping[c] for c in m.group("l3")))
            return m.group("p3") + new
        return m.group("p4") + mapping[m.group("l4")] + m.group("s4")

    return LETTER_REF_RE.sub(one, text)


def permute_content(content: dict, qtype: str, perm: list[int]) -> None:
    """Reorder the options of one content dict in place and remap key and explanation."""
    assert len(content["options"]) == len(perm)
    mapping = {LABELS[old]: LABELS[new] for new, old in enumerate(perm)}
    texts = [content["options"][old]["text"] for old in perm]
    content["options"] = [{"label": LABELS[i], "text": t} for i, t in enumerate(texts)]
    if qtype == "single":
        content["key"] = mapping[content["key"]]
    else:
        content["key"] = sorted(mapping[k] for k in content["key"])
    content["explanation"] = remap_letters(content["explanation"], mapping)


def shuffle_options(item: dict) -> None:
    """Apply the item's deterministic option permutation to every version of it."""
    perm = option_permutation(item["id"], item["content"]["options"])
    mapping = {LABELS[old]: LABELS[new] for new, old in enumerate(perm)}
    permute_content(item["content"], item["qtype"], perm)
    for version in item.get("history", []):
        permute_content(version["content"], item["qtype"], perm)
        version["note"] = remap_letters(version["note"], mapping)
    for rc in item.get("return_comment", []):
        rc["comment"] = remap_letters(rc["comment"], mapping)


def check(item: dict, points: dict) -> None:
    c, q, iid = item["content"], item["qtype"], item["id"]
    assert item["kp"] in points, f"{iid}: unknown kp {item['kp']}"
    assert 4 in points[item["kp"]]["levels"], f"{iid}: kp not at level 4"
    assert set(item["levels"]) <= set(points[item["kp"]]["levels"]), iid
    if q in ("single", "multi"):
        texts = [o["text"].strip() for o in c["options"]]
        assert all(texts) and len(set(texts)) == len(texts), f"{iid}: options"
        labels = [o["label"] for o in c["options"]]
        if q == "single":
            assert len(labels) == 4 and c["key"] in labels, iid
        else:
            assert 4 <= len(labels) <= 5 and len(c["key"]) >= 2, iid
            assert set(c["key"]) <= set(labels), iid
    if q == "judge":
        assert isinstance(c["key"], bool), iid
    if q == "fill":
        assert len(BLANK_RE.findall(c["stem"])) == len(c["key"]), f"{iid}: blanks"
    if q in OPEN_TYPES:
        total = sum(s["points"] for s in c["scoring_points"])
        assert abs(total - item["points"]) < 1e-9, f"{iid}: scoring {total} != {item['points']}"
        assert c["reference_answer"], iid
    else:
        assert c["explanation"], f"{iid}: explanation"


def build() -> dict:
    points = tree_points()
    rows: list[tuple] = []
    for path in sorted(CHUNKS.glob("*.py")):
        rows.extend(load_chunk(path))

    items, tags, plain = [], {}, 0
    for n, row in enumerate(rows, 1):
        qtype, kp, diff, pts, content, extra = make_content(row)
        plevels = points[kp]["levels"]
        levels = [4]
        if diff <= 2 and 5 in plevels:
            levels = [5, 4]
        elif diff >= 4 and 3 in plevels:
            levels = [4, 3]
        item = {"id": f"E4-{n:04d}", "qtype": qtype, "kp": kp,
                "levels": extra.get("levels", levels), "difficulty": diff,
                "points": pts if pts is not None else OBJ_POINTS[qtype],
                "content": content}
        status = extra.get("st")
        if status is None:
            plain += 1
            if plain % 34 == 20:
                status = "draft"
            elif plain % 12 == 7:
                status = "submitted"
            else:
                status = "approved"
        item["status"] = status
        if status == "returned":
            item["return_comment"] = [{"field": f, "comment": t} for f, t in extra["rc"]]
        if "hist" in extra:
            item["history"] = [
                {"content": earlier_version(content, qtype, h), "note": h["note"],
                 "author": h.get("author", "writer")}
                for h in extra["hist"]
            ]
        if "tag" in extra:
            tags[extra["tag"]] = item["id"]
        if qtype in ("single", "multi"):
            shuffle_options(item)
        item["_dup"] = extra.get("dup")
        items.append(item)

    for item in items:
        dup = item.pop("_dup")
        if dup:
            item["near_duplicate_of"] = tags[dup]
        check(item, points)
    return {"items": items}


def main() -> None:
    doc = build()
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(doc['items'])} items to {OUT.name}")


if __name__ == "__main__":
    main()
