"""Satisfaction's charts, drawn on the server as SVG text (no plotting library, the same markup
in a page or a PDF): the monthly trend of the share satisfied against the goal line, and
horizontal bars of shares (per question, per option). Every text from data is escaped here."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

GOAL_COLOUR = "#c62828"
BAR_COLOUR = "#4a78b5"
LOW_COLOUR = "#d9822b"


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def trend_svg(points: list[tuple[str, float | None, int]], *, goal: float = 0.9, title: str = "",
              width: int = 560, height: int = 200) -> Markup:
    """One bar per month (`(YYYY-MM, share or None, responses)`), the share in [0, 1] on a fixed
    0–100 % axis with the goal as a dashed line; a month below the goal is drawn in orange."""
    left, right, top, bottom = 40, 10, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">']
    if title:
        out.append(f"<title>{escape(title)}</title>")
    for tick in (0.0, 0.5, 1.0):
        y = top + plot_h - tick * plot_h
        out.append(f'<line x1="{left}" y1="{_num(y)}" x2="{left + plot_w}" y2="{_num(y)}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 4}" y="{_num(y + 4)}" font-size="10" text-anchor="end">{tick:.0%}</text>')
    slot = plot_w / max(1, len(points))
    for i, (month, share, n) in enumerate(points):
        x = left + i * slot
        if share is not None:
            h = share * plot_h
            colour = BAR_COLOUR if share >= goal else LOW_COLOUR
            out.append(f'<rect x="{_num(x + slot * 0.15)}" y="{_num(top + plot_h - h)}" width="{_num(slot * 0.7)}" '
                       f'height="{_num(h)}" fill="{colour}"><title>{escape(month)}: {share:.1%}（{n}）</title></rect>')
        out.append(f'<text x="{_num(x + slot / 2)}" y="{height - 16}" font-size="10" text-anchor="middle">'
                   f'{escape(month[5:] if len(month) == 7 else month)}</text>')
    if points:
        out.append(f'<text x="{left}" y="{height - 3}" font-size="10">{escape(points[0][0][:4])}</text>')
    y = top + plot_h - goal * plot_h
    out.append(f'<line x1="{left}" y1="{_num(y)}" x2="{left + plot_w}" y2="{_num(y)}" stroke="{GOAL_COLOUR}" '
               f'stroke-dasharray="5 3"/>')
    out.append(f'<text x="{left + plot_w}" y="{_num(y - 3)}" font-size="10" text-anchor="end" '
               f'fill="{GOAL_COLOUR}">{goal:.0%}</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 — numbers, and data texts escaped above


def bars_svg(rows: list[tuple[str, float, int]], *, goal: float | None = None, width: int = 520,
             label_width: int = 200) -> Markup:
    """Horizontal bars: `(label, share in [0, 1], count)` each, with the goal line if given."""
    bar_h, gap, top = 16, 6, 4
    height = top * 2 + len(rows) * (bar_h + gap)
    plot_w = width - label_width - 70
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img">']
    for i, (label, share, n) in enumerate(rows):
        y = top + i * (bar_h + gap)
        shown = label if len(label) <= 16 else label[:15] + "…"
        out.append(f'<text x="{label_width - 6}" y="{y + bar_h - 4}" font-size="11" text-anchor="end">'
                   f'<title>{escape(label)}</title>{escape(shown)}</text>')
        colour = LOW_COLOUR if goal is not None and share < goal else BAR_COLOUR
        out.append(f'<rect x="{label_width}" y="{y}" width="{_num(max(0.0, share) * plot_w)}" height="{bar_h}" '
                   f'fill="{colour}"/>')
        out.append(f'<text x="{_num(label_width + share * plot_w + 4)}" y="{y + bar_h - 4}" font-size="10">'
                   f'{share:.0%}（{n}）</text>')
    if goal is not None:
        x = label_width + goal * plot_w
        out.append(f'<line x1="{_num(x)}" y1="0" x2="{_num(x)}" y2="{height}" stroke="{GOAL_COLOUR}" '
                   f'stroke-dasharray="4 3"/>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 — numbers, and data texts escaped above


__all__ = ["bars_svg", "trend_svg"]
