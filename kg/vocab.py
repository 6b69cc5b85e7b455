"""Names of the graph: closed namespaces, IRI minting, and the SKOS vocabularies.

Every IRI the code writes or reads is made here. ``YB`` is closed: a misspelt term
raises ``AttributeError`` (a test checks it against ``ontology/yibao.ttl``). The
:class:`Vocabulary` reads the concept schemes of ``ontology/vocab/*.ttl`` so that code
maps notations (``referral``, ``甲``) to concepts without knowing any concept itself.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox

BASE = "https://w3id.org/yibao-kg/"
NS = BASE + "ns#"
ID = BASE + "id/"
VOCAB = BASE + "vocab/"
GRAPH = BASE + "graph/"

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
SKOS_NS = "http://www.w3.org/2004/02/skos/core#"
OWL_NS = "http://www.w3.org/2002/07/owl#"
DCTERMS_NS = "http://purl.org/dc/terms/"
GEO_NS = "http://www.w3.org/2003/01/geo/wgs84_pos#"
VOID_NS = "http://rdfs.org/ns/void#"
SH_NS = "http://www.w3.org/ns/shacl#"

PREFIXES: dict[str, str] = {
    "yb": NS,
    "rdf": RDF_NS,
    "rdfs": RDFS_NS,
    "xsd": XSD_NS,
    "skos": SKOS_NS,
    "owl": OWL_NS,
    "dcterms": DCTERMS_NS,
    "geo": GEO_NS,
    "sh": SH_NS,
    "void": VOID_NS,
    "id": ID,
    "graph": GRAPH,
}


def expand_curie(text: str) -> str:
    """A compact IRI written with a prefix of ``PREFIXES`` (as tables print them:
    ``id:rule/x``) in full; any other text unchanged."""
    prefix, sep, rest = text.partition(":")
    if sep and prefix in PREFIXES and not rest.startswith("//"):
        return PREFIXES[prefix] + rest
    return text


class ClosedNamespace:
    """A namespace whose terms are fixed; attribute access returns ``NamedNode``."""

    def __init__(self, base: str, terms: Iterable[str]) -> None:
        self._base = base
        self._terms = frozenset(terms)
        self._cache: dict[str, ox.NamedNode] = {}
        # the terms as plain attributes: a build reads them some 20 million times
        for name in self._terms:
            if name.isidentifier() and not name.startswith("_") and not hasattr(type(self), name):
                setattr(self, name, self[name])

    def __getattr__(self, name: str) -> ox.NamedNode:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> ox.NamedNode:
        node = self._cache.get(name)
        if node is None:
            if name not in self._terms:
                raise AttributeError(f"{self._base}{name} is not a term of this namespace")
            node = self._cache[name] = ox.NamedNode(self._base + name)
        return node

    def __contains__(self, name: str) -> bool:
        return name in self._terms

    @property
    def base(self) -> str:
        return self._base

    @property
    def terms(self) -> frozenset[str]:
        return self._terms


YB = ClosedNamespace(
    NS,
    [
        "Region",
        "Country",
        "Province",
        "Prefecture",
        "County",
        "PoolingRegion",
        "regionCode",
        "parentRegion",
        "province",
        "poolingRegion",
        "regionLevel",
        "Scheme",
        "FilingClass",
        "FilingType",
        "Service",
        "CareScope",
        "RuleKind",
        "AuthorityLevel",
        "Confidence",
        "HospitalLevel",
        "HospitalGrade",
        "InstitutionType",
        "Ownership",
        "CatalogKind",
        "DosageForm",
        "ItemCategory",
        "Material",
        "SettlementMode",
        "RegionRole",
        "Unit",
        "Admission",
        "Disease",
        "FilingTiming",
        "FilingChannel",
        "ValidityTerm",
        "RegionLevel",
        "Relative",
        "Filing",
        "filingType",
        "scheme",
        "chosenInstitution",
        "materialProvided",
        "filingChannel",
        "MedicalInstitution",
        "Designation",
        "NetworkedService",
        "NetworkMembership",
        "institutionCode",
        "region",
        "address",
        "hospitalLevel",
        "hospitalGrade",
        "primaryLevel",
        "institutionType",
        "ownership",
        "designation",
        "networkedService",
        "membership",
        "network",
        "role",
        "status",
        "Catalog",
        "CatalogItem",
        "catalog",
        "catalogKind",
        "edition",
        "itemCategory",
        "catalogNumber",
        "catalogPart",
        "classificationCode",
        "classificationPath",
        "dosageForm",
        "additionalDosageForm",
        "paymentStandard",
        "remark",
        "agreementValidFrom",
        "agreementValidUntil",
        "PolicyStatement",
        "Rule",
        "Example",
        "Fact",
        "Source",
        "Document",
        "MaterialRequirement",
        "ruleKind",
        "value",
        "unit",
        "minValue",
        "maxValue",
        "requirement",
        "anyOf",
        "authorityLevel",
        "source",
        "document",
        "article",
        "quote",
        "confidence",
        "documentNumber",
        "issuer",
        "issued",
        "seedFile",
        "url",
        "overrides",
        "validFrom",
        "validUntil",
        "datePrecision",
        "scenarioKey",
        "condition",
        "insuredRegion",
        "treatmentRegion",
        "careScope",
        "appliesToScheme",
        "appliesToFilingType",
        "service",
        "appliesToHospitalLevel",
        "appliesToItemCategory",
        "admission",
        "disease",
        "filingTiming",
        "notationFor",
        "valueKind",
        "answerKey",
        "limitsScenarioKey",
        "limitsAnswerKey",
        "setValued",
    ],
)

RDF = ClosedNamespace(RDF_NS, ["type", "value", "Property", "langString"])
RDFS = ClosedNamespace(RDFS_NS, ["label", "comment", "subClassOf", "subPropertyOf", "seeAlso"])
XSD = ClosedNamespace(
    XSD_NS, ["string", "date", "decimal", "integer", "boolean", "double", "anyURI", "gYear"]
)
SKOS = ClosedNamespace(
    SKOS_NS,
    [
        "Concept",
        "ConceptScheme",
        "prefLabel",
        "altLabel",
        "notation",
        "inScheme",
        "broader",
        "narrower",
        "definition",
        "topConceptOf",
        "hasTopConcept",
    ],
)
OWL = ClosedNamespace(
    OWL_NS,
    [
        "Ontology",
        "Class",
        "ObjectProperty",
        "DatatypeProperty",
        "AnnotationProperty",
        "versionIRI",
        "versionInfo",
    ],
)
DCTERMS = ClosedNamespace(
    DCTERMS_NS, ["identifier", "title", "source", "license", "rights", "description", "created"]
)
GEO = ClosedNamespace(GEO_NS, ["lat", "long"])
VOID = ClosedNamespace(VOID_NS, ["Dataset", "triples"])


# ------------------------------------------------------------------ IRI minting


def _segment(value: str) -> str:
    """Percent-encode one IRI path segment (ids are usually ASCII already)."""
    return quote(value, safe="-._~")


def region_iri(code: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}region/{code}")


def institution_iri(ident: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}institution/{_segment(ident)}")


def statement_iri(ident: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}rule/{_segment(ident)}")


def document_iri(ident: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}document/{_segment(ident)}")


def catalog_iri(ident: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}catalog/{_segment(ident)}")


def item_iri(catalog: str, key: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}catalog/{_segment(catalog)}/item/{_segment(key)}")


def filing_iri(ident: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}filing/{_segment(ident)}")


def graph_iri(name: str) -> ox.NamedNode:
    return ox.NamedNode(GRAPH + "/".join(_segment(p) for p in name.split("/")))


def sub_iri(node: ox.NamedNode, *parts: str) -> ox.NamedNode:
    """A node owned by another (a rule's source, an institution's service period)."""
    return ox.NamedNode(node.value + "/" + "/".join(_segment(p) for p in parts))


def local_id(iri: str, kind: str) -> str:
    """The id part of an IRI minted by this module (``…/id/rule/x`` → ``x``)."""
    prefix = f"{ID}{kind}/"
    return iri[len(prefix) :] if iri.startswith(prefix) else iri


COUNTRY_CODE = "100000"


# ------------------------------------------------------------------ vocabularies


@dataclass(frozen=True)
class Concept:
    iri: str
    scheme: str
    notation: str
    labels: dict[str, str]
    broader: tuple[str, ...] = ()


@dataclass
class Vocabulary:
    """The SKOS concept schemes and the condition properties of the ontology."""

    concepts: dict[str, Concept] = field(default_factory=dict)
    by_notation: dict[tuple[str, str], str] = field(default_factory=dict)
    scheme_for_key: dict[str, str] = field(default_factory=dict)
    condition_keys: dict[str, str] = field(default_factory=dict)  # scenario key → property IRI
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    kind_answer_key: dict[str, str] = field(default_factory=dict)  # rule-kind IRI → answer key
    kind_value_kinds: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # rule-kind IRI → (scenario key, answer key): a scenario value outside the rule's values
    # makes that answer false (yb:limitsScenarioKey, yb:limitsAnswerKey)
    kind_limits: dict[str, tuple[str, str]] = field(default_factory=dict)
    # (scheme, folded prefLabel or altLabel, any language) → the concepts it names
    by_label: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # scheme → its concepts' labels as written, for "did you mean"
    scheme_labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def concept(self, scheme: str, notation: str) -> str | None:
        """The IRI of the concept with this notation in a scheme (``scheme`` = short name)."""
        return self.by_notation.get((scheme, str(notation)))

    def find(self, scheme: str, text: str) -> str | None:
        """The concept a user's word names in a scheme: its notation (``retiree-relocated``)
        or one of its ``skos:prefLabel``/``skos:altLabel`` in any language (``异地安置退休人员``,
        ``Retiree relocated``, ``门特``), case and width aside; None when it names none or,
        for a label, several.

        >>> vocab = load_vocabulary()
        >>> vocab.notation(vocab.find("service", "门诊慢特病") or "")
        'chronic-special-outpatient'
        >>> vocab.notation(vocab.find("scheme", "职工") or "")
        'employee'
        """
        iri = self.concept(scheme, text)
        if iri is not None:
            return iri
        named = self.by_label.get((scheme, fold(str(text))), set())
        return next(iter(named)) if len(named) == 1 else None

    def words(self, scheme: str) -> dict[str, str]:
        """Every word :meth:`find` takes for a scheme → the notation it names (for close
        matches of a mistyped word)."""
        out = {n: n for n in self.notations(scheme)}
        out.update(self.scheme_labels.get(scheme, {}))
        return out

    def notations(self, scheme: str) -> list[str]:
        return sorted(n for (s, n) in self.by_notation if s == scheme)

    def notation(self, iri: str) -> str | None:
        c = self.concepts.get(iri)
        return c.notation if c else None

    def label(self, iri: str, lang: str = "zh") -> str | None:
        labels = self.labels.get(iri, {})
        return labels.get(lang) or labels.get("zh") or labels.get("en")

    def key_label(self, key: str, lang: str = "zh") -> str:
        """What a scenario key is called: its concept scheme's label (``filing_type`` →
        异地就医备案类型), else its condition property's, else the key."""
        scheme = self.scheme_for_key.get(key)
        for iri in (VOCAB + scheme if scheme else None, self.condition_keys.get(key)):
            label = self.label(iri, lang) if iri else None
            if label:
                return label
        return key

    def value_label(self, key: str, notation: str, lang: str = "zh") -> str:
        """What a value of a scenario key is called (``retiree-relocated`` → 异地安置退休人员),
        else the value as given."""
        scheme = self.scheme_for_key.get(key)
        iri = self.concept(scheme, notation) if scheme else None
        return (self.label(iri, lang) if iri else None) or notation

    def narrower(self, iri: str) -> list[str]:
        """The notations of the concepts directly narrower than a concept (the members of a
        class: ``temporary`` → emergency, other-temporary, referral), sorted."""
        return sorted(c.notation for c in self.concepts.values() if iri in c.broader)

    def ancestors(self, iri: str) -> list[str]:
        """The concept and everything broader than it, nearest first."""
        out: list[str] = []
        todo = [iri]
        while todo:
            cur = todo.pop(0)
            if cur in out:
                continue
            out.append(cur)
            c = self.concepts.get(cur)
            if c:
                todo.extend(c.broader)
        return out

    def depth(self, iri: str) -> int:
        """How far below its scheme's top a concept is (0 for top concepts)."""
        c = self.concepts.get(iri)
        if not c or not c.broader:
            return 0
        return 1 + max(self.depth(b) for b in c.broader)


def fold(text: str) -> str:
    """A word as compared with labels: NFKC (full-width forms), no outer space, casefolded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def scheme_name(scheme_iri: str) -> str:
    return scheme_iri[len(VOCAB) :] if scheme_iri.startswith(VOCAB) else scheme_iri


def _literal_lang(term: object) -> str | None:
    return getattr(term, "language", None)


@cache
def load_vocabulary(files: tuple[Path, ...] | None = None) -> Vocabulary:
    """Read the ontology and vocabulary files (the shipped ones by default)."""
    from kg import resources

    paths = files if files is not None else tuple(resources.ontology_files())
    triples: list[ox.Triple] = []
    for path in paths:
        triples.extend(q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    return vocabulary_from_triples(triples)


def vocabulary_from_triples(triples: Iterable[ox.Triple]) -> Vocabulary:
    by_subject: dict[str, dict[str, list[object]]] = {}
    for t in triples:
        if not isinstance(t.subject, ox.NamedNode):
            continue
        by_subject.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(
            t.object
        )
    vocab = Vocabulary()
    label_preds = (SKOS_NS + "prefLabel", RDFS_NS + "label")
    for subject, props in by_subject.items():
        labels: dict[str, str] = {}
        for pred in label_preds:
            for obj in props.get(pred, []):
                lang = _literal_lang(obj)
                if lang and lang not in labels:
                    labels[lang] = obj.value  # type: ignore[attr-defined]
        if labels:
            vocab.labels[subject] = labels
        types = {o.value for o in props.get(RDF_NS + "type", [])}  # type: ignore[attr-defined]
        if SKOS_NS + "Concept" in types:
            scheme = next(iter(props.get(SKOS_NS + "inScheme", [])), None)
            notation = next(iter(props.get(SKOS_NS + "notation", [])), None)
            if scheme is None or notation is None:
                continue
            sname = scheme_name(scheme.value)  # type: ignore[attr-defined]
            concept = Concept(
                iri=subject,
                scheme=sname,
                notation=notation.value,  # type: ignore[attr-defined]
                labels=labels,
                broader=tuple(b.value for b in props.get(SKOS_NS + "broader", [])),  # type: ignore[attr-defined]
            )
            vocab.concepts[subject] = concept
            vocab.by_notation[(sname, concept.notation)] = subject
            for pred in (SKOS_NS + "prefLabel", SKOS_NS + "altLabel"):
                for obj in props.get(pred, []):
                    text = obj.value  # type: ignore[attr-defined]
                    vocab.by_label.setdefault((sname, fold(text)), set()).add(subject)
                    vocab.scheme_labels.setdefault(sname, {})[text] = concept.notation
            for key in props.get(NS + "answerKey", []):
                vocab.kind_answer_key[subject] = key.value  # type: ignore[attr-defined]
            limited = props.get(NS + "limitsScenarioKey", [])
            limits = props.get(NS + "limitsAnswerKey", [])
            if limited and limits:
                vocab.kind_limits[subject] = (limited[0].value, limits[0].value)  # type: ignore[attr-defined]
            kinds = tuple(sorted(v.value for v in props.get(NS + "valueKind", [])))  # type: ignore[attr-defined]
            if kinds:
                vocab.kind_value_kinds[subject] = kinds
        if SKOS_NS + "ConceptScheme" in types:
            for key in props.get(NS + "notationFor", []):
                vocab.scheme_for_key[key.value] = scheme_name(subject)  # type: ignore[attr-defined]
        sub_props = {o.value for o in props.get(RDFS_NS + "subPropertyOf", [])}  # type: ignore[attr-defined]
        if NS + "condition" in sub_props:
            for key in props.get(NS + "scenarioKey", []):
                vocab.condition_keys[key.value] = subject  # type: ignore[attr-defined]
    return vocab
