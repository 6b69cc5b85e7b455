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
from kg.vocab import document_iri, expand_curie, statement_iri


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


# English administrative words a user may add to a name the graph writes without them.
ENGLISH_SUFFIXES = (" city", " province", " municipality", " shi", " sheng")


def _matches(store: ox.Store, text: str) -> dict[str, dict[str, object]]:
    """Regions whose code or name is the text, with or without 市/省, in any English case."""
    found = {str(r["code"]): r for r in _rows(store, "region_lookup", text=text)}
    if not found and text.endswith(("市", "省")):
        found = {str(r["code"]): r for r in _rows(store, "region_lookup", text=text[:-1])}
    if not found and text.isascii():
        bare = next((text[: -len(s)] for s in ENGLISH_SUFFIXES if text.lower().endswith(s)), text)
        variants = dict.fromkeys((_english_case(text), bare, _english_case(bare)))
        for variant in (v for v in variants if v != text):  # text itself was looked up
            found = {str(r["code"]): r for r in _rows(store, "region_lookup", text=variant)}
            if found:
                break
    return found


def _within(store: ox.Store, text: str) -> dict[str, dict[str, object]]:
    """A name written with its parents (湖北省仙桃市, 佛山市南海区, 广东省佛山市南海区): the
    regions the tail names that lie inside the region the head names."""
    if text.isascii():
        return {}
    for cut in range(2, len(text) - 1):
        outer = _matches(store, text[:cut])
        if len(outer) != 1:
            continue
        (code,) = outer
        inner = _matches(store, text[cut:]) or _within(store, text[cut:])
        inside = {
            c: r
            for c, r in inner.items()
            if code in (r.get("province_code"), r.get("pooling_code")) and c != code
        }
        if inside:
            return inside
    return {}


def region(store: ox.Store, text: str) -> Region:
    """The region a code or name denotes; its pooling region is resolved too."""
    text = str(text).strip()
    found = _matches(store, text) or _within(store, text)
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
    rows = _rows(store, "region_names")
    if text.isdigit():  # a code cut short or mistyped: the regions whose code it begins
        named: dict[str, str] = {}
        for r in rows:
            code, name = str(r["code"]), str(r["name"])
            if code.startswith(text[:4]) and not name.isascii():
                named[code] = max(named.get(code, ""), name, key=len)  # 三水区 over 三水
        raise LookupFailed("region", text, [f"{c} {n}" for c, n in sorted(named.items())[:6]])
    names = {str(r["name"]): str(r["code"]) for r in rows}
    close = difflib.get_close_matches(text, list(names), n=6, cutoff=0.5)
    raise LookupFailed("region", text, [f"{names[n]} {n}" for n in close])


def pooling_regions_in(store: ox.Store, region: Region, limit: int = 8) -> list[str]:
    """Pooling regions inside a region, those sharing its short name first (吉林省 →
    吉林市; 江西省 → 江西省省本级): the suggestions when a pooling region is needed."""
    rows = _rows(store, "pooling_regions_in", region=region.node)
    short = min((str(r["short"]) for r in rows if r.get("short")), key=len, default=region.name)
    ranked = sorted(rows, key=lambda r: (not str(r["name"]).startswith(short), str(r["code"])))
    found = list(dict.fromkeys(f"{r['code']} {r['name']}" for r in ranked))
    return found[:limit] + (["…"] if len(found) > limit else [])


def institution(store: ox.Store, text: str, near: Region | None = None) -> Institution:
    """The institution an id, national code or exact name denotes.

    When nothing matches, close matches are suggested among the institutions of ``near``
    (the treatment region, found through the region index: cheap at national scale), else
    among names sharing a fragment with ``text`` (a scan of every name per fragment).
    """
    text = str(text).strip()
    found = {r["id"]: r for r in _rows(store, "institution_lookup", text=text)}
    if len(found) == 1 and _only_by_other_name(found, text):
        # An other name (协和医院, 中山医院) is also how other hospitals are called when
        # their full names end with it: ambiguous, not the one that happens to list it.
        others = {
            r["id"]: r
            for r in _rows(store, "institution_names_like", fragment=text)
            if str(r["name"]).endswith(text) and r["id"] not in found
        }
        if others:
            raise LookupFailed(
                "institution",
                text,
                [f"{i} {r['name']}" for i, r in [*found.items(), *sorted(others.items())]],
                ambiguous=True,
            )
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


def _only_by_other_name(found: dict[object, dict[str, object]], text: str) -> bool:
    """True when the text is none of the found institutions' id, code or name."""
    return all(text not in (r["id"], r["name"], r.get("code")) for r in found.values())


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def _exists(store: ox.Store, node: ox.NamedNode) -> bool:
    return bool(query.run_named(store, "entity_exists", {"entity": node}))


def statement(store: ox.Store, ident: str) -> ox.NamedNode:
    """The IRI of a rule, example or fact by id, IRI or compact IRI (``id:rule/x``)."""
    text = ident.strip()
    node = _named(text) or statement_iri(text)
    if not _exists(store, node):
        raise LookupFailed("rule", ident)
    return node


def document(store: ox.Store, ident: str) -> ox.NamedNode:
    """The IRI of a cited document by id, 文号 (医保发〔2022〕22号), IRI or compact IRI."""
    text = ident.strip()
    node = _named(text) or document_iri(text)
    if _exists(store, node):
        return node
    rows = _rows(store, "documents")
    numbered = [r for r in rows if r.get("number") and _same_number(str(r["number"]), text)]
    if len(numbered) == 1:
        return ox.NamedNode(str(numbered[0]["document"]))
    ids = {str(r["id"]) for r in rows} | {str(r["number"]) for r in rows if r.get("number")}
    close = difflib.get_close_matches(text, sorted(ids), n=6, cutoff=0.5)
    raise LookupFailed("document", ident, close, ambiguous=len(numbered) > 1)


def _named(text: str) -> ox.NamedNode | None:
    """A full or compact IRI given for an id."""
    full = expand_curie(text)
    return ox.NamedNode(full) if full.startswith(("http://", "https://", "urn:")) else None


def _same_number(number: str, text: str) -> bool:
    """文号 written with 〔〕, [], (), or ［］ brackets are the same number."""
    table = str.maketrans("[]()［］（）", "〔〕〔〕〔〕〔〕")
    return number.translate(table).replace(" ", "") == text.translate(table).replace(" ", "")
