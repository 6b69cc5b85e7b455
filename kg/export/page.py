"""Export stage, writer: one self-contained interactive HTML page (works offline).

The page inlines Cytoscape.js (vendored in ``assets/``, MIT; the links in its licence
comments without their ``http://``), the viewer (``viewer.js``, ``viewer.css``) and the
graph as Cytoscape.js JSON; a Content-Security-Policy of ``default-src 'none'`` keeps the
browser from loading anything else. Labels and the page's
words are in the export's language; property names come from the ontology's labels.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from importlib import resources as importlib_resources
from string import Template
from typing import IO, Any

import networkx as nx

from kg import __version__
from kg.export.graph import LANGS, attribute_name
from kg.export.jsondata import cytoscape
from kg.vocab import load_vocabulary

COSE_MAX_NODES = 700  # above this the force-directed layout is slow: concentric instead

UI: dict[str, dict[str, Any]] = {
    "zh": {
        "nodes": "个节点",
        "edges": "条边",
        "truncated": "已截断（--limit/--depth）",
        "search": "搜索名称或 IRI…",
        "matches": "个匹配",
        "layout": "布局",
        "edgeLabels": "显示边标签",
        "fit": "适应窗口",
        "legend": "图例（点击隐藏/显示）",
        "details": "属性",
        "hint": "点击节点查看其属性与关系。",
        "relations": "关系",
        "layouts": {
            "cose": "力导向",
            "concentric": "同心圆",
            "breadthfirst": "层次",
            "circle": "环形",
            "grid": "网格",
        },
        "fields": {
            "label": "名称",
            "type_label": "类型",
            "id": "IRI",
            "iri": "IRI",
            "types": "全部类型",
            "label_zh": "中文名称",
            "label_en": "英文名称",
            "type": "类",
            "dcterms_identifier": "标识",
            "dcterms_source": "来源",
            "geo_lat": "纬度",
            "geo_long": "经度",
            "rdfs_comment_zh": "说明",
            "rdfs_comment_en": "说明（英文）",
            "skos_altLabel_zh": "其他名称",
            "skos_notation": "标识符",
            "skos_definition_zh": "定义",
            "skos_definition_en": "定义（英文）",
            "owl_versionInfo": "版本",
        },
    },
    "en": {
        "nodes": "nodes",
        "edges": "edges",
        "truncated": "truncated (--limit/--depth)",
        "search": "Search names or IRIs…",
        "matches": "matches",
        "layout": "Layout",
        "edgeLabels": "Edge labels",
        "fit": "Fit",
        "legend": "Legend (click to hide/show)",
        "details": "Properties",
        "hint": "Click a node to see its properties and relations.",
        "relations": "Relations",
        "layouts": {
            "cose": "force-directed",
            "concentric": "concentric",
            "breadthfirst": "hierarchy",
            "circle": "circle",
            "grid": "grid",
        },
        "fields": {
            "label": "name",
            "type_label": "type",
            "id": "IRI",
            "iri": "IRI",
            "types": "all types",
            "label_zh": "Chinese name",
            "label_en": "English name",
            "type": "class",
            "dcterms_identifier": "identifier",
            "dcterms_source": "source",
            "geo_lat": "latitude",
            "geo_long": "longitude",
            "rdfs_comment_zh": "comment (Chinese)",
            "rdfs_comment_en": "comment",
            "skos_altLabel_zh": "other names",
            "skos_notation": "notation",
            "skos_definition_zh": "definition (Chinese)",
            "skos_definition_en": "definition",
            "owl_versionInfo": "version",
        },
    },
}


def asset(name: str) -> str:
    """The text of a file in ``kg/export/assets`` (package data, also when installed)."""
    return (importlib_resources.files("kg.export") / "assets" / name).read_text(encoding="utf-8")


@cache
def field_names(lang: str) -> dict[str, str]:
    """Attribute name → the ontology's label of its property (``regionCode`` → 区划代码)."""
    names: dict[str, str] = {}
    for iri, labels in load_vocabulary().labels.items():
        text = labels.get(lang) or labels.get("zh")
        if not text:
            continue
        names.setdefault(attribute_name(iri), text)
        for tag in LANGS:
            names.setdefault(attribute_name(iri, tag), f"{text} ({tag})")
    return names


_LICENCE_COMMENT = re.compile(r"/\*!.*?\*/", re.DOTALL)
_SCHEME = re.compile(r"\bhttps?://")


def inline_library(code: str) -> str:
    """The vendored library as inlined: its licence comments keep every notice, but their
    links lose the ``http://`` scheme (``(engelschall.com)``), so the page holds no URL.

    >>> inline_library("/*! MIT License: http://en.wikipedia.org/wiki/MIT_License */a('http://x')")
    "/*! MIT License: en.wikipedia.org/wiki/MIT_License */a('http://x')"
    """
    return _LICENCE_COMMENT.sub(lambda m: _SCHEME.sub("", m.group(0)), code)


def script_json(value: Any) -> str:
    """JSON to embed in a ``<script>`` element: ``<``, ``>``, ``&`` and ``/`` escaped.

    The escapes keep ``</script>`` in data from closing the element; escaping ``/`` also
    means no text of the data reads as a URL to a tool scanning the page.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("/", "\\/"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, esc)
    return text


def render_page(graph: nx.MultiDiGraph, lang: str = "zh") -> str:
    """The HTML page of a graph."""
    ui = dict(UI.get(lang, UI["en"]))
    ui["fields"] = {**field_names(lang), **ui["fields"]}
    ui["coseMaxNodes"] = COSE_MAX_NODES
    library = inline_library(asset("cytoscape.min.js"))
    viewer = asset("viewer.js")
    for code in (library, viewer):
        if "</script" in code.lower():  # pragma: no cover - a broken asset, not user input
            raise RuntimeError("an asset contains </script> and cannot be inlined")
    return Template(asset("page.html")).substitute(
        lang=html.escape(lang),
        generator=html.escape(f"yibao-kg {__version__}"),
        title=html.escape(str(graph.graph.get("name") or "yibao-kg")),
        css=asset("viewer.css"),
        data=script_json(cytoscape(graph)),
        ui=script_json(ui),
        library=library,
        viewer=viewer,
    )


def write_html(graph: nx.MultiDiGraph, out: IO[bytes], lang: str = "zh", **_: Any) -> None:
    out.write(render_page(graph, lang).encode("utf-8"))
