"""Find regions, institutions, statements and documents by what users type.

Names match exactly (with or without 市/省, in Chinese or English, or by code); a name that
matches nothing or several regions raises :class:`LookupFailed` with close matches.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import pyoxigraph as ox

from kg import query
from kg.errors import LookupFailed
from kg.vocab import document_iri, statement_iri


@dataclass(frozen=True)
class Region:
    node: ox.NamedNode
    code: str
    name: str
    name_en: str | None
    level: str
    pooling: bool
    pooling_code: str | None
    province_code: str | None


@dataclass(frozen=True)
class Institution:
    node: ox.NamedNode
    id: str
    name: str
    region_code: str | None
    pooling_code: str | None
    level: str | None
    primary_level: bool | None


def _rows(store: ox.Store, name: str, **values: object) -> list[dict[str, object]]:
    _, rows = query.solutions(query.run_named(store, name, values))
    return [{k: query.value_of(v) for k, v in row.items()} for row in rows]


def _text(value: object) -> str | None:
    return str(value) if value else None


def _english_case(text: str) -> str:
    """English names as the graph writes them: beijing → Beijing, chaoyang district →
    Chaoyang District, xi'an → Xi'an."""
    return " ".join(word[:1].upper() + word[1:].lower() for word in text.split())


def region(store: ox.Store, text: str) -> Region:
    """The region a code or name denotes; its pooling region is resolved too."""
    text = str(text).strip()
    found = {r["code"]: r for r in _rows(store, "region_lookup", text=text)}
    if not found and text.endswith(("市", "省")):
        found = {r["code"]: r for r in _rows(store, "region_lookup", text=text[:-1])}
    if not found and text.isascii() and text != _english_case(text):
        found = {r["code"]: r for r in _rows(store, "region_lookup", text=_english_case(text))}
    if len(found) == 1:
        r = next(iter(found.values()))
        return Region(
            node=ox.NamedNode(str(r["region"])),
            code=str(r["code"]),
            name=str(r["name"]),
            name_en=_text(r.get("name_en")),
            level=str(r["level"]),
            pooling=bool(r["pooling"]),
            pooling_code=_text(r.get("pooling_code")),
            province_code=_text(r.get("province_code")),
        )
    if found:
        raise LookupFailed(
            "region", text, [f"{c} {r['name']}" for c, r in sorted(found.items())], ambiguous=True
        )
    names = {str(r["name"]): str(r["code"]) for r in _rows(store, "region_names")}
    close = difflib.get_close_matches(text, list(names), n=6, cutoff=0.5)
    raise LookupFailed("region", text, [f"{names[n]} {n}" for n in close])


def institution(store: ox.Store, text: str, near: Region | None = None) -> Institution:
    """The institution an id, national code or exact name denotes.

    When nothing matches, close matches are suggested among the institutions of ``near``
    (the treatment region, found through the region index: cheap at national scale), else
    among names sharing a fragment with ``text`` (a scan of every name per fragment).
    """
    text = str(text).strip()
    found = {r["id"]: r for r in _rows(store, "institution_lookup", text=text)}
    if len(found) == 1:
        r = next(iter(found.values()))
        return Institution(
            node=ox.NamedNode(str(r["institution"])),
            id=str(r["id"]),
            name=str(r["name"]),
            region_code=_opt(r.get("region_code")),
            pooling_code=_opt(r.get("pooling_code")),
            level=_opt(r.get("level")),
            primary_level=None if r.get("primary_level") is None else bool(r["primary_level"]),
        )
    if found:
        raise LookupFailed(
            "institution",
            text,
            [f"{i} {r['name']} ({r.get('region_code') or '?'})" for i, r in sorted(found.items())],
            ambiguous=True,
        )
    candidates: dict[str, str]
    if near is not None:
        rows = _rows(store, "institutions_in_region", region=near.node)
        candidates = {str(r["name"]): str(r["id"]) for r in rows}
        close = difflib.get_close_matches(text, list(candidates), n=6, cutoff=0.3)
        if close:
            raise LookupFailed("institution", text, [f"{candidates[n]} {n}" for n in close])
    candidates = {}
    for size in (4, 3, 2):
        for start in range(0, max(len(text) - size + 1, 1)):
            fragment = text[start : start + size]
            if len(fragment) < 2:
                continue
            for r in _rows(store, "institution_names_like", fragment=fragment):
                candidates.setdefault(str(r["name"]), str(r["id"]))
        if len(candidates) >= 5:
            break
    close = difflib.get_close_matches(text, list(candidates), n=6, cutoff=0.3)
    raise LookupFailed("institution", text, [f"{candidates[n]} {n}" for n in close])


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def _exists(store: ox.Store, node: ox.NamedNode) -> bool:
    return bool(query.run_named(store, "entity_exists", {"entity": node}))


def statement(store: ox.Store, ident: str) -> ox.NamedNode:
    """The IRI of a rule, example or fact by id."""
    node = statement_iri(ident.strip())
    if not _exists(store, node):
        raise LookupFailed("rule", ident)
    return node


def document(store: ox.Store, ident: str) -> ox.NamedNode:
    """The IRI of a cited document by id."""
    node = document_iri(ident.strip())
    if not _exists(store, node):
        raise LookupFailed("document", ident)
    return node
