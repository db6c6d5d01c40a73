"""The dashboard's SVG charts (cowin_kit.reporting.charts): well-formed SVG, bars in
proportion to their values, titles for screen readers, mirrored for right-to-left, and a
chart without data that says so."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cowin_kit.reporting import charts

SVG = "{http://www.w3.org/2000/svg}"
COMMON = {"chart_id": "c", "title": "Doses <per> day", "desc": "A & B", "empty_text": "None yet"}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(f"{SVG}title").text == COMMON["title"]  # escaped, and read back whole
    assert root.find(f"{SVG}desc").text == COMMON["desc"]
    return root


def bars_of(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]


def pct(value: str) -> float:
    assert value.endswith("%"), value
    return float(value[:-1])


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


def test_columns_are_as_tall_as_their_values():
    root = parse(charts.columns([("1 Mar", 10), ("2 Mar", 0), ("3 Mar", 5), ("4 Mar", 20)],
                                fmt=lambda n: f"{n:,}", **COMMON))
    heights = [float(r.get("height")) for r in bars_of(root)]
    assert heights[0] == pytest.approx(heights[3] / 2)
    assert heights[2] == pytest.approx(heights[3] / 4) and heights[1] == 0
    xs = [pct(r.get("x")) for r in bars_of(root)]
    assert xs == sorted(xs)  # time runs left to right
    assert "20" in texts(root)  # the peak, on the axis
    assert {"1 Mar", "4 Mar"} <= set(texts(root))  # the first and last days
    assert [r.find(f"{SVG}title").text for r in bars_of(root)][3] == "4 Mar: 20"


def test_columns_mirror_right_to_left():
    points = [("a", 1), ("b", 2), ("c", 3)]
    ltr = [pct(r.get("x")) for r in bars_of(parse(charts.columns(points, **COMMON)))]
    rtl_root = parse(charts.columns(points, rtl=True, **COMMON))
    rtl = [pct(r.get("x")) for r in bars_of(rtl_root)]
    assert rtl == sorted(rtl, reverse=True)  # the first day on the right
    width = pct(bars_of(rtl_root)[0].get("width"))
    assert [pytest.approx(100 - x - width, abs=0.01) for x in ltr] == rtl
    assert all(t.get("direction") == "rtl" for t in rtl_root.iter(f"{SVG}text"))


def test_horizontal_bars_are_as_long_as_their_values():
    root = parse(charts.bars([("Comirnaty", 300), ("Sinopharm", 100), ("AstraZeneca", 0)],
                             fmt=lambda n: f"{n:,}", **COMMON))
    widths = [pct(r.get("width")) for r in bars_of(root)]
    assert widths[0] == pytest.approx(3 * widths[1], abs=0.01) and widths[2] == 0
    assert widths[0] <= 80  # room left for the value at the bar's end
    assert texts(root)[:2] == ["Comirnaty", "300"]
    assert float(root.get("height")) == 3 * 40  # a row each


def test_horizontal_bars_grow_from_the_right_in_rtl():
    root = parse(charts.bars([("أ", 50), ("ب", 100)], rtl=True, **COMMON))
    for rect in bars_of(root):
        assert pct(rect.get("x")) + pct(rect.get("width")) == pytest.approx(100, abs=0.01)


def test_grouped_bars_have_a_legend_and_a_bar_per_series():
    root = parse(charts.grouped_bars(
        [("18–44", [4, 8]), ("45–59", [2, 0]), ("60+", [0, 1])], ["Male", "Female"],
        **COMMON))
    bars = bars_of(root)
    assert len(bars) == 6
    widths = [pct(r.get("width")) for r in bars]
    assert widths[0] == pytest.approx(widths[1] / 2, abs=0.01)
    assert widths[2] == pytest.approx(widths[1] / 4, abs=0.01)
    assert {bars[0].get("fill"), bars[1].get("fill")} == {charts.PALETTE[0], charts.PALETTE[1]}
    assert bars[0].get("fill") == bars[2].get("fill")  # a series keeps its colour
    assert {"Male", "Female", "18–44", "60+"} <= set(texts(root))
    assert bars[1].find(f"{SVG}title").text == "18–44, Female: 8"


@pytest.mark.parametrize("draw, data", [
    (charts.columns, []), (charts.columns, [("1 Mar", 0), ("2 Mar", 0)]),
    (charts.bars, []), (charts.bars, [("Comirnaty", 0)]),
    (lambda data, **kw: charts.grouped_bars(data, ["Male"], **kw), []),
    (lambda data, **kw: charts.grouped_bars(data, ["Male"], **kw), [("18–44", [0])]),
])
def test_a_chart_without_data_says_so(draw, data):
    root = parse(draw(data, **COMMON))
    assert bars_of(root) == [] and texts(root) == ["None yet"]


def test_labels_are_escaped_not_markup():
    svg = charts.bars([("<script>alert(1)</script>", 1), ('A "quoted" & more', 2)], **COMMON)
    assert "<script>" not in svg
    assert texts(parse(svg))[0] == "<script>alert(1)</script>"


def test_many_days_stay_within_the_width():
    root = parse(charts.columns([(str(i), i % 7) for i in range(731)], **COMMON))
    last = bars_of(root)[-1]
    assert pct(last.get("x")) + pct(last.get("width")) <= 100
    assert "e" not in last.get("x")  # no exponent notation in coordinates
