"""Resolution: which rule decides each answer of a scenario, and why the others lost.

Pipeline stage: ``queries/*.rq`` → **resolve** → explain / reimburse / export.

A :class:`Scenario` (who is insured where, treated where, under which filing, for which
service, on which date) becomes a :class:`Context`: its regions and pooling regions, the
scope of care (same pooling region → local; same province → intra-province; else
cross-province), the hospital's level and place, and the scenario's value for every
condition key of the ontology. :func:`resolve_kind` then picks, among the rules of one kind,
the rule that applies most specifically; :func:`which_rule` does it for every answer key of
the vocabulary and derives the answer (:class:`Answer`).

Matching and precedence are generic, read from the ontology and the data:

- a rule applies when its insured region is the insured pooling region or one above it,
  its validity contains the date, and every condition it has admits the scenario's value
  (the value itself or a concept it is narrower than, ``skos:broader*``); a rule with a
  condition on a key the scenario does not give does not apply;
- among applicable rules the most specific wins: the nearest insured region (city over
  province over country), then the filing type over its class over no filing condition,
  then more conditions, then a declared ``yb:overrides``, then the latest validity start;
  rules still tied with different values are a conflict, reported and never guessed.

Rules are read per region of the insured region's ancestor chain (``rules_of_region.rq``,
through the ``yb:insuredRegion`` index) and kept for the life of the read-only store, so a
scenario costs no query per rule and, once its regions were seen, almost no query at all.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

import pyoxigraph as ox

from kg import lookup, query
from kg.errors import KgError, LookupFailed
from kg.sources.common import as_date
from kg.vocab import (
    DCTERMS,
    RDFS,
    YB,
    Vocabulary,
    load_vocabulary,
    local_id,
    region_iri,
)

__all__ = [
    "Answer",
    "Candidate",
    "Context",
    "Explanation",
    "Resolution",
    "RuleRecord",
    "Scenario",
    "answer_keys",
    "json_value",
    "resolve_kind",
    "resolve_scenario",
    "which_rule",
]

Text = dict[str, str]  # a message in both languages: {"zh": …, "en": …}

# Scenario keys whose value is a region (matched along yb:parentRegion, not skos:broader).
REGION_KEYS = ("insured_region", "treatment_region")
# The condition key whose concept depth ranks rules (a filing type over its class).
FILING_KEY = "filing_type"
SCOPE_KEY = "scope"
# Answer keys computed from the context rather than read from one rule kind.
SCOPE_ANSWER = "scope"
FILING_CATEGORY_ANSWER = "filing_category"
ITEM_CATEGORY_ANSWER = "item_category"
# How the value of a rule kind becomes an answer (the notations are the vocabulary's).
SETTLEMENT_ANSWER = {"direct": True, "manual": False}
SELECTION_KIND = "institution-selection"
SELECTION_GATED = ("institution_limit", "primary_level_min")
REGION_ROLE_KEYS = ("catalog_region", "policy_region")
PAID = "reimbursable"  # the answer key whose "no" also means no direct settlement
SETTLEMENT_KEY = "direct_settlement"
# Display order of the answer keys; keys new to the vocabulary follow in their order.
ANSWER_ORDER = (
    "scope",
    "filing_category",
    "filing_required",
    "treated_as_filed",
    "filing_validity",
    "catalog_region",
    "policy_region",
    "direct_settlement",
    "reimbursable",
    "ratio_reduction_cap_pp",
    "ratio_reduction_pp",
    "institution_limit",
    "primary_level_min",
    "dual_entitlement",
    "required_materials",
    "item_category",
)


# ------------------------------------------------------------------ scenario


@dataclass(frozen=True)
class Scenario:
    """Who is insured where, treated where, how and when: the question of ``which-rule``.

    Values are what users type: region codes or names, notations of the vocabulary
    (``employee``, ``referral``, ``inpatient``, ``3``), an institution's id, code or name,
    a catalog item's name. ``conditions`` holds further condition keys of the ontology
    (``admission``, ``disease``, ``filing_timing``, ``item_category``, …).
    """

    insured_region: str
    treatment_region: str | None = None
    scheme: str | None = None
    filing_type: str | None = None
    service: str | None = None
    hospital: str | None = None
    hospital_level: str | None = None
    item: str | None = None
    dosage_form: str | None = None
    date: dt.date | None = None
    conditions: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name != "conditions")

    @classmethod
    def accepted_keys(cls, vocab: Vocabulary | None = None) -> list[str]:
        """The keys a scenario mapping may have: the fields and the condition keys."""
        vocab = vocab or load_vocabulary()
        extra = [k for k in vocab.condition_keys if k not in cls.field_names() and k != SCOPE_KEY]
        return [*cls.field_names(), *sorted(extra)]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], vocab: Vocabulary | None = None) -> Scenario:
        """A scenario from a mapping (a scenario file entry, JSON); unknown keys are errors.

        A value of a key with a vocabulary may name its concept by notation or by label
        (``门诊慢特病``, ``职工``, :meth:`Vocabulary.find`); it is kept as the notation. A
        value that names no concept is kept as given, for the lookup to refuse.
        """
        vocab = vocab or load_vocabulary()
        accepted = cls.accepted_keys(vocab)
        unknown = sorted(set(data) - set(accepted))
        if unknown:
            raise KgError(
                f"unknown scenario key(s) {', '.join(unknown)} / 未知的情景键; "
                f"accepted: {', '.join(accepted)}"
            )
        if not data.get("insured_region"):
            raise KgError("a scenario needs insured_region / 情景须给出参保地")
        values: dict[str, Any] = {}
        conditions: dict[str, str] = {}
        for key, value in data.items():
            if value is None:
                continue
            if key == "date":
                values[key] = _date(value)
                continue
            text = str(value).strip()
            scheme = vocab.scheme_for_key.get(key)
            iri = vocab.find(scheme, text) if scheme else None
            text = (vocab.notation(iri) if iri else None) or text
            if key in cls.field_names():
                values[key] = text
            else:
                conditions[key] = text
        return cls(**values, conditions=conditions)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.field_names():
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat() if isinstance(value, dt.date) else value
        out.update(self.conditions)
        return out


def _date(value: Any) -> dt.date:
    try:
        return as_date(value)
    except ValueError:
        raise KgError(f"date '{value}' is not YYYY-MM-DD / 日期格式应为 YYYY-MM-DD") from None


# ------------------------------------------------------------------ rules as records


@dataclass(frozen=True)
class SourceRef:
    """One citation of a rule: the document, the article, the quote, the confidence."""

    document: str | None
    number: str | None
    title: Text
    article: str | None
    quote: str | None
    confidence: str | None

    def as_dict(self, lang: str) -> dict[str, Any]:
        return {
            "document": self.document,
            "number": self.number,
            "title": self.title.get(lang) or self.title.get("zh") or self.title.get("en"),
            "article": self.article,
            "quote": self.quote,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class RuleRecord:
    """A rule as read from the graph: kind, value, conditions, validity, precedence, sources."""

    iri: str
    id: str
    kind: str  # rule-kind notation
    region: str  # IRI of the insured region
    value: Any  # Python value: bool, int, Decimal, notation, list (sets, materials)
    conditions: Mapping[str, frozenset[str]]  # condition key → admitted IRIs
    valid_from: dt.date
    valid_until: dt.date | None
    overrides: frozenset[str]
    labels: Text
    sources: tuple[SourceRef, ...]

    def in_force(self, date: dt.date) -> bool:
        return self.valid_from <= date and (self.valid_until is None or date <= self.valid_until)


def _value_of(term: Any, vocab: Vocabulary) -> Any:
    if isinstance(term, ox.NamedNode):
        notation = vocab.notation(term.value)
        return notation if notation is not None else term.value
    return query.value_of(term)


def _order(iri: str) -> tuple[int, str]:
    """Sort sub-nodes minted as ``…/source/2`` or ``…/requirement/10`` by their number."""
    tail = iri.rsplit("/", 1)[-1]
    return (int(tail), iri) if tail.isdigit() else (1 << 30, iri)


def _texts(terms: Iterable[Any]) -> Text:
    out: Text = {}
    for t in terms:
        lang = getattr(t, "language", None) or "zh"
        out.setdefault(lang, t.value)
    return out


def _first(props: Mapping[str, list[Any]], pred: ox.NamedNode) -> Any:
    values = props.get(pred.value)
    return values[0] if values else None


@dataclass(frozen=True)
class DocumentRef:
    """What an explanation shows of a cited document."""

    id: str
    number: str | None
    title: Text


def records_from_rows(
    rows: Iterable[Mapping[str, Any]],
    vocab: Vocabulary,
    documents: Mapping[str, DocumentRef],
) -> list[RuleRecord]:
    """Rule records from the (rule, s, p, o) rows of ``rules_of_region.rq``/``all_rules.rq``."""
    described: dict[str, dict[str, dict[str, list[Any]]]] = {}
    for row in rows:
        rule = row["rule"].value
        subjects = described.setdefault(rule, {})
        props = subjects.setdefault(row["s"].value, {})
        values = props.setdefault(row["p"].value, [])
        if row["o"] not in values:
            values.append(row["o"])
    key_of = {prop: key for key, prop in vocab.condition_keys.items() if key != "insured_region"}
    material_kinds = {
        kind
        for kind, kinds in vocab.kind_value_kinds.items()
        if any(k.endswith("/material") for k in kinds)
    }
    out = []
    for iri, subjects in described.items():
        props = subjects[iri]
        kind_iri = _first(props, YB.ruleKind)
        kind = vocab.notation(kind_iri.value) if kind_iri is not None else None
        region = _first(props, YB.insuredRegion)
        valid_from = _first(props, YB.validFrom)
        if kind is None or region is None or valid_from is None:
            continue  # not a complete rule; the shapes report it
        until = _first(props, YB.validUntil)
        conditions: dict[str, set[str]] = {}
        for pred, objs in props.items():
            key = key_of.get(pred)
            if key is not None:
                conditions.setdefault(key, set()).update(o.value for o in objs)
        requirements = sorted((o.value for o in props.get(YB.requirement.value, [])), key=_order)
        if requirements or kind_iri.value in material_kinds:
            value: Any = [_requirement(subjects.get(r, {}), vocab) for r in requirements]
        else:
            values = [_value_of(o, vocab) for o in props.get(YB.value.value, [])]
            value = values[0] if len(values) == 1 else sorted(values, key=str) or None
        sources = []
        for src in sorted((o.value for o in props.get(YB.source.value, [])), key=_order):
            sprops = subjects.get(src, {})
            doc = _first(sprops, YB.document)
            ref = documents.get(doc.value) if doc is not None else None
            article = _first(sprops, YB.article)
            quote_ = _first(sprops, YB.quote)
            confidence = _first(sprops, YB.confidence)
            sources.append(
                SourceRef(
                    document=ref.id if ref else (local_id(doc.value, "document") if doc else None),
                    number=ref.number if ref else None,
                    title=ref.title if ref else {},
                    article=article.value if article is not None else None,
                    quote=quote_.value if quote_ is not None else None,
                    confidence=vocab.notation(confidence.value) if confidence is not None else None,
                )
            )
        ident = _first(props, DCTERMS.identifier)
        out.append(
            RuleRecord(
                iri=iri,
                id=ident.value if ident is not None else local_id(iri, "rule"),
                kind=kind,
                region=region.value,
                value=value,
                conditions={k: frozenset(v) for k, v in conditions.items()},
                valid_from=query.value_of(valid_from),
                valid_until=query.value_of(until) if until is not None else None,
                overrides=frozenset(o.value for o in props.get(YB.overrides.value, [])),
                labels=_texts(props.get(RDFS.label.value, [])),
                sources=tuple(sources),
            )
        )
    return sorted(out, key=lambda r: r.id)


def _requirement(props: Mapping[str, list[Any]], vocab: Vocabulary) -> Any:
    options = sorted(_value_of(o, vocab) for o in props.get(YB.anyOf.value, []))
    return options[0] if len(options) == 1 else {"any_of": options}


# ------------------------------------------------------------------ the engine and its caches


@dataclass(frozen=True)
class ChainEntry:
    iri: str
    code: str
    level: str
    name: str
    name_en: str | None


@dataclass(frozen=True)
class ItemRow:
    item: str
    catalog: str
    catalog_id: str
    catalog_kind: str
    region_code: str
    number: str
    dosage_form: str | None
    category: str


class Engine:
    """What resolution reads from one read-only store, kept for the store's life.

    Regions, region chains, institutions and the rules of each region never change in a
    published generation, so each is read once.
    """

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self.vocab = load_vocabulary()
        self._regions: dict[str, lookup.Region] = {}
        self._chains: dict[str, list[ChainEntry]] = {}
        self._rules: dict[str, list[RuleRecord]] = {}
        self._institutions: dict[str, lookup.Institution] = {}
        self._items: dict[str, list[ItemRow]] = {}
        self._catalogs: dict[tuple[str, dt.date], list[dict[str, Any]]] = {}
        self._sources: dict[str, tuple[SourceRef, ...]] = {}
        self._documents: dict[str, DocumentRef] | None = None
        self._dosage_words: list[tuple[str, str]] | None = None
        self._form_notations: dict[str, str] = {}
        self._all_rules = False

    def rows(self, query_name: str, /, **values: Any) -> list[dict[str, Any]]:
        _, rows = query.solutions(query.run_named(self.store, query_name, values))
        return rows

    def region(self, text: str) -> lookup.Region:
        """The region a code or name denotes.

        A short name shared by divisions of different levels (西安 for 西安市 and two
        districts named 西安区, 南昌 for 南昌市 and 南昌县) denotes the one of the highest
        level, as people use it; names shared at the same level (朝阳区) stay ambiguous.
        """
        key = str(text).strip()
        found = self._regions.get(key)
        if found is None:
            try:
                found = lookup.region(self.store, key)
            except LookupFailed as exc:
                top = self._highest_level_match(key) if exc.ambiguous else None
                if top is None:
                    raise
                found = lookup.region(self.store, top)
            self._regions[key] = found
        return found

    def _highest_level_match(self, text: str) -> str | None:
        codes: dict[str, str] = {}
        for variant in (text, text[:-1] if text.endswith(NAME_SUFFIXES) else None):
            if variant:
                for r in self.rows("region_lookup", text=variant):
                    codes[query.value_of(r["code"])] = query.value_of(r["level"])
        ranked = sorted(codes.items(), key=lambda kv: LEVEL_RANK.get(kv[1], len(LEVEL_RANK)))
        if len(ranked) < 2:
            return None
        best, second = (LEVEL_RANK.get(level, len(LEVEL_RANK)) for _, level in ranked[:2])
        return ranked[0][0] if best < second else None

    def chain(self, code: str) -> list[ChainEntry]:
        """The region and its ancestors, nearest first."""
        found = self._chains.get(code)
        if found is not None:
            return found
        rows = self.rows("region_chain", region=region_iri(code))
        by_code = {
            query.value_of(r["code"]): (
                ChainEntry(
                    iri=r["ancestor"].value,
                    code=query.value_of(r["code"]),
                    level=query.value_of(r["level"]),
                    name=query.value_of(r["name"]),
                    name_en=query.value_of(r.get("name_en")),
                ),
                query.value_of(r.get("parent_code")),
            )
            for r in rows
        }
        chain: list[ChainEntry] = []
        cur: str | None = code
        while cur is not None and cur in by_code and len(chain) < len(by_code):
            entry, parent = by_code[cur]
            chain.append(entry)
            cur = parent
        self._chains[code] = chain
        return chain

    def documents(self) -> dict[str, DocumentRef]:
        """Every cited document by IRI (read once: there are few)."""
        if self._documents is None:
            self._documents = {
                r["document"].value: DocumentRef(
                    id=query.value_of(r["id"]),
                    number=query.value_of(r.get("number")),
                    title={
                        lang: query.value_of(r[f"title_{lang}"])
                        for lang in ("zh", "en")
                        if r.get(f"title_{lang}") is not None
                    },
                )
                for r in self.rows("documents")
            }
        return self._documents

    def rules_of(self, region: str) -> list[RuleRecord]:
        """Every rule whose insured region is exactly this region (IRI), any validity.

        One query per region of an insured region's chain; once a process has asked about
        :data:`READ_ALL_AFTER` regions (a batch, a test run, a service), every rule is read
        in one query instead, which is cheaper than one query per further region.
        """
        found = self._rules.get(region)
        if found is None:
            if self._all_rules:
                return []
            if len(self._rules) >= READ_ALL_AFTER:
                self._read_all_rules()
                return self._rules.get(region, [])
            rows = self.rows("rules_of_region", region=ox.NamedNode(region))
            found = self._rules[region] = records_from_rows(rows, self.vocab, self.documents())
        return found

    def _read_all_rules(self) -> None:
        rows = self.rows("all_rules")
        by_region: dict[str, list[RuleRecord]] = {}
        for record in records_from_rows(rows, self.vocab, self.documents()):
            by_region.setdefault(record.region, []).append(record)
        self._rules = by_region
        self._all_rules = True

    def institution(self, text: str, near: lookup.Region | None = None) -> lookup.Institution:
        key = str(text).strip()
        found = self._institutions.get(key)
        if found is None:
            found = self._institutions[key] = lookup.institution(self.store, key, near)
        return found

    def items(self, name: str) -> list[ItemRow]:
        found = self._items.get(name)
        if found is None:
            found = self._items[name] = [
                ItemRow(
                    item=r["item"].value,
                    catalog=r["catalog"].value,
                    catalog_id=query.value_of(r["catalog_id"]),
                    catalog_kind=query.value_of(r["catalog_kind"]),
                    region_code=query.value_of(r["region_code"]),
                    number=query.value_of(r["number"]),
                    dosage_form=query.value_of(r.get("dosage_form")) or None,
                    category=query.value_of(r["category"]),
                )
                for r in self.rows("item_lookup", name=name)
            ]
        return found

    def dosage_form_words(self) -> list[tuple[str, str]]:
        """(word, catalog dosage form) pairs, longest word first (缓释片 before 片)."""
        if self._dosage_words is None:
            rows = self.rows("dosage_form_words")
            self._dosage_words = [
                (query.value_of(r["word"]), query.value_of(r["dosage_form"])) for r in rows
            ]
            self._form_notations = {
                query.value_of(r["dosage_form"]): query.value_of(r["notation"]) for r in rows
            }
        return self._dosage_words

    def dosage_form(self, text: str) -> str:
        """The catalog dosage form a text names: the form itself, its notation or a word."""
        for word, form in self.dosage_form_words():
            if text in (word, form) or text == self._form_notations.get(form):
                return form
        return text

    def catalogs_in_force(self, code: str, date: dt.date) -> list[dict[str, Any]]:
        key = (code, date)
        found = self._catalogs.get(key)
        if found is None:
            found = self._catalogs[key] = [
                {k: query.value_of(v) for k, v in r.items()}
                for r in self.rows("catalogs_in_force", region=region_iri(code), date=date)
            ]
        return found

    def sources_of(self, subject: str) -> tuple[SourceRef, ...]:
        """The citations of a catalog (or any statement) by IRI."""
        found = self._sources.get(subject)
        if found is None:
            rows = self.rows("statement_sources", subject=ox.NamedNode(subject))
            found = self._sources[subject] = tuple(
                SourceRef(
                    document=query.value_of(r["document"]),
                    number=query.value_of(r.get("number")),
                    title={
                        lang: query.value_of(r[f"title_{lang}"])
                        for lang in ("zh", "en")
                        if r.get(f"title_{lang}") is not None
                    },
                    article=query.value_of(r.get("article")),
                    quote=query.value_of(r.get("quote")),
                    confidence=query.value_of(r.get("confidence")),
                )
                for r in sorted(rows, key=lambda r: _order(r["source"].value))
            )
        return found

    def networked_services(self, institution: str, date: dt.date) -> list[dict[str, Any]]:
        rows = self.rows(
            "institution_settles_directly", institution=ox.NamedNode(institution), date=date
        )
        return [{k: query.value_of(v) for k, v in r.items()} for r in rows]


_ENGINES: dict[int, Engine] = {}
# Region levels (notations of ontology/vocab/regions.ttl), widest first: a short name shared
# across levels denotes the widest division.
LEVEL_RANK = {"country": 0, "province": 1, "prefecture": 2, "provincial-pool": 2, "county": 3}
NAME_SUFFIXES = ("市", "省")  # lookup.region also tries a name without them
# Distinct insured-chain regions read one by one before the engine reads every rule at once.
READ_ALL_AFTER = 12


def engine_for(store: ox.Store) -> Engine:
    """The engine of a store (the store is kept alive with it, so its id is never reused)."""
    engine = _ENGINES.get(id(store))
    if engine is None or engine.store is not store:
        engine = _ENGINES[id(store)] = Engine(store)
    return engine


# ------------------------------------------------------------------ context


@dataclass
class Context:
    """A scenario placed in the graph: its regions, scope, hospital and condition values."""

    scenario: Scenario
    date: dt.date
    insured: lookup.Region
    insured_pool: lookup.Region
    treatment: lookup.Region
    treatment_pool: lookup.Region
    scope: str
    hospital: lookup.Institution | None
    chain: list[ChainEntry]  # the insured pooling region and above, nearest first
    treatment_chain: list[ChainEntry]
    values: dict[str, str]  # condition key → notation or region code given or computed
    ancestors: dict[str, list[str]]  # condition key → IRIs its value matches, nearest first
    rules: list[RuleRecord]  # rules for the insured chain in force on the date
    item: ItemResult | None = None


@dataclass(frozen=True)
class ItemResult:
    """The catalog category of the scenario's item, or why it is unknown."""

    category: str | None
    reason: Text | None
    row: ItemRow | None
    catalogs: tuple[str, ...]  # ids of the catalogs in force that were searched
    catalog_sources: tuple[SourceRef, ...] = ()
    listed_as: str | None = None  # the catalog name, when the scenario's name adds to it


def resolve_scenario(store: ox.Store, scenario: Scenario) -> Context:
    """Place a scenario in the graph: look its names up, compute scope and condition values.

    Raises:
        LookupFailed: a region, institution or item name matches nothing or several.
        KgError: the scenario is inconsistent (a hospital outside the treatment region, an
            insured region that is no pooling region, a value not in the vocabulary).
    """
    engine = engine_for(store)
    vocab = engine.vocab
    date = scenario.date or dt.date.today()
    insured = engine.region(scenario.insured_region)
    insured_pool = _pool_of(engine, insured, "insured region / 参保地")
    named = engine.region(scenario.treatment_region) if scenario.treatment_region else None
    hospital = engine.institution(scenario.hospital, named) if scenario.hospital else None
    if named is not None:
        treatment = named
    elif hospital is not None and hospital.region_code:
        treatment = engine.region(hospital.region_code)
    else:
        raise KgError("a scenario needs the treatment region (or a hospital) / 请给出就医地")
    treatment_chain = engine.chain(treatment.code)
    if hospital is not None:
        _check_hospital_place(engine, hospital, treatment, treatment_chain)
    treatment_pool = _pool_of(engine, treatment, "treatment region / 就医地")
    if insured_pool.code == treatment_pool.code:
        scope = "local"
    elif insured_pool.province_code and insured_pool.province_code == treatment_pool.province_code:
        scope = "intra-province"
    else:
        scope = "cross-province"
    chain = engine.chain(insured_pool.code)

    given: dict[str, str] = {}
    for key in vocab.condition_keys:
        if key in REGION_KEYS or key == SCOPE_KEY:
            continue
        value = getattr(scenario, key, None) if key in Scenario.field_names() else None
        value = value or scenario.conditions.get(key)
        if value:
            given[key] = str(value)
    level = given.get("hospital_level")
    if hospital is not None and hospital.level:
        if level and level != hospital.level:
            raise KgError(
                f"hospital {hospital.id} {hospital.name} is level {hospital.level}, not {level} "
                f"/ 医疗机构等级不符"
            )
        given["hospital_level"] = hospital.level
    given[SCOPE_KEY] = scope

    values: dict[str, str] = {}
    ancestors: dict[str, list[str]] = {}
    for key, given_value in given.items():
        scheme = vocab.scheme_for_key.get(key)
        iri = vocab.find(scheme, given_value) if scheme else None
        if iri is None:
            raise LookupFailed(
                f"{key} value", given_value, _close_notations(vocab, scheme, given_value)
            )
        values[key] = vocab.notation(iri) or given_value
        ancestors[key] = vocab.ancestors(iri)
    values["insured_region"] = insured_pool.code
    ancestors["insured_region"] = [e.iri for e in chain]
    values["treatment_region"] = treatment.code
    ancestors["treatment_region"] = [e.iri for e in treatment_chain]

    rules = [r for entry in chain for r in engine.rules_of(entry.iri) if r.in_force(date)]
    ctx = Context(
        scenario=scenario,
        date=date,
        insured=insured,
        insured_pool=insured_pool,
        treatment=treatment,
        treatment_pool=treatment_pool,
        scope=scope,
        hospital=hospital,
        chain=chain,
        treatment_chain=treatment_chain,
        values=values,
        ancestors=ancestors,
        rules=rules,
    )
    if scenario.item:
        ctx.item = _resolve_item(engine, ctx, scenario.item, scenario.dosage_form)
        if ctx.item.category and "item_category" in vocab.condition_keys:
            if given.get("item_category") not in (None, ctx.item.category):
                raise KgError(
                    f"item {scenario.item} is {ctx.item.category}类 here, "
                    f"not {given['item_category']} / 目录分类不符"
                )
            iri = vocab.concept(vocab.scheme_for_key.get("item_category", ""), ctx.item.category)
            if iri:
                values["item_category"] = ctx.item.category
                ancestors["item_category"] = vocab.ancestors(iri)
    return ctx


def _close_notations(vocab: Vocabulary, scheme: str | None, text: str) -> list[str]:
    """The notations a mistyped value may mean, closest first (by notation or by label),
    else every notation of the scheme."""
    if scheme is None:
        return []
    words = vocab.words(scheme)
    close = difflib.get_close_matches(text, list(words), n=8, cutoff=0.5)
    found = list(dict.fromkeys(words[w] for w in close))
    return found or vocab.notations(scheme)


def _pool_of(engine: Engine, region: lookup.Region, what: str) -> lookup.Region:
    if region.pooling:
        return region
    if region.pooling_code:
        return engine.region(region.pooling_code)
    pools = lookup.pooling_regions_in(engine.store, region)
    raise KgError(
        f"{what} {region.code} {region.name} lies in no single pooling region "
        f"(a {region.level}); give the city or county / 该区划不属于单一统筹区，请给出地市或区县"
        + (f"; pooling regions in it / 其中的统筹区: {', '.join(pools)}" if pools else "")
    )


def _check_hospital_place(
    engine: Engine,
    hospital: lookup.Institution,
    treatment: lookup.Region,
    treatment_chain: list[ChainEntry],
) -> None:
    if not hospital.region_code:
        return
    hospital_chain = {e.code for e in engine.chain(hospital.region_code)}
    treatment_codes = {e.code for e in treatment_chain}
    if hospital.region_code in treatment_codes or treatment.code in hospital_chain:
        return
    raise KgError(
        f"hospital {hospital.id} {hospital.name} is in {hospital.region_code}, not in the "
        f"treatment region {treatment.code} {treatment.name} / 医疗机构不在就医地"
    )


# ------------------------------------------------------------------ resolution of one kind


@dataclass(frozen=True)
class Candidate:
    """A rule in force for the insured region, with how specifically it matches."""

    rule: RuleRecord
    distance: int  # 0 = the insured pooling region itself, then up the chain
    filing_rank: int  # 2 = names the filing type, 1 = its class, 0 = no filing condition
    conditions: int

    @property
    def rank(self) -> tuple[int, int, int]:
        return (self.distance, -self.filing_rank, -self.conditions)


@dataclass
class Verdict:
    """What happened to one candidate: applied, or overridden by whom and why."""

    candidate: Candidate
    applied: bool
    overridden_by: str | None
    why: Text


@dataclass
class Resolution:
    """The outcome of one rule kind for a context."""

    kind: str
    value: Any = None
    winner: Candidate | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    not_applicable: list[tuple[RuleRecord, list[str]]] = field(default_factory=list)
    conflict: list[Candidate] = field(default_factory=list)
    reason: Text | None = None

    @property
    def candidates(self) -> list[Candidate]:
        return [v.candidate for v in self.verdicts]

    @property
    def overridden(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.applied]


def _match(rule: RuleRecord, ctx: Context) -> tuple[Candidate | None, list[str]]:
    """How the rule matches the context, or the keys it needs that the scenario lacks."""
    missing: list[str] = []
    filing_rank = 0
    for key, admitted in rule.conditions.items():
        chain = ctx.ancestors.get(key)
        if chain is None:
            missing.append(key)
            continue
        hit = next((i for i, iri in enumerate(chain) if iri in admitted), None)
        if hit is None:
            return None, []
        if key == FILING_KEY:
            filing_rank = len(chain) - hit
    if missing:
        return None, missing
    distance = next(i for i, e in enumerate(ctx.chain) if e.iri == rule.region)
    return Candidate(rule, distance, filing_rank, len(rule.conditions)), []


def _same(a: Any, b: Any) -> bool:
    return json.dumps(json_value(a), sort_keys=True) == json.dumps(json_value(b), sort_keys=True)


def resolve_kind(store: ox.Store, ctx: Context, kind: str) -> Resolution:
    """Pick the rule of this kind (a rule-kind notation) that decides for the context."""
    res = Resolution(kind=kind)
    candidates: list[Candidate] = []
    for rule in ctx.rules:
        if rule.kind != kind:
            continue
        cand, missing = _match(rule, ctx)
        if cand is not None:
            candidates.append(cand)
        elif missing:
            res.not_applicable.append((rule, missing))
    if not candidates:
        res.reason = _no_rule_reason(ctx, kind, res.not_applicable)
        return res
    candidates.sort(key=lambda c: (c.rank, c.rule.id))
    tier = [c for c in candidates if c.rank == candidates[0].rank]
    tier_iris = {c.rule.iri for c in tier}
    declared = {o for c in tier for o in c.rule.overrides if o in tier_iris}
    survivors = [c for c in tier if c.rule.iri not in declared] or tier
    latest = max(c.rule.valid_from for c in survivors)
    top = [c for c in survivors if c.rule.valid_from == latest]
    if all(_same(c.rule.value, top[0].rule.value) for c in top):
        res.winner, res.value = top[0], top[0].rule.value
    else:
        res.conflict = top
        ids = ", ".join(f"{c.rule.id} = {_show(c.rule.value)}" for c in top)
        res.reason = {
            "zh": f"同等优先级的规则取值不一致：{ids}；无法确定",
            "en": f"rules of equal precedence disagree: {ids}; not decided",
        }
    lead = res.winner or top[0]
    for cand in candidates:
        if cand in top:
            if res.winner is None:
                why = {
                    "zh": "与同等优先级的规则冲突",
                    "en": "conflicts with a rule of equal precedence",
                }
                res.verdicts.append(Verdict(cand, False, None, why))
            elif cand is res.winner:
                res.verdicts.append(Verdict(cand, True, None, _why_applied(ctx, cand)))
            else:
                why = {
                    "zh": f"与 {lead.rule.id} 同等优先、取值相同",
                    "en": f"same precedence and value as {lead.rule.id}",
                }
                res.verdicts.append(Verdict(cand, True, None, why))
        else:
            why = _why_lost(ctx, cand, lead, declared)
            res.verdicts.append(Verdict(cand, False, lead.rule.id, why))
    return res


def _no_rule_reason(ctx: Context, kind: str, missing: list[tuple[RuleRecord, list[str]]]) -> Text:
    zh = f"没有适用于该情景的“{kind_label(kind, 'zh')}”规则（{ctx.date.isoformat()}）"
    en = f"no rule of kind {kind} applies to this scenario on {ctx.date.isoformat()}"
    if missing:
        needs = sorted({k for _, keys in missing for k in keys})
        ids = ", ".join(r.id for r, _ in missing[:5])
        vocab = load_vocabulary()
        needs_zh = "、".join(f"{k}（{vocab.key_label(k)}）" for k in needs)
        zh += f"；规则 {ids} 需要情景给出 {needs_zh}"
        en += f"; rules {ids} need {', '.join(needs)}, which the scenario does not give"
    return {"zh": zh, "en": en}


def kind_label(kind: str, lang: str) -> str:
    """The label of a rule kind in a language (its notation when it has none)."""
    vocab = load_vocabulary()
    iri = vocab.concept("rule-kind", kind)
    return (vocab.label(iri, lang) if iri else None) or kind


def _region_name(ctx: Context, iri: str, lang: str) -> str:
    entry = next((e for e in ctx.chain if e.iri == iri), None)
    if entry is None:
        return iri
    name = entry.name_en if lang == "en" and entry.name_en else entry.name
    return f"{name} {entry.code}"


def _why_applied(ctx: Context, cand: Candidate) -> Text:
    region_zh = _region_name(ctx, cand.rule.region, "zh")
    region_en = _region_name(ctx, cand.rule.region, "en")
    filing = {
        2: ("指明备案类型", "names the filing type"),
        1: ("按备案类别", "covers the filing class"),
    }
    f_zh, f_en = filing.get(cand.filing_rank, ("无备案类型条件", "no filing-type condition"))
    return {
        "zh": f"最具体的适用规则：参保地 {region_zh}，{f_zh}，{cand.conditions} 个条件，"
        f"{cand.rule.valid_from.isoformat()} 起有效",
        "en": f"most specific applicable rule: insured region {region_en}, {f_en}, "
        f"{cand.conditions} condition(s), valid from {cand.rule.valid_from.isoformat()}",
    }


def _why_lost(ctx: Context, cand: Candidate, lead: Candidate, declared: set[str]) -> Text:
    w = lead.rule.id
    if cand.distance != lead.distance:
        return {
            "zh": f"参保地层级较宽（{_region_name(ctx, cand.rule.region, 'zh')}），"
            f"{w} 针对 {_region_name(ctx, lead.rule.region, 'zh')}",
            "en": f"less specific insured region ({_region_name(ctx, cand.rule.region, 'en')}) "
            f"than {w} ({_region_name(ctx, lead.rule.region, 'en')})",
        }
    if cand.filing_rank != lead.filing_rank:
        return {
            "zh": f"备案类型条件不如 {w} 具体",
            "en": f"its filing-type condition is less specific than {w}'s",
        }
    if cand.conditions != lead.conditions:
        return {
            "zh": f"条件较少（{cand.conditions} < {lead.conditions}），{w} 更具体",
            "en": f"fewer conditions ({cand.conditions} < {lead.conditions}) than {w}",
        }
    if cand.rule.iri in declared:
        by = lead.rule.id if cand.rule.iri in lead.rule.overrides else "a rule of equal rank"
        return {"zh": f"{by} 声明优先于本规则", "en": f"{by} declares that it overrides this rule"}
    return {
        "zh": f"生效较早（{cand.rule.valid_from.isoformat()}），{w} 于 "
        f"{lead.rule.valid_from.isoformat()} 起有效",
        "en": f"older: valid from {cand.rule.valid_from.isoformat()}, {w} from "
        f"{lead.rule.valid_from.isoformat()}",
    }


def _show(value: Any) -> str:
    return json.dumps(json_value(value), ensure_ascii=False)


def json_value(value: Any) -> Any:
    """A JSON-ready copy: Decimal → int or float, dates → ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value


# ------------------------------------------------------------------ items


# A product name may add a dosage word to the catalog's name (阿卡波糖片 for 阿卡波糖 in
# 口服常释剂型). Words the dosage-form vocabulary knows also choose the dosage form
# (二甲双胍缓释片: 缓释控释剂型); otherwise at most this many trailing characters are tried
# away.
PRODUCT_SUFFIX_MAX = 3


def _item_rows(engine: Engine, name: str) -> tuple[str, str | None, list[ItemRow]]:
    """The catalog rows of a name, with the dosage form its product word names, if any.

    Tried in turn: the name itself; the name before a dosage-form word (longest word
    first); the longest catalog-name prefix at most PRODUCT_SUFFIX_MAX characters shorter.
    """
    rows = engine.items(name)
    if rows:
        return name, None, rows
    for word, form in engine.dosage_form_words():
        base = name.removesuffix(word)
        if base != name and len(base) >= 2:
            rows = engine.items(base)
            if rows:
                return base, form, rows
    for cut in range(1, PRODUCT_SUFFIX_MAX + 1):
        prefix = name[:-cut]
        if len(prefix) < 2:
            break
        rows = engine.items(prefix)
        if rows:
            return prefix, None, rows
    raise LookupFailed("catalog item", name, _close_items(engine, name))


def _resolve_item(engine: Engine, ctx: Context, name: str, form: str | None) -> ItemResult:
    listed_as, named_form, rows = _item_rows(engine, name)
    form = engine.dosage_form(form) if form else named_form
    if form:
        matching = [r for r in rows if r.dosage_form == form]
        if not matching:
            forms = sorted({r.dosage_form or "—" for r in rows})
            raise LookupFailed(f"dosage form of {listed_as}", form, forms)
        rows = matching
    codes = [e.code for e in ctx.treatment_chain]
    kinds = {r.catalog_kind for r in rows}
    in_force = [
        c
        for c in engine.catalogs_in_force(ctx.treatment.code, ctx.date)
        if c["kind_notation"] in kinds
    ]
    if not in_force:
        return ItemResult(
            category=None,
            reason={
                "zh": f"{ctx.date.isoformat()} {ctx.treatment.name} 没有生效的目录",
                "en": f"no catalog is in force for {ctx.treatment.code} on {ctx.date.isoformat()}",
            },
            row=None,
            catalogs=(),
        )
    searched = tuple(c["id"] for c in in_force)
    listed = [r for r in rows if r.catalog in {c["catalog"] for c in in_force}]
    if not listed:
        sources = tuple(s for c in in_force for s in engine.sources_of(c["catalog"]))
        return ItemResult("丙", None, None, searched, sources, listed_as)

    def depth(row: ItemRow) -> int:
        return codes.index(row.region_code) if row.region_code in codes else len(codes)

    nearest = min(depth(r) for r in listed)
    best = [r for r in listed if depth(r) == nearest]
    if len({r.category for r in best}) > 1:
        raise LookupFailed(
            "catalog item (give the dosage form)",
            listed_as,
            [f"{r.dosage_form or '—'} {r.category}" for r in best],
            ambiguous=True,
        )
    sources = engine.sources_of(best[0].catalog)
    return ItemResult(best[0].category, None, best[0], searched, sources, listed_as)


def _close_items(engine: Engine, name: str) -> list[str]:
    candidates: set[str] = set()
    for size in (3, 2):
        for start in range(0, max(len(name) - size + 1, 1)):
            fragment = name[start : start + size]
            if len(fragment) < 2:
                continue
            candidates.update(
                query.value_of(r["name"]) for r in engine.rows("item_names_like", fragment=fragment)
            )
        if len(candidates) >= 5:
            break
    return difflib.get_close_matches(name, sorted(candidates), n=6, cutoff=0.3)


# ------------------------------------------------------------------ answers


@dataclass
class Explanation:
    """One rule (or graph fact) considered for an answer key (docs/which-rule.md)."""

    key: str
    rule: str | None
    iri: str
    kind: str
    value: Any
    applied: bool
    overridden_by: str | None
    why: Text
    source: SourceRef | None
    sources: tuple[SourceRef, ...] = ()

    def as_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {
            "key": self.key,
            "rule": self.rule,
            "iri": self.iri,
            "kind": self.kind,
            "value": json_value(self.value),
            "applied": self.applied,
            "overridden_by": self.overridden_by,
            "why": self.why.get(lang) or self.why.get("zh", ""),
            "source": self.source.as_dict(lang) if self.source else None,
            "sources": [s.as_dict(lang) for s in self.sources],
        }


@dataclass
class Answer:
    """The answers of ``which-rule``: values, why a value is null, and every rule considered."""

    context: Context
    values: dict[str, Any] = field(default_factory=dict)
    reasons: dict[str, Text] = field(default_factory=dict)
    explanations: list[Explanation] = field(default_factory=list)
    resolutions: dict[str, Resolution] = field(default_factory=dict)

    def deciding(self, key: str) -> list[Explanation]:
        return [e for e in self.explanations if e.key == key and e.applied]

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        """The JSON answer documented in docs/which-rule.md (kg/schemas/answer.schema.json)."""
        ctx = self.context
        scenario = ctx.scenario.as_dict()
        scenario["date"] = ctx.date.isoformat()
        return {
            "scenario": scenario,
            "context": {
                "insured_region": _region_json(ctx.insured),
                "insured_pooling_region": _region_json(ctx.insured_pool),
                "treatment_region": _region_json(ctx.treatment),
                "treatment_pooling_region": _region_json(ctx.treatment_pool),
                "scope": ctx.scope,
                "hospital": None
                if ctx.hospital is None
                else {
                    "id": ctx.hospital.id,
                    "name": ctx.hospital.name,
                    "region_code": ctx.hospital.region_code,
                    "level": ctx.hospital.level,
                },
                "condition_values": dict(sorted(ctx.values.items())),
            },
            "values": {k: json_value(v) for k, v in self.values.items()},
            "reasons": {k: v.get(lang) or v.get("zh", "") for k, v in self.reasons.items()},
            "explanations": [e.as_dict(lang) for e in self.explanations],
        }


def _region_json(region: lookup.Region) -> dict[str, Any]:
    return {"code": region.code, "name": region.name, "name_en": region.name_en}


def answer_keys(vocab: Vocabulary | None = None) -> list[str]:
    """Every answer key: the computed ones and those of the vocabulary's rule kinds."""
    vocab = vocab or load_vocabulary()
    from_kinds = [vocab.kind_answer_key[k] for k in sorted(vocab.kind_answer_key)]
    keys = [k for k in ANSWER_ORDER if k in from_kinds or k in _COMPUTED]
    return keys + [k for k in from_kinds if k not in keys]


_COMPUTED = (SCOPE_ANSWER, FILING_CATEGORY_ANSWER, ITEM_CATEGORY_ANSWER)


def which_rule(store: ox.Store, scenario: Scenario) -> Answer:
    """Answer every key for a scenario, with the rules that decided and those they overrode."""
    ctx = resolve_scenario(store, scenario)
    engine = engine_for(store)
    vocab = engine.vocab
    answer = Answer(context=ctx)
    kinds_by_key = {key: vocab.notation(kind) for kind, key in vocab.kind_answer_key.items()}
    for key in answer_keys(vocab):
        if key == SCOPE_ANSWER:
            answer.values[key] = ctx.scope
        elif key == FILING_CATEGORY_ANSWER:
            _filing_category(ctx, vocab, answer)
        elif key == ITEM_CATEGORY_ANSWER:
            _item_category(ctx, answer)
        else:
            kind = kinds_by_key.get(key)
            if kind is None:
                continue
            res = resolve_kind(store, ctx, kind)
            answer.resolutions[key] = res
            _record(answer, key, res)
            _derive(engine, ctx, answer, key, res)
    return answer


def _record(answer: Answer, key: str, res: Resolution) -> None:
    for v in res.verdicts:
        rule = v.candidate.rule
        answer.explanations.append(
            Explanation(
                key=key,
                rule=rule.id,
                iri=rule.iri,
                kind=rule.kind,
                value=rule.value,
                applied=v.applied,
                overridden_by=v.overridden_by,
                why=v.why,
                source=rule.sources[0] if rule.sources else None,
                sources=rule.sources,
            )
        )


def _set(answer: Answer, key: str, value: Any, reason: Text | None) -> None:
    answer.values[key] = value
    if value is None and reason is not None:
        answer.reasons[key] = reason


def _derive(engine: Engine, ctx: Context, answer: Answer, key: str, res: Resolution) -> None:
    if key in SELECTION_GATED:
        selection = _selection(engine, ctx, answer)
        if selection.winner is not None and selection.value is False:
            rule = selection.winner.rule.id
            reason = {
                "zh": f"无需选定定点医疗机构（{rule}）",
                "en": f"no selection needed ({rule})",
            }
            _set(answer, key, None, reason)
            return
    value = res.value
    excluded = key == SETTLEMENT_KEY and _not_reimbursed(engine, ctx, answer, key)
    if excluded or _outside_limits(engine, ctx, answer, key):
        _set(answer, key, False, None)
    elif res.winner is None:
        _set(answer, key, None, res.reason)
    elif key in REGION_ROLE_KEYS:
        pools = {"treatment": ctx.treatment_pool.code, "insured": ctx.insured_pool.code}
        _set(answer, key, pools.get(str(value)), _unknown_value(key, value))
    elif key == SETTLEMENT_KEY:
        _direct_settlement(engine, ctx, answer, key, value)
    else:
        _set(answer, key, value, None)


def _selection(engine: Engine, ctx: Context, answer: Answer) -> Resolution:
    """The institution-selection rule that gates the institution limits (resolved once)."""
    found = answer.resolutions.get(SELECTION_KIND)
    if found is None:
        found = answer.resolutions[SELECTION_KIND] = resolve_kind(engine.store, ctx, SELECTION_KIND)
        _record(answer, SELECTION_KIND.replace("-", "_"), found)
    return found


def _unknown_value(key: str, value: Any) -> Text:
    return {"zh": f"{key} 的取值 {value} 无法解释", "en": f"cannot interpret {key} value {value}"}


def _direct_settlement(engine: Engine, ctx: Context, answer: Answer, key: str, value: Any) -> None:
    settles = SETTLEMENT_ANSWER.get(str(value))
    if settles is None:
        _set(answer, key, None, _unknown_value(key, value))
        return
    if not settles or ctx.hospital is None or ctx.scope != "cross-province":
        _set(answer, key, settles, None)
        return
    hospital = ctx.hospital
    service = ctx.values.get("service")
    periods = engine.networked_services(hospital.node.value, ctx.date)
    if not periods:
        _set(
            answer,
            key,
            None,
            {
                "zh": f"图谱中没有 {hospital.name} 的跨省联网结算数据",
                "en": "the graph has no networked-service data for this institution",
            },
        )
        return
    if service is None:
        _set(
            answer,
            key,
            None,
            {
                "zh": "请给出医疗服务类型，以核对该机构是否跨省联网",
                "en": "give the service to check the institution's networked services",
            },
        )
        return
    mine = [p for p in periods if p["service_notation"] == service]
    networked = any(p["settles"] for p in mine)
    if networked:
        why = {
            "zh": f"{hospital.name} 在 {ctx.date.isoformat()} 跨省联网结算 {service}",
            "en": f"{hospital.name} settles {service} directly for cross-province patients "
            f"on {ctx.date.isoformat()}",
        }
    else:
        why = {
            "zh": f"{hospital.name} 在 {ctx.date.isoformat()} 未开通 {service} 跨省联网结算",
            "en": f"{hospital.name} is not networked for {service} on {ctx.date.isoformat()}",
        }
    answer.explanations.append(
        Explanation(
            key=key,
            rule=None,
            iri=hospital.node.value,
            kind="networked-service",
            value=networked,
            applied=True,
            overridden_by=None,
            why=why,
            source=None,
        )
    )
    _set(answer, key, networked, None)


def _outside_limits(engine: Engine, ctx: Context, answer: Answer, key: str) -> bool:
    """A scenario value outside the values of a limiting rule makes the answer false.

    The rule kinds that limit an answer say so in the vocabulary (``yb:limitsScenarioKey``,
    ``yb:limitsAnswerKey``): R20's covered diseases limit direct settlement to the diseases
    listed. The limiting rules are shown under the answer; when one excludes the scenario's
    value, the rules that said "yes" are shown as overridden by it.
    """
    for kind_iri, (scenario_key, answer_key) in sorted(engine.vocab.kind_limits.items()):
        given = ctx.ancestors.get(scenario_key)
        kind = engine.vocab.notation(kind_iri)
        if answer_key != key or not given or kind is None:
            continue
        res = answer.resolutions.get(kind) or resolve_kind(engine.store, ctx, kind)
        answer.resolutions[kind] = res
        if res.winner is None:
            continue
        allowed = res.value if isinstance(res.value, list) else [res.value]
        matches = {engine.vocab.notation(iri) for iri in given}
        if matches & {str(v) for v in allowed}:
            _record(answer, key, res)
            continue
        rule = res.winner.rule
        outside = _outside_reason(engine.vocab, scenario_key, ctx.values[scenario_key], rule.id)
        _overrule(answer, key, rule.id, outside)
        _record(answer, key, res)
        for e in answer.explanations:
            if e.key == key and e.rule == rule.id:
                e.why = outside
        return True
    return False


def _outside_reason(vocab: Vocabulary, key: str, value: str, rule: str) -> Text:
    """…“慢性阻塞性肺疾病”不在 … 所列范围内 / … copd is not among the values of …"""
    return {
        "zh": f"{vocab.key_label(key)}“{vocab.value_label(key, value)}”不在 {rule} 所列范围内",
        "en": f"{vocab.key_label(key, 'en')} {value} is not among the values of {rule}",
    }


def _overrule(answer: Answer, key: str, rule: str, why: Text) -> None:
    """The rules that decided ``key`` so far are shown as overridden by ``rule``."""
    for e in answer.explanations:
        if e.key == key and e.applied:
            e.applied, e.overridden_by, e.why = False, rule, why


def _not_reimbursed(engine: Engine, ctx: Context, answer: Answer, key: str) -> bool:
    """Care the fund does not pay is paid by the patient: nothing is settled directly.

    When a reimbursable rule says no, it decides direct settlement too; the settlement
    rules that said "direct" are shown as overridden by it.
    """
    kind = next(
        (engine.vocab.notation(k) for k, v in engine.vocab.kind_answer_key.items() if v == PAID),
        None,
    )
    if kind is None:
        return False
    paid = answer.resolutions.get(PAID) or resolve_kind(engine.store, ctx, kind)
    if paid.winner is None or paid.value is not False:
        return False
    rule = paid.winner.rule
    why = {
        "zh": f"{rule.id} 规定不予报销，费用由个人自付，不直接结算",
        "en": f"{rule.id}: not reimbursed, so the patient pays and nothing is settled",
    }
    _overrule(answer, key, rule.id, why)
    answer.explanations.append(
        Explanation(
            key=key,
            rule=rule.id,
            iri=rule.iri,
            kind=rule.kind,
            value=False,
            applied=True,
            overridden_by=None,
            why={
                "zh": "不予报销的费用不直接结算（由个人自付）",
                "en": "care that is not reimbursed is not settled directly (the patient pays)",
            },
            source=rule.sources[0] if rule.sources else None,
            sources=rule.sources,
        )
    )
    return True


def _filing_category(ctx: Context, vocab: Vocabulary, answer: Answer) -> None:
    chain = ctx.ancestors.get(FILING_KEY)
    if not chain:
        _set(
            answer,
            FILING_CATEGORY_ANSWER,
            None,
            {"zh": "情景未给出备案类型", "en": "the scenario gives no filing type"},
        )
        return
    answer.values[FILING_CATEGORY_ANSWER] = vocab.notation(chain[-1])


def _item_category(ctx: Context, answer: Answer) -> None:
    given = ctx.scenario.conditions.get(ITEM_CATEGORY_ANSWER)
    item = ctx.item
    if item is None:
        if given:
            answer.values[ITEM_CATEGORY_ANSWER] = given
        else:
            _set(
                answer,
                ITEM_CATEGORY_ANSWER,
                None,
                {"zh": "情景未给出目录条目", "en": "the scenario names no catalog item"},
            )
        return
    _set(answer, ITEM_CATEGORY_ANSWER, item.category, item.reason)
    if item.category is None:
        return
    name = ctx.scenario.item or ""
    if item.listed_as and item.listed_as != name:
        name = f"{name} ({item.listed_as})"
    if item.row is not None:
        row = item.row
        form = f"（{row.dosage_form}）" if row.dosage_form else ""
        why = {
            "zh": f"{name}{form} 列于 {row.catalog_id}（{row.number}），为{row.category}类",
            "en": f"{name} {row.dosage_form or ''} is listed in {row.catalog_id} "
            f"({row.number}) as {row.category}",
        }
        iri, rule = row.item, f"{row.catalog_id}/{row.number}"
    else:
        catalogs = ", ".join(item.catalogs)
        why = {
            "zh": f"{name} 未列入生效目录（{catalogs}），为丙类",
            "en": f"{name} is not listed in the catalogs in force ({catalogs}): 丙",
        }
        iri, rule = "", None
    answer.explanations.append(
        Explanation(
            key=ITEM_CATEGORY_ANSWER,
            rule=rule,
            iri=iri,
            kind="catalog-item",
            value=item.category,
            applied=True,
            overridden_by=None,
            why=why,
            source=item.catalog_sources[0] if item.catalog_sources else None,
            sources=item.catalog_sources,
        )
    )
