"""Export stage: selections of the graph → files for Gephi, yEd, Cytoscape, Graphviz, browsers.

Pipeline::

    select.py   a region, a which-rule explanation, the ontology, a CONSTRUCT query → triples
    graph.py    triples → networkx MultiDiGraph (to_networkx), cropped by --depth/--limit
    exchange.py GraphML, GEXF           (yEd, Cytoscape desktop, Gephi)
    drawing.py  DOT, SVG, PNG           (Graphviz, CJK font)
    jsondata.py node-link JSON, Cytoscape.js JSON
    page.py     a self-contained interactive HTML page

Formats are a plain registry (name → writer); writers take the graph, a binary stream and
``lang``/``layout`` options. The attribute schema is documented in docs/export.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import networkx as nx
import pyoxigraph as ox

from kg.export.graph import crop, legend, to_networkx
from kg.export.select import Selection

__all__ = [
    "FORMATS",
    "Format",
    "Selection",
    "crop",
    "format_for",
    "graph_of",
    "legend",
    "to_networkx",
    "write",
]


@dataclass(frozen=True)
class Format:
    name: str
    writer: str  # "module:function"
    suffixes: tuple[str, ...]
    description: str
    text: bool = True  # may be written to a terminal

    def load(self) -> Callable[..., None]:
        module, attr = self.writer.split(":")
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "graphml",
            "kg.export.exchange:write_graphml",
            (".graphml",),
            "GraphML (yEd, Cytoscape, networkx)",
        ),
        Format(
            "gexf",
            "kg.export.exchange:write_gexf",
            (".gexf",),
            "GEXF 1.2 with validity as start/end (Gephi timeline)",
        ),
        Format("dot", "kg.export.drawing:write_dot", (".dot", ".gv"), "Graphviz DOT source"),
        Format("svg", "kg.export.drawing:write_svg", (".svg",), "SVG drawn by Graphviz"),
        Format(
            "png", "kg.export.drawing:write_png", (".png",), "PNG drawn by Graphviz", text=False
        ),
        Format("json", "kg.export.jsondata:write_node_link", (".json",), "networkx node-link JSON"),
        Format(
            "cyjs",
            "kg.export.jsondata:write_cytoscape",
            (".cyjs",),
            "Cytoscape.js JSON (Cytoscape desktop, Cytoscape.js)",
        ),
        Format(
            "html",
            "kg.export.page:write_html",
            (".html", ".htm"),
            "self-contained interactive HTML page (offline)",
        ),
    )
}


def format_for(path: str | Path) -> str | None:
    """The format a file name implies by its suffix (``x.graphml`` → ``graphml``)."""
    suffix = Path(path).suffix.lower()
    return next((f.name for f in FORMATS.values() if suffix in f.suffixes), None)


def graph_of(
    selection: Selection,
    *,
    store: ox.Store | None = None,
    lang: str = "zh",
    depth: int | None = None,
    limit: int | None = None,
) -> tuple[nx.MultiDiGraph, int]:
    """The graph of a selection, cropped; and how many nodes the crop left out.

    ``store`` names the nodes the selection points to without describing them.
    """
    from kg.export import select, style
    from kg.export.graph import normalise_attributes

    describe = select.labels(store) if store is not None else None
    graph = to_networkx(
        selection.triples,
        lang=lang,
        describe=describe,
        name=selection.title_in(lang),
        selection=selection.name,
    )
    for node, attrs in selection.nodes.items():
        if node not in graph:
            graph.add_node(node)
        graph.nodes[node].update(attrs)
    for u, v, key, attrs in selection.edges:
        graph.add_edge(u, v, key=key, **attrs)
    if selection.nodes or selection.edges:
        normalise_attributes(graph)
        style.assign_colours(graph)
    graph, dropped = crop(graph, selection.seeds, depth, limit)
    if selection.truncated:
        graph.graph["truncated"] = True
    return graph, dropped


def write(graph: nx.MultiDiGraph, fmt: str, out: IO[bytes], **options: Any) -> None:
    """Write a graph in a format of :data:`FORMATS` to a binary stream."""
    FORMATS[fmt].load()(graph, out, **options)
