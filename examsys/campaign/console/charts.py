"""The console's charts, drawn on the server as SVG text (so they print and work offline): one
target's value per city (or organisation) as horizontal bars against its goal line, and a
monthly trend (cumulative) against a goal. Every text from data is escaped here."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

MET, SHORT, NONE = "#2e7d32", "#c62828", "#9e9e9e"


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def bars_svg(title: str, items: list[tuple[str, float | None]], goal: float, *, at_most: bool = False,
             width: int = 460) -> Markup:
    """Shares in [0, 1]: one bar per (label, value), green when the goal is met, red when not,
    grey "无数据" when there is nothing to count; the goal as a dashed line."""
    left, right, top, row = 118, 44, 22, 22
    height = top + row * max(1, len(items)) + 18
    plot = width - left - right
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
           f"<title>{escape(title)}</title>",
           f'<text x="0" y="13" font-size="12" font-weight="bold">{escape(title)}</text>']
    for i, (label, value) in enumerate(items):
        y = top + i * row
        out.append(f'<text x="{left - 6}" y="{y + 14}" font-size="11" text-anchor="end">{escape(label[:10])}</text>')
        if value is None:
            out.append(f'<text x="{width - 4}" y="{y + 14}" font-size="11" fill="{NONE}" '
                       f'text-anchor="end">无数据</text>')
            continue
        met = value <= goal if at_most else value >= goal
        w = max(1.0, min(value, 1.0) * plot)
        out.append(f'<rect x="{left}" y="{y + 3}" width="{_n(w)}" height="{row - 8}" fill="{MET if met else SHORT}">'
                   f"<title>{escape(label)}: {value:.1%}</title></rect>")
        out.append(f'<text x="{_n(left + w + 4)}" y="{y + 14}" font-size="11">{value:.0%}</text>')
    gx = left + goal * plot
    bottom = top + row * max(1, len(items))
    out.append(f'<line x1="{_n(gx)}" y1="{top - 2}" x2="{_n(gx)}" y2="{bottom}" stroke="#333" stroke-dasharray="4 3"/>')
    out.append(f'<text x="{_n(gx)}" y="{bottom + 13}" font-size="10" text-anchor="middle">目标 {goal:.0%}</text>')
    out.append(f'<line x1="{left}" y1="{top - 2}" x2="{left}" y2="{bottom}" stroke="#666"/>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 — numbers, and data texts escaped above


def trend_svg(title: str, monthly: list[int], goal: int, *, width: int = 460, height: int = 170) -> Markup:
    """Cumulative monthly counts (12 months) as a line with points, the goal as a dashed line."""
    left, right, top, bottom = 30, 12, 24, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    running, total = [], 0
    for n in monthly:
        total += n
        running.append(total)
    peak = max(goal, total, 1)
    step = plot_w / 11

    def y(v: float) -> float:
        return top + plot_h - v / peak * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
           f"<title>{escape(title)}</title>",
           f'<text x="0" y="13" font-size="12" font-weight="bold">{escape(title)}</text>',
           f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#666"/>']
    points = " ".join(f"{_n(left + i * step)},{_n(y(v))}" for i, v in enumerate(running))
    out.append(f'<polyline points="{points}" fill="none" stroke="#2f5b9a" stroke-width="2"/>')
    for i, v in enumerate(running):
        out.append(f'<circle cx="{_n(left + i * step)}" cy="{_n(y(v))}" r="3" fill="#2f5b9a">'
                   f"<title>{i + 1}月：累计 {v}</title></circle>")
        out.append(f'<text x="{_n(left + i * step)}" y="{height - 8}" font-size="10" '
                   f'text-anchor="middle">{i + 1}月</text>')
    out.append(f'<line x1="{left}" y1="{_n(y(goal))}" x2="{left + plot_w}" y2="{_n(y(goal))}" stroke="#c62828" '
               f'stroke-dasharray="4 3"/>')
    out.append(f'<text x="{left + plot_w}" y="{_n(y(goal) - 4)}" font-size="10" fill="#c62828" '
               f'text-anchor="end">应训 {goal} 人</text>')
    out.append(f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>')
    out.append(f'<text x="{left - 4}" y="{top + 8}" font-size="10" text-anchor="end">{peak}</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 — numbers, and data texts escaped above


def target_bars(view, *, width: int = 460) -> list[Markup]:
    """One bar chart per target of a console overview (examsys.campaign.console.services.Overview):
    over the cities for the province, over the organisations for a city; none for a target that
    applies to none of them."""
    out = []
    for i, t in enumerate(view.targets):
        if view.scope.city_id is None:
            items = [(r.city.name, r.targets[i].value) for r in view.cities]
        else:
            items = [(r.organisation.name, r.targets[i].value) for r in view.organisations]
        if any(v is not None for _name, v in items):
            out.append(bars_svg(t.label, items, t.goal, at_most=t.direction.value == "at_most", width=width))
    return out
