"""Export stage, writers: DOT, and SVG/PNG drawn by Graphviz with a CJK-capable font.

The DOT source is built with the ``graphviz`` package (it quotes and escapes); SVG and PNG
run the Graphviz executables (Debian: ``graphviz`` and ``fonts-noto-cjk``, installed by
``.ci/system-packages``). Nodes are boxes coloured by type, labelled in the export's
language and wrapped; a legend of the types sits under the title.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import unicodedata
from typing import IO, Any

import graphviz
import networkx as nx

from kg.errors import KgError
from kg.export.graph import legend

FONT = "Noto Sans CJK SC"
LAYOUTS = ("dot", "neato", "fdp", "sfdp", "circo", "twopi")
DOT_MAX_NODES = 40  # small graphs read best ranked (dot); larger ones force-directed (sfdp)
LEGEND_COLUMNS = 6
LINE_WIDTH = 24  # in half-width columns (a Chinese character is two)
MAX_LINES = 3
RENDER_TIMEOUT = 600  # seconds
UI = {
    "zh": {"legend": "图例", "nodes": "节点", "edges": "边"},
    "en": {"legend": "Legend", "nodes": "nodes", "edges": "edges"},
}


class GraphvizMissing(KgError):
    """Graphviz is not installed."""


def _width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def wrap(text: str, width: int = LINE_WIDTH, lines: int = MAX_LINES) -> list[str]:
    """Break a label into lines of at most ``width`` columns (CJK counts 2), with an ellipsis.

    >>> wrap("佛山常驻异地人员普通门诊在备案地及参保地共选不超过3家定点医疗机构", 20)
    ['佛山常驻异地人员普通', '门诊在备案地及参保地', '共选不超过3家定点医…']
    """
    out: list[str] = []
    line, used = "", 0
    for ch in " ".join(text.split()):
        w = _width(ch)
        if used + w > width:
            out.append(line.rstrip())
            line, used = "", 0
            if ch == " ":
                continue
        line += ch
        used += w
    if line.strip():
        out.append(line.rstrip())
    if len(out) > lines:
        last = out[lines - 1]
        while last and sum(_width(ch) for ch in last) + 1 > width:
            last = last[:-1]
        out = [*out[: lines - 1], last + "…"]
    return out or [""]


def _text(lines: list[str]) -> str:
    # graphviz.escape neutralises backslashes; "\n" is DOT's line break; nohtml keeps a
    # label such as "<a>" from being read as an HTML-like label.
    return graphviz.nohtml("\\n".join(graphviz.escape(line) for line in lines))


def choose_layout(graph: nx.MultiDiGraph, layout: str | None) -> str:
    if layout:
        if layout not in LAYOUTS:
            raise KgError(f"unknown layout '{layout}' (one of: {', '.join(LAYOUTS)})")
        return layout
    return "dot" if graph.number_of_nodes() <= DOT_MAX_NODES else "sfdp"


def _legend_label(graph: nx.MultiDiGraph, lang: str) -> str:
    ui = UI.get(lang, UI["en"])
    title = html.escape(str(graph.graph.get("name", "")))
    count = f"{graph.number_of_nodes()} {ui['nodes']} · {graph.number_of_edges()} {ui['edges']}"
    cells = [
        f'<TD BGCOLOR="{html.escape(str(item["color"] or "#cccccc"))}" WIDTH="14"> </TD>'
        f'<TD ALIGN="LEFT">{html.escape(str(item["label"]))} ({item["count"]})</TD>'
        for item in legend(graph)
    ]
    rows = "".join(
        "<TR>" + "".join(cells[i : i + LEGEND_COLUMNS]) + "</TR>"
        for i in range(0, len(cells), LEGEND_COLUMNS)
    )
    span = 2 * LEGEND_COLUMNS
    return (
        '<<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="1">'
        f'<TR><TD COLSPAN="{span}" ALIGN="LEFT"><B>{title}</B></TD></TR>'
        f'<TR><TD COLSPAN="{span}" ALIGN="LEFT">{html.escape(count)}</TD></TR>'
        f'<TR><TD COLSPAN="{span}" ALIGN="LEFT"><I>{html.escape(ui["legend"])}</I></TD></TR>'
        f"{rows}</TABLE>>"
    )


def to_dot(graph: nx.MultiDiGraph, lang: str = "zh", layout: str | None = None) -> graphviz.Digraph:
    """The Graphviz drawing of a graph (node ids ``n0``, ``n1``…; the IRI is the tooltip)."""
    engine = choose_layout(graph, layout)
    dot = graphviz.Digraph(
        name="yibao_kg",
        engine=engine,
        graph_attr={
            "charset": "UTF-8",
            "fontname": FONT,
            "label": _legend_label(graph, lang),
            "labelloc": "t",
            "labeljust": "l",
            "rankdir": "LR",
            "overlap": "false",
            # obstacle-avoiding splines cost seconds in force-directed layouts
            "splines": "true" if engine == "dot" else "curved",
            "outputorder": "edgesfirst",
            "bgcolor": "white",
            "pad": "0.3",
        },
        node_attr={
            "shape": "box",
            "style": "rounded,filled",
            "fontname": FONT,
            "fontsize": "10",
            "color": "#555555",
            "penwidth": "0.6",
        },
        edge_attr={
            "fontname": FONT,
            "fontsize": "8",
            "color": "#8c8c8c",
            "fontcolor": "#555555",
            "arrowsize": "0.6",
        },
    )
    names: dict[Any, str] = {}
    for i, (node, data) in enumerate(graph.nodes(data=True)):
        names[node] = f"n{i}"
        tooltip = f"{data.get('label', node)}\n{data.get('type_label', '')}\n{node}"
        # in an explanation, the rules that decided are bold, those overridden dashed
        applied = data.get("applied")
        dot.node(
            names[node],
            label=_text(wrap(str(data.get("label", node)))),
            fillcolor=str(data.get("color") or "#cccccc"),
            tooltip=_text([tooltip]),
            **({"penwidth": "2.5"} if applied is True else {}),
            **({"style": "rounded,filled,dashed"} if applied is False else {}),
        )
    for u, v, data in graph.edges(data=True):
        dot.edge(names[u], names[v], label=_text(wrap(str(data.get("label", "")), 16, 1)))
    return dot


def write_dot(
    graph: nx.MultiDiGraph, out: IO[bytes], lang: str = "zh", layout: str | None = None, **_: Any
) -> None:
    out.write(to_dot(graph, lang, layout).source.encode("utf-8"))


def render(graph: nx.MultiDiGraph, fmt: str, lang: str = "zh", layout: str | None = None) -> bytes:
    """The drawing as SVG or PNG bytes, laid out by Graphviz."""
    dot = to_dot(graph, lang, layout)
    executable = shutil.which(dot.engine)
    if executable is None:
        raise GraphvizMissing(
            f"Graphviz's `{dot.engine}` is not installed: install Graphviz and a CJK font "
            "(Debian: apt-get install graphviz fonts-noto-cjk) / 未安装 Graphviz"
        )
    try:
        done = subprocess.run(
            [executable, f"-T{fmt}"],
            input=dot.source.encode("utf-8"),
            capture_output=True,
            timeout=RENDER_TIMEOUT,
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip()
        raise KgError(f"Graphviz failed ({dot.engine} -T{fmt}): {detail}") from None
    except subprocess.TimeoutExpired:
        raise KgError(
            f"Graphviz ({dot.engine}) took over {RENDER_TIMEOUT} s: export fewer nodes "
            "(--limit, --depth) or another --layout"
        ) from None
    data: bytes = done.stdout
    return data


def write_svg(
    graph: nx.MultiDiGraph, out: IO[bytes], lang: str = "zh", layout: str | None = None, **_: Any
) -> None:
    out.write(render(graph, "svg", lang, layout))


def write_png(
    graph: nx.MultiDiGraph, out: IO[bytes], lang: str = "zh", layout: str | None = None, **_: Any
) -> None:
    out.write(render(graph, "png", lang, layout))
