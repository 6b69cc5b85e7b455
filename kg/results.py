"""Writers of query results: an aligned table, SPARQL 1.1 JSON, CSV and TSV.

Pipeline stage: ``queries/*.rq`` → :mod:`kg.query` → **results** (what ``yibao query`` and
``yibao sparql`` print).

JSON, CSV and TSV are written by pyoxigraph's own serializers (the W3C SPARQL 1.1 result
formats), never by hand. The table is for people at a terminal: columns aligned by display
width, so Chinese text (two columns per character, Unicode East Asian Width W/F) lines up.
Graph results (CONSTRUCT, DESCRIBE) are written as Turtle whatever the format.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Collection
from typing import Any, BinaryIO

import pyoxigraph as ox

from kg.vocab import PREFIXES

FORMATS: dict[str, ox.QueryResultsFormat | None] = {
    "table": None,
    "json": ox.QueryResultsFormat.JSON,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
MAX_CELL = 60  # display columns of a table cell before it is shortened with "…"
GAP = "  "

__all__ = ["FORMATS", "display_width", "term_text", "without", "write", "write_table"]


def display_width(text: str) -> int:
    """Terminal columns of the text: 2 for wide (CJK) characters, 0 for combining marks.

    >>> display_width("佛山市 Foshan")
    13
    """
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _shorten(text: str, limit: int) -> str:
    if display_width(text) <= limit:
        return text
    out, width = [], 0
    for ch in text:
        w = display_width(ch)
        if width + w > limit - 1:
            break
        out.append(ch)
        width += w
    return "".join(out) + "…"


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def term_text(term: Any) -> str:
    """A short human form of a term: prefixed IRIs, plain literal values, ``_:b`` nodes."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for prefix, base in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
            if term.value.startswith(base) and len(term.value) > len(base):
                return f"{prefix}:{term.value[len(base) :]}"
        return f"<{term.value}>"
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        return " ".join(term.value.split())
    return str(term)


def write_table(results: Any, out: BinaryIO, max_cell: int = MAX_CELL) -> int:
    """Write SELECT or ASK results as an aligned table; returns the number of rows."""
    if isinstance(results, ox.QueryBoolean):
        out.write(f"{'true' if bool(results) else 'false'}\n".encode())
        return 1
    variables = [v.value for v in results.variables]
    rows = [[_shorten(term_text(sol[v]), max_cell) for v in variables] for sol in results]
    widths = [
        max([display_width(v), *(display_width(r[i]) for r in rows)])
        for i, v in enumerate(variables)
    ]
    lines = [
        GAP.join(_pad(v, w) for v, w in zip(variables, widths, strict=True)).rstrip(),
        GAP.join("-" * w for w in widths),
    ]
    lines += [
        GAP.join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.append(f"({len(rows)} rows / 行)")
    out.write(("\n".join(lines) + "\n").encode("utf-8"))
    return len(rows)


def write(results: Any, fmt: str, out: BinaryIO) -> None:
    """Write query results in a format of :data:`FORMATS` to a binary stream."""
    if isinstance(results, ox.QueryTriples):
        results.serialize(out, format=ox.RdfFormat.TURTLE)
        return
    if fmt == "table":
        write_table(results, out)
        return
    results.serialize(out, format=FORMATS[fmt])
    if fmt == "json":
        out.write(b"\n")


def without(results: Any, names: Collection[str]) -> Any:
    """SELECT results without the variables ``names`` (other results as they are).

    The solutions go through pyoxigraph's SPARQL JSON writer and reader, so the terms come
    back exactly as they were.
    """
    if not isinstance(results, ox.QuerySolutions):
        return results
    if not {v.value for v in results.variables} & set(names):
        return results
    written = results.serialize(format=ox.QueryResultsFormat.JSON)
    assert written is not None  # (no output given: the bytes are returned)
    data = json.loads(written)
    data["head"]["vars"] = [v for v in data["head"]["vars"] if v not in names]
    for binding in data["results"]["bindings"]:
        for name in names:
            binding.pop(name, None)
    return ox.parse_query_results(json.dumps(data).encode(), format=ox.QueryResultsFormat.JSON)
