"""The naive way: the project's named queries answered by rdflib SPARQL on an in-memory graph.

Pipeline stage: benchmark baseline (``yibao bench``). :class:`RdflibStore` offers the one
method the query layer calls on a store (``query``), so :func:`kg.resolve.which_rule` runs
unchanged — the same named query texts, the same parameters bound as terms (rdflib's
``initBindings``), the same Python matching — only the graph is rdflib's instead of Oxigraph's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import pyoxigraph as ox

# Oxigraph's LATERAL (SPARQL 1.2 draft) fixes the join order of the named queries; rdflib
# cannot parse it. Its blocks become part of the enclosing group (``A LATERAL { B }`` →
# ``A B``): rdflib joins the parts of a group in order, substituting the bindings found so
# far (a lazy join), which is what LATERAL asks for; OPTIONALs in B stay left joins with what
# precedes them. Nothing else of the text changes, and the benchmark checks that both
# engines give the same answers.
LATERAL = re.compile(r"\bLATERAL\s*\{")


def rdflib_text(text: str) -> str:
    """A named query's text as rdflib can parse it (see :data:`LATERAL`)."""
    while (m := LATERAL.search(text)) is not None:
        end = _closing(text, m.end())
        # a pattern before the block may need its terminating dot ("?s ?p ?o LATERAL {")
        dot = "" if _last_token_char(text[: m.start()]) in (".", "{", "") else " ."
        text = text[: m.start()] + dot + text[m.end() : end] + text[end + 1 :]
    return text


# What the brace scanner steps over whole: a comment (skipped), a string literal or an IRI
# (a token: "#", "{" or "}" inside it is text). An IRI has no whitespace, so "<" as an
# operator ("?a < ?b") is not taken for one.
_OPAQUE = re.compile(r"""#[^\n]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\s]*>""")


def _code(text: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """The characters of query text outside comments, with their index; a string literal or
    an IRI is given as its last character."""
    i = start
    while i < len(text):
        m = _OPAQUE.match(text, i)
        if m is None:
            yield i, text[i]
            i += 1
            continue
        if not m.group().startswith("#"):
            yield m.end() - 1, text[m.end() - 1]
        i = m.end()


def _last_token_char(prefix: str) -> str:
    last = ""
    for _, c in _code(prefix):
        if not c.isspace():
            last = c
    return last


def _closing(text: str, start: int) -> int:
    """The index of the brace closing the block opened just before ``start``."""
    depth = 1
    for i, c in _code(text, start):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced LATERAL block")


class Solutions:
    """SELECT results in the shape :func:`kg.query.solutions` reads (Oxigraph terms)."""

    def __init__(self, names: list[str], rows: list[dict[str, Any]]) -> None:
        self.variables = [ox.Variable(n) for n in names]
        self._rows = rows

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows)


class RdflibStore:
    """An rdflib graph behind the ``store.query`` interface of :mod:`kg.query`.

    Parsed queries are kept (rdflib's parser is slow and a service would prepare them), so
    what is measured is rdflib's evaluation.
    """

    def __init__(self, graph: Any, prepared: dict[str, Any] | None = None) -> None:
        self.graph = graph
        self._prepared: dict[str, Any] = {} if prepared is None else prepared

    def fresh(self) -> RdflibStore:
        """The same graph and prepared queries as a new store object (no resolution caches)."""
        return RdflibStore(self.graph, self._prepared)

    def query(
        self,
        text: str,
        substitutions: Mapping[Any, Any] | None = None,
        prefixes: Mapping[str, str] | None = None,
        use_default_graph_as_union: bool = True,
    ) -> Any:
        from rdflib import Namespace
        from rdflib.plugins.sparql import prepareQuery

        from kg.validate.reference import to_ox
        from kg.validate.report import to_rdflib

        prepared = self._prepared.get(text)
        if prepared is None:
            ns = {k: Namespace(v) for k, v in (prefixes or {}).items()}
            prepared = self._prepared[text] = prepareQuery(rdflib_text(text), initNs=ns)
        bindings = {str(k.value): to_rdflib(v) for k, v in (substitutions or {}).items()}
        result = self.graph.query(prepared, initBindings=bindings)
        if result.type == "ASK":
            return bool(result.askAnswer)
        names = [str(v) for v in result.vars or []]
        rows = []
        for row in result:
            values = row.asdict()
            rows.append({n: to_ox(values[n]) if n in values else None for n in names})
        return Solutions(names, rows)
