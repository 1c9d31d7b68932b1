"""Small, deterministic SVG charts for the cabinet report, built by hand (no plotting library).

Every label is escaped with :func:`markupsafe.escape` and every number is written with a
fixed number of decimals, so the same data always gives the same bytes and no text from
the inputs can become markup. Charts: grouped stacked bars (cost by year and component,
plan against do nothing) and lines (places by kind, independent placements).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 170, 30, 40
FONT = 'font-family="sans-serif" font-size="11"'
SMALL_FONT = 'font-family="sans-serif" font-size="9"'


def nice_step(top: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 × 10^k) giving about ``ticks`` intervals to ``top``."""
    if top <= 0 or not math.isfinite(top):
        return 1.0
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _num(value: float) -> str:
    return f"{value:.1f}"


def _frame(title: str, body: list[str], legend: Sequence[tuple[str, str]],
           notes: Sequence[str] = ()) -> Markup:
    """The SVG element: title, plot body, a legend and notes on the right."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             f'<text x="{LEFT}" y="16" {FONT} font-weight="bold">{escape(title)}</text>',
             *body]
    x = WIDTH - RIGHT + 16
    for k, (label, colour) in enumerate(legend):
        y = TOP + 14 * k
        parts.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{escape(colour)}"/>')
        parts.append(f'<text x="{x + 14}" y="{y + 9}" {FONT}>{escape(label)}</text>')
    for k, note in enumerate(notes):
        y = TOP + 14 * (len(legend) + 1 + k)
        parts.append(f'<text x="{x}" y="{y + 9}" {FONT}>{escape(note)}</text>')
    parts.append("</svg>")
    return Markup("\n".join(parts))


def _axes(categories: Sequence[str], top: float, fmt: Callable[[float], str]
          ) -> tuple[list[str], Callable[[float], float], float]:
    """Gridlines, y labels and x labels; returns (elements, y of a value, band width)."""
    step = nice_step(top)
    y_max = step * max(1, math.ceil(top / step - 1e-9))
    plot_h = HEIGHT - TOP - BOTTOM
    band = (WIDTH - LEFT - RIGHT) / max(1, len(categories))

    def y_of(value: float) -> float:
        return HEIGHT - BOTTOM - plot_h * value / y_max

    parts = []
    ticks = round(y_max / step)
    for k in range(ticks + 1):
        value = k * step
        y = _num(y_of(value))
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y}" {FONT} text-anchor="end" '
                     f'dominant-baseline="middle">{escape(fmt(value))}</text>')
    for k, label in enumerate(categories):
        x = _num(LEFT + band * (k + 0.5))
        parts.append(f'<text x="{x}" y="{HEIGHT - BOTTOM + 16}" {FONT} '
                     f'text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{HEIGHT - BOTTOM}" '
                 f'y2="{HEIGHT - BOTTOM}" stroke="#333"/>')
    return parts, y_of, band


def stacked_bars(title: str, categories: Sequence[str],
                 groups: Sequence[tuple[str, dict[str, Sequence[float]]]],
                 colours: dict[str, str], fmt: Callable[[float], str],
                 labels: dict[str, str]) -> Markup:
    """Side-by-side stacked bars: for each category one bar per group, stacked by component.

    ``groups``: (short label under the bar, {component: values per category});
    ``labels``: what each short label means, for the legend.
    """
    totals = [sum(max(0.0, v[k]) for v in series.values())
              for _, series in groups for k in range(len(categories))]
    parts, y_of, band = _axes(categories, max(totals, default=0.0), fmt)
    width = band * 0.8 / max(1, len(groups))
    for g, (short, series) in enumerate(groups):
        for k in range(len(categories)):
            x = LEFT + band * k + band * 0.1 + width * g
            base = 0.0
            for component, values in series.items():
                value = max(0.0, float(values[k]))
                if value <= 0:
                    continue
                y_top, y_bottom = y_of(base + value), y_of(base)
                parts.append(f'<rect x="{_num(x)}" y="{_num(y_top)}" width="{_num(width - 1)}" '
                             f'height="{_num(y_bottom - y_top)}" '
                             f'fill="{escape(colours[component])}">'
                             f"<title>{escape(short)} {escape(categories[k])}: "
                             f"{escape(component)} {escape(fmt(value))}</title></rect>")
                base += value
            parts.append(f'<text x="{_num(x + width / 2)}" y="{HEIGHT - BOTTOM + 28}" '
                         f'{SMALL_FONT} text-anchor="middle">{escape(short)}</text>')
    return _frame(title, parts, [(c, colours[c]) for c in colours],
                  [f"{short}: {label}" for short, label in labels.items()])


def lines(title: str, categories: Sequence[str], series: dict[str, Sequence[float]],
          colours: dict[str, str], fmt: Callable[[float], str]) -> Markup:
    """One polyline with markers per series over the categories."""
    top = max((max(values, default=0.0) for values in series.values()), default=0.0)
    parts, y_of, band = _axes(categories, top, fmt)
    for name, values in series.items():
        points = [(LEFT + band * (k + 0.5), y_of(float(v))) for k, v in enumerate(values)]
        path = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
        colour = escape(colours[name])
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                     f'stroke-width="2"/>')
        for (x, y), value, label in zip(points, values, categories, strict=True):
            parts.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3" fill="{colour}">'
                         f"<title>{escape(name)} {escape(label)}: {escape(fmt(float(value)))}"
                         "</title></circle>")
    return _frame(title, parts, [(name, colours[name]) for name in series])
