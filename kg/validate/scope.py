"""What a narrowed validation run looks at: one node, or everything of one region.

Pipeline stage: validation input. Uses the store's pattern index only (no query text):
a region's nodes are the region and the regions inside it, the statements and filings for
people insured there (``yb:insuredRegion``), the institutions placed there (``yb:region``)
and the nodes each of these owns (IRIs minted below it: sources, requirements,
designations, networked services, memberships; see ``kg.vocab.sub_iri``).
"""

from __future__ import annotations

import pyoxigraph as ox

from kg import lookup
from kg.errors import LookupFailed
from kg.validate.shapes import Term
from kg.vocab import DCTERMS, ID, YB, institution_iri, statement_iri


def region_nodes(db: ox.Store, region: ox.NamedNode) -> set[Term]:
    """The region, the regions inside it and what is insured or placed in them."""
    regions = reaching(db, region, YB.parentRegion)
    nodes: set[Term] = set(regions)
    for r in regions:
        for prop in (YB.insuredRegion, YB.region):
            for q in db.quads_for_pattern(None, prop, r, None):
                nodes.add(q.subject)
    return nodes | owned(db, nodes)


def reaching(db: ox.Store, node: Term, predicate: ox.NamedNode) -> set[Term]:
    """The node and every node reaching it through ``predicate`` (``?x predicate* node``)."""
    found = {node}
    todo = [node]
    while todo:
        for q in db.quads_for_pattern(None, predicate, todo.pop(), None):
            if q.subject not in found:
                found.add(q.subject)
                todo.append(q.subject)
    return found


def owned(db: ox.Store, nodes: set[Term]) -> set[Term]:
    """Nodes minted below these (``…/rule/x/source/1`` belongs to ``…/rule/x``)."""
    out: set[Term] = set()
    todo = [n for n in nodes if isinstance(n, ox.NamedNode)]
    while todo:
        node = todo.pop()
        prefix = node.value + "/"
        for q in db.quads_for_pattern(node, None, None, None):
            obj = q.object
            if isinstance(obj, ox.NamedNode) and obj.value.startswith(prefix) and obj not in out:
                out.add(obj)
                todo.append(obj)
    return out


def focus_node(db: ox.Store, text: str) -> ox.NamedNode:
    """A node by IRI, id (``dcterms:identifier``: a rule, filing, institution, document,
    catalog), region code or name, or institution code or name."""
    text = text.strip()
    if text.startswith(("http://", "https://", "urn:", "<")):
        node = ox.NamedNode(text.strip("<>"))
        if not _described(db, node):
            raise LookupFailed("node", text)
        return node
    for candidate in (statement_iri(text), institution_iri(text), ox.NamedNode(ID + text)):
        if _described(db, candidate):
            return candidate
    identified = sorted(
        {
            q.subject
            for q in db.quads_for_pattern(None, DCTERMS.identifier, ox.Literal(text), None)
            if isinstance(q.subject, ox.NamedNode)
        },
        key=str,
    )
    if len(identified) == 1:
        return identified[0]
    if identified:
        raise LookupFailed("node", text, [n.value for n in identified], ambiguous=True)
    try:
        return lookup.region(db, text).node
    except LookupFailed:
        pass
    try:
        return lookup.institution(db, text).node
    except LookupFailed:
        raise LookupFailed("node (IRI, id, region or institution)", text) from None


def _described(db: ox.Store, node: ox.NamedNode) -> bool:
    """The graph says something about the node (it is the subject of a triple)."""
    return next(iter(db.quads_for_pattern(node, None, None, None)), None) is not None
