"""The SVG charts: well-formed, accessible, drawn to scale, every text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from importer.report.charts import Bar, Series, bar_chart, duration_label, histogram, nice_ticks, number, time_series
from tests.report.hostile import HOSTILE_TEXTS, shown_as
from tests.report.svg import NS, bars, series, title_and_desc


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_bar_chart_draws_each_value_to_scale_with_its_label_and_value() -> None:
    svg = parse(bar_chart("c1", "Rows", "24 rows", [Bar("succeeded", 15, "good"), Bar("failed", 3, "bad"),
                                                     Bar("in doubt", 0, "doubt"), Bar("invalid", 1_234, "bad")]))
    seen = bars(svg)
    assert [(bar.label, bar.value) for bar in seen] == [("succeeded", "15"), ("failed", "3"), ("in doubt", "0"),
                                                        ("invalid", "1,234")]
    assert [bar.tooltip for bar in seen] == ["succeeded: 15", "failed: 3", "in doubt: 0", "invalid: 1,234"]
    per_unit = seen[-1].length / 1_234
    assert seen[-1].length == pytest.approx(332, abs=0.1)  # the longest bar takes the room there is
    for bar, value in zip(seen, (15, 3, 0, 1_234), strict=True):
        assert bar.length == pytest.approx(value * per_unit, abs=0.06)
    assert svg.attrib["role"] == "img" and svg.attrib["aria-labelledby"] == "c1-t c1-d"
    assert title_and_desc(svg) == ("Rows", "24 rows")
    assert svg.find(f"{NS}title").attrib["id"] == "c1-t" and svg.find(f"{NS}desc").attrib["id"] == "c1-d"


def test_styles_differ_by_pattern_not_colour_alone() -> None:
    svg = parse(bar_chart("c", "t", "d", [Bar("a", 1, "good"), Bar("b", 1, "bad"), Bar("c", 1, "doubt"),
                                          Bar("d", 1, "muted")]))
    patterns = {p.attrib["id"]: "".join(sorted(child.tag for child in p)) for p in svg.iter(f"{NS}pattern")}
    assert set(patterns) == {"c-good", "c-bad", "c-doubt", "c-muted"}
    assert len(set(patterns.values())) == 4  # four different sets of marks
    fills = [rect.attrib["fill"] for rect in svg.iter(f"{NS}rect") if rect.attrib.get("fill", "").startswith("url")]
    assert fills == ["url(#c-good)", "url(#c-bad)", "url(#c-doubt)", "url(#c-muted)"]


def test_an_empty_chart_is_still_valid() -> None:
    assert bars(parse(bar_chart("e", "Nothing", "no rows", []))) == []
    assert bars(parse(bar_chart("z", "Zeros", "zero", [Bar("a", 0)])))[0].length == 0
    assert series(parse(time_series("t", "T", "d", [], step_s=1, y_title="y"))) == {}


def test_long_labels_are_shortened_but_whole_in_the_tooltip() -> None:
    label = "unknown-" + "x" * 60
    seen = bars(parse(bar_chart("c", "t", "d", [Bar(label, 2, "bad", "error")])))[0]
    assert seen.label == label[:29] + "… (error)"
    assert seen.tooltip == f"{label} (error): 2"


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_every_text_is_escaped_and_the_svg_stays_well_formed(text: str) -> None:
    charts = [
        bar_chart("c", text, text, [Bar(text, 1, "bad", text)]),
        time_series("c", text, text, [Series(text, [1, 2], "sent", text)], step_s=1, y_title=text),
        histogram("c", text, text, [Bar(text, 3)], x_title=text, y_title=text),
    ]
    for chart in charts:
        svg = parse(chart)  # raises on anything that broke out of its text
        assert {element.tag.removeprefix(NS) for element in svg.iter()} <= {
            "svg", "title", "desc", "defs", "pattern", "rect", "circle", "line", "polyline", "g", "text", "tspan"}
        assert not any(name.startswith("on") for element in svg.iter() for name in element.attrib)
        assert shown_as(text).replace("\r", "\n") in title_and_desc(svg)[0]  # XML reads CR as LF


def test_time_series_points_stand_for_their_values() -> None:
    sent = [3, 0, 14, 7, 7]
    svg = parse(time_series("r", "Requests", "d", [Series("sent", sent, "sent", "31"),
                                                   Series("429", [0, 0, 2, 1, 0], "throttled", "3")],
                            step_s=1, y_title="requests per second"))
    lines = series(svg)
    assert lines["sent"] == pytest.approx(sent, abs=0.05)
    assert lines["429"] == pytest.approx([0, 0, 2, 1, 0], abs=0.05)
    ticks = [t.text for g in svg.iter(f"{NS}g") if g.attrib.get("class") == "axis y" for t in g.iter(f"{NS}text")
             if t.attrib.get("class") == "tick"]
    assert ticks == ["0", "5", "10", "15"]
    legend = "".join(next(g for g in svg.iter(f"{NS}g") if g.attrib.get("class") == "legend").itertext())
    assert legend == "sent (31)429 (3)"
    dashes = [line.attrib.get("stroke-dasharray") for line in svg.iter(f"{NS}polyline")]
    assert dashes[0] is None and dashes[1]  # one solid, one dotted: not colour alone


def test_time_series_leaves_out_buckets_without_a_value() -> None:
    svg = parse(time_series("l", "Latency", "d", [Series("average", [2.5, None, 4.0], "sent")], step_s=10,
                            y_title="ms"))
    assert series(svg)["average"] == pytest.approx([2.5, 4.0], abs=0.01)
    x_ticks = [t.text for g in svg.iter(f"{NS}g") if g.attrib.get("class") == "axis x" for t in g.iter(f"{NS}text")
               if t.attrib.get("class") == "tick"]
    assert x_ticks == ["0 s", "5 s", "10 s", "15 s", "20 s", "25 s", "30 s"]


def test_histogram_columns_are_to_scale() -> None:
    svg = parse(histogram("h", "Latency", "d", [Bar("<1 ms", 40), Bar("1–2 ms", 10), Bar("2–5 ms", 0)],
                          x_title="latency", y_title="requests"))
    seen = bars(svg)
    assert [(b.label, b.value) for b in seen] == [("<1 ms", "40"), ("1–2 ms", "10"), ("2–5 ms", "0")]
    assert seen[1].length == pytest.approx(seen[0].length / 4, abs=0.06) and seen[2].length == 0


def test_axis_helpers() -> None:
    assert nice_ticks(14) == [0, 5, 10, 15]
    assert nice_ticks(1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(0.37) == [0, 0.1, 0.2, 0.3, 0.4]
    assert [duration_label(s) for s in (0, 45, 60, 90, 120, 3600, 5400, 7200)] == [
        "0 s", "45 s", "1 min", "90 s", "2 min", "1 h", "1.5 h", "2 h"]
    assert [number(n) for n in (0, 1234, 12.5, 0.25, 1234.56)] == ["0", "1,234", "12.5", "0.25", "1,234.6"]
