"""``yibao query`` (named questions of ``queries/*.rq``) and ``yibao sparql`` (raw SPARQL)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from kg import query, results, store
from kg.commands.options import lang_option, store_option
from kg.errors import InputError, QueryError


def format_option(func: Any) -> Any:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(results.FORMATS)),
        default="table",
        show_default=True,
        help="table (aligned, for terminals), json (SPARQL 1.1 results), csv or tsv.",
    )(func)


def parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    """``KEY=VALUE`` pairs of the command line; a key given twice is an error."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise QueryError(f"--param '{pair}' is not KEY=VALUE / 参数应为 KEY=VALUE")
        if key in out:
            raise QueryError(f"--param {key} is given twice / 参数重复")
        out[key] = value
    return out


def _emit(res: Any, fmt: str) -> None:
    # Solutions are computed while they are written: an evaluation failure (a SERVICE
    # endpoint that cannot be reached) surfaces here, not when the query is parsed.
    try:
        results.write(res, fmt, sys.stdout.buffer)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise QueryError(f"query failed / 查询失败: {exc}") from None
    sys.stdout.buffer.flush()


@click.command("query")
@click.argument("name", required=False)
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A parameter of the query (repeatable); values are bound as RDF terms.",
)
@click.option("--list", "list_queries", is_flag=True, help="List the named queries and exit.")
@format_option
@lang_option
@store_option
def query_command(
    name: str | None,
    params: tuple[str, ...],
    list_queries: bool,
    fmt: str,
    lang: str,
    store_dir: Path | None,
) -> None:
    """Run a named query of queries/*.rq. 运行命名查询。

    Example: yibao query region_lookup --param text=佛山
    """
    if list_queries or name is None:
        click.echo(catalogue_text(lang, only=name))
        return
    named = query.get(name)
    db = store.open_store(store_dir)
    answer = query.run_named(db, named.name, parse_params(params))
    # the parameters are projected only because Oxigraph substitutes projected variables:
    # they are the question, not the answer
    echoed = {p.name for p in named.params} - set(named.returns)
    _emit(results.without(answer, echoed), fmt)


def catalogue_text(lang: str, only: str | None = None) -> str:
    """The catalogue of named queries: name, summary, description, parameters, columns."""
    other = "en" if lang == "zh" else "zh"
    entries = [query.get(only)] if only else list(query.catalogue().values())
    blocks = []
    for q in entries:
        summary = q.summary.get(lang) or q.summary.get(other) or ""
        lines = [f"{q.name} — {summary}"]
        if q.description and only:
            lines.append("    " + q.description)
        for p in q.params:
            lines.append(f"    --param {p.describe()}")
        if q.returns:
            lines.append("    returns / 返回: " + ", ".join(q.returns))
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


@click.command("sparql")
@click.argument("source", metavar="FILE|-")
@format_option
@store_option
def sparql_command(source: str, fmt: str, store_dir: Path | None) -> None:
    """Run a SPARQL query from a file or standard input (-). 运行 SPARQL 查询。

    The store is opened read-only: updates are refused. Prefixes yb:, skos:, rdfs:, … are
    predeclared.
    """
    where = "<stdin>" if source == "-" else source
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise InputError(where, None, "no such file / 文件不存在") from None
    except UnicodeDecodeError as exc:
        raise InputError(where, None, f"not UTF-8 text / 不是 UTF-8 文本 ({exc.reason})") from None
    if not text.strip():
        raise InputError(where, None, "no query / 没有查询") from None
    db = store.open_store(store_dir)
    try:
        res = query.run(db, text, source=where)
    except InputError:
        if is_update(text):
            raise QueryError(
                f"{where}: SPARQL updates are refused: the store is opened read-only "
                "/ 拒绝执行 SPARQL 更新：知识图谱以只读方式打开"
            ) from None
        raise
    _emit(res, fmt)


def is_update(text: str) -> bool:
    """Whether the text parses as a SPARQL 1.1 update (parsed only, never executed)."""
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        parsed = parseUpdate(text)
    except Exception:  # any parse failure means "not an update"
        return False
    return "request" in parsed  # comments alone parse as an update without operations
