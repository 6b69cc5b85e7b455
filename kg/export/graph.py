"""Export stage, step 2: RDF triples of a selection → a networkx graph with a stable schema.

Every exported format is written from the graph this module makes, so Python users get the
same object (``to_networkx``) the files are made from. The mapping, documented in
docs/export.md:

- every IRI (or blank node) that is a subject, or the object of a non-``rdf:type`` triple,
  is a node; its id is the IRI;
- a triple whose object is an IRI is an edge keyed by the predicate's compact name
  (``yb:parentRegion``); a loop (a pooling region is its own pooling region) is dropped;
- ``rdf:type`` sets the node's ``type`` (its most specific class) and ``types``; it is an
  edge only when the class itself is a node of the selection (the ontology export);
- a triple whose object is a literal is a node attribute named after the predicate
  (``regionCode``; ``dcterms_identifier`` outside the yibao-kg namespace; ``_zh``/``_en``
  for language-tagged values), typed int/float/bool/str consistently per attribute and
  stripped of characters XML cannot carry.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

import networkx as nx
import pyoxigraph as ox

from kg import __version__, resources
from kg.export.style import assign_colours
from kg.vocab import DCTERMS, NS, PREFIXES, RDF, RDFS, SKOS, VOCAB, XSD_NS, YB, load_vocabulary

Describe = Callable[[str], Iterable[ox.Triple]]

LANGS = ("zh", "en")
LABEL_PREDICATES = (RDFS.label.value, SKOS.prefLabel.value, DCTERMS.title.value)
# Literals that name a node when it has no label, in order of preference.
NAME_PREDICATES = (
    DCTERMS.identifier.value,
    SKOS.notation.value,
    YB.regionCode.value,
    YB.article.value,
)
VALID_FROM = "validFrom"
VALID_UNTIL = "validUntil"
# Attribute names the graph sets itself; a predicate with one of these names gets a prefix.
RESERVED = frozenset(
    {
        "id",
        "iri",
        "label",
        "label_zh",
        "label_en",
        "type",
        "type_label",
        "types",
        "color",
        "key",
        "name",
        "value",
        "source",
        "target",
        "start",
        "end",
        "pid",
        "viz",
        "weight",
        "predicate",
        "spells",
        "slices",
        "parents",
    }
)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NAME_UNSAFE = re.compile(r"[^0-9A-Za-z_]")
PREFIX_ORDER = sorted({**PREFIXES, "vocab": VOCAB}.items(), key=lambda kv: -len(kv[1]))


def curie(iri: str) -> str:
    """The compact name of an IRI (``yb:Rule``, ``id:region/440600``), else the IRI."""
    for prefix, base in PREFIX_ORDER:
        if iri.startswith(base) and len(iri) > len(base):
            return f"{prefix}:{iri[len(base) :]}"
    return iri


def attribute_name(predicate: str, lang: str | None = None) -> str:
    """The attribute name of a literal-valued predicate (``yb:regionCode`` → ``regionCode``)."""
    short = curie(predicate)
    if short.startswith("yb:"):
        name = short[3:]
        if name in RESERVED:
            name = "yb_" + name
    elif ":" in short and not short.startswith(("http:", "https:", "urn:")):
        name = short.replace(":", "_", 1)
    else:
        name = re.split(r"[#/]", predicate.rstrip("#/"))[-1] or "value"
    name = _NAME_UNSAFE.sub("_", name)
    if lang:
        name += "_" + _NAME_UNSAFE.sub("_", lang.lower())
    return name


def node_id(term: ox.NamedNode | ox.BlankNode) -> str:
    return term.value if isinstance(term, ox.NamedNode) else f"_:{term.value}"


def clean_text(text: str) -> str:
    """Text without the control characters XML 1.0 cannot carry."""
    return _XML_INVALID.sub("", text)


def literal_value(term: ox.Literal) -> Any:
    """A Python value of a literal for an attribute: int, float, bool or str."""
    datatype = term.datatype.value if term.datatype else ""
    text = term.value
    try:
        if datatype in (XSD_NS + "integer", XSD_NS + "int", XSD_NS + "long"):
            return int(text)
        if datatype in (XSD_NS + "decimal", XSD_NS + "double", XSD_NS + "float"):
            return float(text)
        if datatype == XSD_NS + "boolean":
            return text in ("true", "1")
    except ValueError:
        pass
    return clean_text(text)


@cache
def class_parents() -> dict[str, frozenset[str]]:
    """rdfs:subClassOf of the shipped ontology: class IRI → its direct superclasses."""
    parents: dict[str, set[str]] = defaultdict(set)
    for path in resources.ontology_files():
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            if quad.predicate == RDFS.subClassOf and isinstance(quad.object, ox.NamedNode):
                parents[quad.subject.value].add(quad.object.value)
    return {k: frozenset(v) for k, v in parents.items()}


def _class_depth(iri: str, seen: frozenset[str] = frozenset()) -> int:
    parents = class_parents().get(iri, frozenset()) - seen
    return 1 + max((_class_depth(p, seen | {iri}) for p in parents), default=0)


# Among equally deep classes, the one a node is drawn as: a pooling region is a 统筹区 whatever
# its administrative level (仙桃 429004 is a county, 武汉 a prefecture); the level stays in
# the node's `types`.
PREFERRED_TYPES = (YB.PoolingRegion.value,)


def main_type(types: Iterable[str]) -> str | None:
    """The most specific of a node's classes (deepest in the ontology; ours before others;
    then ``PREFERRED_TYPES``)."""
    ranked = sorted(
        types,
        key=lambda t: (not t.startswith(NS), -_class_depth(t), t not in PREFERRED_TYPES, t),
    )
    return ranked[0] if ranked else None


# Names of the W3C terms the ontology export draws (the ontology labels only its own terms).
W3C_LABELS: dict[str, dict[str, str]] = {
    "owl:Ontology": {"zh": "本体", "en": "Ontology"},
    "owl:Class": {"zh": "类", "en": "Class"},
    "owl:ObjectProperty": {"zh": "对象属性", "en": "Object property"},
    "owl:DatatypeProperty": {"zh": "数据属性", "en": "Datatype property"},
    "owl:AnnotationProperty": {"zh": "注释属性", "en": "Annotation property"},
    "rdf:Property": {"zh": "属性", "en": "Property"},
    "rdf:type": {"zh": "类型", "en": "type"},
    "rdfs:subClassOf": {"zh": "子类", "en": "subclass of"},
    "rdfs:subPropertyOf": {"zh": "子属性", "en": "subproperty of"},
    "rdfs:domain": {"zh": "定义域", "en": "domain"},
    "rdfs:range": {"zh": "值域", "en": "range"},
    "skos:ConceptScheme": {"zh": "概念体系", "en": "Concept scheme"},
    "skos:Concept": {"zh": "概念", "en": "Concept"},
    "skos:inScheme": {"zh": "所属概念体系", "en": "in scheme"},
    "skos:broader": {"zh": "上位概念", "en": "broader"},
}


def term_labels(iri: str) -> dict[str, str]:
    """The zh/en labels of a class or property: the ontology's, else the W3C table's."""
    return load_vocabulary().labels.get(iri) or W3C_LABELS.get(curie(iri), {})


def term_label(iri: str, lang: str) -> str:
    """The label of a class or property in a language, else its compact name."""
    labels = term_labels(iri)
    return labels.get(lang) or labels.get("zh") or labels.get("en") or curie(iri)


class _Collector:
    """Triples folded into nodes (types, literals) and edges, before the graph is made."""

    def __init__(self) -> None:
        self.described: dict[str, None] = {}  # subjects, in order of appearance
        self.nodes: dict[str, None] = {}  # every node, in order of appearance
        self.types: dict[str, set[str]] = defaultdict(set)
        self.literals: dict[str, dict[tuple[str, str | None], list[Any]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.edges: dict[tuple[str, str, str], None] = {}

    def add(self, triple: ox.Triple, describes: bool = True) -> None:
        s = node_id(triple.subject)  # type: ignore[arg-type]
        p = triple.predicate.value
        o = triple.object
        if describes:
            self.described.setdefault(s, None)
        self.nodes.setdefault(s, None)
        if p == RDF.type.value and isinstance(o, ox.NamedNode):
            self.types[s].add(o.value)
        elif isinstance(o, ox.Literal):
            values = self.literals[s][(p, o.language)]
            value = literal_value(o)
            if value not in values:
                values.append(value)
        elif isinstance(o, (ox.NamedNode, ox.BlankNode)):
            target = node_id(o)
            if target != s:
                self.nodes.setdefault(target, None)
                self.edges.setdefault((s, target, p), None)

    def unnamed(self) -> list[str]:
        """Nodes with no label of their own and no type: they need a look-up."""
        out = []
        for n in self.nodes:
            lits = self.literals.get(n, {})
            if not any(p in LABEL_PREDICATES for p, _ in lits) or not self.types.get(n):
                out.append(n)
        return out


def to_networkx(
    triples: Iterable[ox.Triple],
    *,
    lang: str = "zh",
    describe: Describe | None = None,
    name: str = "",
    selection: str = "",
) -> nx.MultiDiGraph:
    """The property graph of RDF triples (see the module docstring for the mapping).

    Args:
        triples: the selection (e.g. a CONSTRUCT result).
        lang: language of the ``label``, ``type_label`` and edge ``label`` attributes.
        describe: gives label and type triples of a node the triples point to without
            describing it (a parent region, a concept); ``None`` leaves such nodes unnamed.
        name: the graph's title; ``selection``: how it was selected (graph attributes).
    """
    collector = _Collector()
    for triple in triples:
        collector.add(triple)
    if describe is not None:
        for iri in collector.unnamed():
            if iri.startswith("_:"):
                continue
            for triple in describe(iri):
                if node_id(triple.subject) == iri:  # type: ignore[arg-type]
                    collector.add(triple, describes=False)
    return _build(collector, lang, name, selection)


def _build(c: _Collector, lang: str, name: str, selection: str) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph(
        name=clean_text(name),
        selection=clean_text(selection),
        lang=lang,
        generator=f"yibao-kg {__version__}",
    )
    for n in c.nodes:
        graph.add_node(n, **_node_attributes(n, c, lang))
    for s, o, p in c.edges:
        graph.add_edge(s, o, key=curie(p), **_edge_attributes(p, lang))
    for s, classes in c.types.items():
        for cls in sorted(classes):
            if cls in c.described and cls != s:
                graph.add_edge(
                    s, cls, key=curie(RDF.type.value), **_edge_attributes(RDF.type.value, lang)
                )
    normalise_attributes(graph)
    assign_colours(graph)
    return graph


def _node_attributes(n: str, c: _Collector, lang: str) -> dict[str, Any]:
    lits = c.literals.get(n, {})
    labels: dict[str, str] = {}
    for pred in LABEL_PREDICATES:
        for (p, tag), values in lits.items():
            if p == pred and tag in LANGS and tag not in labels:
                labels[tag] = str(values[0])
        untagged = lits.get((pred, None))
        if untagged and "zh" not in labels:
            labels.setdefault("und", str(untagged[0]))
    types = c.types.get(n, set())
    main = main_type(types)
    attrs: dict[str, Any] = {"iri": n}
    if main:
        attrs["type"] = curie(main)
        attrs["type_label"] = term_label(main, lang)
        attrs["types"] = " ".join(sorted(curie(t) for t in types))
    for tag in LANGS:
        if tag in labels:
            attrs[f"label_{tag}"] = labels[tag]
    attrs["label"] = (
        labels.get(lang)
        or labels.get("zh")
        or labels.get("en")
        or labels.get("und")
        or _fallback_name(n, lits, attrs.get("type_label"))
    )
    for (p, tag), values in lits.items():
        if p in LABEL_PREDICATES and (tag in LANGS or tag is None):
            continue
        key = attribute_name(p, tag)
        attrs[key] = values[0] if len(values) == 1 else "; ".join(str(v) for v in values)
    return attrs


def _fallback_name(
    n: str, lits: Mapping[tuple[str, str | None], list[Any]], type_label: str | None
) -> str:
    for pred in NAME_PREDICATES:
        for (p, _tag), values in lits.items():
            if p == pred:
                text = str(values[0])
                return f"{type_label}: {text}" if type_label and pred == YB.article.value else text
    short = curie(n)
    if type_label and short.startswith("id:") and "/" in short:
        return f"{type_label} {short.rsplit('/', 1)[1]}"  # an owned node: "材料要求 2"
    return short.split(":", 1)[1] if short.startswith(("id:", "vocab:")) else short


def _edge_attributes(predicate: str, lang: str) -> dict[str, Any]:
    labels = term_labels(predicate)
    attrs: dict[str, Any] = {"predicate": curie(predicate)}
    attrs["label"] = term_label(predicate, lang)
    for tag in LANGS:
        text = labels.get(tag)
        if text:
            attrs[f"label_{tag}"] = text
    return attrs


def normalise_attributes(graph: nx.MultiDiGraph) -> None:
    """One Python type per attribute name, as GraphML and GEXF declare one type per key.

    An attribute whose values mix types becomes text everywhere; ``bool`` is never mixed
    with numbers (``True`` is not ``1`` in the exported file).
    """
    for items in (
        [d for _, d in graph.nodes(data=True)],
        [d for _, _, d in graph.edges(data=True)],
    ):
        kinds: dict[str, set[type]] = defaultdict(set)
        for data in items:
            for key, value in data.items():
                kinds[key].add(type(value))
        for key, seen in kinds.items():
            if len(seen) == 1 and seen <= {str, int, float, bool}:
                continue
            target: type = float if seen == {int, float} else str
            for data in items:
                if key in data:
                    value = data[key]
                    data[key] = (
                        float(value)
                        if target is float
                        else (
                            "true" if value is True else "false" if value is False else str(value)
                        )
                    )


def crop(
    graph: nx.MultiDiGraph,
    seeds: Iterable[str] = (),
    depth: int | None = None,
    limit: int | None = None,
) -> tuple[nx.MultiDiGraph, int]:
    """The part of a graph within ``depth`` hops of the seeds, at most ``limit`` nodes.

    Hops ignore edge direction; nearer nodes are kept first, then in order of appearance.
    Without seeds, ``depth`` does not apply and the first ``limit`` nodes are kept.
    Returns the cropped graph and how many nodes were left out.
    """
    order = list(graph.nodes)
    roots = [s for s in seeds if s in graph]
    if roots:
        distance = {s: 0 for s in roots}
        queue = deque(roots)
        while queue:
            cur = queue.popleft()
            if depth is not None and distance[cur] >= depth:
                continue
            neighbours = list(graph.successors(cur)) + list(graph.predecessors(cur))
            for nxt in neighbours:
                if nxt not in distance:
                    distance[nxt] = distance[cur] + 1
                    queue.append(nxt)
        position = {n: i for i, n in enumerate(order)}
        order = sorted(distance, key=lambda n: (distance[n], position[n]))
    if limit is not None:
        order = order[:limit]
    if len(order) == graph.number_of_nodes():
        return graph, 0
    kept = graph.subgraph(order).copy()
    kept.graph["truncated"] = True
    return kept, graph.number_of_nodes() - len(order)


def legend(graph: nx.MultiDiGraph) -> list[dict[str, Any]]:
    """The node types of a graph, most frequent first: type, label, colour, count."""
    counts: Counter[str] = Counter()
    info: dict[str, dict[str, Any]] = {}
    for _, data in graph.nodes(data=True):
        t = str(data.get("type", ""))
        counts[t] += 1
        info.setdefault(
            t, {"type": t, "label": data.get("type_label") or t or "—", "color": data.get("color")}
        )
    return [
        {**info[t], "count": n} for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def validity(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The node's validity period as ISO dates (``validFrom``/``validUntil``), when stated."""
    out: list[str | None] = []
    for key in (VALID_FROM, VALID_UNTIL):
        value = data.get(key)
        try:
            out.append(dt.date.fromisoformat(str(value)).isoformat() if value else None)
        except ValueError:
            out.append(None)
    return out[0], out[1]
