"""The offline response file of `examsys analysis items`: read and check, nothing else.

Format: the first row is `candidate` followed by item identifiers; an optional second row
starting with `max` gives each item's maximum score (default 1); then one row per candidate
with the score earned on each item, an empty cell meaning not answered (scored 0, counted as
omitted). Errors name the file, row and column, in Chinese, and nothing is computed from a file
with any error.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class ResponseFileError(ValueError):
    """The file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class ResponseTable:
    candidates: list[str]
    items: list[str]
    maxima: np.ndarray    # per item
    scores: np.ndarray    # candidates × items, NaN = not answered


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ResponseFileError(f"{where}：“{text}”不是数字") from None
    if not math.isfinite(value):
        raise ResponseFileError(f"{where}：“{text}”不是有限数值")
    return value


def read_responses(path: str | Path) -> ResponseTable:
    """Parse the file. Raises ResponseFileError (a ValueError) with file, row and column."""
    name = Path(path).name
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise ResponseFileError(f"{name}：无法读取（{exc.strerror}）") from None
    except UnicodeDecodeError:
        raise ResponseFileError(f"{name}：不是 UTF-8 编码的 CSV") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows or rows[0][0].strip().lower() != "candidate":
        raise ResponseFileError(f"{name} 第 1 行：第一列应为 candidate，后接各题标识")
    items = [cell.strip() for cell in rows[0][1:]]
    if not items:
        raise ResponseFileError(f"{name} 第 1 行：没有题目列")
    for col, item in enumerate(items, start=2):
        if not item:
            raise ResponseFileError(f"{name} 第 1 行第 {col} 列：题目标识为空")
    seen: set[str] = set()
    for col, item in enumerate(items, start=2):
        if item in seen:
            raise ResponseFileError(f"{name} 第 1 行第 {col} 列：题目标识“{item}”重复")
        seen.add(item)
    k = len(items)
    maxima = np.ones(k)
    body_start = 1
    if len(rows) > 1 and rows[1][0].strip().lower() == "max":
        body_start = 2
        row = rows[1]
        if len(row) - 1 != k:
            raise ResponseFileError(f"{name} 第 2 行（max）：应有 {k} 个满分值，实有 {len(row) - 1} 个")
        for j, cell in enumerate(row[1:]):
            where = f"{name} 第 2 行第 {j + 2} 列（{items[j]} 满分）"
            if cell.strip():
                maxima[j] = _number(cell.strip(), where)
                if maxima[j] <= 0:
                    raise ResponseFileError(f"{where}：满分应大于 0")
    candidates, data = [], []
    for line_no, row in enumerate(rows[body_start:], start=body_start + 1):
        if len(row) - 1 != k:
            raise ResponseFileError(f"{name} 第 {line_no} 行：应有 {k} 个得分列，实有 {len(row) - 1} 个")
        values = []
        for j, cell in enumerate(row[1:]):
            cell = cell.strip()
            if not cell:
                values.append(np.nan)
                continue
            where = f"{name} 第 {line_no} 行第 {j + 2} 列（{items[j]}）"
            value = _number(cell, where)
            if value < 0 or value > maxima[j] + 1e-9:
                raise ResponseFileError(f"{where}：得分 {cell} 不在 0 到满分 {maxima[j]:g} 之间")
            values.append(value)
        candidates.append(row[0].strip())
        data.append(values)
    if not data:
        raise ResponseFileError(f"{name}：没有考生行")
    return ResponseTable(candidates=candidates, items=items, maxima=maxima,
                         scores=np.array(data, dtype=float))
