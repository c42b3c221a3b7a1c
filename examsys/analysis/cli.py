"""`examsys analysis items`: item and test statistics from a response CSV, offline.

Needs neither a database nor the web app: the command is added to the top-level group itself
(not to the app's), so Flask never loads the application for it, and this module imports only
click, numpy and the pure computation modules. Exit status: 0 figures written; 4 invalid input.
"""

from __future__ import annotations

import json
import math

import click

from . import classical, irt
from .responses_csv import ResponseFileError, read_responses

EXIT_BAD_INPUT = 4


def _num(value, digits: int = 6):
    value = float(value)
    return None if not math.isfinite(value) else round(value, digits)


def analyse(table, irt_model: str | None = None) -> dict:
    """The JSON document of the command (also used by tests and scripts)."""
    items = classical.item_statistics(table.scores, table.maxima)
    test = classical.form_statistics(table.scores, table.maxima)
    fitted = None
    if irt_model:
        try:
            fitted = irt.fit(table.scores, table.maxima, model=irt_model)
        except ValueError:
            fitted = None  # too little data: every item's "irt" is null
    out_items = []
    for j, name in enumerate(table.items):
        row = {
            "item": name,
            "p": _num(items.p[j]),
            "omitted": _num(items.omitted[j]),
            "r_pbis_corrected": _num(items.r_pbis_corrected[j]),
            "upper_lower": _num(items.upper_lower[j]),
        }
        if irt_model:
            b = fitted.b[j] if fitted is not None else math.nan
            row["irt"] = None if not math.isfinite(b) else {
                "a": _num(fitted.a[j]), "b": _num(b),
                "se_a": _num(fitted.se_a[j]), "se_b": _num(fitted.se_b[j]),
            }
        out_items.append(row)
    return {
        "test": {"n": test.n, "mean": _num(test.mean), "sd": _num(test.sd),
                 "alpha": _num(test.alpha), "sem": _num(test.sem)},
        "items": out_items,
    }


@click.command("items")
@click.option("--responses", "path", required=True, type=click.Path(dir_okay=False),
              help="作答得分文件 FILE.csv（首行 candidate + 题目标识；可选 max 行；空格为未作答）")
@click.option("--irt", "irt_model", type=click.Choice(["rasch", "2pl"]), default=None,
              help="同时估计项目反应理论参数（Rasch 或 2PL）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def items_command(path: str, irt_model: str | None, as_json: bool) -> None:
    """计算题目与试卷统计量（难度、区分度、信度等）。"""
    try:
        table = read_responses(path)
    except ResponseFileError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(EXIT_BAD_INPUT) from exc
    doc = analyse(table, irt_model)
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False))
        return
    t = doc["test"]
    click.echo(f"考生 {t['n']} 人；平均分 {t['mean']}；标准差 {t['sd']}；α = {t['alpha']}；SEM = {t['sem']}")
    click.echo(f"{'题目':<12}{'p':>8}{'未答':>8}{'r_pbis':>9}{'高低分组':>9}")
    for row in doc["items"]:
        click.echo(f"{row['item']:<12}{_fmt(row['p'])}{_fmt(row['omitted'])}"
                   f"{_fmt(row['r_pbis_corrected'], 9)}{_fmt(row['upper_lower'], 9)}")


def _fmt(value, width: int = 8) -> str:
    return f"{'—':>{width}}" if value is None else f"{value:>{width}.3f}"


analysis_cli = click.Group("analysis", help="题目与试卷统计（离线）。")
analysis_cli.add_command(items_command)
