"""Explanations for people: the text form of a ``which-rule`` answer, in Chinese or English.

Pipeline stage: :mod:`kg.resolve` → **explain** (what ``yibao which-rule --format text``
prints). Each answer key shows its value, the rule that decided it (id, value, quote,
confidence, document) and the more general rules it overrode, with the reason; a null
answer shows why the graph cannot decide it. The JSON form is :meth:`Answer.to_json`.
"""

from __future__ import annotations

import json
from typing import Any

from kg.resolve import Answer, Explanation, json_value
from kg.vocab import NS, load_vocabulary

# Labels of the answer keys that no rule kind carries (taken from the ontology's classes).
COMPUTED_LABEL_CLASS = {
    "scope": NS + "CareScope",
    "filing_category": NS + "FilingClass",
    "item_category": NS + "ItemCategory",
}
# The concept scheme whose labels explain a key's value.
VALUE_SCHEME = {"scope": "care-scope", "filing_category": "filing-type"}
WORDS = {
    "scenario": {"zh": "情景", "en": "Scenario"},
    "insured": {"zh": "参保地", "en": "insured in"},
    "treated": {"zh": "就医地", "en": "treated in"},
    "date": {"zh": "日期", "en": "date"},
    "hospital": {"zh": "医疗机构", "en": "hospital"},
    "decided": {"zh": "依据", "en": "decided by"},
    "overrode": {"zh": "覆盖", "en": "overrode"},
    "null": {"zh": "无法确定", "en": "undetermined"},
    "also": {"zh": "同样适用", "en": "also applied"},
    "conflict": {"zh": "冲突", "en": "in conflict"},
    "none": {"zh": "（无）", "en": "(none)"},
}

__all__ = ["key_label", "render_summary", "render_text"]


def key_label(key: str, lang: str) -> str:
    """The label of an answer key: its rule kind's label, or its ontology class's."""
    vocab = load_vocabulary()
    for kind, answer_key in vocab.kind_answer_key.items():
        if answer_key == key:
            return vocab.label(kind, lang) or key
    cls = COMPUTED_LABEL_CLASS.get(key)
    return (vocab.label(cls, lang) if cls else None) or key


def _value_text(answer: Answer, key: str, value: Any, lang: str) -> str:
    if value is None:
        return "null"
    ctx = answer.context
    if isinstance(value, bool):
        return "true" if value else "false"
    if key in ("catalog_region", "policy_region"):
        pools = {
            ctx.insured_pool.code: ctx.insured_pool,
            ctx.treatment_pool.code: ctx.treatment_pool,
        }
        region = pools.get(str(value))
        if region is not None:
            name = region.name_en if lang == "en" and region.name_en else region.name
            return f"{value} {name}"
    scheme = VALUE_SCHEME.get(key)
    if scheme:
        vocab = load_vocabulary()
        iri = vocab.concept(scheme, str(value))
        label = vocab.label(iri, lang) if iri else None
        if label:
            return f"{value}（{label}）" if lang == "zh" else f"{value} ({label})"
    if isinstance(value, list):
        parts = []
        for entry in value:
            if isinstance(entry, dict) and "any_of" in entry:
                joiner = " 或 " if lang == "zh" else " or "
                parts.append("(" + joiner.join(map(str, entry["any_of"])) + ")")
            else:
                parts.append(str(entry))
        return ", ".join(parts) if parts else WORDS["none"][lang]
    return str(json_value(value))


def _rule_line(e: Explanation, lang: str, mark: str) -> list[str]:
    value = json.dumps(json_value(e.value), ensure_ascii=False)
    head = f"  {mark} {e.rule or e.kind} = {value}"
    if e.source and e.source.confidence:
        head += f" [{e.source.confidence}]"
    lines = [head]
    if e.source is not None:
        title = e.source.title.get(lang) or e.source.title.get("zh") or ""
        where = " · ".join(
            x for x in (e.source.document, e.source.number, title, e.source.article) if x
        )
        lines.append(f"      {where}")
        if e.source.quote:
            lines.append(f"      “{e.source.quote}”")
    why = e.why.get(lang) or e.why.get("zh")
    if why:
        lines.append(f"      {why}")
    return lines


def render_text(answer: Answer, lang: str = "zh") -> str:
    """The answer as text: scenario, then each key with its value, deciding and overridden rules."""
    ctx = answer.context
    w = {k: v[lang] for k, v in WORDS.items()}

    def region(r: Any) -> str:
        name = r.name_en if lang == "en" and r.name_en else r.name
        return f"{name} {r.code}"

    head = [
        f"{w['scenario']}: {w['insured']} {region(ctx.insured_pool)} → {w['treated']} "
        f"{region(ctx.treatment)} · {_value_text(answer, 'scope', ctx.scope, lang)} · "
        f"{w['date']} {ctx.date.isoformat()}",
    ]
    given = {
        k: v
        for k, v in ctx.values.items()
        if k not in ("scope", "insured_region", "treatment_region")
    }
    if given:
        head.append("  " + ", ".join(f"{k}={v}" for k, v in sorted(given.items())))
    if ctx.hospital is not None:
        head.append(f"  {w['hospital']}: {ctx.hospital.id} {ctx.hospital.name}")
    blocks = ["\n".join(head)]
    by_key: dict[str, list[Explanation]] = {}
    for e in answer.explanations:
        by_key.setdefault(e.key, []).append(e)
    for key, value in answer.values.items():
        lines = [f"{key}  {key_label(key, lang)}: {_value_text(answer, key, value, lang)}"]
        if value is None and key in answer.reasons:
            reason = answer.reasons[key]
            lines.append(f"  — {reason.get(lang) or reason.get('zh')}")
        related = by_key.get(key, [])
        if key in ("institution_limit", "primary_level_min"):
            related = by_key.get("institution_selection", []) + related
        for e in related:
            if e.applied:
                lines += _rule_line(e, lang, "✔")
        others = [e for e in related if not e.applied]
        for e in others:
            mark = "✘" if e.overridden_by else "≠"
            lines += _rule_line(e, lang, mark)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def render_summary(answer: Answer, keys: list[str] | None = None, lang: str = "zh") -> str:
    """One line per answer key: its value and the rules that decided it (id, confidence,
    document), or why it is null — the short form of :func:`render_text`."""
    w = {k: v[lang] for k, v in WORDS.items()}
    lines = []
    for key in keys or list(answer.values):
        value = answer.values.get(key)
        line = f"  {key_label(key, lang)} ({key}): {_value_text(answer, key, value, lang)}"
        deciding = answer.deciding(key)
        if key in ("institution_limit", "primary_level_min") and value is not None:
            deciding = answer.deciding("institution_selection") + deciding
        if deciding:
            cited = "; ".join(
                f"{e.rule or e.kind}"
                + (f" [{e.source.confidence}] {e.source.document}" if e.source else "")
                for e in deciding
            )
            line += f"  ← {w['decided']} {cited}"
        elif value is None and key in answer.reasons:
            reason = answer.reasons[key]
            line += f"  — {reason.get(lang) or reason.get('zh')}"
        lines.append(line)
    return "\n".join(lines) + "\n"
