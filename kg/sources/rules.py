"""Rule files (YAML) → documents and sourced statements: rules, examples, facts.

The format is documented in docs/data-formats.md. Values are typed by the rule kind's
``yb:valueKind`` and conditions by the ``yb:condition`` sub-properties of the ontology, so
this reader knows no rule kind and no condition by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import InputError
from kg.sources.common import (
    Context,
    Triples,
    bool_lit,
    check_code,
    check_ident,
    date_lit,
    decimal_lit,
    integer_lit,
    lit,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_int,
)
from kg.sources.yamlio import LineDict, LineList, load_yaml
from kg.vocab import (
    COUNTRY_CODE,
    DCTERMS,
    RDF,
    RDFS,
    VOCAB,
    XSD_NS,
    YB,
    document_iri,
    region_iri,
    statement_iri,
    sub_iri,
)

STATEMENT_CLASSES = {"rules": YB.Rule, "examples": YB.Example, "facts": YB.Fact}
TOP_KEYS = {"documents", "defaults", *STATEMENT_CLASSES}
STATEMENT_KEYS = {
    "id",
    "kind",
    "value",
    "min",
    "max",
    "unit",
    "label",
    "insured_region",
    "when",
    "valid",
    "authority",
    "sources",
    "overrides",
    "note",
    "date_precision",
}
DOCUMENT_KEYS = {"title", "number", "issuer", "issued", "seed", "url", "note"}
SOURCE_KEYS = {"document", "article", "quote", "confidence"}
VALID_KEYS = {"from", "until"}
REGION_KEYS = {"insured_region", "treatment_region"}
AUTHORITY_BY_LEVEL = {"country": "national", "province": "provincial"}
NUMERIC_DATATYPE = {
    "ratio": "decimal",
    "CNY": "decimal",
    "percentage-point": "decimal",
    "month": "integer",
    "count": "integer",
    "day": "integer",
}


def matches_yaml(data: object) -> bool:
    return isinstance(data, dict) and bool(TOP_KEYS & set(data)) and "catalog" not in data


def read(path: Path, ctx: Context, data: Any | None = None) -> Triples:
    data = load_yaml(path) if data is None else data
    if data is None:
        return
    if not isinstance(data, LineDict):
        raise InputError(
            path, 1, "a rule file is a mapping with documents:, rules:, examples:, facts:"
        )
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise InputError(
            path,
            data.line_of(sorted(unknown)[0]),
            f"unknown top-level key(s): {', '.join(sorted(unknown))} "
            f"(expected: {', '.join(sorted(TOP_KEYS))})",
        )
    yield from read_documents(path, ctx, data.get("documents"))
    defaults = data.get("defaults") or LineDict()
    if not isinstance(defaults, dict):
        raise InputError(path, data.line_of("defaults"), "defaults: must be a mapping")
    for section, cls in STATEMENT_CLASSES.items():
        items = data.get(section)
        if items is None:
            continue
        if not isinstance(items, LineList):
            raise InputError(path, data.line_of(section), f"{section}: must be a list")
        for index, item in enumerate(items):
            line = items.line_of(index)
            if not isinstance(item, LineDict):
                raise InputError(path, line, f"each entry of {section}: must be a mapping")
            yield from read_statement(path, ctx, _merge(defaults, item), cls, section)


def _merge(defaults: Mapping[str, Any], item: LineDict) -> LineDict:
    out = LineDict({**defaults, **item})
    out.line = item.line
    out.key_lines = {**getattr(defaults, "key_lines", {}), **item.key_lines}
    if isinstance(defaults.get("when"), dict) and isinstance(item.get("when"), dict):
        when = LineDict({**defaults["when"], **item["when"]})
        when.line = item["when"].line
        when.key_lines = {**defaults["when"].key_lines, **item["when"].key_lines}
        out["when"] = when
    return out


# ------------------------------------------------------------------ documents


def read_documents(path: Path, ctx: Context, docs: Any) -> Triples:
    if docs is None:
        return
    if not isinstance(docs, LineDict):
        raise InputError(
            path, getattr(docs, "line", None), "documents: must be a mapping of id → document"
        )
    for key, doc in docs.items():
        line = docs.line_of(key)
        ident = check_ident(key, path, line, "document id")
        if ident in ctx.documents:
            raise InputError(
                path, line, f"document '{ident}' is already defined at {ctx.documents[ident]}"
            )
        ctx.documents[ident] = f"{path}:{line}"
        if not isinstance(doc, LineDict):
            raise InputError(path, line, f"document '{ident}' must be a mapping")
        check_keys(path, doc, DOCUMENT_KEYS, f"document '{ident}'")
        node = document_iri(ident)
        yield node, RDF.type, YB.Document
        yield node, DCTERMS.identifier, lit(ident)
        title = doc.get("title")
        if title is None:
            raise InputError(path, doc.line, f"document '{ident}' needs a title")
        for lang, text in bilingual(path, doc, "title", required=False):
            yield node, RDFS.label, lit(text, lang)
        if doc.get("number"):
            yield node, YB.documentNumber, lit(str(doc["number"]))
        for lang, text in bilingual(path, doc, "issuer", required=False):
            yield node, YB.issuer, lit(text, lang)
        if doc.get("issued"):
            yield (
                node,
                YB.issued,
                date_lit(parse_date(doc["issued"], path, doc.line_of("issued"), "issued")),
            )
        if doc.get("seed"):
            yield node, YB.seedFile, lit(str(doc["seed"]))
        if doc.get("url"):
            yield (
                node,
                YB.url,
                ox.Literal(str(doc["url"]), datatype=ox.NamedNode(XSD_NS + "anyURI")),
            )
        for lang, text in bilingual(path, doc, "note", required=False):
            yield node, RDFS.comment, lit(text, lang)


def read_sources(path: Path, ctx: Context, owner: ox.NamedNode, item: LineDict) -> Triples:
    """The ``sources:`` list of a statement or catalog: one yb:Source node per citation.

    A statement without sources, a source without a document or confidence, and a source
    citing a document no file defines are read as they are: the shapes report them
    (``ybsh:sourced``, ``ybsh:Source-document``, ``ybsh:Source-confidence``), so they fail
    validation (exit 1) like any other inconsistency. Only a wrong structure is an error here.
    """
    sources = item.get("sources")
    if sources is None:
        return
    if not isinstance(sources, LineList):
        raise InputError(
            path,
            item.line_of("sources"),
            "sources: is a list of {document, article, quote, confidence}",
        )
    for index, src in enumerate(sources, start=1):
        line = sources.line_of(index - 1)
        if not isinstance(src, LineDict):
            raise InputError(
                path, line, "each source is a mapping (document, article, quote, confidence)"
            )
        check_keys(path, src, SOURCE_KEYS, "source")
        node = sub_iri(owner, "source", str(index))
        yield owner, YB.source, node
        yield node, RDF.type, YB.Source
        if src.get("document") is not None:
            doc = check_ident(src["document"], path, src.line_of("document"), "document id")
            yield node, YB.document, document_iri(doc)
        if src.get("article"):
            yield node, YB.article, lit(str(src["article"]))
        if src.get("quote"):
            yield node, YB.quote, lit(str(src["quote"]).strip(), "zh")
        if src.get("confidence") is not None:
            yield (
                node,
                YB.confidence,
                ctx.concept("confidence", src["confidence"], path, src.line_of("confidence")),
            )


# ------------------------------------------------------------------ statements


def read_statement(
    path: Path, ctx: Context, item: LineDict, cls: ox.NamedNode, section: str
) -> Triples:
    check_keys(path, item, STATEMENT_KEYS, f"an entry of {section}:")
    ident = check_ident(item.get("id"), path, item.line_of("id"), "statement id")
    where = f"{path}:{item.line}"
    if ident in ctx.statements:
        raise InputError(
            path, item.line, f"id '{ident}' is already used at {ctx.statements[ident]}"
        )
    ctx.statements[ident] = where
    node = statement_iri(ident)
    yield node, RDF.type, YB.PolicyStatement
    yield node, RDF.type, cls
    yield node, DCTERMS.identifier, lit(ident)
    labels = list(bilingual(path, item, "label", required=True))
    for lang, text in labels:
        yield node, RDFS.label, lit(text, lang)
    if "kind" not in item:
        raise InputError(path, item.line, f"'{ident}' needs a kind")
    kind = ctx.concept("rule-kind", item["kind"], path, item.line_of("kind"))
    yield node, YB.ruleKind, kind
    yield from _values(path, ctx, node, item, kind, cls)

    region = item.get("insured_region")
    if region is None and cls == YB.Rule:
        raise InputError(
            path,
            item.line,
            f"rule '{ident}' needs insured_region ({COUNTRY_CODE} for a national rule)",
        )
    if region is not None:
        code = check_code(region, path, item.line_of("insured_region"))
        if code not in ctx.regions:
            raise InputError(path, item.line_of("insured_region"), f"unknown region {code}")
        yield node, YB.insuredRegion, region_iri(code)
        authority = item.get("authority") or authority_for(ctx, code)
        yield (
            node,
            YB.authorityLevel,
            ctx.concept("authority-level", authority, path, item.line_of("authority")),
        )
    elif item.get("authority"):
        yield (
            node,
            YB.authorityLevel,
            ctx.concept("authority-level", item["authority"], path, item.line_of("authority")),
        )
    yield from _conditions(path, ctx, node, item)
    yield from validity(path, ctx, node, item, required=cls == YB.Rule)
    yield from read_sources(path, ctx, node, item)
    overrides = item.get("overrides") or []
    if isinstance(overrides, str):
        overrides = [overrides]
    for other in overrides:
        other_id = check_ident(other, path, item.line_of("overrides"), "overridden rule id")
        ctx.statement_refs.append((other_id, str(path), item.line_of("overrides")))
        yield node, YB.overrides, statement_iri(other_id)
    for lang, text in bilingual(path, item, "note", required=False):
        yield node, RDFS.comment, lit(text, lang)
    if item.get("date_precision"):
        yield node, YB.datePrecision, lit(str(item["date_precision"]), "en")


def authority_for(ctx: Context, code: str) -> str:
    level = ctx.regions.regions[code].level
    return AUTHORITY_BY_LEVEL.get(level, "city")


def _values(
    path: Path,
    ctx: Context,
    node: ox.NamedNode,
    item: LineDict,
    kind: ox.NamedNode,
    cls: ox.NamedNode,
) -> Triples:
    value_kinds = ctx.vocab.kind_value_kinds.get(kind.value, ())
    units = [v for v in value_kinds if v.startswith(VOCAB + "unit/")]
    schemes = [
        v[len(VOCAB) :]
        for v in value_kinds
        if v.startswith(VOCAB) and not v.startswith(VOCAB + "unit/")
    ]
    is_bool = XSD_NS + "boolean" in value_kinds
    line = item.line_of("value")
    has_value = "value" in item
    has_range = "min" in item or "max" in item
    if not has_value and not has_range:
        raise InputError(
            path, item.line, f"'{item['id']}' needs a value (or min/max for an example)"
        )
    if has_range and cls == YB.Rule:
        raise InputError(
            path, item.line_of("min"), "min/max are for examples; a rule has one value"
        )
    unit_name = units[0][len(VOCAB + "unit/") :] if units else None
    if item.get("unit"):
        unit_name = str(item["unit"])
    if unit_name:
        yield node, YB.unit, ctx.concept("unit", unit_name, path, item.line_of("unit"))
    for key, prop in (("min", YB.minValue), ("max", YB.maxValue)):
        if key in item:
            yield node, prop, decimal_lit(parse_decimal(item[key], path, item.line_of(key), key))
    if not has_value:
        return
    value = item["value"]
    if schemes == ["material"]:
        yield from _requirements(path, ctx, node, value, line)
        return
    if is_bool:
        yield node, YB.value, bool_lit(parse_bool(value, path, line, "value"))
        return
    values = list(value) if isinstance(value, list) else [value]
    for v in values:
        if unit_name and _is_number(v):
            datatype = NUMERIC_DATATYPE.get(unit_name, "decimal")
            if datatype == "integer":
                yield node, YB.value, integer_lit(parse_int(v, path, line, "value"))
            else:
                yield node, YB.value, decimal_lit(parse_decimal(v, path, line, "value"))
        elif schemes:
            yield node, YB.value, _concept_in(path, ctx, schemes, v, line)
        else:
            expected = f"a number in {unit_name}" if unit_name else "a value"
            raise InputError(path, line, f"value '{v}' is not {expected}")


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _concept_in(
    path: Path, ctx: Context, schemes: list[str], value: object, line: int | None
) -> ox.NamedNode:
    for scheme in schemes:
        iri = ctx.vocab.concept(scheme, str(value))
        if iri:
            return ox.NamedNode(iri)
    accepted = sorted({n for s in schemes for n in ctx.vocab.notations(s)})
    raise InputError(
        path, line, f"unknown value '{value}' (expected one of: {', '.join(accepted)})"
    )


def _requirements(
    path: Path, ctx: Context, node: ox.NamedNode, value: object, line: int | None
) -> Triples:
    if not isinstance(value, list):
        raise InputError(path, line, "a materials value is a list of materials or {any_of: [...]}")
    for index, entry in enumerate(value, start=1):
        if isinstance(entry, dict):
            if (
                set(entry) != {"any_of"}
                or not isinstance(entry["any_of"], list)
                or not entry["any_of"]
            ):
                raise InputError(
                    path,
                    getattr(entry, "line", line),
                    "an alternative is written {any_of: [material, material, ...]}",
                )
            options = entry["any_of"]
        else:
            options = [entry]
        req = sub_iri(node, "requirement", str(index))
        yield node, YB.requirement, req
        yield req, RDF.type, YB.MaterialRequirement
        for option in options:
            yield req, YB.anyOf, ctx.concept("material", option, path, line)


def _conditions(path: Path, ctx: Context, node: ox.NamedNode, item: LineDict) -> Triples:
    when = item.get("when")
    if when is None:
        return
    if not isinstance(when, LineDict):
        raise InputError(
            path, item.line_of("when"), "when: must be a mapping of condition → value(s)"
        )
    for key, value in when.items():
        line = when.line_of(key)
        prop = ctx.vocab.condition_keys.get(key)
        if prop is None or key == "insured_region":
            accepted = ", ".join(
                sorted(k for k in ctx.vocab.condition_keys if k != "insured_region")
            )
            raise InputError(path, line, f"unknown condition '{key}' (expected one of: {accepted})")
        values = list(value) if isinstance(value, list) else [value]
        if not values:
            raise InputError(path, line, f"condition '{key}' has no value")
        for v in values:
            if key in REGION_KEYS:
                code = check_code(v, path, line)
                if code not in ctx.regions:
                    raise InputError(path, line, f"unknown region {code}")
                obj: ox.NamedNode = region_iri(code)
            else:
                scheme = ctx.vocab.scheme_for_key.get(key)
                if scheme is None:
                    raise InputError(path, line, f"condition '{key}' has no vocabulary")
                obj = ctx.concept(scheme, _notation(v), path, line)
            yield node, ox.NamedNode(prop), obj


def _notation(value: object) -> str:
    return str(value).strip()


def validity(
    path: Path, ctx: Context, node: ox.NamedNode, item: LineDict, required: bool
) -> Triples:
    valid = item.get("valid")
    if valid is None:
        if required:
            raise InputError(path, item.line, f"'{item['id']}' needs valid: {{from: YYYY-MM-DD}}")
        return
    if not isinstance(valid, dict) or "from" not in valid:
        raise InputError(
            path, item.line_of("valid"), "valid: is {from: YYYY-MM-DD, until: YYYY-MM-DD}"
        )
    if isinstance(valid, LineDict):
        check_keys(path, valid, VALID_KEYS, "valid")
    line = item.line_of("valid")
    start = parse_date(valid["from"], path, line, "valid.from")
    yield node, YB.validFrom, date_lit(start)
    if valid.get("until") is not None:
        end = parse_date(valid["until"], path, line, "valid.until")
        if end < start:
            raise InputError(path, line, "valid.until is before valid.from")
        yield node, YB.validUntil, date_lit(end)


def bilingual(path: Path, item: Mapping[str, Any], key: str, required: bool):  # type: ignore[no-untyped-def]
    value = item.get(key)
    line = item.line_of(key) if isinstance(item, LineDict) else None
    if value is None:
        if required:
            raise InputError(path, getattr(item, "line", None), f"needs {key}: {{zh: …, en: …}}")
        return
    if isinstance(value, str):
        yield "zh", value.strip()
        return
    if not isinstance(value, dict) or not set(value) <= {"zh", "en"} or not value:
        raise InputError(path, line, f"{key}: is {{zh: …, en: …}}")
    if required and not (value.get("zh") and value.get("en")):
        raise InputError(path, line, f"{key}: needs both zh and en")
    for lang in ("zh", "en"):
        if value.get(lang):
            yield lang, str(value[lang]).strip()


def check_keys(path: Path, item: LineDict, known: set[str], what: str) -> None:
    unknown = sorted(set(item) - known)
    if unknown:
        raise InputError(
            path,
            item.line_of(unknown[0]),
            f"unknown key(s) in {what}: {', '.join(unknown)} "
            f"(expected: {', '.join(sorted(known))})",
        )
