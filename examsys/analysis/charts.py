"""Charts drawn on the server as SVG text: the histogram of a form's totals (with the pass mark)
and an item's distractor chart (share of each option in the lower, middle and upper groups).

Markup built from numbers, no plotting library: the same markup goes into the page and into a PDF, and it
is small. Every text that comes from data is escaped here.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

GROUP_COLOURS = {"lower": "#c0c4cc", "middle": "#8fa3bf", "upper": "#2f5b9a"}
KEY_COLOUR = "#2e7d32"


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def histogram_svg(edges: list[float], counts: list[int], *, pass_mark: float | None = None,
                  title: str = "", width: int = 520, height: int = 180) -> Markup:
    """Bars of `counts` over `edges` (as classical.histogram gives), the pass mark as a line."""
    left, right, top, bottom = 34, 10, 18, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    lo, hi = (edges[0], edges[-1]) if edges else (0.0, 1.0)
    span = (hi - lo) or 1.0
    peak = max(counts or [0]) or 1
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">']
    if title:
        out.append(f"<title>{escape(title)}</title>")
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#666"/>')
    for i, count in enumerate(counts):
        x0 = left + (edges[i] - lo) / span * plot_w
        x1 = left + (edges[i + 1] - lo) / span * plot_w
        h = count / peak * plot_h
        out.append(f'<rect x="{_num(x0 + 1)}" y="{_num(top + plot_h - h)}" width="{_num(max(1.0, x1 - x0 - 2))}" '
                   f'height="{_num(h)}" fill="#4a78b5"><title>{_num(edges[i])}–{_num(edges[i + 1])}: '
                   f'{count}</title></rect>')
    out.append(f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">{peak}</text>')
    out.append(f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>')
    for v in (lo, (lo + hi) / 2, hi):
        x = left + (v - lo) / span * plot_w
        out.append(f'<text x="{_num(x)}" y="{height - 10}" font-size="10" text-anchor="middle">{_num(v)}</text>')
    if pass_mark is not None and lo <= pass_mark <= hi:
        x = left + (pass_mark - lo) / span * plot_w
        out.append(f'<line x1="{_num(x)}" y1="{top - 6}" x2="{_num(x)}" y2="{top + plot_h}" stroke="#c62828" '
                   f'stroke-dasharray="4 3"/>')
        out.append(f'<text x="{_num(x + 3)}" y="{top - 8}" font-size="10" fill="#c62828">{_num(pass_mark)}</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 — numbers, and data texts escaped above


def distractor_svg(options: dict, *, group_labels: dict[str, str] | None = None,
                   width: int = 300, height: int = 120) -> Markup:
    """Per option, three bars (lower, middle, upper group share). The keyed option's label is
    green and underlined: an upper-group bar taller on another option is the wrong-key sign."""
    labels = options["labels"]
    names = group_labels or {"lower": "低分组", "middle": "中间组", "upper": "高分组"}
    left, top, bottom = 8, 8, 20
    plot_h = height - top - bottom
    slot = (width - left * 2) / max(1, len(labels))
    bar = slot / 4
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img">']
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - left}" y2="{top + plot_h}" stroke="#666"/>')
    for c, label in enumerate(labels):
        x = left + c * slot + bar / 2
        for g, group in enumerate(("lower", "middle", "upper")):
            share = float(options[group][c])
            h = share * plot_h
            out.append(f'<rect x="{_num(x + g * bar)}" y="{_num(top + plot_h - h)}" width="{_num(bar - 1)}" '
                       f'height="{_num(h)}" fill="{GROUP_COLOURS[group]}"><title>{escape(str(label))} '
                       f'{escape(names[group])} {share:.0%}</title></rect>')
        is_key = label == options.get("key")
        style = f' fill="{KEY_COLOUR}" font-weight="bold" text-decoration="underline"' if is_key else ""
        out.append(f'<text x="{_num(x + 1.5 * bar)}" y="{height - 6}" font-size="11" text-anchor="middle"{style}>'
                   f'{escape(str(label))}</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 — numbers, and data texts escaped above
