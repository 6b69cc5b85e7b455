"""``yibao build``, ``yibao stats`` and ``yibao demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from kg import store
from kg.build import BuildOptions
from kg.build import build as run_build
from kg.commands.options import lang_option, store_option

MAX_LISTED = 30


@click.command()
@store_option
@click.option(
    "--data",
    "data",
    multiple=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Extra data directory (repeatable).",
)
@click.option("--no-default-data", is_flag=True, help="Do not include the shipped default data.")
@click.option(
    "--allow-invalid", is_flag=True, help="Publish even when the data violates the shapes."
)
@click.option("--no-validate", is_flag=True, help="Skip SHACL validation of the new graph.")
@click.option(
    "--progress/--no-progress", default=None, help="Show progress bars (default: on a terminal)."
)
def build(
    store_dir: Path | None,
    data: tuple[Path, ...],
    no_default_data: bool,
    allow_invalid: bool,
    no_validate: bool,
    progress: bool | None,
) -> None:
    """Build the knowledge graph into a persistent store. 构建知识图谱。

    Reads the ontology, the default data and every --data directory, writes a new store
    generation, and publishes it only if everything succeeded.
    """
    options = BuildOptions(
        data_dirs=list(data),
        include_default=not no_default_data,
        allow_invalid=allow_invalid,
        validate=not no_validate,
        progress=progress,
    )
    generation, report = run_build(store_dir, options, validator=_validator(options, store_dir))
    print_report(report.as_dict(), generation)


def _validator(options: BuildOptions, store_dir: Path | None = None) -> Any:
    from kg.build import data_dirs
    from kg.validate import gate

    return gate(options.allow_invalid, store_dir=store_dir, data=data_dirs(options))


def print_report(
    report: dict[str, Any], generation: Path | None = None, published: bool = True
) -> None:
    console = Console(soft_wrap=True)
    if generation is not None and published:
        console.print(f"published / 已发布: {generation}")
    console.print(
        f"triples / 三元组: {report['total_triples']:,} in {len(report['graphs'])} graphs "
        f"({report.get('seconds', 0)} s)"
    )
    table = Table("class / 类", "count / 数量", title="entities per class / 各类实体数量")
    for name, count in report["class_counts"].items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    for catalog, drugs in report["drug_counts"].items():
        console.print(f"catalog {catalog}: {drugs:,} drugs / 药品")
    skipped = report.get("skipped", [])
    if skipped:
        console.print(f"[bold]skipped rows / 跳过的行: {len(skipped)}[/bold]")
        for s in skipped[:MAX_LISTED]:
            console.print(
                f"  {s['path']}:{s['line']}: {s['reason']}", markup=False, highlight=False
            )
        if len(skipped) > MAX_LISTED:
            where = f" {store.report_path(generation)}" if generation else ""
            console.print(
                f"  … {len(skipped) - MAX_LISTED} more in the build report / 其余见构建报告{where}",
                markup=False,
                highlight=False,
            )
    for kind, count in report.get("note_counts", {}).items():
        console.print(f"note / 说明: {count} rows {kind}")
    violations = report.get("violations")
    if violations:
        console.print(
            f"[bold]SHACL violations / 违规: {violations}[/bold] (published with --allow-invalid)"
        )


@click.command()
@store_option
def stats(store_dir: Path | None) -> None:
    """Counts of the built graph: entities per class, drugs, triples. 统计。"""
    from kg.build import summarise
    from kg.sources.common import BuildReport

    db = store.open_store(store_dir)
    report = BuildReport()
    summarise(db, report)
    # the counts are the store's own; skipped rows, timings and graphs come from its build
    data: dict[str, Any] = report.as_dict()
    data["graphs"] = {str(g.value): 0 for g in db.named_graphs()}
    built = store.read_report(store_dir)
    for key in ("graphs", "skipped", "notes", "note_counts", "seconds", "violations"):
        if key in built:
            data[key] = built[key]
    console = Console()
    generation = store.current_generation(store.resolve_dir(store_dir))
    console.print(f"store / 存储: {generation}")
    print_report(data, generation, published=False)


@click.command()
@store_option
@lang_option
def demo(store_dir: Path | None, lang: str) -> None:
    """Build the default graph if needed and show a few real answers. 演示。"""
    from kg.commands import demo as demo_module

    demo_module.run(store_dir, lang)
