"""What ``yibao demo`` shows: real answers from the default graph, with their rules."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from kg import lookup, store
from kg.build import BuildOptions, build
from kg.commands.build import _validator
from kg.explain import render_summary
from kg.reimburse import example_claim, load_claim, reimburse
from kg.resolve import Scenario, which_rule

# The question of the which-rule issue: insured in 佛山, working in 北京.
WORKER = {
    "insured_region": "佛山",
    "treatment_region": "北京",
    "scheme": "employee",
    "filing_type": "stationed-worker",
    "service": "general-outpatient",
    "date": "2025-06-01",
}
WORKER_KEYS = [
    "scope",
    "filing_required",
    "catalog_region",
    "policy_region",
    "institution_limit",
    "primary_level_min",
    "filing_validity",
    "direct_settlement",
    "required_materials",
]
HEAD = {
    "built": {"zh": "已构建默认知识图谱", "en": "built the default knowledge graph"},
    "graph": {"zh": "知识图谱", "en": "knowledge graph"},
    "regions": {"zh": "区划查询", "en": "Region lookup"},
    "which": {
        "zh": "适用哪条规则：佛山职工参保，常驻北京工作，普通门诊，2025-06-01",
        "en": "Which rule applies: insured in Foshan (employee), working in Beijing, "
        "general outpatient, 2025-06-01",
    },
    "claim": {
        "zh": "一笔费用报销多少（R19）：廊坊退休职工异地安置北京，门诊慢特病用药，2025-06-01",
        "en": "What a claim pays (R19): a Langfang retiree relocated to Beijing, chronic/special "
        "outpatient drugs, 2025-06-01",
    },
    "totals": {
        "zh": "费用总额 {total} · 支付范围内 {in_scope} · 基金支付 {fund_pays} · "
        "个人负担 {patient_pays}",
        "en": "total {total} · in scope {in_scope} · fund pays {fund_pays} · "
        "patient pays {patient_pays}",
    },
    "more": {"zh": "更多", "en": "More"},
}
NEXT = [
    "yibao which-rule --insured 佛山 --treated 北京 --filing referral --service inpatient",
    "yibao query --list",
    "yibao validate",
    "yibao export --region 440600 -o foshan.html",
]


def run(store_dir: Path | None, lang: str = "zh") -> None:
    console = Console(highlight=False, soft_wrap=True)
    say = console.print
    if not store.exists(store_dir):
        say("building the default knowledge graph / 正在构建默认知识图谱 …")
        options = BuildOptions(data_dirs=[])
        generation, report = build(store_dir, options, validator=_validator(options, store_dir))
        say(
            f"{HEAD['built'][lang]}: {report.total_triples:,} triples, "
            f"{report.seconds:.1f} s → {generation}"
        )
    db = store.open_store(store_dir)
    say(f"{HEAD['graph'][lang]}: {store.current_generation(store.resolve_dir(store_dir))}\n")

    say(f"[bold]1. {HEAD['regions'][lang]}[/bold]")
    for name in ("佛山", "仙桃市", "Beijing"):
        r = lookup.region(db, name)
        label = r.name_en if lang == "en" and r.name_en else r.name
        say(
            f"  {name!r} → {r.code} {label}; pooling region {r.pooling_code}; "
            f"province {r.province_code}"
        )

    say(f"\n[bold]2. {HEAD['which'][lang]}[/bold]")
    answer = which_rule(db, Scenario.from_mapping(WORKER))
    say(escape(render_summary(answer, WORKER_KEYS, lang)), end="")

    say(f"\n[bold]3. {HEAD['claim'][lang]}[/bold]")
    claim_path = example_claim("r19-langfang-beijing")
    paid = reimburse(db, load_claim(claim_path)).to_json(lang)
    lines = [
        f"  {item['name']} {item['dosage_form'] or ''} {item['amount']} {item['category']}"
        f" [{item['catalog']} {item['number']}] → {item['in_scope']}"
        for item in paid["items"]
    ]
    for step in paid["steps"]:
        if step["rule"]:
            result = f" → {step['result']}" if step["result"] is not None else ""
            lines.append(
                f"  {step['label']}: {step['value']}{result}  ← {step['rule']}"
                f" [{step['source']['confidence']}] {step['source']['document']}"
            )
    lines.append("  " + HEAD["totals"][lang].format(**paid))
    lines.append(f"  yibao reimburse {claim_path}")
    say(escape("\n".join(lines)))

    say(f"\n[bold]{HEAD['more'][lang]}[/bold]")
    for line in NEXT:
        say(f"  {line}")
