"""Reading the charts of a report.html back as data, the way a person reads them: each chart is parsed as XML, a
bar's value is its visible label and its length, a line's points are turned back into values with the y axis's
own tick labels."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

NS = "{http://www.w3.org/2000/svg}"
_SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def charts(page: str) -> dict[str, ET.Element]:
    """Every inline chart of ``page`` by its id; each must be well-formed XML on its own."""
    found = {}
    for text in _SVG.findall(page):
        svg = ET.fromstring(text)
        found[svg.attrib["id"]] = svg
    return found


def _text(element: ET.Element) -> str:
    return "".join(element.itertext())


def _child(element: ET.Element, tag: str, css: str | None = None) -> ET.Element:
    for child in element.iter(NS + tag):
        if css is None or child.attrib.get("class") == css:
            return child
    raise AssertionError(f"no <{tag} class={css}> in {ET.tostring(element)[:200]!r}")


@dataclass(frozen=True)
class BarSeen:
    """One bar as drawn: its tooltip (whole label and value), the label and value written beside it, its length."""

    tooltip: str
    label: str
    value: str
    length: float


def bars(svg: ET.Element) -> list[BarSeen]:
    """The bars of a bar chart (``g.bar``) or the columns of a histogram (``g.bin``), in order."""
    seen = []
    for group in svg.iter(NS + "g"):
        css = group.attrib.get("class")
        if css not in ("bar", "bin"):
            continue
        rect = _child(group, "rect")
        length = float(rect.attrib["width" if css == "bar" else "height"])
        seen.append(BarSeen(_text(_child(group, "title")), _text(_child(group, "text", "label")),
                            _text(_child(group, "text", "value")), length))
    return seen


def number(text: str) -> float:
    return float(text.replace(",", ""))


def y_axis(svg: ET.Element) -> tuple[float, float]:
    """(y of value 0, pixels per unit) from the y axis's tick labels."""
    axis = next(g for g in svg.iter(NS + "g") if g.attrib.get("class") == "axis y")
    ticks = [(number(_text(t)), float(t.attrib["y"]))
             for t in axis.iter(NS + "text") if t.attrib.get("class") == "tick"]
    (v0, y0), (v1, y1) = ticks[0], ticks[-1]
    return y0, (y0 - y1) / (v1 - v0)


def series(svg: ET.Element) -> dict[str, list[float]]:
    """Each line of a time series as the values its points stand for (read off the y axis's ticks)."""
    zero, scale = y_axis(svg)
    lines = {}
    for group in svg.iter(NS + "g"):
        if group.attrib.get("class") != "series":
            continue
        points = _child(group, "polyline").attrib["points"].split()
        # a tick label sits 4 px below its grid line (text baseline): correct for it
        lines[group.attrib["data-series"]] = [(zero - 4 - float(p.split(",")[1])) / scale for p in points if p]
    return lines


def title_and_desc(svg: ET.Element) -> tuple[str, str]:
    return _text(_child(svg, "title")), _text(_child(svg, "desc"))
