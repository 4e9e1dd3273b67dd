"""Charts for report.html as inline SVG text: a bar chart, a time series and a histogram.

Each chart is one self-contained ``<svg>`` element (well-formed XML, its own patterns in ``<defs>``, no script,
no external reference) with an accessible ``<title>`` and ``<desc>``, a visible title, axes, and its values
written out as text: a printed page or a reader who cannot tell the colours apart loses nothing, since every
fill also has its own pattern and every line its own dash. Every piece of text is escaped here.

Written by hand rather than with a plotting library: matplotlib draws text as glyph paths by default (nothing to
select, search or test) and pulls in a large dependency for three simple shapes; pygal's SVG loads its tooltip
script from a CDN, which a page that must load nothing from outside cannot have. The shapes needed are rectangles,
polylines and text, which take less code than adapting either.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Bar", "Series", "bar_chart", "histogram", "nice_ticks", "number", "escape_text", "time_series"]

WIDTH = 640
FONT = "system-ui, sans-serif"
#: Fill colour and pattern of each style of bar: the pattern tells them apart in black and white.
STYLES: dict[str, tuple[str, str]] = {
    "good": ("#2e7d32", "solid"),
    "bad": ("#c62828", "hatch"),
    "doubt": ("#ef6c00", "dots"),
    "warning": ("#b7791f", "dots"),
    "neutral": ("#546e7a", "solid"),
    "muted": ("#9e9e9e", "cross"),
}
#: Stroke colour and dash of each style of line.
LINES: dict[str, tuple[str, str]] = {
    "sent": ("#1565c0", ""),
    "retried": ("#ef6c00", "7 4"),
    "throttled": ("#c62828", "2 3"),
    "max": ("#c62828", "7 4"),
}
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LABEL_CHARS = 30


@dataclass(frozen=True)
class Bar:
    """One bar: its category, its value and its style (a key of :data:`STYLES`); ``note`` follows the label."""

    label: str
    value: float
    style: str = "neutral"
    note: str = ""


@dataclass(frozen=True)
class Series:
    """One line of a time series: a value per bucket (None: nothing to show there) and its style in :data:`LINES`."""

    name: str
    values: Sequence[float | None]
    style: str = "sent"
    total: str = ""


def escape_text(value: object) -> str:
    """``value`` as text safe in HTML and SVG (XML) content and attribute values: escaped, and the characters XML
    1.0 cannot hold at all and UTF-8 cannot encode (C0 controls but tab and line breaks, lone surrogates) replaced
    by U+FFFD."""
    return escape(_XML_INVALID.sub("\ufffd", str(value)), quote=True)


def number(value: float) -> str:
    """``1,234`` for whole numbers, ``12.5`` (one decimal, more below 1) otherwise."""
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 1:
        return f"{value:,.1f}"
    return f"{value:.2g}"


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def _f(value: float) -> str:
    """A coordinate: one decimal at most."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(chart_id: str, title: str, desc: str, height: float, styles: Sequence[str] = ()) -> list[str]:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape_text(chart_id)}" '
        f'viewBox="0 0 {WIDTH} {_f(height)}" width="{WIDTH}" height="{_f(height)}" role="img" '
        f'aria-labelledby="{escape_text(chart_id)}-t {escape_text(chart_id)}-d" font-family="{FONT}" font-size="12">',
        f'<title id="{escape_text(chart_id)}-t">{escape_text(title)}</title>',
        f'<desc id="{escape_text(chart_id)}-d">{escape_text(desc)}</desc>',
    ]
    if styles:
        parts.append("<defs>" + "".join(_pattern(chart_id, style) for style in dict.fromkeys(styles)) + "</defs>")
    parts.append(f'<text class="chart-title" x="0" y="16" font-size="14" font-weight="bold">{escape_text(title)}'
                 "</text>")
    return parts


def _pattern(chart_id: str, style: str) -> str:
    colour, kind = STYLES[style]
    head = (f'<pattern id="{escape_text(chart_id)}-{style}" width="6" height="6" patternUnits="userSpaceOnUse"'
            + (' patternTransform="rotate(45)">' if kind in ("hatch", "cross") else ">")
            + f'<rect width="6" height="6" fill="{colour}"/>')
    marks = {
        "solid": "",
        "hatch": '<rect width="2" height="6" fill="#fff"/>',
        "cross": '<rect width="1.5" height="6" fill="#fff"/><rect width="6" height="1.5" fill="#fff"/>',
        "dots": '<circle cx="3" cy="3" r="1.3" fill="#fff"/>',
    }[kind]
    return f"{head}{marks}</pattern>"


def _fill(chart_id: str, style: str) -> str:
    return f'fill="url(#{escape_text(chart_id)}-{style})" stroke="{STYLES[style][0]}"'


# --- bar chart -------------------------------------------------------------------------------------------------

_LABEL_RIGHT = 230
_VALUE_ROOM = 70
_ROW = 24


def bar_chart(chart_id: str, title: str, desc: str, bars: Sequence[Bar]) -> str:
    """Horizontal bars, one per row: the label on the left (long ones shortened, whole in the bar's tooltip), the
    bar, then its value. Bar lengths are proportional to the values, from a common zero."""
    height = 32 + _ROW * max(1, len(bars)) + 8
    parts = _open(chart_id, title, desc, height, [bar.style for bar in bars])
    room = WIDTH - _LABEL_RIGHT - 8 - _VALUE_ROOM
    top = max((bar.value for bar in bars), default=0)
    scale = room / top if top > 0 else 0.0
    left = _LABEL_RIGHT + 8
    for index, bar in enumerate(bars):
        y = 32 + index * _ROW
        label = f"{bar.label} ({bar.note})" if bar.note else bar.label
        width = bar.value * scale
        parts.append(
            f'<g class="bar"><title>{escape_text(label)}: {number(bar.value)}</title>'
            f'<text class="label" x="{_LABEL_RIGHT}" y="{_f(y + 13)}" text-anchor="end">'
            f"{escape_text(_short(bar.label))}"
            + (f' <tspan class="note" font-style="italic">({escape_text(bar.note)})</tspan>' if bar.note else "")
            + "</text>"
            f'<rect x="{left}" y="{y + 2}" width="{_f(width)}" height="16" {_fill(chart_id, bar.style)}/>'
            f'<text class="value" x="{_f(left + width + 6)}" y="{_f(y + 14)}">{number(bar.value)}</text></g>'
        )
    parts.append(f'<line class="axis" x1="{left}" y1="30" x2="{left}" y2="{_f(height - 6)}" stroke="#444"/>')
    parts.append("</svg>")
    return "".join(parts)


# --- axes ------------------------------------------------------------------------------------------------------


def nice_ticks(top: float, most: int = 5) -> list[float]:
    """Ticks from 0 at a 1, 2 or 5 × 10ⁿ step, the last one at or above ``top`` (at most ``most`` + 1 of them)."""
    if not top > 0:
        return [0.0, 1.0]
    raw = top / most
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    count = math.ceil(top / step - 1e-9)
    return [round(step * i, 10) for i in range(count + 1)]


_TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def duration_label(seconds: float) -> str:
    """``45 s``, ``2 min``, ``1.5 h``."""
    if seconds < 60 or seconds % 60:
        return f"{number(seconds)} s"
    if seconds < 3600 or seconds % 1800:
        return f"{number(seconds / 60)} min"
    return f"{number(seconds / 3600)} h"


def _time_ticks(span: float, most: int = 8) -> list[float]:
    longest = _TIME_STEPS[-1]
    step = next((s for s in _TIME_STEPS if span / s <= most), longest * math.ceil(span / longest / most))
    return [step * i for i in range(int(span // step) + 1)]


# --- time series -----------------------------------------------------------------------------------------------

_PLOT_LEFT, _PLOT_RIGHT, _PLOT_TOP, _PLOT_BOTTOM = 64, WIDTH - 16, 50, 186
_SERIES_HEIGHT = 234


def time_series(chart_id: str, title: str, desc: str, series: Sequence[Series], *, step_s: float,
                y_title: str) -> str:
    """Lines over time: bucket ``i`` of every series covers ``[i·step_s, (i+1)·step_s)`` seconds from the start and
    is drawn at its middle; the y axis starts at 0. A legend names each line with its dash and its total."""
    styles: list[str] = []
    parts = _open(chart_id, title, desc, _SERIES_HEIGHT, styles)
    count = max((len(line.values) for line in series), default=0)
    top = max((value for line in series for value in line.values if value is not None), default=0.0)
    ticks = nice_ticks(top)
    y_scale = (_PLOT_BOTTOM - _PLOT_TOP) / ticks[-1]
    span = max(count, 1) * step_s
    x_scale = (_PLOT_RIGHT - _PLOT_LEFT) / span
    parts.append(_y_axis(ticks, y_scale, y_title))
    parts.append(_x_axis(_time_ticks(span), x_scale, "time since the run started"))
    parts.append(_legend(series))
    for line in series:
        colour, dash = LINES[line.style]
        points = [(_PLOT_LEFT + (i + 0.5) * step_s * x_scale, _PLOT_BOTTOM - value * y_scale)
                  for i, value in enumerate(line.values) if value is not None]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        coords = " ".join(f"{_f(x)},{_f(y)}" for x, y in points)
        parts.append(f'<g class="series" data-series="{escape_text(line.name)}"><title>{escape_text(line.name)}'
                     f"{': ' + escape_text(line.total) if line.total else ''}</title>"
                     f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"{dashed}/>')
        if len(points) <= 40:  # few points: mark each, so a single one shows too
            parts.extend(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="2.5" fill="{colour}"/>' for x, y in points)
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _y_axis(ticks: Sequence[float], y_scale: float, y_title: str) -> str:
    parts = ['<g class="axis y">']
    for tick in ticks:
        y = _PLOT_BOTTOM - tick * y_scale
        parts.append(f'<line x1="{_PLOT_LEFT}" y1="{_f(y)}" x2="{_PLOT_RIGHT}" y2="{_f(y)}" stroke="#ddd"/>'
                     f'<text class="tick" x="{_PLOT_LEFT - 6}" y="{_f(y + 4)}" text-anchor="end">'
                     f"{number(tick)}</text>")
    middle = (_PLOT_TOP + _PLOT_BOTTOM) / 2
    parts.append(f'<text class="axis-title" x="12" y="{_f(middle)}" text-anchor="middle" '
                 f'transform="rotate(-90 12 {_f(middle)})">{escape_text(y_title)}</text></g>')
    return "".join(parts)


def _x_axis(ticks: Sequence[float], x_scale: float, x_title: str) -> str:
    parts = ['<g class="axis x">',
             f'<line x1="{_PLOT_LEFT}" y1="{_PLOT_BOTTOM}" x2="{_PLOT_RIGHT}" y2="{_PLOT_BOTTOM}" stroke="#444"/>']
    for tick in ticks:
        x = _PLOT_LEFT + tick * x_scale
        parts.append(f'<line x1="{_f(x)}" y1="{_PLOT_BOTTOM}" x2="{_f(x)}" y2="{_PLOT_BOTTOM + 4}" stroke="#444"/>'
                     f'<text class="tick" x="{_f(x)}" y="{_PLOT_BOTTOM + 17}" text-anchor="middle">'
                     f"{escape_text(duration_label(tick))}</text>")
    centre = (_PLOT_LEFT + _PLOT_RIGHT) / 2
    parts.append(f'<text class="axis-title" x="{_f(centre)}" y="{_PLOT_BOTTOM + 38}" text-anchor="middle">'
                 f"{escape_text(x_title)}</text></g>")
    return "".join(parts)


def _legend(series: Sequence[Series]) -> str:
    parts = ['<g class="legend">']
    x = float(_PLOT_LEFT)
    for line in series:
        colour, dash = LINES[line.style]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        text = f"{line.name} ({line.total})" if line.total else line.name
        parts.append(f'<line x1="{_f(x)}" y1="34" x2="{_f(x + 24)}" y2="34" stroke="{colour}" stroke-width="2"'
                     f'{dashed}/><text x="{_f(x + 30)}" y="38">{escape_text(text)}</text>')
        x += 30 + 7 * len(text) + 18
    parts.append("</g>")
    return "".join(parts)


# --- histogram -------------------------------------------------------------------------------------------------

_HISTOGRAM_HEIGHT = 236
_CHAR_WIDTH = 6.5  # average width of a character at font-size 12, in px


def histogram(chart_id: str, title: str, desc: str, bins: Sequence[Bar], *, x_title: str, y_title: str) -> str:
    """Adjacent columns, one per bin in order, each with its count above it and its range below (slanted when the
    ranges are wider than the columns); heights are proportional to the counts, from a common zero."""
    labels = [_short(b.label) for b in bins]
    width = (_PLOT_RIGHT - _PLOT_LEFT) / max(1, len(bins))
    longest = max((len(label) for label in labels), default=0) * _CHAR_WIDTH
    slanted = longest > width - 4
    drop = math.ceil(longest * 0.58) if slanted else 0  # sin 35°: how far a slanted label reaches down
    parts = _open(chart_id, title, desc, _HISTOGRAM_HEIGHT + drop, [b.style for b in bins])
    top = max((b.value for b in bins), default=0)
    scale = (_PLOT_BOTTOM - _PLOT_TOP - 14) / top if top > 0 else 0.0
    for index, (b, label) in enumerate(zip(bins, labels, strict=True)):
        x = _PLOT_LEFT + index * width
        height = b.value * scale
        centre = x + width / 2
        anchor = (f'text-anchor="end" transform="rotate(-35 {_f(centre + 4)} {_PLOT_BOTTOM + 12})"' if slanted
                  else 'text-anchor="middle"')
        parts.append(
            f'<g class="bin"><title>{escape_text(b.label)}: {number(b.value)}</title>'
            f'<rect x="{_f(x + 1)}" y="{_f(_PLOT_BOTTOM - height)}" width="{_f(width - 2)}" height="{_f(height)}" '
            f'{_fill(chart_id, b.style)}/>'
            f'<text class="value" x="{_f(centre)}" y="{_f(_PLOT_BOTTOM - height - 4)}" text-anchor="middle">'
            f"{number(b.value)}</text>"
            f'<text class="label" x="{_f(centre + 4 if slanted else centre)}" '
            f'y="{_PLOT_BOTTOM + (12 if slanted else 14)}" {anchor}>{escape_text(label)}</text></g>'
        )
    parts.append(f'<line class="axis" x1="{_PLOT_LEFT}" y1="{_PLOT_BOTTOM}" x2="{_PLOT_RIGHT}" y2="{_PLOT_BOTTOM}" '
                 'stroke="#444"/>')
    parts.append(f'<text class="axis-title" x="{_f((_PLOT_LEFT + _PLOT_RIGHT) / 2)}" y="{_PLOT_BOTTOM + 44 + drop}" '
                 f'text-anchor="middle">{escape_text(x_title)}</text>')
    middle = (_PLOT_TOP + _PLOT_BOTTOM) / 2
    parts.append(f'<text class="axis-title" x="12" y="{_f(middle)}" text-anchor="middle" '
                 f'transform="rotate(-90 12 {_f(middle)})">{escape_text(y_title)}</text>')
    parts.append("</svg>")
    return "".join(parts)
