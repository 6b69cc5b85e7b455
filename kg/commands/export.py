"""``yibao export``: draw a selection of the graph for Gephi, yEd, Cytoscape, Graphviz, browsers."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

import click

from kg.commands.options import lang_option, store_option
from kg.errors import KgError

DEFAULT_LIMIT = 2000


def _formats() -> list[str]:
    from kg.export import FORMATS

    return list(FORMATS)


def _params(values: tuple[str, ...], option: str = "--param") -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{item}' is not NAME=VALUE", param_hint=option)
        if name.strip() in out:
            raise click.BadParameter(f"{name.strip()} is given twice", param_hint=option)
        out[name.strip()] = value
    return out


SCENARIO_FLAGS = (
    "insured",
    "treated",
    "scheme",
    "filing",
    "service",
    "hospital",
    "level",
    "item",
    "dosage_form",
    "on_date",
)


def scenario_options(func: Any) -> Any:
    """The scenario flags of ``yibao which-rule`` (an explanation subgraph is exported)."""
    options = [
        click.option(
            "--scenario",
            "scenario",
            is_flag=True,
            help="Export the explanation of the which-rule answer for the scenario "
            "given by the flags below.",
        ),
        click.option("--insured", help="Insured region (code or name). 参保地"),
        click.option("--treated", help="Treatment region (code or name). 就医地"),
        click.option("--scheme", help="Insurance scheme notation (employee, resident). 险种"),
        click.option("--filing", help="Filing type notation (referral, none, …). 备案类型"),
        click.option("--service", help="Service notation (inpatient, …). 医疗服务"),
        click.option("--hospital", help="Institution (id, code or name). 医疗机构"),
        click.option("--level", help="Hospital level notation (1, 2, 3). 医院等级"),
        click.option("--item", help="Catalog item (drug name or number). 目录条目"),
        click.option("--dosage-form", "dosage_form", help="Dosage form of the item. 剂型"),
        click.option("--date", "on_date", help="As of this date (YYYY-MM-DD; default today). 日期"),
        click.option(
            "--when",
            "when",
            multiple=True,
            metavar="KEY=VALUE",
            help="A further condition key of the ontology (admission=first, "
            "disease=cancer); repeatable.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command()
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(_formats()),
    default=None,
    help="Output format (default: from the --output suffix).",
)
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output file ('-' or absent: standard output, text formats).",
)
@click.option("--region", help="A region (code or name): its institutions, rules, parent regions.")
@scenario_options
@click.option("--ontology", is_flag=True, help="The ontology: classes, properties, SKOS schemes.")
@click.option(
    "--query",
    "query_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A CONSTRUCT query file (.rq) whose result is exported.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A parameter of the --query file (#+ params header); repeatable.",
)
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    default=None,
    help="Keep nodes at most this many hops from the selection's focus.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="Keep at most this many nodes (nearest to the focus first).",
)
@click.option(
    "--layout",
    default=None,
    help="Graphviz layout for dot/svg/png: dot, neato, fdp, sfdp, circo, twopi "
    "(default: dot up to 40 nodes, else sfdp).",
)
@lang_option
@store_option
def export(
    fmt: str | None,
    output: Path | None,
    region: str | None,
    scenario: bool,
    ontology: bool,
    query_file: Path | None,
    params: tuple[str, ...],
    depth: int | None,
    limit: int,
    layout: str | None,
    lang: str,
    store_dir: Path | None,
    **flags: str | None,
) -> None:
    """Export a selection of the graph as a file to look at. 导出知识图谱的子图以便可视化。

    Select exactly one of --region, --scenario (with which-rule's flags), --ontology or
    --query. Formats: graphml, gexf (Gephi timeline), dot, svg, png (Graphviz), json
    (networkx node-link), cyjs (Cytoscape.js), html (interactive, offline).
    """
    from kg import export as kg_export
    from kg import store as kg_store
    from kg.export import select

    fmt = fmt or (kg_export.format_for(output) if output and str(output) != "-" else None)
    if fmt is None:
        raise click.UsageError(
            "give --format (" + ", ".join(kg_export.FORMATS) + ") or an --output file "
            "with a known suffix"
        )
    to_stdout = output is None or str(output) == "-"
    if to_stdout and not kg_export.FORMATS[fmt].text and sys.stdout.isatty():
        raise click.UsageError(f"{fmt} is binary: write it to a file with --output")
    scenario = scenario or any(flags.get(k) for k in SCENARIO_FLAGS) or bool(flags.get("when"))
    when = _params(tuple(flags.pop("when", None) or ()), "--when")
    chosen = [
        name
        for name, on in (
            ("--region", region is not None),
            ("--scenario", scenario),
            ("--ontology", ontology),
            ("--query", query_file is not None),
        )
        if on
    ]
    if len(chosen) != 1:
        raise click.UsageError(
            "choose exactly one selection: --region, --scenario (which-rule flags), --ontology "
            "or --query" + (f" (got {', '.join(chosen)})" if chosen else "")
        )
    if params and query_file is None:
        raise click.UsageError("--param goes with --query")

    db = None
    if ontology:
        db = kg_store.open_store(store_dir) if kg_store.exists(store_dir) else None
        selection = select.ontology(db)
    else:
        db = kg_store.open_store(store_dir)
        if region is not None:
            selection = select.region(db, region, limit)
        elif query_file is not None:
            selection = select.from_query(db, query_file, _params(params))
        else:
            from kg.export import scenario as scenario_selection

            selection = scenario_selection.select(db, flags, lang, when)

    if depth is not None and not selection.seeds:
        click.echo(
            f"note / 说明: --depth counts hops from a focus; this selection ({selection.name}) "
            "has none, so it does not apply / 该选择没有中心节点，--depth 不适用",
            err=True,
        )
    graph, dropped = kg_export.graph_of(selection, store=db, lang=lang, depth=depth, limit=limit)
    if selection.truncated:
        click.echo(
            f"note / 说明: {selection.name} has more than --limit {limit} nodes; the rest were "
            "not read / 超出 --limit 的部分未读取",
            err=True,
        )
    if dropped:
        click.echo(
            f"note / 说明: {dropped} nodes beyond --depth/--limit left out / "
            f"超出范围的 {dropped} 个节点未导出",
            err=True,
        )
    if graph.number_of_nodes() == 0:
        click.echo(f"note / 说明: {selection.name} selects nothing / 选择结果为空", err=True)
    if to_stdout:
        kg_export.write(graph, fmt, sys.stdout.buffer, lang=lang, layout=layout)
        sys.stdout.buffer.flush()
        return
    assert output is not None
    size = _write_file(
        output, lambda out: kg_export.write(graph, fmt, out, lang=lang, layout=layout)
    )
    click.echo(
        f"wrote / 已写入 {output}: {fmt}, {graph.number_of_nodes()} nodes / 节点, "
        f"{graph.number_of_edges()} edges / 边, {size:,} bytes",
        err=True,
    )


def _write_file(path: Path, write: Any) -> int:
    """Write through a temporary file renamed into place: a failure leaves no half file."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():  # a mistyped path is not silently created
        raise KgError(
            f"cannot write {path}: directory {directory} does not exist / 目录 {directory} 不存在"
        )
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise KgError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        out: IO[bytes]
        with os.fdopen(fd, "wb") as out:
            write(out)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path.stat().st_size
