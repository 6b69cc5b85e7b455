"""Export stage, step 1 for ``--scenario``: the explanation subgraph of a which-rule answer.

The subgraph holds exactly the rules the answer cites (``Answer.explanations``: applied and
overridden), each with its sources, their documents and the concepts and regions it is
conditioned on; the graph facts an answer cites (a catalog item, an institution); and a node
for the scenario itself (``urn:yibao-kg:scenario``) carrying its values and the answers,
linked to the rules (``applied`` / ``overridden``), to the regions and the institution it
names. A rule that lost points to the rule that won (``overridden_by``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pyoxigraph as ox

from kg.errors import KgError
from kg.export.graph import curie, term_labels
from kg.export.select import Selection, describe, nodes_of
from kg.vocab import YB, statement_iri

SCENARIO_NODE = "urn:yibao-kg:scenario"
SCENARIO_TYPE = {"zh": "情景", "en": "Scenario"}
HOSPITAL = {"zh": "就诊医疗机构", "en": "institution of care"}
# command-line flag → key of kg.resolve.Scenario
FLAG_KEYS = {
    "insured": "insured_region",
    "treated": "treatment_region",
    "scheme": "scheme",
    "filing": "filing_type",
    "service": "service",
    "hospital": "hospital",
    "level": "hospital_level",
    "item": "item",
    "dosage_form": "dosage_form",
    "on_date": "date",
}
# The explanation's own links (not predicates of the ontology).
LINKS = {
    "applied": {"zh": "采用", "en": "applied"},
    "overridden": {"zh": "未采用", "en": "overridden"},
    "overridden_by": {"zh": "被取代于", "en": "overridden by"},
    "cites": {"zh": "依据", "en": "cites"},
}


def _engine() -> Any:
    try:
        from kg import resolve
    except ImportError:  # pragma: no cover - the engine ships with the package
        raise KgError(
            "--scenario needs the which-rule engine (kg.resolve), which this installation "
            "lacks / 缺少适用规则引擎（kg.resolve），无法导出情景解释子图"
        ) from None
    return resolve


def _text(texts: Mapping[str, str], lang: str) -> str:
    return texts.get(lang) or texts.get("zh") or texts.get("en") or ""


def _link(key: str, texts: Mapping[str, str], lang: str, **extra: Any) -> dict[str, Any]:
    return {
        "predicate": key,
        "label": _text(texts, lang),
        "label_zh": texts.get("zh", ""),
        "label_en": texts.get("en", ""),
        **extra,
    }


def _plain(value: Any) -> Any:
    """An attribute value: scalars as they are, lists joined by "; ", alternatives
    (``{"any_of": [a, b]}``) as "(a | b)", other mappings as JSON."""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(str(_plain(v)) for v in value)
    if isinstance(value, Mapping):
        if set(value) == {"any_of"}:
            return "(" + " | ".join(str(_plain(v)) for v in value["any_of"]) + ")"
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return "" if value is None else str(value)


def scenario_from_flags(
    flags: Mapping[str, str | None], when: Mapping[str, str] | None = None
) -> Any:
    """A ``kg.resolve.Scenario`` from which-rule's flags (``when``: further condition keys)."""
    resolve = _engine()
    values = {FLAG_KEYS[k]: v for k, v in flags.items() if k in FLAG_KEYS and v}
    clash = sorted(set(when or {}) & set(values))
    if clash:
        raise KgError(f"--when {clash[0]} repeats an option / 与已有选项重复")
    return resolve.Scenario.from_mapping({**values, **(when or {})})


def select(
    store: ox.Store,
    flags: Mapping[str, str | None],
    lang: str = "zh",
    when: Mapping[str, str] | None = None,
) -> Selection:
    """The explanation subgraph of the which-rule answer for the scenario the flags give."""
    scenario = scenario_from_flags(flags, when)
    return explain(store, _engine().which_rule(store, scenario), lang)


def explain(store: ox.Store, answer: Any, lang: str = "zh") -> Selection:
    """The explanation subgraph of a ``kg.resolve.Answer``."""
    ctx = answer.context
    cited: dict[str, None] = {e.iri: None for e in answer.explanations if e.iri}
    rules = {iri for iri in cited if iri.startswith(statement_iri("").value)}
    triples: list[ox.Triple] = []
    for iri in cited:
        triples.extend(_without_uncited_overrides(describe(store, iri), rules))
    documents = {
        t.object.value
        for t in triples
        if t.predicate == YB.document and isinstance(t.object, ox.NamedNode)
    }
    for doc in sorted(documents):
        triples.extend(describe(store, doc))

    # the places the scenario names: (link key, its names, node)
    places = [
        (curie(YB.insuredRegion.value), term_labels(YB.insuredRegion.value), ctx.insured.node),
        (
            curie(YB.treatmentRegion.value),
            term_labels(YB.treatmentRegion.value),
            ctx.treatment.node,
        ),
    ]
    if ctx.hospital is not None:
        places.append(("hospital", HOSPITAL, ctx.hospital.node))
    known = nodes_of(triples)
    for _, _, node in places:
        if node.value not in known:
            triples.extend(describe(store, node.value))

    json_answer = answer.to_json(lang)
    scenario_values = json_answer["scenario"]
    title = {
        "zh": f"情景：{ctx.insured.name}参保，{ctx.treatment.name}就医（{ctx.date.isoformat()}）",
        "en": f"Scenario: insured in {ctx.insured.name_en or ctx.insured.name}, treated in "
        f"{ctx.treatment.name_en or ctx.treatment.name} ({ctx.date.isoformat()})",
    }
    scenario_node: dict[str, Any] = {
        "iri": SCENARIO_NODE,
        "label": _text(title, lang),
        "label_zh": title["zh"],
        "label_en": title["en"],
        "type": "scenario",
        "type_label": _text(SCENARIO_TYPE, lang),
        "scope": ctx.scope,
    }
    for key, value in scenario_values.items():
        scenario_node[key] = _plain(value)
    for key, value in json_answer["values"].items():
        scenario_node[f"answer_{key}"] = _plain(value)

    nodes: dict[str, dict[str, Any]] = {SCENARIO_NODE: scenario_node}
    edges: list[tuple[str, str, str, dict[str, Any]]] = []
    for key, texts, node in places:
        edges.append((SCENARIO_NODE, node.value, key, _link(key, texts, lang)))

    by_id = {e.rule: e.iri for e in answer.explanations if e.rule}
    annotations: dict[str, dict[str, list[str]]] = {}
    for e in answer.explanations:
        if not e.iri:
            continue
        link = "applied" if e.applied else "overridden"
        if e.iri not in rules:
            link = "cites"
        edges.append(
            (
                SCENARIO_NODE,
                e.iri,
                f"{link}:{e.key}",
                _link(link, LINKS[link], lang, answer_key=e.key),
            )
        )
        notes = annotations.setdefault(e.iri, {"answer_key": [], "why": [], "value": []})
        notes["answer_key"].append(e.key)
        notes["why"].append(_text(e.why, lang))
        notes["value"].append(str(_plain(e.value)))
        if e.overridden_by and by_id.get(e.overridden_by):
            winner = by_id[e.overridden_by]
            edges.append(
                (
                    e.iri,
                    winner,
                    f"overridden_by:{e.key}",
                    _link("overridden_by", LINKS["overridden_by"], lang, answer_key=e.key),
                )
            )
    for iri, notes in annotations.items():
        applied = any(x.applied for x in answer.explanations if x.iri == iri)
        nodes[iri] = {
            "answer_key": "; ".join(dict.fromkeys(notes["answer_key"])),
            "applied": applied,
            "why": " | ".join(dict.fromkeys(notes["why"])),
            "answer_value": "; ".join(dict.fromkeys(notes["value"])),
        }
    return Selection(
        kind="scenario",
        name="scenario " + ", ".join(f"{k}={v}" for k, v in scenario_values.items()),
        title=title,
        triples=triples,
        seeds=[SCENARIO_NODE],
        nodes=nodes,
        edges=edges,
    )


def _without_uncited_overrides(triples: Iterable[ox.Triple], rules: set[str]) -> list[ox.Triple]:
    """A rule's triples, less its declared overrides of rules the answer does not cite."""
    return [
        t
        for t in triples
        if not (t.predicate == YB.overrides and getattr(t.object, "value", None) not in rules)
    ]
