"""Small server-side SVG pictures: the bridges between members, and bar charts.

Pure: plain values in, a string out; no Flask, no JavaScript, no CDN.

The pictures are meant to sit inline in an HTML page under a strict Content Security
Policy (``style-src 'self'``): they use SVG presentation attributes (``fill=``,
``stroke=``, ``font-size=``) and never a ``style`` attribute or element, and no script.
The root ``<svg>`` has a ``viewBox`` and ``width="100%"`` and no fixed size, so it
scales to its container (limit it with CSS, e.g. ``.chart { max-width: 40rem }``).
For assistive technology each picture is one image (``role="img"``), named by its
``<title>`` and described by its ``<desc>``; each node, edge and bar has its own
``<title>`` for a tooltip on hover. Classes (``bridges-edge``, ``bridges-node``,
``bar``) are hooks for the site's stylesheet (e.g. a hover highlight).

Wording is passed in by the caller (already translated); English defaults are in
:data:`BRIDGES_LABELS`. Every text is escaped, and characters XML cannot hold are
dropped, so any facility name is safe.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from learnnet.attendance.bridges import Edge, Member

# The palette of static/css/app.css.
ACCENT = "#0b6e69"  # edges, bars
ACCENT_DARK = "#08524e"  # nodes
ACCENT_SOFT = "#e3f1ef"  # bar track
INK = "#1f2a2a"  # names, values
MUTED = "#586565"  # secondary text (5.9:1 on the warm background)
LINE = "#d6cec3"  # the empty part of a ring
WHITE = "#ffffff"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

ELLIPSIS = "…"

BRIDGES_LABELS: dict[str, str] = {
    # {visited}: members that visited at least one other; {total}: members;
    # {pairs}: pairs of members that have met at one of their places; {edges}: arrows.
    "summary": "{visited} of {total} members have visited at least one other; {pairs} connections.",
    "summary_one": "{visited} of {total} members have visited at least one other; 1 connection.",
    "reading": "Each line runs from the visiting member to the host; "
    "a thicker line means more visits.",
    "node_title": "{name}: visited {visited} of {of} other members; "
    "{visitors} other members came to visit.",
    "edge_title": "{visitor} visited {host}: {visits} times",
    "edge_title_one": "{visitor} visited {host}: once",
    "legend_direction": "visitor → host; thicker = more visits",
    "legend_ring": "ring: share of the other members visited",
    "legend_isolated": "open circle: no visits yet, either way",
    "empty": "No members yet.",
}

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_SPACES = re.compile(r"\s+")


# ---------------------------------------------------------------------------- text


def clean(text: str) -> str:
    """``text`` without characters XML 1.0 cannot hold, whitespace collapsed."""
    return _SPACES.sub(" ", _INVALID_XML.sub("", str(text))).strip()


def esc(text: str) -> str:
    """``text`` cleaned and escaped for an XML attribute or element."""
    return html.escape(clean(text), quote=True)


def shorten(text: str, max_chars: int, *, middle: bool = False) -> str:
    """``text`` cut to at most ``max_chars`` characters, with an ellipsis where it was cut.

    ``middle`` keeps the beginning and the end ("Kinderdag… De Boomhut"): facility names
    often start alike ("Kinderdagverblijf …") and differ at the end.
    """
    text = clean(text)
    if len(text) <= max_chars:
        return text
    keep = max(max_chars - 1, 1)
    if middle and keep >= 10:
        # Whole words from the end, up to 60% of the room; the rest from the beginning.
        words = text.split(" ")
        tail = ""
        while len(words) > 1 and len(" ".join([words[-1], tail]).strip()) <= keep * 0.6:
            tail = " ".join([words.pop(), tail]).strip()
        if tail:
            head = text[: keep - len(tail) - 1].rstrip(" ,.-·")
            return f"{head}{ELLIPSIS} {tail}"
    return text[:keep].rstrip(" ,.-·") + ELLIPSIS


_NARROW = set("iljtfrI.,:;'!|()[] ")
_WIDE = set("mwMW@%")


def fit(text: str, width: float, font_size: float) -> str:
    """``text`` shortened with an ellipsis until it is (roughly) at most ``width`` wide."""
    text = clean(text)
    if text_width(text, font_size) <= width:
        return text
    for length in range(len(text) - 1, 0, -1):
        short = shorten(text, length)
        if text_width(short, font_size) <= width:
            return short
    return ""


def text_width(text: str, font_size: float) -> float:
    """A rough estimate of the rendered width of ``text`` in a sans-serif font."""
    units = 0.0
    for ch in text:
        if ch in _NARROW:
            units += 0.34
        elif ch in _WIDE:
            units += 0.92
        elif ch.isupper() or ch.isdigit():
            units += 0.70
        else:
            units += 0.60
    return units * font_size


def num(x: float) -> str:
    """A coordinate: at most one decimal, no ``-0``."""
    s = f"{x:.1f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def format_value(value: float) -> str:
    """A value as people read it: ``12``, ``12.5``, ``0.25``."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def with_unit(value: str, unit: str) -> str:
    """``12 people``, ``85%``: a space before a word, none before a sign."""
    unit = clean(unit)
    if not unit:
        return value
    return f"{value} {unit}" if unit[0].isalnum() else f"{value}{unit}"


def _id_prefix(kind: str, *parts: object) -> str:
    """A deterministic id prefix, different for different pictures on one page."""
    digest = hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{kind}-{digest}"


def _root(view_box: tuple[float, float, float, float], prefix: str, css_class: str) -> str:
    x, y, w, h = view_box
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" '
        f'viewBox="{num(x)} {num(y)} {num(w)} {num(h)}" width="100%" '
        f'role="img" aria-labelledby="{prefix}-title {prefix}-desc" '
        f'font-family="{esc(FONT)}">'
    )


def _pick(labels: Mapping[str, str], key: str, count: int) -> str:
    if count == 1 and f"{key}_one" in labels:
        return labels[f"{key}_one"]
    return labels[key]


def _fill(template: str, **values: object) -> str:
    """``template.format(**values)``, tolerant of a translator's typo."""
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


# ------------------------------------------------------------------------- bridges


@dataclass(frozen=True)
class _Node:
    member: Member
    x: float
    y: float
    angle: float  # radians, 0 = to the right, clockwise (SVG y points down)
    visited: int
    visitors: int


@dataclass(frozen=True)
class _Label:
    text: str
    x: float
    y: float
    anchor: str
    rotate: float | None  # degrees around (x, y) for a label along the radius


def _sizes(n: int) -> tuple[float, float, int]:
    """Font size, node radius and maximum label length for ``n`` members."""
    if n <= 16:
        return 15.0, 8.0, 20
    if n <= 32:
        return 13.0, 7.0, 22
    return 11.5, 5.5, 24


def _horizontal_labels(
    nodes: Sequence[_Node], texts: Sequence[str], gap: float, font: float
) -> list[_Label] | None:
    """Upright labels just outside the circle, or ``None`` when two would overlap."""
    labels: list[_Label] = []
    boxes: list[tuple[float, float, float, float]] = []
    for node, text in zip(nodes, texts, strict=True):
        c, s = math.cos(node.angle), math.sin(node.angle)
        width = text_width(text, font)
        x = node.x + c * gap
        y = node.y + s * gap
        if c > 0.12:
            anchor, left = "start", x
        elif c < -0.12:
            anchor, left = "end", x - width
        else:
            anchor, left = "middle", x - width / 2
            y += s * font * 0.55
        baseline = y + font * 0.35
        boxes.append((left, baseline - font * 0.95, left + width, baseline + font * 0.3))
        labels.append(_Label(text, x, baseline, anchor, None))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                return None
    return labels


def _radial_labels(nodes: Sequence[_Node], texts: Sequence[str], gap: float) -> list[_Label]:
    """Labels along the radius, never upside down: on the left half they are turned."""
    labels = []
    for node, text in zip(nodes, texts, strict=True):
        c, s = math.cos(node.angle), math.sin(node.angle)
        x, y = node.x + c * gap, node.y + s * gap
        degrees = math.degrees(node.angle)
        anchor = "start"
        if c < -1e-9:
            anchor, degrees = "end", degrees + 180
        degrees = (degrees + 180) % 360 - 180
        labels.append(_Label(text, x, y, anchor, degrees))
    return labels


def _label_box(label: _Label, font: float) -> tuple[float, float, float, float]:
    """The label's bounding box (min x, min y, max x, max y), roughly."""
    width = text_width(label.text, font)
    if label.rotate is None:
        left = {"start": label.x, "end": label.x - width, "middle": label.x - width / 2}
        x0 = left[label.anchor]
        return (x0, label.y - font, x0 + width, label.y + font * 0.3)
    rad = math.radians(label.rotate)
    direction = 1 if label.anchor == "start" else -1
    ex = label.x + direction * width * math.cos(rad)
    ey = label.y + direction * width * math.sin(rad)
    pad = font * 0.6
    return (
        min(label.x, ex) - pad,
        min(label.y, ey) - pad,
        max(label.x, ex) + pad,
        max(label.y, ey) + pad,
    )


Point = tuple[float, float]


def _toward(p: Point, q: Point, distance: float) -> Point:
    """The point ``distance`` from ``p`` in the direction of ``q``."""
    dx, dy = q[0] - p[0], q[1] - p[1]
    length = math.hypot(dx, dy) or 1.0
    return (p[0] + dx / length * distance, p[1] + dy / length * distance)


def bridges_svg(
    members: Sequence[Member],
    edges: Sequence[Edge],
    *,
    title: str,
    labels: dict[str, str] | None = None,
    id_prefix: str | None = None,
) -> str:
    """The members on a circle, an arrow from visitor to host for every :class:`Edge`.

    Members are placed clockwise from the top, sorted by name. An arrow is thicker with
    more visits; two members that visited each other get two gently bent arrows, one on
    each side. The ring around a member shows the share of the other members it has
    visited; an open circle is a member without any visit, either way. Long names are
    shortened with an ellipsis in the middle; the full name is in the node's ``<title>``.

    ``labels`` overrides any of :data:`BRIDGES_LABELS` (translated wording); an empty
    legend text leaves that legend line out. Edges to or from a facility not in
    ``members`` are left out. ``id_prefix`` makes the ids of ``<title>`` and ``<desc>``
    unique on a page; by default it is derived from the content.
    """
    words = {**BRIDGES_LABELS, **(labels or {})}
    ordered = sorted(members, key=lambda m: (clean(m.name).casefold(), m.name, m.id))
    by_id = {m.id: m for m in ordered}
    shown = [e for e in edges if e.visitor_id in by_id and e.host_id in by_id]
    shown = [e for e in shown if e.visitor_id != e.host_id]
    prefix = id_prefix or _id_prefix(
        "bridges",
        title,
        [(m.id, m.name) for m in ordered],
        [(e.visitor_id, e.host_id, e.visits) for e in shown],
    )

    visited: dict[int, set[int]] = {m.id: set() for m in ordered}
    visitors: dict[int, set[int]] = {m.id: set() for m in ordered}
    pairs: set[frozenset[int]] = set()
    for e in shown:
        visited[e.visitor_id].add(e.host_id)
        visitors[e.host_id].add(e.visitor_id)
        pairs.add(frozenset((e.visitor_id, e.host_id)))

    n = len(ordered)
    n_visited = sum(1 for m in ordered if visited[m.id])
    summary = _fill(
        _pick(words, "summary", len(pairs)),
        visited=n_visited,
        total=n,
        pairs=len(pairs),
        edges=len(shown),
    )
    description = f"{summary} {words['reading']}".strip() if shown else summary

    if n == 0:
        out = [
            _root((0, 0, 320, 60), prefix, "bridges-svg"),
            f'<title id="{prefix}-title">{esc(title)}</title>',
            f'<desc id="{prefix}-desc">{esc(words["empty"])}</desc>',
            f'<text x="160" y="36" text-anchor="middle" font-size="15" fill="{MUTED}">'
            f"{esc(words['empty'])}</text>",
            "</svg>",
        ]
        return "".join(out)

    font, node_r, max_chars = _sizes(n)
    ring_w = 3.0
    ring_r = node_r + 1.5 + ring_w
    texts = [shorten(m.name, max_chars, middle=True) for m in ordered]
    gap = ring_r + ring_w + 5

    # Upright labels read best; when they would collide, labels along the radius.
    placed: list[_Label] | None = None
    min_radius = max(120.0, n * font * 1.45 / (2 * math.pi))
    for radius in [min_radius + 20 * k for k in range(6)] if n <= 24 else []:
        nodes = _place(ordered, radius, visited, visitors)
        placed = _horizontal_labels(nodes, texts, gap, font)
        if placed is not None:
            break
    else:
        radius = max(min_radius, n * 4.2)
        nodes = _place(ordered, radius, visited, visitors)
        placed = _radial_labels(nodes, texts, gap)

    # The picture's extent: nodes and labels, then the legend below.
    boxes = [_label_box(label, font) for label in placed]
    boxes.append((-radius - gap, -radius - gap, radius + gap, radius + gap))
    min_x = min(b[0] for b in boxes) - 8
    max_x = max(b[2] for b in boxes) + 8
    min_y = min(b[1] for b in boxes) - 8
    max_y = max(b[3] for b in boxes) + 8

    # Only the legend lines for what the picture shows.
    legend_keys = []
    if shown:
        legend_keys.append("legend_direction")
    if n > 1:
        legend_keys.append("legend_ring")
    if any(not (visited[m.id] or visitors[m.id]) for m in ordered):
        legend_keys.append("legend_isolated")
    legend = [(key, clean(words.get(key, ""))) for key in legend_keys]
    legend = [(key, text) for key, text in legend if text]
    legend_font = max(font - 1, 11.0)
    legend_line = legend_font * 1.9
    legend_top = max_y + 6
    if legend:
        widest = max(text_width(text, legend_font) for _, text in legend) + 44
        if widest > max_x - min_x:
            grow = (widest - (max_x - min_x)) / 2
            min_x, max_x = min_x - grow, max_x + grow
        max_y = legend_top + legend_line * len(legend) + 4

    # Many arrows: fainter and thinner, so that the picture stays a picture.
    max_visits = max((e.visits for e in shown), default=1)
    crowd = min(1.0, math.sqrt(40 / len(shown))) if shown else 1.0
    opacity = max(0.3, 0.66 * crowd)
    thin, thick = 1.1 + 0.5 * crowd, 3.0 + 2.0 * crowd

    def stroke_width(visits: int) -> float:
        if max_visits <= 1:
            return thin + 0.3
        return thin + (thick - thin) * math.sqrt((visits - 1) / (max_visits - 1))

    out = [
        _root((min_x, min_y, max_x - min_x, max_y - min_y), prefix, "bridges-svg"),
        f'<title id="{prefix}-title">{esc(title)}</title>',
        f'<desc id="{prefix}-desc">{esc(description)}</desc>',
    ]

    # Edges: thin ones first, so the strong bridges lie on top.
    pos = {node.member.id: node for node in nodes}
    out.append(f'<g class="bridges-edges" fill="none" stroke="{ACCENT}" stroke-linecap="round">')
    for e in sorted(
        shown,
        key=lambda e: (
            e.visits,
            clean(by_id[e.visitor_id].name).casefold(),
            e.visitor_id,
            e.host_id,
        ),
    ):
        out.append(
            _edge(e, pos, by_id, stroke_width(e.visits), ring_r + ring_w / 2, opacity, words)
        )
    out.append("</g>")

    # Nodes with their rings and labels.
    out.append(f'<g class="bridges-nodes" font-size="{num(font)}">')
    for node, label in zip(nodes, placed, strict=True):
        out.append(_node(node, label, n - 1, node_r, ring_r, ring_w, words))
    out.append("</g>")

    if legend:
        out.append(_bridges_legend(legend, min_x + 10, legend_top, legend_font, legend_line))
    out.append("</svg>")
    return "".join(out)


def _place(
    ordered: Sequence[Member],
    radius: float,
    visited: Mapping[int, set[int]],
    visitors: Mapping[int, set[int]],
) -> list[_Node]:
    n = len(ordered)
    nodes = []
    for i, member in enumerate(ordered):
        angle = -math.pi / 2 + 2 * math.pi * i / n
        nodes.append(
            _Node(
                member=member,
                x=radius * math.cos(angle),
                y=radius * math.sin(angle),
                angle=angle,
                visited=len(visited[member.id]),
                visitors=len(visitors[member.id]),
            )
        )
    return nodes


def _edge(
    e: Edge,
    pos: Mapping[int, _Node],
    by_id: Mapping[int, Member],
    width: float,
    clearance: float,
    opacity: float,
    words: Mapping[str, str],
) -> str:
    a, b = pos[e.visitor_id], pos[e.host_id]
    p0, p1 = (a.x, a.y), (b.x, b.y)
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    length = math.hypot(dx, dy) or 1.0
    # Bend towards the centre (a calmer picture than straight chords) and to the right
    # of the direction of travel, so that A -> B and B -> A lie side by side.
    mid = ((p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2)
    px, py = -dy / length, dx / length
    from_centre = math.hypot(*mid) or 1.0
    pull = min(0.18 * length, 0.3 * from_centre) / from_centre
    control = (
        mid[0] * (1 - pull) + px * length * 0.1,
        mid[1] * (1 - pull) + py * length * 0.1,
    )
    start = _toward(p0, control, clearance + 1.5)
    tip = _toward(p1, control, clearance + 1.5)
    head_len = 5.0 + width * 1.6
    head_half = 2.8 + width * 0.9
    ux, uy = tip[0] - control[0], tip[1] - control[1]
    ul = math.hypot(ux, uy) or 1.0
    ux, uy = ux / ul, uy / ul
    base = (tip[0] - ux * head_len, tip[1] - uy * head_len)
    line_end = (tip[0] - ux * head_len * 0.6, tip[1] - uy * head_len * 0.6)
    left = (base[0] - uy * head_half, base[1] + ux * head_half)
    right = (base[0] + uy * head_half, base[1] - ux * head_half)
    hint = _fill(
        _pick(words, "edge_title", e.visits),
        visitor=clean(by_id[e.visitor_id].name),
        host=clean(by_id[e.host_id].name),
        visits=e.visits,
        first_day=e.first_day.isoformat(),
    )
    return (
        f'<g class="bridges-edge" stroke-opacity="{opacity:.2f}" '
        f'fill-opacity="{min(opacity + 0.2, 1.0):.2f}">'
        f"<title>{esc(hint)}</title>"
        f'<path d="M{num(start[0])} {num(start[1])} Q{num(control[0])} {num(control[1])} '
        f'{num(line_end[0])} {num(line_end[1])}" stroke-width="{num(width)}"/>'
        f'<path d="M{num(tip[0])} {num(tip[1])} L{num(left[0])} {num(left[1])} '
        f'L{num(right[0])} {num(right[1])}Z" fill="{ACCENT}" stroke="none"/>'
        f"</g>"
    )


def _node(
    node: _Node,
    label: _Label,
    others: int,
    node_r: float,
    ring_r: float,
    ring_w: float,
    words: Mapping[str, str],
) -> str:
    x, y = num(node.x), num(node.y)
    hint = _fill(
        words["node_title"],
        name=clean(node.member.name),
        visited=node.visited,
        of=others,
        visitors=node.visitors,
    )
    parts = [f'<g class="bridges-node"><title>{esc(hint)}</title>']
    circumference = 2 * math.pi * ring_r
    if others:
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="{num(ring_r)}" fill="none" stroke="{LINE}" '
            f'stroke-width="{num(ring_w)}"/>'
        )
    if node.visited and others:
        share = min(node.visited / others, 1.0)
        filled = circumference * share
        dash = "" if share >= 1.0 else f' stroke-dasharray="{filled:.2f} {circumference:.2f}"'
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="{num(ring_r)}" fill="none" stroke="{ACCENT}" '
            f'stroke-width="{num(ring_w)}"{dash} transform="rotate(-90 {x} {y})"/>'
        )
    if node.visited or node.visitors:
        parts.append(f'<circle cx="{x}" cy="{y}" r="{num(node_r)}" fill="{ACCENT_DARK}"/>')
    else:
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="{num(node_r - 1)}" fill="{WHITE}" '
            f'stroke="{ACCENT_DARK}" stroke-width="2"/>'
        )
    turn = ""
    if label.rotate is not None:
        turn = f' dy="0.35em" transform="rotate({num(label.rotate)} {num(label.x)} {num(label.y)})"'
    parts.append(
        f'<text x="{num(label.x)}" y="{num(label.y)}" text-anchor="{label.anchor}" '
        f'fill="{INK}"{turn}>{esc(label.text)}</text>'
    )
    parts.append("</g>")
    return "".join(parts)


def _bridges_legend(
    legend: Iterable[tuple[str, str]], x: float, top: float, font: float, line: float
) -> str:
    parts = [f'<g class="bridges-legend" font-size="{num(font)}" fill="{MUTED}">']
    y = top + line * 0.5
    for key, text in legend:
        if key == "legend_direction":
            parts.append(
                f'<path d="M{num(x)} {num(y)} H{num(x + 18)}" stroke="{ACCENT}" '
                f'stroke-width="2.2" stroke-linecap="round"/>'
                f'<path d="M{num(x + 27)} {num(y)} L{num(x + 17)} {num(y - 5)} '
                f'L{num(x + 17)} {num(y + 5)}Z" fill="{ACCENT}"/>'
            )
        elif key == "legend_ring":
            cx = x + 13
            circumference = 2 * math.pi * 8
            parts.append(
                f'<circle cx="{num(cx)}" cy="{num(y)}" r="8" fill="none" stroke="{LINE}" '
                f'stroke-width="2.6"/>'
                f'<circle cx="{num(cx)}" cy="{num(y)}" r="8" fill="none" stroke="{ACCENT}" '
                f'stroke-width="2.6" stroke-dasharray="{circumference * 0.4:.2f} '
                f'{circumference:.2f}" transform="rotate(-90 {num(cx)} {num(y)})"/>'
                f'<circle cx="{num(cx)}" cy="{num(y)}" r="4.5" fill="{ACCENT_DARK}"/>'
            )
        elif key == "legend_isolated":
            parts.append(
                f'<circle cx="{num(x + 13)}" cy="{num(y)}" r="5" fill="{WHITE}" '
                f'stroke="{ACCENT_DARK}" stroke-width="2"/>'
            )
        parts.append(f'<text x="{num(x + 36)}" y="{num(y)}" dy="0.35em">{esc(text)}</text>')
        y += line
    parts.append("</g>")
    return "".join(parts)


# ----------------------------------------------------------------------- bar chart


def bar_chart_svg(
    bars: Sequence[tuple[str, float, str]],
    *,
    title: str,
    max_value: float | None = None,
    unit: str = "",
    desc: str | None = None,
    value_format: Callable[[float], str] = format_value,
    id_prefix: str | None = None,
) -> str:
    """A horizontal bar chart: one row per ``(label, value, note)``, in the given order.

    Each row shows the label with the note after it (muted), and below it the bar on a
    light track with the value printed at its end. Bars are scaled to ``max_value``
    (default: the largest value); a value above it fills the track and still shows its
    own number. ``unit`` follows each value (``12 people``, ``85%``); ``value_format``
    writes numbers (pass a locale-aware one for decimal commas). ``desc`` is the text
    description; by default it lists every row as ``label: value (note)``.

    Raises ``ValueError`` for a negative or non-finite value or ``max_value``.
    """
    rows = [(clean(label), float(value), clean(note)) for label, value, note in bars]
    for _, value, _ in rows:
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"bar value must be finite and not negative: {value!r}")
    if max_value is not None and (not math.isfinite(max_value) or max_value < 0):
        raise ValueError(f"max_value must be finite and not negative: {max_value!r}")
    top = max_value if max_value else max((v for _, v, _ in rows), default=0.0)
    prefix = id_prefix or _id_prefix("bars", title, rows, max_value, unit)

    shown = [
        (label, value, note, with_unit(value_format(value), unit)) for label, value, note in rows
    ]
    if desc is None:
        desc = "; ".join(
            f"{label}: {value_text}" + (f" ({note})" if note else "")
            for label, _, note, value_text in shown
        )

    width = 360.0
    font, small = 15.0, 13.0
    bar_h = 14.0
    row_h = 50.0
    pad = 4.0
    height = max(row_h * len(shown), 24.0) + pad

    out = [
        _root((0, 0, width, height), prefix, "bar-chart-svg"),
        f'<title id="{prefix}-title">{esc(title)}</title>',
        f'<desc id="{prefix}-desc">{esc(desc)}</desc>',
    ]
    value_room = max((text_width(v, small) * 1.08 for *_, v in shown), default=0.0) + 10
    track = max(width - value_room, width / 2)
    for i, (label, value, note, value_text) in enumerate(shown):
        y = pad + i * row_h
        share = min(value / top, 1.0) if top > 0 else 0.0
        bar_w = track * share
        label_text = fit(label, width - 2, font)
        note_room = width - text_width(label_text, font) - 10
        note_text = fit(note, note_room, small) if note and note_room > 40 else ""
        hint = f"{label}: {value_text}" + (f" ({note})" if note else "")
        baseline = y + font
        bar_y = y + font + 8
        parts = [
            f'<g class="bar"><title>{esc(hint)}</title>',
            f'<text x="0" y="{num(baseline)}" font-size="{num(font)}" fill="{INK}">'
            f"{esc(label_text)}",
        ]
        if note_text:
            parts.append(
                f'<tspan dx="8" font-size="{num(small)}" fill="{MUTED}">{esc(note_text)}</tspan>'
            )
        parts.append("</text>")
        parts.append(
            f'<rect x="0" y="{num(bar_y)}" width="{num(track)}" height="{num(bar_h)}" '
            f'rx="3" fill="{ACCENT_SOFT}"/>'
        )
        if bar_w > 0:
            parts.append(
                f'<rect x="0" y="{num(bar_y)}" width="{num(max(bar_w, 2.0))}" '
                f'height="{num(bar_h)}" rx="3" fill="{ACCENT}"/>'
            )
        parts.append(
            f'<text x="{num(track + 6)}" y="{num(bar_y + bar_h / 2)}" dy="0.35em" '
            f'font-size="{num(small)}" font-weight="600" fill="{INK}">{esc(value_text)}</text>'
        )
        parts.append("</g>")
        out.append("".join(parts))
    out.append("</svg>")
    return "".join(out)
