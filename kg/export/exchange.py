"""Export stage, writers: GraphML (yEd, Cytoscape desktop) and GEXF (Gephi), via networkx.

Both carry every node and edge attribute of the graph (docs/export.md). Edges get unique ids
(``e0``, ``e1``…; the predicate stays in ``predicate``). GEXF also carries each node's
validity period (``validFrom``/``validUntil``) as its ``start``/``end``, so Gephi's timeline
plays rule changes, and its colour as ``viz:color``.
"""

from __future__ import annotations

from typing import IO, Any

import networkx as nx

from kg.export.graph import validity
from kg.export.style import rgb


def with_edge_ids(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy whose edge keys are unique ids (GraphML and GEXF need unique edge ids)."""
    out = nx.MultiDiGraph(**graph.graph)
    out.add_nodes_from(graph.nodes(data=True))
    for i, (u, v, data) in enumerate(graph.edges(data=True)):
        out.add_edge(u, v, key=f"e{i}", **data)
    return out


def write_graphml(graph: nx.MultiDiGraph, out: IO[bytes], **_: Any) -> None:
    """GraphML with named keys (``<key id="label" …>``), UTF-8."""
    nx.write_graphml(with_edge_ids(graph), out, encoding="utf-8", named_key_ids=True)


def write_gexf(graph: nx.MultiDiGraph, out: IO[bytes], **_: Any) -> None:
    """GEXF 1.2: labels, attributes, colours; validity as node ``start``/``end`` (dates)."""
    copy = with_edge_ids(graph)
    copy.graph = {"name": graph.graph.get("name", "")}
    for _, data in copy.nodes(data=True):
        start, end = validity(data)
        if start:
            data["start"] = start
        if end:
            data["end"] = end
        if data.get("color"):
            r, g, b = rgb(str(data["color"]))
            data["viz"] = {"color": {"r": r, "g": g, "b": b, "a": 1.0}}
    for _, _, data in copy.edges(data=True):
        data.pop("type", None)  # "type" is GEXF's edge direction
    nx.write_gexf(copy, out, encoding="utf-8")
