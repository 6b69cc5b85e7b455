"""Turtle files → their triples, as written (ontology, vocabularies, hand-written data)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from kg.errors import InputError
from kg.sources.tables import not_utf8


def parse(path: Path) -> Iterator[ox.Triple]:
    """The triples of a Turtle file; a syntax error names the file (as given), line and column."""
    base = path.absolute().as_uri()  # relative IRIs resolve against the file's place
    try:
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=base):
            yield quad.triple
    except SyntaxError as exc:
        raise InputError(path, exc.lineno, _message(exc), exc.offset) from None
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None


def _message(exc: SyntaxError) -> str:
    text = str(exc.msg if exc.msg else exc)
    return "Turtle syntax error: " + text.replace("Parser error at ", "").split(": ", 1)[-1]
