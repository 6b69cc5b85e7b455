"""Export stage, writers: networkx node-link JSON and Cytoscape.js JSON (``.cyjs``).

Node-link JSON (``nodes``/``edges``, as ``networkx.node_link_data`` writes it) reads back
with ``networkx.node_link_graph(data, edges="edges")``; the Cytoscape.js document
(``elements.nodes``/``elements.edges``, each ``{"data": …}``) opens in Cytoscape desktop and
in Cytoscape.js.
"""

from __future__ import annotations

import json
from typing import IO, Any

import networkx as nx


def node_link(graph: nx.MultiDiGraph) -> dict[str, Any]:
    return nx.node_link_data(graph, edges="edges")  # type: ignore[no-any-return]


def cytoscape(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """Cytoscape.js elements; every node and edge ``data`` carries all its attributes.

    Edge ids are ``e0``, ``e1``… (Cytoscape needs them unique; the predicate is in
    ``predicate``); node ``name`` is its label.
    """
    data = nx.cytoscape_data(graph, name="label", ident="id")
    data["data"] = dict(graph.graph)
    for i, edge in enumerate(data["elements"]["edges"]):
        edge["data"]["id"] = f"e{i}"
    return data  # type: ignore[no-any-return]


def _dump(document: dict[str, Any], out: IO[bytes]) -> None:
    out.write(json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8"))
    out.write(b"\n")


def write_node_link(graph: nx.MultiDiGraph, out: IO[bytes], **_: Any) -> None:
    _dump(node_link(graph), out)


def write_cytoscape(graph: nx.MultiDiGraph, out: IO[bytes], **_: Any) -> None:
    _dump(cytoscape(graph), out)
