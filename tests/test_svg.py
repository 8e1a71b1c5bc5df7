"""The SVG pictures: well-formed, accessible, escaped, and safe under a strict CSP."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnnet.attendance.bridges import Edge, HeldSession, Member, bridges
from learnnet.attendance.svg import (
    BRIDGES_LABELS,
    bar_chart_svg,
    bridges_svg,
    clean,
    fit,
    format_value,
    shorten,
    text_width,
    with_unit,
)

NS = "{http://www.w3.org/2000/svg}"
TRICKY = "'t Kriebeltje & <Co>"
DAY = date(2026, 9, 8)


def parse(svg: str) -> ET.Element:
    assert svg.startswith("<svg")
    return ET.fromstring(svg)


def groups(root: ET.Element, css_class: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if g.get("class") == css_class]


def title_of(element: ET.Element) -> str:
    title = element.find(f"{NS}title")
    assert title is not None
    return title.text or ""


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{NS}text")]


def assert_safe_and_accessible(svg: str, title: str) -> ET.Element:
    """The rules every picture follows."""
    root = parse(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert re.fullmatch(r"-?[\d.]+ -?[\d.]+ [\d.]+ [\d.]+", root.get("viewBox", ""))
    assert root.get("width") in (None, "100%")
    assert root.get("height") is None
    assert not re.search(r'\bwidth="[^"]*px"', svg)
    # Strict CSP: no style attributes or elements, no script, no event handlers.
    assert "style=" not in svg
    assert "<style" not in svg
    assert "<script" not in svg.lower()
    assert not re.search(r"\son\w+=", svg)
    assert "javascript:" not in svg.lower()
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    # aria-labelledby names the <title> and <desc> by id.
    title_id, desc_id = root.get("aria-labelledby", "").split()
    by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
    assert by_id[title_id].tag == f"{NS}title"
    assert by_id[title_id].text == title
    assert by_id[desc_id].tag == f"{NS}desc"
    assert by_id[desc_id].text
    # Only palette colours (and white for an open circle).
    colours = set(re.findall(r'(?:fill|stroke)="(#[0-9a-f]{6})"', svg))
    assert colours <= {"#0b6e69", "#08524e", "#586565", "#1f2a2a", "#e3f1ef", "#d6cec3", "#ffffff"}
    return root


def network(n: int) -> tuple[list[Member], list[Edge]]:
    members = [Member(i, f"Kinderopvang nummer {i:02d}") for i in range(1, n + 1)]
    edges = [Edge(i, i % n + 1, visits=i % 4 + 1, first_day=DAY) for i in range(1, n)]
    return members, edges


# -------------------------------------------------------------------------- bridges


def test_bridges_draws_one_node_per_member_and_one_arrow_per_edge():
    members, edges = network(15)
    svg = bridges_svg(members, edges, title="Bezoeken")
    root = assert_safe_and_accessible(svg, "Bezoeken")
    assert len(groups(root, "bridges-node")) == 15
    assert len(groups(root, "bridges-edge")) == 14
    for edge in groups(root, "bridges-edge"):
        paths = edge.findall(f"{NS}path")
        assert len(paths) == 2  # the line and its arrowhead
        assert paths[1].get("d", "").endswith("Z")


def test_bridges_escapes_names_and_keeps_them_whole_in_titles():
    members = [Member(1, TRICKY), Member(2, 'De "Boomhut"'), Member(3, "Zon")]
    edges = [Edge(1, 2, 2, DAY), Edge(2, 1, 1, DAY)]
    svg = bridges_svg(members, edges, title=f"Bezoeken bij {TRICKY}")
    root = assert_safe_and_accessible(svg, f"Bezoeken bij {TRICKY}")
    assert "<Co>" not in svg
    assert "&amp;" in svg and "&lt;Co&gt;" in svg
    node_titles = [title_of(g) for g in groups(root, "bridges-node")]
    assert node_titles[0].startswith(f"{TRICKY}: visited 1 of 2 other members")
    assert TRICKY in texts(root)
    edge_titles = sorted(title_of(g) for g in groups(root, "bridges-edge"))
    assert edge_titles == [
        f'{TRICKY} visited De "Boomhut": 2 times',
        f'De "Boomhut" visited {TRICKY}: once',
    ]


def test_bridges_nodes_are_sorted_by_name_clockwise_from_the_top():
    members = [Member(1, "zon"), Member(2, "Appel"), Member(3, "bever"), Member(4, "Muis")]
    root = parse(bridges_svg(members, [], title="t"))
    titles = [title_of(g).split(":")[0] for g in groups(root, "bridges-node")]
    assert titles == ["Appel", "bever", "Muis", "zon"]
    first = groups(root, "bridges-node")[0].findall(f"{NS}circle")[-1]
    assert float(first.get("cx")) == pytest.approx(0, abs=0.1)  # at the top
    assert float(first.get("cy")) < 0


def test_bridges_description_summarises_the_network():
    members = [Member(i, f"Lid {i}") for i in range(1, 16)]
    visits = [(v, h) for v in range(1, 13) for h in (13, 14)]  # 12 visitors, 2 hosts
    edges = [Edge(v, h, 1, DAY) for v, h in visits[:23]]
    root = parse(bridges_svg(members, edges, title="t"))
    desc = root.find(f"{NS}desc").text
    assert desc.startswith("12 of 15 members have visited at least one other; 23 connections.")
    assert "from the visiting member to the host" in desc
    one = parse(bridges_svg(members, edges[:1], title="t")).find(f"{NS}desc").text
    assert one.startswith("1 of 15 members have visited at least one other; 1 connection.")


def test_bridges_a_pair_that_visited_each_other_is_one_connection_with_two_arrows():
    members = [Member(1, "A"), Member(2, "B")]
    svg = bridges_svg(members, [Edge(1, 2, 1, DAY), Edge(2, 1, 3, DAY)], title="t")
    root = parse(svg)
    assert "1 connection." in root.find(f"{NS}desc").text
    lines = [g.findall(f"{NS}path")[0].get("d") for g in groups(root, "bridges-edge")]
    assert len(set(lines)) == 2  # bent to either side, not on top of each other


def test_bridges_thicker_line_for_more_visits():
    members = [Member(i, f"M{i}") for i in range(1, 5)]
    edges = [Edge(1, 2, 1, DAY), Edge(3, 4, 6, DAY), Edge(2, 3, 3, DAY)]
    root = parse(bridges_svg(members, edges, title="t"))
    widths = {
        title_of(g): float(g.findall(f"{NS}path")[0].get("stroke-width"))
        for g in groups(root, "bridges-edge")
    }
    assert widths["M1 visited M2: once"] < widths["M2 visited M3: 3 times"]
    assert widths["M2 visited M3: 3 times"] < widths["M3 visited M4: 6 times"]


def test_bridges_leaves_out_edges_of_facilities_that_are_not_members():
    members = [Member(1, "A"), Member(2, "B")]
    edges = [Edge(1, 2, 1, DAY), Edge(1, 99, 4, DAY), Edge(99, 2, 1, DAY)]
    root = parse(bridges_svg(members, edges, title="t"))
    assert len(groups(root, "bridges-edge")) == 1
    assert len(groups(root, "bridges-node")) == 2


def test_bridges_ring_shows_the_share_visited_and_an_open_circle_an_isolated_member():
    members = [Member(i, f"M{i}") for i in range(1, 6)]
    edges = [Edge(1, h, 1, DAY) for h in (2, 3, 4, 5)] + [Edge(2, 3, 1, DAY)]
    members.append(Member(6, "Alone"))
    root = parse(bridges_svg(members, edges, title="t"))
    nodes = {title_of(g).split(":")[0]: g for g in groups(root, "bridges-node")}

    def ring(name: str) -> ET.Element | None:
        found = [
            c
            for c in nodes[name].findall(f"{NS}circle")
            if c.get("stroke") == "#0b6e69" and c.get("fill") == "none"
        ]
        return found[0] if found else None

    # M1 visited 4 of 5 others: the ring is 4/5 full.
    dash = ring("M1").get("stroke-dasharray").split()
    assert float(dash[0]) / float(dash[1]) == pytest.approx(4 / 5, abs=0.01)
    assert ring("M3") is None  # visited nobody (but was visited)
    alone = nodes["Alone"].findall(f"{NS}circle")[-1]
    assert alone.get("fill") == "#ffffff"  # open: no visit either way
    assert nodes["M3"].findall(f"{NS}circle")[-1].get("fill") == "#08524e"
    assert "open circle: no visits yet, either way" in texts(root)
    assert "visited 0 of 5 other members; 0 other members came" in title_of(nodes["Alone"])


def test_bridges_legend_only_explains_what_is_shown():
    members = [Member(1, "A"), Member(2, "B")]
    shown = texts(parse(bridges_svg(members, [Edge(1, 2, 1, DAY)], title="t")))
    assert BRIDGES_LABELS["legend_direction"] in shown
    assert BRIDGES_LABELS["legend_isolated"] not in shown
    quiet = bridges_svg(members, [], title="t", labels={"legend_ring": ""})
    assert texts(parse(quiet)) == ["A", "B", BRIDGES_LABELS["legend_isolated"]]


def test_bridges_names_that_start_alike_are_shortened_in_the_middle():
    members = [Member(1, "Kinderdagverblijf De Boomhut"), Member(2, "Kinderdagverblijf Het Rupsje")]
    assert texts(parse(bridges_svg(members, [], title="t")))[:2] == [
        "Kinderda… De Boomhut",
        "Kinderda… Het Rupsje",
    ]


def test_bridges_long_names_are_shortened_with_an_ellipsis():
    long_name = "Kinderdagverblijf De Heel Lange Naam Van Sint-Amandsberg"
    members = [Member(1, long_name), Member(2, "Kort")]
    root = parse(bridges_svg(members, [], title="t"))
    label = texts(root)[0]
    assert label.endswith("…")
    assert len(label) < len(long_name)
    assert long_name.startswith(label[:-1])
    assert title_of(groups(root, "bridges-node")[0]).startswith(long_name + ":")


@pytest.mark.parametrize("n", [2, 3, 15, 24, 25, 40, 60])
def test_bridges_scales_from_a_few_to_sixty_members(n):
    members, edges = network(n)
    svg = bridges_svg(members, edges, title="t")
    root = assert_safe_and_accessible(svg, "t")
    assert len(groups(root, "bridges-node")) == n
    # Every label lies inside the viewBox (horizontal labels: by their anchor point).
    x0, y0, w, h = map(float, root.get("viewBox").split())
    for text in root.iter(f"{NS}text"):
        assert x0 <= float(text.get("x")) <= x0 + w
        assert y0 <= float(text.get("y")) <= y0 + h


def test_bridges_labels_of_neighbours_do_not_collide_when_upright():
    # With upright labels, neighbouring labels are on different lines or sides.
    members, edges = network(15)
    root = parse(bridges_svg(members, edges, title="t"))
    (nodes,) = groups(root, "bridges-nodes")
    labels = list(nodes.iter(f"{NS}text"))
    assert len(labels) == 15
    assert all(t.get("transform") is None for t in labels)
    boxes = []
    for t in labels:
        x, y, width = float(t.get("x")), float(t.get("y")), text_width(t.text, 15)
        left = {"start": x, "end": x - width, "middle": x - width / 2}[t.get("text-anchor")]
        boxes.append((left, y - 12, left + width, y + 3))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def test_bridges_sixty_members_use_labels_along_the_radius():
    members, edges = network(60)
    root = parse(bridges_svg(members, edges, title="t"))
    rotated = [t for t in root.iter(f"{NS}text") if (t.get("transform") or "").startswith("rotate")]
    assert len(rotated) == 60
    # On the left half the text is turned around so that it never reads upside down.
    for t in rotated:
        angle = float(t.get("transform")[len("rotate(") :].split()[0])
        assert -90 <= angle <= 90


def test_bridges_with_translated_words():
    labels = {
        "summary": "{visited} van de {total} leden bezochten al een ander lid; "
        "{pairs} verbindingen.",
        "summary_one": "{visited} van de {total} leden bezochten al een ander lid; 1 verbinding.",
        "reading": "",
        "edge_title": "{visitor} bezocht {host} {visits} keer",
        "edge_title_one": "{visitor} bezocht {host} één keer",
        "node_title": "{name}: bezocht {visited} van de {of} andere leden",
        "legend_direction": "bezoeker → gastvoorziening",
    }
    members = [Member(1, "A"), Member(2, "B"), Member(3, "C")]
    svg = bridges_svg(members, [Edge(1, 2, 1, DAY)], title="Wie bezocht wie", labels=labels)
    root = parse(svg)
    assert (
        root.find(f"{NS}desc").text == "1 van de 3 leden bezochten al een ander lid; 1 verbinding."
    )
    assert title_of(groups(root, "bridges-edge")[0]) == "A bezocht B één keer"
    assert "bezoeker → gastvoorziening" in texts(root)
    # A translator's typo in a placeholder does not break the page.
    broken = bridges_svg(members, [], title="t", labels={"summary": "{oops} leden"})
    assert parse(broken).find(f"{NS}desc").text == "{oops} leden"


def test_bridges_without_members():
    svg = bridges_svg([], [], title="Nog leeg")
    root = assert_safe_and_accessible(svg, "Nog leeg")
    assert texts(root) == ["No members yet."]


def test_bridges_ids_are_deterministic_and_differ_between_pictures():
    members, edges = network(5)
    one = bridges_svg(members, edges, title="t")
    assert one == bridges_svg(list(reversed(members)), edges, title="t")
    other = bridges_svg(members, edges[:2], title="t")
    assert parse(one).get("aria-labelledby") != parse(other).get("aria-labelledby")
    fixed = bridges_svg(members, edges, title="t", id_prefix="net-7")
    assert parse(fixed).get("aria-labelledby") == "net-7-title net-7-desc"


def test_bridges_svg_from_computed_bridges():
    members = [Member(1, TRICKY), Member(2, "B"), Member(3, "C")]
    sessions = [
        HeldSession(1, DAY, 1, frozenset({1, 2, 3})),
        HeldSession(2, DAY, 2, frozenset({1})),
    ]
    result = bridges(members, sessions)
    root = parse(bridges_svg(members, result.edges, title="t"))
    assert len(groups(root, "bridges-edge")) == len(result.edges) == 3
    assert root.find(f"{NS}desc").text.startswith(
        f"3 of 3 members have visited at least one other; {result.pairs_total} connections."
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=8))
def test_bridges_any_names_give_well_formed_svg(names):
    members = [Member(i, name) for i, name in enumerate(names, start=1)]
    edges = [Edge(i, i + 1, i, DAY) for i in range(1, len(names))]
    root = parse(bridges_svg(members, edges, title=names[0]))
    node_titles = sorted(title_of(g) for g in groups(root, "bridges-node"))
    for name in names:
        assert any(t.startswith(clean(name) + ":") for t in node_titles)
    assert "style=" not in ET.tostring(root, encoding="unicode")


# ------------------------------------------------------------------------ bar chart


BARS = [
    ("di 8 sep.", 12, "bij Zonnestraal"),
    ("di 13 okt.", 6, ""),
    ("di 10 nov.", 18, f"bij {TRICKY}"),
]


def test_bar_chart_draws_one_bar_per_row_with_title_and_value():
    svg = bar_chart_svg(BARS, title="Aanwezigheid per bijeenkomst", unit="deelnemers")
    root = assert_safe_and_accessible(svg, "Aanwezigheid per bijeenkomst")
    bars = groups(root, "bar")
    assert len(bars) == 3
    assert [title_of(b) for b in bars] == [
        "di 8 sep.: 12 deelnemers (bij Zonnestraal)",
        "di 13 okt.: 6 deelnemers",
        f"di 10 nov.: 18 deelnemers (bij {TRICKY})",
    ]
    shown = texts(root)
    for value in ("12 deelnemers", "6 deelnemers", "18 deelnemers"):
        assert value in shown
    assert "&lt;Co&gt;" in svg and "<Co>" not in svg
    desc = root.find(f"{NS}desc").text
    assert desc == "; ".join(title_of(b) for b in bars)


def value_widths(svg: str) -> list[float]:
    root = parse(svg)
    widths = []
    for bar in groups(root, "bar"):
        filled = [r for r in bar.findall(f"{NS}rect") if r.get("fill") == "#0b6e69"]
        widths.append(float(filled[0].get("width")) if filled else 0.0)
    return widths


def track_width(svg: str) -> float:
    rect = groups(parse(svg), "bar")[0].find(f"{NS}rect")
    return float(rect.get("width"))


def test_bar_chart_scales_to_the_largest_value_or_to_max_value():
    svg = bar_chart_svg(BARS, title="t")
    track = track_width(svg)
    assert value_widths(svg) == pytest.approx([track * 12 / 18, track * 6 / 18, track], abs=0.1)
    capped = bar_chart_svg(BARS, title="t", max_value=12)
    track = track_width(capped)
    assert value_widths(capped) == pytest.approx([track, track / 2, track], abs=0.1)
    assert "18" in texts(parse(capped))  # the real value, even when the bar is full
    wide = bar_chart_svg(BARS, title="t", max_value=36)
    assert value_widths(wide)[2] == pytest.approx(track_width(wide) / 2, abs=0.1)


def test_bar_chart_zero_values():
    svg = bar_chart_svg([("a", 0, ""), ("b", 0, "")], title="t", unit="%")
    root = assert_safe_and_accessible(svg, "t")
    assert value_widths(svg) == [0.0, 0.0]
    assert "0%" in texts(root)


def test_bar_chart_without_bars():
    svg = bar_chart_svg([], title="Nog geen bijeenkomsten", desc="Nog geen gegevens.")
    root = assert_safe_and_accessible(svg, "Nog geen bijeenkomsten")
    assert groups(root, "bar") == []


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf])
def test_bar_chart_refuses_impossible_values(bad):
    with pytest.raises(ValueError):
        bar_chart_svg([("a", bad, "")], title="t")
    with pytest.raises(ValueError):
        bar_chart_svg([("a", 1, "")], title="t", max_value=bad)


def test_bar_chart_value_format_and_long_labels():
    long_label = "Netwerkbijeenkomst over taalstimulering bij baby's en peuters in de opvang"
    svg = bar_chart_svg(
        [(long_label, 0.5, "")],
        title="t",
        unit="%",
        value_format=lambda v: f"{v * 100:.0f}".replace(".", ","),
    )
    root = parse(svg)
    label = texts(root)[0]
    assert label.endswith("…") and long_label.startswith(label[:-1])
    assert title_of(groups(root, "bar")[0]) == f"{long_label}: 50%"
    assert "50%" in texts(root)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.text(max_size=30), st.floats(0, 1e6), st.text(max_size=30)), max_size=12)
)
def test_bar_chart_any_input_gives_well_formed_svg(bars):
    root = parse(bar_chart_svg(bars, title="t"))
    assert len(groups(root, "bar")) == len(bars)


# -------------------------------------------------------------------------- helpers


def test_text_helpers():
    assert clean("  a\x00b \n\t c\x1f ") == "ab c"
    assert shorten("Zonnestraal", 20) == "Zonnestraal"
    assert shorten("Kinderdagverblijf Zonnestraal", 12) == "Kinderdagve…"
    assert shorten("De Kleine, Wereld", 11) == "De Kleine…"
    # In the middle: names that start alike stay apart; whole words from the end.
    assert shorten("Kinderdagverblijf De Boomhut", 20, middle=True) == "Kinderda… De Boomhut"
    assert shorten("Kinderdagverblijf Zonnestraal", 20, middle=True) == "Kinderd… Zonnestraal"
    assert shorten("Kabouterhuis Sint-Amandsberg", 20, middle=True) == "Kabouterhuis Sint-A…"
    assert len(fit("Kinderdagverblijf Zonnestraal", 60, 15)) < 12
    assert text_width(fit("Kinderdagverblijf Zonnestraal", 60, 15), 15) <= 60
    assert format_value(12.0) == "12"
    assert format_value(12.5) == "12.5"
    assert format_value(1 / 3) == "0.33"
    assert with_unit("12", "deelnemers") == "12 deelnemers"
    assert with_unit("85", "%") == "85%"
    assert with_unit("3", "") == "3"
