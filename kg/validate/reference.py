"""pySHACL, the reference engine: the same shapes on an in-memory rdflib copy of the data.

Pipeline stage: validation (``yibao validate --engine pyshacl``, and the tests that prove the
Oxigraph engine reports exactly what pySHACL reports). The store's union graph is copied
into rdflib (through N-Triples written by pyoxigraph), so this is for data extracts: above
:data:`MAX_TRIPLES` it refuses rather than exhaust memory.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from kg.errors import KgError
from kg.validate.engine import detail, severity_of
from kg.validate.report import Result, to_rdflib
from kg.validate.shapes import ShapesGraph, Term, shipped_shapes
from kg.vocab import SH_NS

MAX_TRIPLES = 2_000_000
_CJK = re.compile(r"[\u4e00-\u9fff]")


class TooLarge(KgError):
    """The data is too large for the in-memory reference engine."""


@dataclass
class PyshaclEngine:
    shapes: ShapesGraph = field(default_factory=shipped_shapes)
    name: str = "pyshacl"
    max_triples: int = MAX_TRIPLES

    def run(
        self,
        db: ox.Store,
        focus: Collection[Term] | None = None,
        touching: Collection[Term] | None = None,
    ) -> list[Result]:
        """Validate the whole union graph with pySHACL, then keep the results in scope."""
        size = len(db)
        if size > self.max_triples:
            raise TooLarge(
                f"{size:,} quads are too many for the pySHACL reference engine "
                f"(at most {self.max_triples:,}): use the default engine, or --region / "
                f"--focus on a smaller store / 数据量过大，请使用默认引擎"
            )
        results = run_pyshacl(data_graph(db), self.shapes, focus)
        out = []
        for r in results:
            if focus is not None and r.focus not in focus:
                continue
            if touching is not None and r.focus not in touching and r.value not in touching:
                continue
            out.append(r)
        return out


def data_graph(db: ox.Store) -> Any:
    """The union of the store's graphs as an rdflib graph (literals kept as written)."""
    import rdflib

    triples = db.query(
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",  # the whole union graph, as it is
        use_default_graph_as_union=True,
    )
    assert isinstance(triples, ox.QueryTriples)
    data = triples.serialize(format=ox.RdfFormat.N_TRIPLES)
    normalize = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        graph = rdflib.Graph()
        graph.parse(data=data, format="nt")
    finally:
        rdflib.NORMALIZE_LITERALS = normalize
    return graph


def shapes_graph(shapes: ShapesGraph) -> Any:
    import rdflib

    graph = rdflib.Graph()
    for path in shapes.files:
        graph.parse(path, format="turtle")
    return graph


@contextmanager
def prepared_queries() -> Iterator[None]:
    """Let rdflib parse each query text once while pySHACL runs.

    pySHACL hands rdflib the text of a SHACL-SPARQL constraint for every focus node, and
    rdflib parses and translates it every time (most of the run on a few thousand focus
    nodes). A translated query is what ``rdflib.plugins.sparql.prepareQuery`` makes for
    reuse, so the first translation of each (text, namespaces, base) is kept and reused.
    """
    from rdflib.plugins.sparql import processor

    original = processor.SPARQLProcessor.query
    cache: dict[tuple[str, str | None, tuple[tuple[str, str], ...]], Any] = {}

    def query(
        self: Any,
        q: Any,
        initBindings: Any = None,
        initNs: Any = None,
        base: Any = None,
        DEBUG: bool = False,
    ) -> Any:
        if isinstance(q, str):
            key = (q, base, tuple(sorted((k, str(v)) for k, v in (initNs or {}).items())))
            if key not in cache:
                cache[key] = processor.translateQuery(processor.parseQuery(q), base, initNs)
            q = cache[key]
        return original(self, q, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        processor.SPARQLProcessor.query = original  # type: ignore[method-assign]


def run_pyshacl(
    graph: Any, shapes: ShapesGraph, focus: Collection[Term] | None = None
) -> list[Result]:
    """pySHACL's results for a data graph (only ``focus`` nodes when given)."""
    import pyshacl
    import rdflib
    from rdflib.namespace import SH

    normalize = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        with prepared_queries():
            _, report, _ = pyshacl.validate(
                graph,
                shacl_graph=shapes_graph(shapes),
                inference="none",
                allow_warnings=True,
                allow_infos=True,
                advanced=False,
                focus_nodes=[to_rdflib(n) for n in focus] if focus is not None else None,
            )
    finally:
        rdflib.NORMALIZE_LITERALS = normalize
    out = []
    for node in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        shape_node = to_ox(report.value(node, SH.sourceShape))
        shape = shapes.shapes.get(shape_node)
        component = str(report.value(node, SH.sourceConstraintComponent))[len(SH_NS) :]
        messages: dict[str, str] = {}
        for m in report.objects(node, SH.resultMessage):
            lang = m.language or ("zh" if _CJK.search(str(m)) else "en")
            messages.setdefault(lang, str(m))
        path = report.value(node, SH.resultPath)
        value = report.value(node, SH.value)
        constraint = report.value(node, SH.sourceConstraint)
        out.append(
            Result(
                focus=to_ox(report.value(node, SH.focusNode)),
                shape=shape_node,
                component=component,
                severity=severity_of(shape) if shape else "violation",
                path=to_ox(path) if path is not None else None,
                value=to_ox(value) if value is not None else None,
                message=messages,
                constraint=to_ox(constraint) if constraint is not None else None,
                detail=detail(shape, component) if shape else "",
            )
        )
    return out


def to_ox(term: Any) -> Any:
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(term)
