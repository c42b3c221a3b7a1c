"""BANK.json, BP.json and FORMS.json: parsing and validating the offline solver's input files,
with errors that name the file and the JSON path, and writing the result document."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .formats import (
    DIFFICULTY_LEVELS,
    IMPORTANCE_LEVELS,
    ITEM_TYPES,
    MAX_FORMS,
    MAX_INFO_TOLERANCE,
    MAX_REPORTED_ERRORS,
    BankItem,
    ContentRule,
    DifficultyRule,
    FormSpec,
    ImportanceRule,
    Section,
    SolveResult,
)


class FormatError(ValueError):
    """A BANK.json or BP.json that does not follow the format; ``errors`` lists
    every problem as "FILE: json.path: message"."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        shown = errors[:MAX_REPORTED_ERRORS]
        extra = len(errors) - len(shown)
        text = "\n".join(shown) + (f"\n……另有 {extra} 处错误" if extra > 0 else "")
        super().__init__(text)


class _Errors:
    def __init__(self, source: str):
        self.source = source
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{self.source}: {path}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise FormatError(self.items)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _nonneg_int(obj: dict, key: str, path: str, err: _Errors, *, default: Any = ...) -> Any:
    if key not in obj:
        if default is ...:
            err.add(f"{path}.{key}" if path else key, "缺少此字段")
        return None if default is ... else default
    v = obj[key]
    if default is not ... and v is None:
        return default
    if not _is_int(v) or v < 0:
        err.add(f"{path}.{key}" if path else key, "必须是非负整数")
        return None
    return v


def _number(obj: dict, key: str, path: str, err: _Errors, default: float) -> float:
    v = obj.get(key, default)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
        err.add(f"{path}.{key}", "必须是非负数")
        return default
    return float(v)


def _real(obj: dict, key: str, path: str, err: _Errors, lo: float, hi: float, *,
          closed_lo: bool = True, closed_hi: bool = True) -> float | None:
    """An optional finite number within [lo, hi] (ends open where asked); None when absent."""
    v = obj.get(key)
    if v is None:
        return None
    where = f"{path}.{key}" if path else key
    ok_lo = (lambda x: x >= lo) if closed_lo else (lambda x: x > lo)
    ok_hi = (lambda x: x <= hi) if closed_hi else (lambda x: x < hi)
    if (isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
            or not ok_lo(v) or not ok_hi(v)):
        band = f"{'[' if closed_lo else '('}{lo:g}, {hi:g}{']' if closed_hi else ')'}"
        err.add(where, f"必须是 {band} 范围内的数")
        return None
    return float(v)


def _check_keys(obj: dict, allowed: set[str], path: str, err: _Errors) -> None:
    for key in obj:
        if key not in allowed:
            where = f"{path}.{key}" if path else key
            err.add(where, f"未知字段（允许的字段：{'、'.join(sorted(allowed))}）")


def _item_type(v: Any, path: str, err: _Errors) -> str | None:
    if v not in ITEM_TYPES:
        err.add(path, f"题型必须是 {'|'.join(ITEM_TYPES)} 之一，实际为 {json.dumps(v, ensure_ascii=False)}")
        return None
    return v


def parse_bank(data: Any, source: str = "BANK.json") -> list[BankItem]:
    """Validate a BANK.json document; raises FormatError listing every problem."""
    err = _Errors(source)
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        err.add("items", "顶层必须是对象，且包含数组字段 items")
        err.raise_if_any()
    items: list[BankItem] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(data["items"]):
        path = f"items[{i}]"
        if not isinstance(raw, dict):
            err.add(path, "必须是对象")
            continue
        before = len(err.items)
        item_id = raw.get("id")
        if isinstance(item_id, bool) or not isinstance(item_id, str | int) or item_id == "":
            err.add(f"{path}.id", "必须是非空字符串或整数")
        elif str(item_id) in seen:
            err.add(f"{path}.id", f"编号 {item_id} 与 items[{seen[str(item_id)]}] 重复")
        else:
            seen[str(item_id)] = i
        item_type = _item_type(raw.get("type"), f"{path}.type", err)
        kp = raw.get("kp")
        if not isinstance(kp, str) or not kp.strip():
            err.add(f"{path}.kp", "必须是非空的鉴定点代码字符串，如 A-01-003")
        difficulty = raw.get("difficulty")
        if not _is_int(difficulty) or difficulty not in DIFFICULTY_LEVELS:
            err.add(f"{path}.difficulty", "必须是 1–5 的整数")
        importance = raw.get("importance")
        if importance not in IMPORTANCE_LEVELS:
            err.add(f"{path}.importance", "必须是 X、Y 或 Z")
        points = _number(raw, "points", path, err, 1.0)
        exposure = _nonneg_int(raw, "exposure", path, err, default=0)
        enemy = raw.get("enemy_group")
        if enemy is not None and (isinstance(enemy, bool) or not isinstance(enemy, str | int)):
            err.add(f"{path}.enemy_group", "必须是字符串、整数或 null")
        a = _real(raw, "a", path, err, 0.0, 6.0, closed_lo=False)
        b = _real(raw, "b", path, err, -10.0, 10.0)
        if (raw.get("a") is None) != (raw.get("b") is None):
            err.add(f"{path}.{'b' if raw.get('b') is None else 'a'}",
                    "2PL 参数 a 与 b 须同时给出或同时省略")
        if len(err.items) > before:
            if len(err.items) > MAX_REPORTED_ERRORS:
                break
            continue
        items.append(
            BankItem(
                id=item_id,
                type=item_type,
                kp=kp.strip(),
                difficulty=difficulty,
                importance=importance,
                points=points,
                exposure=exposure,
                enemy_group=None if enemy in (None, "") else str(enemy),
                a=a,
                b=b,
            )
        )
    err.raise_if_any()
    return items


_BP_KEYS = {
    "forms", "max_shared_items", "sections", "content", "difficulty", "importance",
    "exclude", "max_exposure", "info_tolerance", "theta_cut", "pass_fraction",
}


def _rule_list(data: dict, key: str, err: _Errors) -> list[tuple[str, dict]]:
    raw = data.get(key, [])
    if raw is None:
        return []
    if not isinstance(raw, list):
        err.add(key, "必须是数组")
        return []
    out = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            err.add(f"{key}[{i}]", "必须是对象")
        else:
            out.append((f"{key}[{i}]", entry))
    return out


def _min_max(entry: dict, path: str, err: _Errors) -> tuple[int, int | None]:
    if "min" not in entry and "max" not in entry:
        err.add(path, "至少需要 min 或 max 之一")
    lo = _nonneg_int(entry, "min", path, err, default=0)
    hi = _nonneg_int(entry, "max", path, err, default=None)
    return (lo or 0), hi


def parse_blueprint(data: Any, source: str = "BP.json") -> FormSpec:
    """Validate a BP.json document; raises FormatError listing every problem.

    Conflicts between valid rules (min above max, too few items) are not format
    errors: the solver's diagnosis reports them."""
    err = _Errors(source)
    if not isinstance(data, dict):
        err.add("$", "顶层必须是对象")
        err.raise_if_any()
    _check_keys(data, _BP_KEYS, "", err)
    forms = _nonneg_int(data, "forms", "", err, default=1)
    if forms is not None and not 1 <= forms <= MAX_FORMS:
        err.add("forms", f"必须在 1–{MAX_FORMS} 之间")
    shared = _nonneg_int(data, "max_shared_items", "", err, default=0)
    max_exposure = _nonneg_int(data, "max_exposure", "", err, default=None)
    info_tolerance = _real(data, "info_tolerance", "", err, 0.0, MAX_INFO_TOLERANCE, closed_lo=False)
    theta_cut = _real(data, "theta_cut", "", err, -6.0, 6.0)
    pass_fraction = _real(data, "pass_fraction", "", err, 0.0, 1.0, closed_lo=False, closed_hi=False)
    if data.get("theta_cut") is not None and data.get("pass_fraction") is not None:
        err.add("pass_fraction", "theta_cut 与 pass_fraction 只能给出其一")
    if info_tolerance is not None and _is_int(forms) and forms < 2:
        err.add("info_tolerance", "匹配各套试卷的测验信息量需要至少 2 套试卷（forms ≥ 2）")

    sections: list[Section] = []
    if not isinstance(data.get("sections"), list) or not data["sections"]:
        err.add("sections", "必须是非空数组")
    section_types: set[str] = set()
    for path, entry in _rule_list(data, "sections", err):
        _check_keys(entry, {"type", "count", "points"}, path, err)
        t = _item_type(entry.get("type"), f"{path}.type", err)
        if t in section_types:
            err.add(f"{path}.type", f"题型 {t} 重复出现")
        count = _nonneg_int(entry, "count", path, err)
        points = _number(entry, "points", path, err, 1.0)
        if t and count is not None:
            section_types.add(t)
            sections.append(Section(t, count, points))

    content: list[ContentRule] = []
    for path, entry in _rule_list(data, "content", err):
        _check_keys(entry, {"kp_prefix", "types", "min", "max"}, path, err)
        prefix = entry.get("kp_prefix")
        if not isinstance(prefix, str) or not prefix.strip():
            err.add(f"{path}.kp_prefix", "必须是非空字符串，如 A 或 A-01")
        types = entry.get("types")
        if types is not None:
            if not isinstance(types, list) or not types:
                err.add(f"{path}.types", "必须是非空的题型数组或省略")
                types = None
            else:
                for j, t in enumerate(types):
                    if _item_type(t, f"{path}.types[{j}]", err) and t not in section_types:
                        err.add(f"{path}.types[{j}]", f"题型 {t} 不在 sections 中")
        lo, hi = _min_max(entry, path, err)
        if isinstance(prefix, str) and prefix.strip():
            content.append(
                ContentRule(prefix.strip(), lo, hi, tuple(dict.fromkeys(types)) if types else None)
            )

    difficulty: list[DifficultyRule] = []
    seen_levels: set[int] = set()
    for path, entry in _rule_list(data, "difficulty", err):
        _check_keys(entry, {"level", "min", "max"}, path, err)
        level = entry.get("level")
        if not _is_int(level) or level not in DIFFICULTY_LEVELS:
            err.add(f"{path}.level", "必须是 1–5 的整数")
            level = None
        elif level in seen_levels:
            err.add(f"{path}.level", f"难度 {level} 重复出现")
        lo, hi = _min_max(entry, path, err)
        if level is not None:
            seen_levels.add(level)
            difficulty.append(DifficultyRule(level, lo, hi))

    importance: list[ImportanceRule] = []
    for path, entry in _rule_list(data, "importance", err):
        _check_keys(entry, {"importance", "min"}, path, err)
        level = entry.get("importance")
        if level not in IMPORTANCE_LEVELS:
            err.add(f"{path}.importance", "必须是 X、Y 或 Z")
        lo = _nonneg_int(entry, "min", path, err)
        if level in IMPORTANCE_LEVELS and lo is not None:
            importance.append(ImportanceRule(level, lo))

    exclude = data.get("exclude", [])
    if exclude is None:
        exclude = []
    if not isinstance(exclude, list):
        err.add("exclude", "必须是题目编号数组")
        exclude = []
    for j, v in enumerate(exclude):
        if isinstance(v, bool) or not isinstance(v, str | int):
            err.add(f"exclude[{j}]", "必须是字符串或整数编号")

    err.raise_if_any()
    return FormSpec(
        sections=tuple(sections),
        forms=forms,
        max_shared_items=shared,
        content=tuple(content),
        difficulty=tuple(difficulty),
        importance=tuple(importance),
        exclude=frozenset(str(v) for v in exclude),
        max_exposure=max_exposure,
        info_tolerance=info_tolerance,
        theta_cut=theta_cut,
        pass_fraction=pass_fraction,
    )


def _read_json(path: str | Path, source: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except OSError as exc:
        raise FormatError([f"{source}: 无法读取文件：{exc.strerror or exc}"]) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"第 {exc.lineno} 行第 {exc.colno} 列" if hasattr(exc, "lineno") else "编码"
        raise FormatError([f"{source}: {where}: 不是有效的 UTF-8 JSON"]) from exc


def load_bank(path: str | Path) -> list[BankItem]:
    """Read and validate BANK.json; raises FormatError."""
    return parse_bank(_read_json(path, Path(path).name), Path(path).name)


def load_blueprint(path: str | Path) -> FormSpec:
    """Read and validate BP.json; raises FormatError."""
    return parse_blueprint(_read_json(path, Path(path).name), Path(path).name)


def write_forms(path: str | Path, result: SolveResult) -> None:
    """Write FORMS.json (UTF-8, Chinese kept readable)."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(result.to_document(), fh, ensure_ascii=False, indent=2)
        fh.write("\n")
