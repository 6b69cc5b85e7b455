"""Shapes → SPARQL: every SHACL Core constraint becomes one generated SELECT query.

Pipeline stage: validation. The SPARQL here is *generated* from the shapes (the one kind of
SPARQL text kg/*.py may hold): each query returns the focus nodes (``?this``) and, where
SHACL reports one, the offending value (``?value``) of one constraint of one shape, for all
targets at once (or for the focus nodes given in ``VALUES``), in two forms: node by node
for few focus nodes, scanning the path whole for many (:func:`core_query`). SHACL-SPARQL
constraints are not rewritten: their SELECT (and its scanning form, ``ybsh:scanSelect``,
where the shape gives one) is joined with the shape's targets (:func:`sparql_check`).
Terms are written by pyoxigraph (``str(term)`` is N-Triples syntax, valid in SPARQL), never
pasted from strings.

Semantics follow the SHACL recommendation (and pySHACL, the reference engine):
``sh:class`` and ``sh:targetClass`` follow ``rdf:type/rdfs:subClassOf*`` in the data graph;
``sh:datatype`` also rejects ill-typed literals of the XSD types below; comparisons that
cannot be made (``"a" >= 3``) are violations.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kg.validate.shapes import (
    QUALIFIED,
    SPARQL_COMPONENT,
    Constraint,
    PropertyPath,
    Shape,
    ShapeError,
    ShapesGraph,
    SparqlConstraint,
    Target,
    Term,
)
from kg.vocab import RDF_NS, RDFS_NS, SH_NS, XSD_NS

TYPE_PATH = f"<{RDF_NS}type>/<{RDFS_NS}subClassOf>*"
LANG_STRING = RDF_NS + "langString"
XSD_STRING = XSD_NS + "string"
# XSD datatypes whose lexical forms the engine checks (a cast of the string fails when the
# literal is ill-typed); other datatypes are checked by their datatype IRI only.
CHECKED_XSD = {
    XSD_NS + name
    for name in ("integer", "decimal", "double", "float", "boolean", "date", "dateTime", "time")
}
NODE_KINDS = {
    "IRI": "isIRI({v})",
    "BlankNode": "isBlank({v})",
    "Literal": "isLiteral({v})",
    "BlankNodeOrIRI": "!isLiteral({v})",
    "BlankNodeOrLiteral": "!isIRI({v})",
    "IRIOrLiteral": "!isBlank({v})",
}
# Components whose results carry no sh:value (SHACL 4.x: one result per focus node).
NO_VALUE = {
    "MinCountConstraintComponent",
    "MaxCountConstraintComponent",
    "UniqueLangConstraintComponent",
    "HasValueConstraintComponent",
    QUALIFIED,
}


@dataclass(frozen=True)
class Check:
    """One generated query and what its rows mean.

    ``shape`` is the shape the results report (``sh:sourceShape``); ``owner`` the shape whose
    targets are the focus nodes (the node shape of a property shape, or ``shape`` itself).
    """

    shape: Shape
    owner: Shape
    component: str
    query: str
    constraint: Constraint | None = None
    sparql: SparqlConstraint | None = None
    # the query for a few focus nodes given in VALUES (joined node by node), where a form
    # evaluated row by row beats the one evaluated once for all targets
    narrow_query: str | None = None

    def text(self, narrowed: bool) -> str:
        """The query for a run over focus nodes in VALUES (``narrowed``) or over all targets."""
        return self.narrow_query if narrowed and self.narrow_query is not None else self.query

    @property
    def reports_value(self) -> bool:
        return self.component not in NO_VALUE

    @property
    def prefixes(self) -> dict[str, str]:
        return self.sparql.prefixes if self.sparql is not None else {}


def compile_shapes(graph: ShapesGraph) -> list[Check]:
    """Every check of every targeted shape (and of the property shapes it uses)."""
    checks: list[Check] = []
    for owner in graph.targeted:
        checks.extend(_checks_of(owner, owner))
        for prop in owner.properties:
            if not prop.deactivated:
                checks.extend(_checks_of(prop, owner))
    return checks


def _checks_of(shape: Shape, owner: Shape) -> Iterator[Check]:
    for constraint in shape.constraints:
        query = core_query(shape, owner, constraint)
        narrow = core_query(shape, owner, constraint, narrow=True)
        yield Check(
            shape,
            owner,
            constraint.component,
            query,
            constraint,
            narrow_query=narrow if narrow != query else None,
        )
    for sparql in shape.sparql:
        if not sparql.deactivated:
            select = sparql_check(owner, sparql.select)
            scan = sparql_check(owner, sparql.scan_select) if sparql.scan_select else None
            yield Check(
                shape,
                owner,
                SPARQL_COMPONENT,
                scan or select,
                None,
                sparql,
                narrow_query=select if scan is not None else None,
            )


# ------------------------------------------------------------------ targets


def target_patterns(targets: Iterable[Target]) -> str:
    """A group that binds ``?this`` to each target (possibly more than once)."""
    groups = []
    for t in targets:
        if t.kind == "class":
            groups.append(f"{{ ?this {TYPE_PATH} {t.term} . }}")
        elif t.kind == "subjectsOf":
            groups.append(f"{{ ?this {t.term} ?targetObject . }}")
        elif t.kind == "objectsOf":
            groups.append(f"{{ ?targetSubject {t.term} ?this . }}")
        elif t.kind == "node":
            groups.append(f"{{ BIND ({t.term} AS ?this) }}")
        else:  # pragma: no cover - shapes.py makes only the kinds above
            raise ValueError(t.kind)
    return " UNION ".join(groups) if groups else "{ FILTER (false) }"


def _values(focus: Iterable[Term] | None) -> str:
    if focus is None:
        return ""
    return "VALUES ?this { " + " ".join(str(n) for n in focus) + " } "


TARGETS = "#TARGETS#"  # where the focus nodes are bound; see :func:`render`

# A SELECT's projection and the opening of its WHERE group.
_SELECT_WHERE = re.compile(r"\bSELECT\b((?:(?!\bWHERE\b).)*?)\bWHERE\s*\{", re.I | re.S)


def bind_focus(query: str, focus: Iterable[Term]) -> str:
    """``query`` with ``VALUES $this`` opening the WHERE group of every SELECT projecting it.

    Oxigraph evaluates a nested SELECT on its own before joining it, so focus nodes bound
    only outside (or by pre-binding ``$this``) still cost a run over every target. Under the
    engine contract (ontology/shapes/prefixes.ttl: a nested SELECT projects ``$this`` and is
    joined on it; one that does not project it is left alone) restricting each such SELECT
    to the focus nodes gives the same results for them.
    """
    values = _values(focus) + "\n"

    def opened(match: re.Match[str]) -> str:
        projection = match.group(1)
        if re.search(r"[?$]this\b", projection) or projection.strip().endswith("*"):
            return match.group(0) + "\n" + values
        return match.group(0)

    return _SELECT_WHERE.sub(opened, query)


def render(
    query: str,
    owner: Shape,
    focus: Iterable[Term] | None = None,
    inline: bool = False,
) -> str:
    """A check's query with its focus nodes bound.

    Large target sets are bound by a ``SELECT DISTINCT`` subquery (hash-joined once with the
    rest); small ones (``inline``) and explicit focus nodes (a ``VALUES`` clause) are written
    inline, so that Oxigraph joins the rest node by node.
    """
    patterns = target_patterns(owner.targets)
    values = _values(focus)
    if inline or focus is not None:
        group = f"{values}{patterns}"
    else:
        group = f"{{ SELECT DISTINCT ?this WHERE {{ {patterns} }} }}"
    return query.replace(TARGETS, group)


def _head(shape: Shape, owner: Shape, what: str) -> str:
    where = f" (targets of {owner.id})" if owner is not shape else ""
    return f"# Generated from {shape.id} {what}{where}.\n"


# ------------------------------------------------------------------ SHACL Core


class _Fresh:
    def __init__(self) -> None:
        self._n = itertools.count(1)

    def __call__(self, stem: str = "v") -> str:
        return f"?{stem}{next(self._n)}"


def core_query(shape: Shape, owner: Shape, c: Constraint, narrow: bool = False) -> str:
    """The generated SELECT for one constraint; rows are ``?this`` [``?value``].

    Two forms (see :attr:`Check.narrow_query`): ``narrow``, for a few focus nodes, joins the
    path node by node; the other, for large target sets, scans the path whole in nested
    SELECTs (which Oxigraph evaluates apart and hash-joins), finds the offending rows there
    and joins only those with the targets. A path with a repetition (``*``, ``+``, ``?``) is
    not scanned whole: it keeps the node-by-node form.
    """
    fresh = _Fresh()
    head = _head(shape, owner, f"sh:{c.parameter}")
    focus = TARGETS
    path = shape.path.sparql() if shape.path is not None else None
    bulk = not narrow and shape.path is not None and _scannable(shape.path)
    comp = c.component
    if comp == "MinCountConstraintComponent":
        n = _int(c.value, shape)
        if path is None:
            raise ShapeError(None, None, f"{shape.id}: sh:minCount needs sh:path")
        if n <= 0:
            return head + "SELECT ?this WHERE { FILTER (false) }"
        if n == 1 and not bulk:
            return head + (
                f"SELECT DISTINCT ?this WHERE {{ {focus}\n"
                f"  FILTER NOT EXISTS {{ ?this {path} ?anyValue }} }}"
            )
        if n == 1:
            # an anti-join with the set of nodes that have a value (hash-joined once)
            return head + (
                f"SELECT DISTINCT ?this WHERE {{ {focus}\n"
                f"  OPTIONAL {{ SELECT DISTINCT ?this (true AS ?present) "
                f"WHERE {{ ?this {path} ?anyValue }} }}\n"
                "  FILTER (!BOUND(?present)) }"
            )
        return head + _too_few(f"?this {path} ?value", n, bulk)
    if comp == "MaxCountConstraintComponent":
        n = _int(c.value, shape)
        if path is None:
            raise ShapeError(None, None, f"{shape.id}: sh:maxCount needs sh:path")
        return head + _too_many(f"?this {path} ?value", n, bulk)
    if comp == "UniqueLangConstraintComponent":
        if not _bool(c.value) or path is None:
            return head + "SELECT ?this WHERE { FILTER (false) }"
        if not bulk:
            return head + (
                f"SELECT ?this ?lang WHERE {{ {focus}\n"
                f"  ?this {path} ?value .\n"
                '  FILTER (isLiteral(?value) && LANG(?value) != "")\n'
                "  BIND (LCASE(LANG(?value)) AS ?lang) }\n"
                "GROUP BY ?this ?lang HAVING (COUNT(DISTINCT ?value) > 1)"
            )
        # two different values of one language: the path scanned twice and hash-joined
        return head + _offenders(
            "?this ?lang",
            f"SELECT ?this ?lang WHERE {{ {_scan(path, '?value')}\n"
            f"    {_scan(path, '?other')}\n"
            '    FILTER (isLiteral(?value) && LANG(?value) != "" && !sameTerm(?value, ?other)\n'
            "            && LCASE(LANG(?value)) = LCASE(LANG(?other)))\n"
            "    BIND (LCASE(LANG(?value)) AS ?lang) }",
        )
    if comp == "HasValueConstraintComponent":
        if path is None:
            return head + (
                f"SELECT DISTINCT ?this WHERE {{ {focus}\n  FILTER (!sameTerm(?this, {c.value})) }}"
            )
        if not bulk:
            return head + (
                f"SELECT DISTINCT ?this WHERE {{ {focus}\n"
                f"  FILTER NOT EXISTS {{ ?this {path} ?value .\n"
                f"    FILTER (sameTerm(?value, {c.value})) }} }}"
            )
        return head + (
            f"SELECT DISTINCT ?this WHERE {{ {focus}\n"
            f"  OPTIONAL {{ SELECT DISTINCT ?this (true AS ?has) "
            f"WHERE {{ ?this {path} {c.value} }} }}\n"
            "  FILTER (!BOUND(?has)) }"
        )
    if comp == QUALIFIED:
        assert isinstance(c.value, Shape)
        if path is None:
            raise ShapeError(None, None, f"{shape.id}: sh:qualifiedValueShape needs sh:path")
        conforms = "!(" + _violated(c.value, "?value", fresh) + ")"
        minimum = c.get("qualifiedMinCount")
        maximum = c.get("qualifiedMaxCount")
        qualified = f"?this {path} ?value . FILTER ({conforms})"
        parts = []
        if minimum is not None:
            parts.append(_too_few(qualified, _int(minimum, shape), bulk))
        if maximum is not None:
            parts.append(_too_many(qualified, _int(maximum, shape), bulk))
        if not parts:
            return head + "SELECT ?this WHERE { FILTER (false) }"
        if len(parts) == 1:
            return head + parts[0]
        return (
            head
            + "SELECT DISTINCT ?this WHERE { "
            + " UNION ".join("{ " + p + " }" for p in parts)
            + " }"
        )
    if comp in ("LessThanConstraintComponent", "LessThanOrEqualsConstraintComponent"):
        if path is None:
            raise ShapeError(None, None, f"{shape.id}: sh:{c.parameter} needs sh:path")
        op = "<" if comp == "LessThanConstraintComponent" else "<="
        compared = f"!COALESCE(?value {op} ?other, false)"
        if not bulk:
            # OPTIONAL of one pattern is joined row by row
            return head + (
                f"SELECT DISTINCT ?this ?value WHERE {{ {focus}\n"
                f"  ?this {path} ?value .\n  OPTIONAL {{ ?this {c.value} ?other }}\n"
                f"  FILTER (BOUND(?other) && {compared}) }}"
            )
        return head + _offenders(
            "?this ?value",
            f"SELECT ?this ?value WHERE {{ {_scan(path, '?value')}\n"
            f"    {_scan(str(c.value), '?other')}\n"
            f"    FILTER ({compared}) }}",
        )
    if comp == "ClassConstraintComponent":
        if path is None:
            bind = "BIND (?this AS ?value)"
        elif not bulk:
            bind = f"?this {path} ?value ."
        else:
            # the values and the instances of the class, each scanned once and hash-joined
            return head + _offenders(
                "?this ?value",
                f"SELECT ?this ?value WHERE {{ {_scan(path, '?value')}\n"
                f"    OPTIONAL {{ SELECT ?value (true AS ?instance) "
                f"WHERE {{ ?value {TYPE_PATH} {c.value} }} }}\n"
                "    FILTER (!BOUND(?instance)) }",
            )
        if narrow:
            # each value looked up (the instances of a class may be 650,000 nodes)
            return head + (
                f"SELECT DISTINCT ?this ?value WHERE {{ {focus}\n  {bind}\n"
                f"  FILTER NOT EXISTS {{ ?value {TYPE_PATH} {c.value} }} }}"
            )
        # an anti-join with the instances of the class (hash-joined once)
        return head + (
            f"SELECT DISTINCT ?this ?value WHERE {{ {focus}\n  {bind}\n"
            f"  OPTIONAL {{ SELECT ?value (true AS ?instance) "
            f"WHERE {{ ?value {TYPE_PATH} {c.value} }} }}\n"
            "  FILTER (!BOUND(?instance)) }"
        )
    # a condition on each value node
    bad = value_violation(c, "?value", fresh, shape)
    if path is None:
        return head + (
            f"SELECT DISTINCT ?this ?value WHERE {{ {focus}\n"
            f"  BIND (?this AS ?value)\n  FILTER ({bad}) }}"
        )
    if bulk:
        return head + _offenders(
            "?this ?value",
            f"SELECT ?this ?value WHERE {{ ?this {path} ?value .\n    FILTER ({bad}) }}",
        )
    return head + (
        f"SELECT DISTINCT ?this ?value WHERE {{ {focus}\n"
        f"  ?this {path} ?value .\n  FILTER ({bad}) }}"
    )


def _scannable(path: PropertyPath) -> bool:
    """Whether the path can be scanned with both ends free (it has no repetition)."""
    return path.kind not in ("zeroOrMore", "oneOrMore", "zeroOrOne") and all(
        _scannable(p) for p in path.parts
    )


def _too_few(values: str, n: int, bulk: bool) -> str:
    """The targets with fewer than ``n`` distinct ``?value`` bound by the pattern ``values``."""
    if not bulk:
        return (
            f"SELECT ?this WHERE {{ {TARGETS}\n  OPTIONAL {{ {values} }} }}\n"
            f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {n})"
        )
    # an anti-join with the counts of the nodes that have values (hash-joined once)
    return (
        f"SELECT DISTINCT ?this WHERE {{ {TARGETS}\n"
        f"  OPTIONAL {{ SELECT ?this (COUNT(DISTINCT ?value) AS ?count) "
        f"WHERE {{ {values} }} GROUP BY ?this }}\n"
        f"  FILTER (COALESCE(?count, 0) < {n}) }}"
    )


def _too_many(values: str, n: int, bulk: bool) -> str:
    """The targets with more than ``n`` distinct ``?value`` bound by the pattern ``values``."""
    if not bulk:
        return (
            f"SELECT ?this WHERE {{ {TARGETS}\n  {values} }}\n"
            f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {n})"
        )
    return _offenders(
        "?this",
        f"SELECT ?this WHERE {{ {values} }}\n"
        f"  GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {n})",
    )


def _scan(path: str, value: str) -> str:
    """A nested SELECT of every ``?this`` / ``value`` pair of the path (a scan, hash-joined)."""
    return f"{{ SELECT ?this {value} WHERE {{ ?this {path} {value} }} }}"


def _offenders(projection: str, select: str) -> str:
    """The rows of ``select`` (offending pairs found over the whole path) for the targets."""
    return f"SELECT DISTINCT {projection} WHERE {{\n  {{ {select} }}\n  {TARGETS} }}"


def value_violation(c: Constraint, v: str, fresh: _Fresh, shape: Shape) -> str:
    """A boolean expression: the value node in ``v`` violates constraint ``c``."""
    comp = c.component
    if comp == "ClassConstraintComponent":
        return f"NOT EXISTS {{ {v} {TYPE_PATH} {c.value} }}"
    if comp == "DatatypeConstraintComponent":
        return "!(" + _has_datatype(v, c.value) + ")"
    if comp == "NodeKindConstraintComponent":
        kind = str(getattr(c.value, "value", ""))[len(SH_NS) :]
        if kind not in NODE_KINDS:
            raise ShapeError(None, None, f"{shape.id}: unknown sh:nodeKind {c.value}")
        return "!(" + NODE_KINDS[kind].format(v=v) + ")"
    if comp == "InConstraintComponent":
        assert isinstance(c.value, list)
        if not c.value:
            return "true"
        return "!(" + " || ".join(f"sameTerm({v}, {t})" for t in c.value) + ")"
    if comp == "PatternConstraintComponent":
        flags = c.get("flags")
        args = f"STR({v}), {c.value}" + (f", {flags}" if flags is not None else "")
        return f"isBlank({v}) || !REGEX({args})"
    if comp == "LanguageInConstraintComponent":
        assert isinstance(c.value, list)
        tests = " || ".join(f"langMatches(LANG({v}), {t})" for t in c.value) or "false"
        return f"!(isLiteral({v}) && ({tests}))"
    if comp == "NodeConstraintComponent":
        assert isinstance(c.value, Shape)
        return _violated(c.value, v, fresh)
    ops = {
        "MinInclusiveConstraintComponent": ">=",
        "MaxInclusiveConstraintComponent": "<=",
        "MinExclusiveConstraintComponent": ">",
        "MaxExclusiveConstraintComponent": "<",
    }
    if comp in ops:
        return f"!COALESCE({v} {ops[comp]} {c.value}, false)"
    if comp in ("MinLengthConstraintComponent", "MaxLengthConstraintComponent"):
        op = ">=" if comp == "MinLengthConstraintComponent" else "<="
        return f"isBlank({v}) || !(STRLEN(STR({v})) {op} {_int(c.value, shape)})"
    raise ShapeError(None, None, f"{shape.id}: {comp} cannot be checked on a value node")


def _has_datatype(v: str, datatype: object) -> str:
    iri = getattr(datatype, "value", "")
    if iri == LANG_STRING:
        return f'isLiteral({v}) && LANG({v}) != ""'
    if iri == XSD_STRING:
        return f'isLiteral({v}) && LANG({v}) = "" && DATATYPE({v}) = {datatype}'
    test = f"isLiteral({v}) && DATATYPE({v}) = {datatype}"
    if iri in CHECKED_XSD:
        # well-formed: the lexical form casts to the datatype (an ill-typed one raises)
        test += f" && COALESCE(DATATYPE({datatype}(STR({v}))) = {datatype}, false)"
    return test


def _violated(shape: Shape, v: str, fresh: _Fresh) -> str:
    """A boolean expression: the node in ``v`` does not conform to ``shape`` (sh:node)."""
    if shape.sparql:
        raise ShapeError(
            None, None, f"{shape.id}: SPARQL constraints in nested shapes are not supported"
        )
    tests = [_nested(shape, c, v, fresh) for c in shape.constraints]
    for prop in shape.properties:
        tests.extend(_nested(prop, c, v, fresh) for c in prop.constraints)
    return " || ".join(f"({t})" for t in tests) or "false"


def _nested(shape: Shape, c: Constraint, focus: str, fresh: _Fresh) -> str:
    comp = c.component
    if shape.path is None:
        if comp == "HasValueConstraintComponent":
            return f"!sameTerm({focus}, {c.value})"
        return value_violation(c, focus, fresh, shape)
    path = shape.path.sparql()
    value = fresh()
    if comp == "MinCountConstraintComponent" and _int(c.value, shape) <= 1:
        return "false" if _int(c.value, shape) <= 0 else f"NOT EXISTS {{ {focus} {path} {value} }}"
    if comp == "MaxCountConstraintComponent" and _int(c.value, shape) <= 1:
        if _int(c.value, shape) == 0:
            return f"EXISTS {{ {focus} {path} {value} }}"
        other = fresh()
        return (
            f"EXISTS {{ {focus} {path} {value} . {focus} {path} {other} . "
            f"FILTER (!sameTerm({value}, {other})) }}"
        )
    if comp == "HasValueConstraintComponent":
        return f"NOT EXISTS {{ {focus} {path} {value} . FILTER (sameTerm({value}, {c.value})) }}"
    if comp == "UniqueLangConstraintComponent":
        other = fresh()
        return (
            f"EXISTS {{ {focus} {path} {value} . {focus} {path} {other} . "
            f'FILTER (isLiteral({value}) && !sameTerm({value}, {other}) && LANG({value}) != "" '
            f"&& LCASE(LANG({value})) = LCASE(LANG({other}))) }}"
        )
    if comp in ("LessThanConstraintComponent", "LessThanOrEqualsConstraintComponent"):
        other = fresh()
        op = "<" if comp == "LessThanConstraintComponent" else "<="
        return (
            f"EXISTS {{ {focus} {path} {value} . {focus} {c.value} {other} . "
            f"FILTER (!COALESCE({value} {op} {other}, false)) }}"
        )
    if comp in ("MinCountConstraintComponent", "MaxCountConstraintComponent", QUALIFIED):
        raise ShapeError(None, None, f"{shape.id}: {comp} is not supported in a nested shape")
    bad = value_violation(c, value, fresh, shape)
    return f"EXISTS {{ {focus} {path} {value} . FILTER ({bad}) }}"


def _int(term: object, shape: Shape) -> int:
    try:
        return int(str(getattr(term, "value", term)))
    except (TypeError, ValueError):
        raise ShapeError(None, None, f"{shape.id}: {term} is not an integer") from None


def _bool(term: object) -> bool:
    return getattr(term, "value", "") in ("true", "1")


# ------------------------------------------------------------------ SHACL-SPARQL


def sparql_check(owner: Shape, select: str) -> str:
    """A constraint's SELECT, joined with the targets of its shape (``$this`` left free).

    The SELECT is kept as written and evaluated once for all focus nodes; the engine
    contract of ontology/shapes/prefixes.ttl makes this equal to SHACL's per-node pre-binding.
    """
    return (
        f"# Generated: the targets of {owner.id} joined with its SPARQL constraint.\n"
        f"SELECT * WHERE {{\n  {TARGETS}\n  {{\n{select.strip()}\n  }}\n}}"
    )
