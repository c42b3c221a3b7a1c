"""`examsys campaign report --year N [--city CODE] [--json]`: every campaign target with its
value, goal and whether it is met, for the province (with each city and organisation) or one
city; a readable table, or JSON for other programs."""

from __future__ import annotations

import json
import unicodedata

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from examsys import transaction
from examsys.accounts.models import City
from examsys.campaign.console import services as console
from examsys.extensions import db


def _pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - used)


def _line(t: dict) -> str:
    value = "无数据" if t["value"] is None else f"{t['value']:.1%}（{t['numerator']}/{t['denominator']}）"
    sign = "≥" if t["direction"] == "at_least" else "≤"
    met = {True: "达标", False: "未达标", None: "—"}[t["met"]]
    return f"  {_pad(t['label'], 34)}{_pad(value, 20)}{_pad(f'目标 {sign}' + format(t['goal'], '.0%'), 12)}{met}"


@click.command("report")
@click.option("--year", type=int, required=True, help="年度，如 2026。")
@click.option("--city", "city_code", help="只看一个城市（城市代码）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（每个目标含 key、label、value、goal、met）。")
@with_appcontext
@transaction.command
def report_command(year: int, city_code: str | None, as_json: bool) -> None:
    """Print every campaign target of YEAR with its value, goal and whether it is met."""
    city = None
    if city_code:
        city = db.session.scalar(select(City).where(City.code == city_code))
        if city is None:
            raise click.ClickException(f"--city：没有代码为 {city_code} 的城市")
    data = console.as_json(console.overview(year, city))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"{year} 年质量提升行动目标（{city.name if city else '全省'}）")
    for t in data["targets"]:
        click.echo(_line(t))
    for c in data["cities"] if city is None else []:
        click.echo(f"\n{c['name']}（{c['code']}）")
        for t in c["targets"]:
            click.echo(_line(t))
    click.echo("\n领航型机构：" + ("、".join(o["name"] for o in data["organisations"] if o["leading"]) or "无"))
