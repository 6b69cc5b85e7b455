"""Catalog header (YAML) + items (CSV) → a catalog and its items with category 甲/乙/丙."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kg.errors import InputError
from kg.sources import rules
from kg.sources.common import (
    Context,
    Triples,
    bool_lit,
    check_code,
    check_ident,
    date_lit,
    lit,
    parse_bool,
    parse_interval,
)
from kg.sources.tables import rows, split
from kg.sources.yamlio import LineDict
from kg.vocab import DCTERMS, RDF, RDFS, SKOS, YB, catalog_iri, item_iri, region_iri

CATALOG_KEYS = {"id", "kind", "region", "edition", "label", "valid", "items", "sources"}
ITEM_REQUIRED = {"number", "name", "category"}
ITEM_COLUMNS = ITEM_REQUIRED | {
    "other_names",
    "dosage_form",
    "part",
    "classification_code",
    "classification_path",
    "additional_form",
    "payment_standard",
    "remark",
    "agreement_valid",
}


def matches_yaml(data: object) -> bool:
    return isinstance(data, dict) and "catalog" in data


def items_file(path: Path, data: Any) -> Path | None:
    """The items CSV a catalog header names (skipped by discovery)."""
    cat = data.get("catalog") if isinstance(data, dict) else None
    if isinstance(cat, dict) and cat.get("items"):
        return (path.parent / str(cat["items"])).resolve()
    return None


def read(path: Path, ctx: Context, data: LineDict) -> Triples:
    extra = set(data) - {"catalog", "documents"}
    if extra:
        raise InputError(
            path,
            data.line_of(sorted(extra)[0]),
            f"unknown top-level key(s): {', '.join(sorted(extra))} "
            "(a catalog file has catalog: and documents:)",
        )
    yield from rules.read_documents(path, ctx, data.get("documents"))
    cat = data["catalog"]
    if not isinstance(cat, LineDict):
        raise InputError(path, data.line_of("catalog"), "catalog: must be a mapping")
    rules.check_keys(path, cat, CATALOG_KEYS, "catalog:")
    ident = check_ident(cat.get("id"), path, cat.line_of("id"), "catalog id")
    node = catalog_iri(ident)
    yield node, RDF.type, YB.Catalog
    yield node, DCTERMS.identifier, lit(ident)
    for lang, text in rules.bilingual(path, cat, "label", required=True):
        yield node, RDFS.label, lit(text, lang)
    kind = cat.get("kind", "drug")
    yield node, YB.catalogKind, ctx.concept("catalog-kind", kind, path, cat.line_of("kind"))
    if "region" not in cat:
        raise InputError(path, cat.line, "catalog: needs the region whose catalog it is")
    code = check_code(cat["region"], path, cat.line_of("region"))
    if code not in ctx.regions:
        raise InputError(path, cat.line_of("region"), f"unknown region {code}")
    yield node, YB.region, region_iri(code)
    yield (
        node,
        YB.authorityLevel,
        ctx.concept("authority-level", rules.authority_for(ctx, code), path, cat.line_of("region")),
    )
    if cat.get("edition") is not None:
        yield node, YB.edition, lit(str(cat["edition"]))
    yield from rules.validity(path, ctx, node, cat, required=True)
    yield from rules.read_sources(path, ctx, node, cat)
    if not cat.get("items"):
        raise InputError(path, cat.line, "catalog: needs items: <file.csv>")
    items = items_file(path, data)
    assert items is not None
    if not items.is_file():
        raise InputError(path, cat.line_of("items"), f"items file {cat['items']} not found")
    yield from read_items(items, ctx, ident, node)


def read_items(path: Path, ctx: Context, catalog: str, catalog_node: Any) -> Triples:
    seen: dict[str, int] = {}
    for line, row in rows(path, ITEM_REQUIRED, ITEM_COLUMNS):
        number = check_ident(row["number"], path, line, "item number")
        additional = parse_bool(row.get("additional_form") or "no", path, line, "additional_form")
        count = seen.get(number, 0) + 1
        if count > 1 and not additional:
            raise InputError(
                path,
                line,
                f"item number {number} is used twice; mark further "
                "dosage forms with additional_form=yes",
            )
        seen[number] = count
        key = number if count == 1 else f"{number}-{count}"
        node = item_iri(catalog, key)
        if not row["name"]:
            raise InputError(path, line, "item name is empty")
        yield node, RDF.type, YB.CatalogItem
        yield node, YB.catalog, catalog_node
        yield node, RDFS.label, lit(row["name"], "zh")
        for other in split(row.get("other_names") or ""):
            yield node, SKOS.altLabel, lit(other, "zh")
        yield node, YB.catalogNumber, lit(number)
        yield node, YB.itemCategory, ctx.concept("item-category", row["category"], path, line)
        yield node, YB.additionalDosageForm, bool_lit(additional)
        if row.get("dosage_form"):
            yield node, YB.dosageForm, lit(row["dosage_form"], "zh")
        if row.get("part"):
            yield node, YB.catalogPart, lit(row["part"], "zh")
        if row.get("classification_code"):
            yield node, YB.classificationCode, lit(row["classification_code"])
        if row.get("classification_path"):
            yield node, YB.classificationPath, lit(row["classification_path"], "zh")
        if row.get("payment_standard"):
            yield node, YB.paymentStandard, lit(row["payment_standard"])
        if row.get("remark"):
            yield node, YB.remark, lit(row["remark"], "zh")
        if row.get("agreement_valid"):
            start, end = parse_interval(row["agreement_valid"], path, line, "agreement_valid")
            yield node, YB.agreementValidFrom, date_lit(start)
            if end:
                yield node, YB.agreementValidUntil, date_lit(end)
