"""``yibao validate``: check the knowledge graph (and new data files) against the shapes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kg.commands.options import lang_option, store_option

if TYPE_CHECKING:
    from kg.sources.common import BuildReport

# A --data run checks the SHACL-SPARQL constraints over the whole graph (the results whose
# value is new count too): on a store this large that is worth worker processes, whose
# start costs more than a whole small graph's run.
WORKERS_FROM_TRIPLES = 1_000_000

FORMAT_HELP = (
    "text (grouped by rule, for people), table (one row per result), json (documented in "
    "docs/validation.md) or turtle (the W3C SHACL validation report)."
)


@click.command("validate")
@store_option
@click.option(
    "--data",
    "data_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Extra data: a Turtle, CSV or YAML source file, or a folder of them (repeatable), "
    "validated with the store in a snapshot.",
)
@click.option(
    "--focus",
    "focus",
    multiple=True,
    help="Only this node: an IRI, an id (rule, filing, institution, document), a region code "
    "or name, an institution code or name (repeatable).",
)
@click.option("--region", help="Only this region's rules, institutions and filings (code or name).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "table", "json", "turtle"]),
    default="text",
    show_default=True,
    help=FORMAT_HELP,
)
@click.option(
    "--engine",
    type=click.Choice(["oxigraph", "pyshacl"]),
    default="oxigraph",
    show_default=True,
    help="oxigraph (compiled queries in the store) or pyshacl (the reference, in memory: "
    "for small data).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Text format: results listed per rule.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for the checks (default: up to 4 CPUs for a whole-graph run and "
    "for --data on a store of a million triples or more, 1 otherwise).",
)
@click.option("--timings", is_flag=True, help="Print the time of each check to stderr.")
@lang_option
def validate_command(**options: Any) -> None:
    """Validate the knowledge graph against its SHACL shapes. 校验知识图谱。

    Exit code 0: conforms; 1: violations; 2: bad input or another error.
    With --data, the files are read as `yibao build` reads them (errors name the file and
    line) into a snapshot of the store, and the report covers the new data's nodes and the
    consistency rules they touch.
    """
    from kg.errors import KgError
    from kg.validate.report import render_json_error

    try:
        report = _validate(**options)  # the options, typed there
    except KgError as exc:
        # a JSON reader gets JSON; the text goes to stderr as for any error
        if options["fmt"] == "json":
            click.echo(render_json_error(exc), nl=False)
            sys.stdout.flush()
        raise
    sys.stdout.flush()
    if report.exit_code:
        sys.exit(report.exit_code)


def _validate(
    store_dir: Path | None,
    data_files: tuple[Path, ...],
    focus: tuple[str, ...],
    region: str | None,
    fmt: str,
    engine: str,
    limit: int,
    jobs: int | None,
    timings: bool,
    lang: str,
) -> Any:
    from kg import store
    from kg.sources.common import BuildReport
    from kg.validate import extra, scope, validate_store
    from kg.validate.engine import default_jobs
    from kg.validate.report import describe, result_nodes

    if data_files:
        context: Any = extra.snapshot(store_dir)
    else:
        root = store.resolve_dir(store_dir)
        context = _Opened(store.open_store(root), store.current_generation(root))
    with context as opened:
        db = opened.db
        touching = None
        focus_nodes: set[Any] | None = None
        labels = []
        if data_files:
            read = BuildReport()
            touching = extra.add_files(db, data_files, read)
            _print_skipped(read)
            labels.append("data " + " ".join(str(p) for p in data_files))
        if region:
            from kg import lookup

            found = lookup.region(db, region)
            focus_nodes = scope.region_nodes(db, found.node)
            labels.append(f"region {found.code} {found.name}")
        if focus:
            nodes: set[Any] = {scope.focus_node(db, text) for text in focus}
            nodes |= scope.owned(db, nodes)
            focus_nodes = nodes if focus_nodes is None else focus_nodes & nodes
            labels.append("focus " + " ".join(focus))
        if jobs is None:
            whole = touching is None or _triples(store_dir) >= WORKERS_FROM_TRIPLES
            jobs = default_jobs() if focus_nodes is None and whole else 1
        if data_files and jobs > 1:
            db.flush()  # the workers open the snapshot read-only
        report = validate_store(
            db,
            engine=engine,
            focus=focus_nodes,
            touching=touching,
            scope="; ".join(labels) or "all",
            jobs=jobs,
            path=opened.path,
        )
        if timings:
            _print_timings(report)
        _write(report, fmt, lang, limit, describe(db, result_nodes(report.results)))
    return report


def _triples(store_dir: Path | None) -> int:
    """The published graph's size, as its build report counted it (0 if unknown)."""
    from kg import store

    return int(store.read_report(store_dir).get("total_triples", 0))  # type: ignore[call-overload]


class _Opened:
    """The published store, read-only, as a context manager (like a snapshot)."""

    def __init__(self, db: Any, path: Path | None) -> None:
        self.db = db
        self.path = path

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _write(report: Any, fmt: str, lang: str, limit: int, info: Any) -> None:
    from kg.validate import report as rendering

    if fmt == "json":
        click.echo(rendering.render_json(report, info), nl=False)
    elif fmt == "turtle":
        click.echo(rendering.render_turtle(report), nl=False)
    elif fmt == "table":
        from rich.console import Console
        from rich.table import Table

        table = Table(
            "severity / 级别",
            "rule / 规则",
            "node / 对象",
            "code / 代码",
            "path / 属性",
            "value / 取值",
            "message / 说明",
            title=rendering.render_text(report, info, lang, limit=1).splitlines()[0],
        )
        for row in rendering.table_rows(report, info, lang):
            table.add_row(*row)
        # a pipe or a file gets whole cells (rich would fit them into 80 columns with "…")
        width = None if sys.stdout.isatty() else 100_000
        Console(soft_wrap=True, width=width).print(table)
    else:
        click.echo(rendering.render_text(report, info, lang, limit=limit), nl=False)


def _print_timings(report: Any) -> None:
    for t in sorted(report.timings, key=lambda t: -t.seconds):
        click.echo(f"{t.seconds:8.3f} s {t.results:6d}  {t.check}", err=True)


def _print_skipped(read: BuildReport) -> None:
    """Rows the readers skipped, as the build lists them: warnings that do not fail the run."""
    if read.skipped:
        click.echo(f"warning / 警告: skipped rows / 跳过的行: {len(read.skipped)}", err=True)
    for s in read.skipped:
        line = f":{s.line}" if s.line is not None else ""
        click.echo(f"  {s.path}{line}: {s.reason}", err=True)
