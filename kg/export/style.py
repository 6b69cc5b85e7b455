"""Export stage: colours by node type, shared by every drawn format (GEXF, DOT, HTML)."""

from __future__ import annotations

import colorsys
from collections import Counter

import networkx as nx

# Tableau 10, then ten colours chosen greedily from Kelly's colours of maximum contrast
# (and a few of Tableau's) to keep every pair at least ΔE 23 apart (CIE76): the light
# Tableau 20 companions put near-twins in one legend (#ff9da7 / #ff9d9a: ΔE 4).
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#cf1c90",
    "#8db600",
    "#6b6ecf",
    "#7f3c8d",
    "#b3446c",
    "#c7e9c0",
    "#a1caf1",
    "#e25822",
    "#c2b280",
    "#637939",
)
UNTYPED = "#cccccc"


def colour(index: int) -> str:
    """The index-th colour: the palette, then evenly spread hues."""
    if index < len(PALETTE):
        return PALETTE[index]
    hue = (index * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.45, 0.85)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def assign_colours(graph: nx.MultiDiGraph) -> dict[str, str]:
    """Set each node's ``color`` by its ``type``, most frequent type first; type → colour."""
    counts = Counter(str(d.get("type", "")) for _, d in graph.nodes(data=True))
    ordered = sorted((t for t in counts if t), key=lambda t: (-counts[t], t))
    colours = {t: colour(i) for i, t in enumerate(ordered)}
    colours[""] = UNTYPED
    for _, data in graph.nodes(data=True):
        data["color"] = colours[str(data.get("type", ""))]
    return colours


def rgb(hex_colour: str) -> tuple[int, int, int]:
    """``#4e79a7`` → ``(78, 121, 167)``."""
    text = hex_colour.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
