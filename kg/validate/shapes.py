"""The SHACL shapes of ``ontology/shapes/*.ttl``, read into plain Python objects.

Pipeline stage: validation (after ``kg/build.py``, before answers are trusted). The shapes
are small, so they are parsed once with pyoxigraph into an index of triples, then into
:class:`Shape` objects: targets, a path, SHACL Core constraints and SHACL-SPARQL
constraints. Only the parts of SHACL the engine compiles are accepted
(:data:`SUPPORTED_PARAMETERS`); any other shape parameter is an error naming the shape, so a
shape can never be silently ignored by one engine and checked by the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyoxigraph as ox

from kg import resources
from kg.errors import InputError
from kg.vocab import RDF_NS, RDFS_NS, SH_NS

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple  # (RDF 1.2: a triple term)
Node = ox.NamedNode | ox.BlankNode

VIOLATION = ox.NamedNode(SH_NS + "Violation")
RDF_FIRST = RDF_NS + "first"
RDF_REST = RDF_NS + "rest"
RDF_NIL = RDF_NS + "nil"

# Shape parameters (local names in the sh: namespace) and the constraint component each
# belongs to. Parameters that only qualify another one are listed with it.
COMPONENTS: dict[str, str] = {
    "class": "ClassConstraintComponent",
    "datatype": "DatatypeConstraintComponent",
    "nodeKind": "NodeKindConstraintComponent",
    "minCount": "MinCountConstraintComponent",
    "maxCount": "MaxCountConstraintComponent",
    "minInclusive": "MinInclusiveConstraintComponent",
    "maxInclusive": "MaxInclusiveConstraintComponent",
    "minExclusive": "MinExclusiveConstraintComponent",
    "maxExclusive": "MaxExclusiveConstraintComponent",
    "minLength": "MinLengthConstraintComponent",
    "maxLength": "MaxLengthConstraintComponent",
    "pattern": "PatternConstraintComponent",
    "languageIn": "LanguageInConstraintComponent",
    "uniqueLang": "UniqueLangConstraintComponent",
    "in": "InConstraintComponent",
    "hasValue": "HasValueConstraintComponent",
    "node": "NodeConstraintComponent",
    "lessThan": "LessThanConstraintComponent",
    "lessThanOrEquals": "LessThanOrEqualsConstraintComponent",
}
SHAPES_NS = "https://w3id.org/yibao-kg/shapes#"
# the whole-graph form of a SPARQL constraint (see SparqlConstraint.scan_select)
SCAN_SELECT = SHAPES_NS + "scanSelect"
QUALIFIED = "QualifiedValueShapeConstraintComponent"
SPARQL_COMPONENT = "SPARQLConstraintComponent"
QUALIFIER_PARAMETERS = {"flags", "qualifiedMinCount", "qualifiedMaxCount"}
# Parameters that are not constraints: identity, targets, structure, documentation.
STRUCTURAL = {
    "path",
    "property",
    "sparql",
    "targetClass",
    "targetNode",
    "targetSubjectsOf",
    "targetObjectsOf",
    "severity",
    "message",
    "deactivated",
    "name",
    "description",
    "order",
    "group",
    "declare",
    "prefixes",
    "qualifiedValueShape",
    "qualifiedValueShapesDisjoint",
}
SUPPORTED_PARAMETERS = set(COMPONENTS) | QUALIFIER_PARAMETERS | STRUCTURAL


def component_iri(name: str) -> ox.NamedNode:
    return ox.NamedNode(SH_NS + name)


# ------------------------------------------------------------------ paths


@dataclass(frozen=True)
class PropertyPath:
    """A SHACL property path: an IRI, or an inverse / sequence / alternative / repetition."""

    kind: str  # "iri", "inverse", "sequence", "alternative", "zeroOrMore", "oneOrMore", "zeroOrOne"
    iri: ox.NamedNode | None = None
    parts: tuple[PropertyPath, ...] = ()

    def sparql(self) -> str:
        """The path in SPARQL syntax (IRIs written by pyoxigraph)."""
        if self.kind == "iri":
            return str(self.iri)
        if self.kind == "inverse":
            return f"^({self.parts[0].sparql()})"
        if self.kind == "sequence":
            return "(" + "/".join(p.sparql() for p in self.parts) + ")"
        if self.kind == "alternative":
            return "(" + "|".join(p.sparql() for p in self.parts) + ")"
        suffix = {"zeroOrMore": "*", "oneOrMore": "+", "zeroOrOne": "?"}[self.kind]
        return f"({self.parts[0].sparql()}){suffix}"

    def text(self) -> str:
        """A short readable form (``yb:region``, ``^yb:designation``) for reports."""
        from kg.vocab import PREFIXES

        if self.kind == "iri":
            assert self.iri is not None
            for prefix, ns in PREFIXES.items():
                if self.iri.value.startswith(ns):
                    return f"{prefix}:{self.iri.value[len(ns) :]}"
            return self.iri.value
        if self.kind == "inverse":
            return "^" + self.parts[0].text()
        if self.kind in ("sequence", "alternative"):
            sep = "/" if self.kind == "sequence" else "|"
            return "(" + sep.join(p.text() for p in self.parts) + ")"
        suffix = {"zeroOrMore": "*", "oneOrMore": "+", "zeroOrOne": "?"}[self.kind]
        return f"({self.parts[0].text()}){suffix}"


# ------------------------------------------------------------------ shapes


@dataclass(frozen=True)
class Target:
    kind: str  # "class", "subjectsOf", "objectsOf", "node"
    term: Term


@dataclass(frozen=True)
class Constraint:
    """One SHACL Core constraint: its component and parameter values."""

    component: str  # local name, e.g. "MinCountConstraintComponent"
    parameter: str  # the main parameter, e.g. "minCount"
    value: object  # a term, a list of terms, or a Shape (sh:node, sh:qualifiedValueShape)
    extra: tuple[tuple[str, Term], ...] = ()  # sh:flags, sh:qualifiedMinCount, …

    def get(self, name: str) -> Term | None:
        return next((v for k, v in self.extra if k == name), None)


@dataclass
class SparqlConstraint:
    node: Node
    select: str
    prefixes: dict[str, str]
    messages: dict[str, str]
    label: dict[str, str]
    deactivated: bool = False
    # ybsh:scanSelect: the same constraint written for a run over all targets (its patterns
    # scanned whole and hash-joined); sh:select serves narrowed runs and pySHACL
    scan_select: str | None = None


@dataclass
class Shape:
    node: Node
    path: PropertyPath | None = None
    path_node: Term | None = None
    targets: list[Target] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    properties: list[Shape] = field(default_factory=list)
    sparql: list[SparqlConstraint] = field(default_factory=list)
    severity: ox.NamedNode = VIOLATION
    messages: dict[str, str] = field(default_factory=dict)
    label: dict[str, str] = field(default_factory=dict)
    comment: dict[str, str] = field(default_factory=dict)
    deactivated: bool = False

    @property
    def is_property(self) -> bool:
        return self.path is not None

    @property
    def id(self) -> str:
        return short_name(self.node)


@dataclass
class ShapesGraph:
    """Every shape by node; ``targeted`` are the shapes validation starts from."""

    shapes: dict[Term, Shape]
    triples: list[ox.Triple]
    files: tuple[Path, ...]

    @property
    def targeted(self) -> list[Shape]:
        return [s for s in self.shapes.values() if s.targets and not s.deactivated]

    def parents(self, shape: Shape) -> list[Shape]:
        """The node shapes that use a property shape through ``sh:property``."""
        return [s for s in self.shapes.values() if shape in s.properties]


def short_name(node: Term) -> str:
    from kg.vocab import PREFIXES

    if isinstance(node, ox.NamedNode):
        if node.value.startswith(SHAPES_NS):
            return "ybsh:" + node.value[len(SHAPES_NS) :]
        for prefix, ns in PREFIXES.items():
            if node.value.startswith(ns):
                return f"{prefix}:{node.value[len(ns) :]}"
        return node.value
    return str(node)


# ------------------------------------------------------------------ reading


class _Index:
    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        self.by_subject: dict[Term, dict[str, list[Term]]] = {}
        for t in triples:
            self.by_subject.setdefault(t.subject, {}).setdefault(t.predicate.value, []).append(
                t.object
            )

    def objects(self, subject: Term, predicate: str) -> list[Term]:
        return self.by_subject.get(subject, {}).get(predicate, [])

    def one(self, subject: Term, predicate: str) -> Term | None:
        values = self.objects(subject, predicate)
        return values[0] if values else None

    def sh(self, subject: Term, name: str) -> list[Term]:
        return self.objects(subject, SH_NS + name)

    def items(self, head: Term) -> list[Term]:
        """The members of an RDF list."""
        out: list[Term] = []
        seen: set[Term] = set()
        cur: Term | None = head
        while cur is not None and not (isinstance(cur, ox.NamedNode) and cur.value == RDF_NIL):
            if cur in seen:
                break
            seen.add(cur)
            first = self.one(cur, RDF_FIRST)
            if first is not None:
                out.append(first)
            cur = self.one(cur, RDF_REST)
        return out

    def texts(self, subject: Term, predicate: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for obj in self.objects(subject, predicate):
            if isinstance(obj, ox.Literal):
                out.setdefault(obj.language or "", obj.value)
        return out


class ShapeError(InputError):
    """A shapes file uses SHACL the engine does not implement, or is malformed."""


def read_shapes(files: Iterable[Path] | None = None) -> ShapesGraph:
    """Parse shapes files (the shipped ones by default) into a :class:`ShapesGraph`."""
    paths = tuple(files) if files is not None else tuple(resources.shapes_files())
    triples: list[ox.Triple] = []
    for path in paths:
        try:
            triples.extend(
                q.triple
                for q in ox.parse(
                    path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.as_uri()
                )
            )
        except SyntaxError as exc:
            raise ShapeError(
                path, exc.lineno, f"Turtle syntax error: {exc.msg}", exc.offset
            ) from None
    return _build(_Index(triples), triples, paths)


@cache
def shipped_shapes() -> ShapesGraph:
    """The shapes of ``ontology/shapes/`` (read once per process)."""
    return read_shapes()


def _build(index: _Index, triples: list[ox.Triple], files: tuple[Path, ...]) -> ShapesGraph:
    sh_type = RDF_NS + "type"
    candidates: set[Term] = set()
    for subject, props in index.by_subject.items():
        types = {getattr(t, "value", "") for t in props.get(sh_type, [])}
        if types & {SH_NS + "NodeShape", SH_NS + "PropertyShape"}:
            candidates.add(subject)
        if any(SH_NS + k in props for k in ("path", "property", "sparql", "targetClass")):
            candidates.add(subject)
    shapes: dict[Term, Shape] = {}
    for node in candidates:
        _shape(index, node, shapes, files)
    return ShapesGraph(shapes, triples, files)


def _where(files: tuple[Path, ...]) -> Path | None:
    return files[0] if len(files) == 1 else None


def _shape(index: _Index, node: Term, shapes: dict[Term, Shape], files: tuple[Path, ...]) -> Shape:
    if node in shapes:
        return shapes[node]
    if not isinstance(node, (ox.NamedNode, ox.BlankNode)):
        raise ShapeError(_where(files), None, f"a shape must be an IRI or blank node, not {node}")
    shape = Shape(node=node)
    shapes[node] = shape
    props = index.by_subject.get(node, {})
    unknown = sorted(
        p[len(SH_NS) :]
        for p in props
        if p.startswith(SH_NS) and p[len(SH_NS) :] not in SUPPORTED_PARAMETERS
    )
    if unknown:
        raise ShapeError(
            _where(files),
            None,
            f"shape {short_name(node)} uses sh:{', sh:'.join(unknown)}, which this validator "
            "does not implement (docs/validation.md lists what it does)",
        )
    path_node = index.one(node, SH_NS + "path")
    if path_node is not None:
        shape.path_node = path_node
        shape.path = _path(index, path_node, files)
    for kind, name in (
        ("class", "targetClass"),
        ("node", "targetNode"),
        ("subjectsOf", "targetSubjectsOf"),
        ("objectsOf", "targetObjectsOf"),
    ):
        shape.targets.extend(Target(kind, t) for t in index.sh(node, name))
    severity = index.one(node, SH_NS + "severity")
    if isinstance(severity, ox.NamedNode):
        shape.severity = severity
    shape.messages = index.texts(node, SH_NS + "message")
    shape.label = index.texts(node, RDFS_NS + "label") or index.texts(node, SH_NS + "name")
    shape.comment = index.texts(node, RDFS_NS + "comment")
    shape.deactivated = _true(index.one(node, SH_NS + "deactivated"))
    for param, component in COMPONENTS.items():
        for value in index.sh(node, param):
            shape.constraints.append(
                _constraint(index, shapes, files, param, component, value, node)
            )
    for q in index.sh(node, "qualifiedValueShape"):
        if _true(index.one(node, SH_NS + "qualifiedValueShapesDisjoint")):
            raise ShapeError(
                _where(files),
                None,
                f"{short_name(node)}: sh:qualifiedValueShapesDisjoint is not supported",
            )
        extra = tuple(
            (name, v)
            for name in ("qualifiedMinCount", "qualifiedMaxCount")
            for v in index.sh(node, name)
        )
        shape.constraints.append(
            Constraint(QUALIFIED, "qualifiedValueShape", _shape(index, q, shapes, files), extra)
        )
    for child in index.sh(node, "property"):
        shape.properties.append(_shape(index, child, shapes, files))
    for sparql in index.sh(node, "sparql"):
        shape.sparql.append(_sparql(index, sparql, files))
    return shape


def _true(term: Term | None) -> bool:
    return isinstance(term, ox.Literal) and term.value in ("true", "1")


def _constraint(
    index: _Index,
    shapes: dict[Term, Shape],
    files: tuple[Path, ...],
    param: str,
    component: str,
    value: Term,
    owner: Term,
) -> Constraint:
    if param in ("in", "languageIn"):
        return Constraint(component, param, index.items(value))
    if param == "node":
        return Constraint(component, param, _shape(index, value, shapes, files))
    if param == "pattern":
        extra = tuple(("flags", f) for f in index.sh(owner, "flags"))
        return Constraint(component, param, value, extra)
    return Constraint(component, param, value)


def _path(index: _Index, node: Term, files: tuple[Path, ...]) -> PropertyPath:
    if isinstance(node, ox.NamedNode):
        return PropertyPath("iri", iri=node)
    inverse = index.one(node, SH_NS + "inversePath")
    if inverse is not None:
        return PropertyPath("inverse", parts=(_path(index, inverse, files),))
    alternative = index.one(node, SH_NS + "alternativePath")
    if alternative is not None:
        return PropertyPath(
            "alternative", parts=tuple(_path(index, p, files) for p in index.items(alternative))
        )
    for kind in ("zeroOrMore", "oneOrMore", "zeroOrOne"):
        inner = index.one(node, SH_NS + kind + "Path")
        if inner is not None:
            return PropertyPath(kind, parts=(_path(index, inner, files),))
    if index.one(node, RDF_FIRST) is not None:
        return PropertyPath(
            "sequence", parts=tuple(_path(index, p, files) for p in index.items(node))
        )
    raise ShapeError(_where(files), None, f"unsupported sh:path {node}")


def _sparql(index: _Index, node: Term, files: tuple[Path, ...]) -> SparqlConstraint:
    select = index.one(node, SH_NS + "select")
    if not isinstance(select, ox.Literal):
        raise ShapeError(_where(files), None, f"SPARQL constraint {node} has no sh:select")
    scan = index.one(node, SCAN_SELECT)
    if scan is not None and not isinstance(scan, ox.Literal):
        raise ShapeError(_where(files), None, f"SPARQL constraint {node}: {SCAN_SELECT} is no text")
    scan_text = scan.value if scan is not None else None
    for text in (select.value, scan_text or ""):
        if text.lstrip().upper().startswith(("PREFIX", "BASE")):
            raise ShapeError(
                _where(files), None, f"SPARQL constraint {node}: declare prefixes with sh:prefixes"
            )
    prefixes: dict[str, str] = {}
    for owner in index.objects(node, SH_NS + "prefixes"):
        for decl in index.objects(owner, SH_NS + "declare"):
            prefix = index.one(decl, SH_NS + "prefix")
            namespace = index.one(decl, SH_NS + "namespace")
            if prefix is not None and namespace is not None:
                prefixes[prefix.value] = namespace.value  # type: ignore[union-attr]
    return SparqlConstraint(
        node=node,  # type: ignore[arg-type]
        select=select.value,
        scan_select=scan_text,
        prefixes=prefixes,
        messages=index.texts(node, SH_NS + "message"),
        label=index.texts(node, RDFS_NS + "label"),
        deactivated=_true(index.one(node, SH_NS + "deactivated")),
    )
