"""``yibao reimburse``: what the fund pays for a claim, each step with its rule and source."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kg import store
from kg.commands.options import lang_option, store_option


@click.command("reimburse")
@click.argument("claim_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--spent",
    metavar="AMOUNT",
    help="Fund payments already made this year (yuan); reduces the annual cap left.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for programs (docs/reimburse.md).",
)
@lang_option
@store_option
def reimburse_command(
    claim_file: Path, spent: str | None, fmt: str, lang: str, store_dir: Path | None
) -> None:
    """What the fund pays for a claim (YAML or JSON). 报销计算。

    Exit 0 when computed, 1 when a parameter is missing from the graph (the result says
    which rule kind), 2 on a malformed claim (file, item and line).

    Example: yibao reimburse tests/claims/r19-langfang-beijing.yaml --format json
    """
    from kg.reimburse import load_claim, parse_amount, reimburse, render_text

    amount = None if spent is None else parse_amount(spent, "--spent")
    claim = load_claim(claim_file)
    result = reimburse(store.open_store(store_dir), claim, amount)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(lang), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(result, lang), nl=False)
    sys.stdout.flush()
    if not result.computed:
        sys.exit(1)
