"""Return rates (退回率): per organisation and per city, per month. The rate of a month is the
share of the records reported that month (Beijing time) that were returned, whenever the return
came; a record returned twice counts once. Also the trend chart, drawn on the server as SVG."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape

from markupsafe import Markup
from sqlalchemy import select

from examsys import clock
from examsys.campaign.certdata.models import CertRecord, CertReport, CertReturn, RuleKind, WarningRule
from examsys.extensions import db

DEFAULT_RATE_GOAL = 0.05


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The year in Beijing time, as aware UTC bounds [start, end)."""
    tz = clock.DISPLAY_TZ
    return (datetime(year, 1, 1, tzinfo=tz).astimezone(UTC), datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC))


def month_of(moment: datetime) -> str:
    return clock.to_display(moment).strftime("%Y-%m")


def months_back(end: str, n: int) -> list[str]:
    """The `n` months ending with `end` (YYYY-MM), oldest first."""
    y, m = int(end[:4]), int(end[5:7])
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def rate_goal() -> float:
    """The campaign's goal for the return rate: the threshold of the active rate rule."""
    rule = db.session.scalar(select(WarningRule).where(WarningRule.kind == RuleKind.RATE_ABOVE.value))
    return rule.threshold if rule is not None and rule.active else DEFAULT_RATE_GOAL


@dataclass
class Cell:
    reported: int = 0
    returned: int = 0

    @property
    def rate(self) -> float | None:
        return self.returned / self.reported if self.reported else None


@dataclass(frozen=True)
class Row:
    """One reported record: who reported it when, and its returns (month, reason)."""

    record_id: int
    organisation_id: int
    city_id: int
    month: str
    returns: tuple[tuple[str, str], ...]


def rows(organisation_ids: list[int] | None = None) -> list[Row]:
    stmt = (select(CertRecord.id, CertReport.organisation_id, CertReport.city_id, CertReport.reported_at)
            .join(CertReport, CertReport.id == CertRecord.report_id))
    if organisation_ids is not None:
        stmt = stmt.where(CertReport.organisation_id.in_(organisation_ids))
    records = db.session.execute(stmt).all()
    returns: dict[int, list] = defaultdict(list)
    for record_id, at, reason in db.session.execute(
            select(CertReturn.record_id, CertReturn.returned_at, CertReturn.reason)
            .where(CertReturn.record_id.in_([r[0] for r in records])).order_by(CertReturn.returned_at)):
        returns[record_id].append((month_of(at), reason))
    return [Row(rid, org, city, month_of(at), tuple(returns.get(rid, ()))) for rid, org, city, at in records]


def table(data: list[Row], key: str, months: list[str]) -> dict[int, dict[str, Cell]]:
    """{organisation or city id: {month: Cell}} for `key` "organisation_id" or "city_id"."""
    out: dict[int, dict[str, Cell]] = defaultdict(lambda: {m: Cell() for m in months})
    for r in data:
        if r.month not in months:
            continue
        cell = out[getattr(r, key)][r.month]
        cell.reported += 1
        cell.returned += 1 if r.returns else 0
    return dict(out)


def total(cells: dict[str, Cell]) -> Cell:
    return Cell(sum(c.reported for c in cells.values()), sum(c.returned for c in cells.values()))


def current_month() -> str:
    return month_of(clock.now())


def trend_svg(series: dict[str, dict[str, Cell]], months: list[str], *, threshold: float | None = None,
              width: int = 760, height: int = 220) -> Markup:
    """One line per named series of monthly rates; the threshold as a dashed red line."""
    colours = ["#2f5b9a", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#455a64"]
    left, right, top, bottom = 40, 260, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([c.rate or 0.0 for cells in series.values() for c in cells.values()] + [threshold or 0.0, 0.05])
    peak = min(1.0, peak * 1.15)

    def x(i: int) -> float:
        return left + (plot_w * i / (len(months) - 1) if len(months) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - v / peak * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="退回率趋势">',
           f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#666"/>']
    for v in (0.0, peak / 2, peak):
        out.append(f'<text x="{left - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">{v:.0%}</text>')
    for i, m in enumerate(months):
        out.append(f'<text x="{x(i):.1f}" y="{height - 12}" font-size="10" text-anchor="middle">{escape(m[2:])}</text>')
    if threshold is not None and threshold <= peak:
        out.append(f'<line x1="{left}" y1="{y(threshold):.1f}" x2="{left + plot_w}" y2="{y(threshold):.1f}" '
                   f'stroke="#c62828" stroke-dasharray="5 4"/>')
        out.append(f'<text x="{left + plot_w + 4}" y="{y(threshold) + 4:.1f}" font-size="10" fill="#c62828">'
                   f'阈值 {threshold:.0%}</text>')
    for n, (name, cells) in enumerate(series.items()):
        colour = colours[n % len(colours)]
        points = [(x(i), y(cells[m].rate), m, cells[m]) for i, m in enumerate(months) if cells[m].rate is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _m, _c in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for px, py, m, c in points:
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"><title>{escape(name)} {m}：'
                       f'{c.rate:.1%}（{c.returned}/{c.reported}）</title></circle>')
        ly = top + 12 + n * 16
        out.append(f'<rect x="{width - right + 56}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{width - right + 70}" y="{ly + 1}" font-size="11">{escape(name[:14])}</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 — numbers, and data texts escaped above


def month_label(month: str) -> str:
    return f"{month[:4]}年{int(month[5:7])}月"


def first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)
