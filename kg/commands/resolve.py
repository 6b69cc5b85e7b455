"""``yibao which-rule`` (answer a scenario, with the rules and their sources) and ``yibao test``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from kg import store
from kg.commands.options import lang_option, store_option
from kg.commands.query import parse_params
from kg.errors import KgError


@click.command("which-rule")
@click.option(
    "--insured", required=True, help="Insured region: GB/T 2260 code or name (佛山, 佛山市)."
)
@click.option("--treated", help="Treatment region: code or name (optional with --hospital).")
@click.option("--scheme", help="employee | resident (or a label of the vocabulary: 职工).")
@click.option(
    "--filing",
    help="retiree-relocated | long-term-resident | stationed-worker | referral | emergency | "
    "other-temporary | none (or a class: long-term, temporary; or a label: 异地安置退休人员).",
)
@click.option(
    "--service",
    help="inpatient | general-outpatient | chronic-special-outpatient (or a label: 门诊慢特病).",
)
@click.option("--hospital", help="Institution id, national code (H…) or exact name.")
@click.option("--level", help="Hospital level: 1 | 2 | 3 | unrated.")
@click.option("--item", help="Catalog item name (阿卡波糖).")
@click.option("--dosage-form", help="Dosage form of the item (口服常释剂型, 注射剂).")
@click.option("--date", "date_text", help="As-of date YYYY-MM-DD (default: today).")
@click.option(
    "--when",
    "when",
    multiple=True,
    metavar="KEY=VALUE",
    help="A further condition key of the ontology (admission=first, disease=cancer, "
    "filing_timing=before-discharge, item_category=丙); repeatable.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for programs (docs/which-rule.md).",
)
@lang_option
@store_option
def which_rule_command(
    insured: str,
    treated: str | None,
    scheme: str | None,
    filing: str | None,
    service: str | None,
    hospital: str | None,
    level: str | None,
    item: str | None,
    dosage_form: str | None,
    date_text: str | None,
    when: tuple[str, ...],
    fmt: str,
    lang: str,
    store_dir: Path | None,
) -> None:
    """Which rules apply to a scenario, and what they decide. 适用哪条规则。

    Example: yibao which-rule --insured 佛山 --treated 北京 --filing long-term-resident
    --service general-outpatient --date 2025-06-01
    """
    from kg.explain import render_text
    from kg.resolve import Scenario, which_rule

    data: dict[str, object] = {
        "insured_region": insured,
        "treatment_region": treated,
        "scheme": scheme,
        "filing_type": filing,
        "service": service,
        "hospital": hospital,
        "hospital_level": level,
        "item": item,
        "dosage_form": dosage_form,
        "date": date_text or dt.date.today().isoformat(),
    }
    extra = parse_params(when)
    clash = sorted(set(extra) & {k for k, v in data.items() if v is not None})
    if clash:
        raise KgError(f"--when {clash[0]} repeats an option / 与已有选项重复")
    scenario = Scenario.from_mapping({**data, **extra})
    answer = which_rule(store.open_store(store_dir), scenario)
    if fmt == "json":
        click.echo(json.dumps(answer.to_json(lang), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(answer, lang), nl=False)


@click.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="Print only failures and the summary.")
@store_option
def test_command(files: tuple[Path, ...], quiet: bool, store_dir: Path | None) -> None:
    """Run scenario files: each case's answer against its expectations. 运行情景测试。

    Exit 0 when every case passes (xfail cases may fail), 1 on any failure, 2 on a
    malformed file (reported with file and line).
    """
    from kg.scenario import describe, run_files, summary

    db = store.open_store(store_dir)
    results = run_files(db, files)
    for result in results:
        if not quiet or result.failed:
            click.echo(describe(result))
    click.echo(summary(results))
    sys.stdout.flush()
    if any(r.failed for r in results):
        sys.exit(1)
