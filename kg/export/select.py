"""Export stage, step 1: select the subgraph to draw (the national graph is too big to draw).

Each selection runs named queries (``queries/export_*.rq``) or a user's CONSTRUCT query and
returns a :class:`Selection`: triples, the nodes it is about (seeds for ``--depth`` and
``--limit``), and, for a scenario, the extra nodes and attributes of the explanation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import lookup, query, resources
from kg.errors import InputError, QueryError
from kg.export.graph import node_id


@dataclass
class Selection:
    """A subgraph to export and how it was chosen."""

    kind: str  # region | ontology | query | scenario
    name: str  # e.g. "region 440600": recorded in the exported graph
    title: dict[str, str]  # zh / en
    triples: list[ox.Triple]
    seeds: list[str] = field(default_factory=list)
    # Extra attributes of nodes (created when absent), and extra edges (u, v, key, attributes):
    # what the explanation of an answer adds that is not a triple of the graph.
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    # Set when the selection stopped reading at the limit (e.g. a province's institutions).
    truncated: bool = False

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("zh") or self.name


def nodes_of(triples: Iterable[ox.Triple]) -> set[str]:
    """The nodes triples make: subjects and IRI objects (classes excepted)."""
    out: set[str] = set()
    for t in triples:
        out.add(node_id(t.subject))  # type: ignore[arg-type]
        if isinstance(t.object, (ox.NamedNode, ox.BlankNode)) and t.predicate.value != (
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
        ):
            out.add(node_id(t.object))
    return out


def describe(store: ox.Store, node: str) -> list[ox.Triple]:
    """A node and the nodes it owns (``export_describe``)."""
    return list(query.run_named(store, "export_describe", {"node": ox.NamedNode(node)}))


def labels(store: ox.Store) -> Any:
    """A look-up of names and types for nodes a selection points to (``export_labels``)."""

    def look_up(node: str) -> Iterator[ox.Triple]:
        yield from query.run_named(store, "export_labels", {"node": ox.NamedNode(node)})

    return look_up


def region(store: ox.Store, text: str, limit: int | None = None) -> Selection:
    """A region's context and the institutions in it, highest hospital level first.

    Institutions are described one by one until the selection has ``limit`` nodes, so a
    province of tens of thousands of institutions is never read whole.
    """
    r = lookup.region(store, text)
    triples = list(query.run_named(store, "export_region", {"region": r.node}))
    seen = nodes_of(triples)
    truncated = False
    rows = query.run_named(store, "export_region_institutions", {"region": r.node})
    for row in rows:
        if limit is not None and len(seen) >= limit:
            truncated = True
            break
        described = describe(store, row["institution"].value)
        triples.extend(described)
        seen |= nodes_of(described)
    return Selection(
        kind="region",
        name=f"region {r.code}",
        title={"zh": f"{r.name}（{r.code}）", "en": f"{r.name_en or r.name} ({r.code})"},
        triples=triples,
        seeds=[r.node.value],
        truncated=truncated,
    )


def ontology(store: ox.Store | None = None) -> Selection:
    """The ontology and its SKOS vocabularies; from the shipped files when no store is given."""
    if store is None:
        store = ox.Store()
        for path in resources.ontology_files():
            store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    triples = list(query.run_named(store, "export_ontology"))
    return Selection(
        kind="ontology",
        name="ontology",
        title={"zh": "yibao-kg 本体与词表", "en": "yibao-kg ontology and vocabularies"},
        triples=triples,
    )


def from_query(store: ox.Store, path: Path, params: Mapping[str, str] | None = None) -> Selection:
    """The result of a CONSTRUCT (or DESCRIBE) query file; ``#+`` header params may be bound.

    IRIs bound to parameters (a region, an institution) are the selection's seeds.
    """
    try:
        named = query.load_query(path)
    except OSError as exc:
        raise InputError(path, None, f"cannot read the query: {exc.strerror or exc}") from None
    values = dict(params or {})
    if named.params:
        subs = query.bind(store, named, values)
    else:
        if values:
            raise QueryError(
                f"{path} declares no parameters (#+ params: in its header), "
                f"so --param {', '.join(sorted(values))} cannot be bound"
            )
        subs = {}
    result = query.run(store, named.text, subs, source=str(path))
    if not isinstance(result, ox.QueryTriples):
        raise InputError(
            path, None, "--query needs a CONSTRUCT or DESCRIBE query (it returns triples)"
        )
    triples = list(result)
    seeds = [v.value for v in subs.values() if isinstance(v, ox.NamedNode)]
    summary = named.summary
    return Selection(
        kind="query",
        name=f"query {path.name}",
        title={"zh": summary.get("zh") or path.stem, "en": summary.get("en") or path.stem},
        triples=triples,
        seeds=seeds,
    )
